//! What the Redis functions share: the key argument, the service they use and the session.
use core::fmt::Write as _;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clients::redis::{self, Redis, Reply};
use crate::function::{Context, FnError};
use crate::net::ServiceError;

/// The service name both functions need (`[services.redis]`).
pub const SERVICE: &str = "redis";
/// Connect, authenticate and both commands must finish within this.
pub const TIMEOUT_MS: u32 = 5_000;
/// Longest key.
pub const MAX_KEY: usize = 64;

/// The key: the original's load generator sent integers, so a JSON integer is accepted and stored
/// as its decimal text (`{"id": 7}` and `{"id": "7"}` name the same key); a string is used as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(pub heapless::String<MAX_KEY>);

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Key;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "a string of at most {MAX_KEY} bytes or an integer")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                let mut key = heapless::String::new();
                key.push_str(v).map_err(|_| E::invalid_length(v.len(), &self))?;
                Ok(Key(key))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Key, E> {
                let mut key = heapless::String::new();
                let _ = write!(key, "{v}");
                Ok(Key(key))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Key, E> {
                let mut key = heapless::String::new();
                let _ = write!(key, "{v}");
                Ok(Key(key))
            }
        }
        // JSON may hold either; postcard is not self-describing and always carries the text.
        if d.is_human_readable() { d.deserialize_any(Visitor) } else { d.deserialize_str(Visitor) }
    }
}

/// Runs `body` in a session with the invocation's Redis, turning client errors into the
/// function's (the server's text goes to the context for the runner to report).
pub fn with_redis<T>(
    ctx: &mut Context<'_>,
    body: impl FnOnce(&mut Redis<'_>) -> Result<T, ServiceError>,
) -> Result<T, FnError> {
    let result = {
        let (service, net) = ctx.service(SERVICE)?;
        let service = service.clone();
        Redis::connect(net, &service, TIMEOUT_MS).and_then(|mut redis| body(&mut redis))
    };
    result.map_err(|e| ctx.fail(e))
}

/// `GET key` as an integer.
pub fn get_integer(redis: &mut Redis<'_>, key: &Key) -> Result<i64, ServiceError> {
    match redis.command(&[b"GET", key.0.as_bytes()])? {
        Reply::Bulk(Some(text)) => redis::number(text),
        Reply::Bulk(None) => Err(ServiceError::protocol("protocol error: the key vanished before GET")),
        _ => Err(ServiceError::protocol("protocol error: expected a bulk string reply to GET")),
    }
}
