//! A service endpoint as it travels with an Invoke: configuration the orchestrator hands to the
//! function (the way OpenFaaS hands functions env vars and secrets), never literals in code.
use core::net::{Ipv4Addr, SocketAddrV4};

use serde::{Deserialize, Serialize};

use super::ServiceError;
use crate::function::ErrorKind;

/// Most services one Invoke carries (a function declares the ones it needs).
pub const MAX_SERVICES: usize = 2;

/// The services of one Invoke.
pub type Services<'a> = heapless::Vec<Service<'a>, MAX_SERVICES>;

/// One configured service, as the worker must reach it: the orchestrator has already resolved
/// host names and rewritten loopback addresses for the worker (the worker has no DNS).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Service<'a> {
    /// The name functions ask for (`redis`, `postgres`, `s3`, `kafka`).
    pub name: &'a str,
    pub ip: [u8; 4],
    pub port: u16,
    #[serde(borrow)]
    pub user: Option<&'a str>,
    /// Password, or the secret key of an access key pair.
    #[serde(borrow)]
    pub password: Option<Secret<'a>>,
    #[serde(borrow)]
    pub database: Option<&'a str>,
    #[serde(borrow)]
    pub bucket: Option<&'a str>,
    #[serde(borrow)]
    pub region: Option<&'a str>,
}

impl Service<'_> {
    /// A service with only an address.
    pub const fn at(name: &str, addr: SocketAddrV4) -> Service<'_> {
        Service {
            name,
            ip: addr.ip().octets(),
            port: addr.port(),
            user: None,
            password: None,
            database: None,
            bucket: None,
            region: None,
        }
    }

    pub fn addr(&self) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(self.ip), self.port)
    }

    /// A field the function cannot do without, or a configuration error naming it.
    pub fn require<T>(field: Option<T>, message: &'static str) -> Result<T, ServiceError> {
        field.ok_or_else(|| ServiceError::new(ErrorKind::BadArguments, message))
    }
}

/// A secret: readable where it is used, redacted in `Debug` so it never reaches a log line.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret<'a>(#[serde(borrow)] pub &'a str);

impl Secret<'_> {
    pub fn expose(&self) -> &str {
        self.0
    }
}

impl core::fmt::Debug for Secret<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(***)")
    }
}
