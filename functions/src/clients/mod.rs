//! Clients of the data-plane services, one protocol per module, written against
//! [`crate::net::Stream`] so they run on the worker and on the host alike.
pub mod kafka;
pub mod postgres;
pub mod redis;
pub mod s3;
