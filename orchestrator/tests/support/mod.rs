//! Shared helpers of the integration tests.
#![allow(dead_code)]
pub mod fake;
pub mod fake_kafka;
pub mod live;
pub mod postgres;
pub mod redis;
pub mod s3;
pub mod tansu;
