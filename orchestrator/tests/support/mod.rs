//! Shared helpers of the integration tests.
#![allow(dead_code)]
pub mod fake_kafka;
pub mod redis;
pub mod tansu;
