//! Shared helpers of the integration tests.
#![allow(dead_code)]
pub mod postgres;
pub mod redis;
pub mod s3;
