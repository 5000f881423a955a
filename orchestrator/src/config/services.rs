//! `[services.<name>]`: the endpoints and credentials of the data-plane services functions use
//! (Redis, PostgreSQL, S3, Kafka). Configuration, never literals in code; sent with each Invoke
//! of a function that declares the service, the way OpenFaaS hands functions env vars and secrets.
use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ConfigError;

/// One service as configured. Which fields matter depends on the service.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// `host:port`; a host name is resolved (to IPv4) by the orchestrator at start.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Password, or the secret key of an access key pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A secret from the config: redacted in `Debug`, `Display` and `--print-config`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// What `--print-config` shows instead of a secret.
pub const REDACTED: &str = "<redacted>";

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// A service as workers reach it: resolved, with loopback rewritten to the guests' view of the host.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestService {
    pub name: String,
    pub addr: SocketAddrV4,
    pub config: ServiceConfig,
}

impl GuestService {
    /// The borrowed form that travels in an Invoke.
    pub fn wire(&self) -> functions::net::Service<'_> {
        let c = &self.config;
        functions::net::Service {
            user: c.user.as_deref(),
            password: c.password.as_ref().map(|p| functions::net::Secret(p.expose())),
            database: c.database.as_deref(),
            bucket: c.bucket.as_deref(),
            region: c.region.as_deref(),
            ..functions::net::Service::at(&self.name, self.addr)
        }
    }
}

/// Every configured service as the workers see it, by name.
pub type GuestServices = BTreeMap<String, GuestService>;

/// Resolves every service for workers that see the host's loopback as `host_addr` (QEMU user
/// networking's 10.0.2.2): a worker has no DNS, and its own 127.0.0.1 is itself.
pub fn resolve_for_guests(
    services: &BTreeMap<String, ServiceConfig>,
    host_addr: &str,
) -> Result<GuestServices, ConfigError> {
    let host: Ipv4Addr = host_addr
        .parse()
        .map_err(|_| ConfigError::Invalid(format!("qemu.host_addr: {host_addr:?} is not an IPv4 address")))?;
    services
        .iter()
        .map(|(name, config)| {
            let invalid = |m: String| ConfigError::Invalid(format!("services.{name}.address: {m}"));
            let resolved = config
                .address
                .to_socket_addrs()
                .map_err(|e| invalid(format!("{:?}: {e}", config.address)))?
                .find_map(|a| match a {
                    SocketAddr::V4(v4) => Some(v4),
                    SocketAddr::V6(_) => None,
                })
                .ok_or_else(|| invalid(format!("{:?} has no IPv4 address", config.address)))?;
            let addr = if resolved.ip().is_loopback() { SocketAddrV4::new(host, resolved.port()) } else { resolved };
            Ok((name.clone(), GuestService { name: name.clone(), addr, config: config.clone() }))
        })
        .collect()
}

/// Checks what serde cannot: names fit the wire, addresses have a port.
pub fn validate(services: &BTreeMap<String, ServiceConfig>) -> Result<(), ConfigError> {
    for (name, s) in services {
        if name.is_empty() || name.len() > 32 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(ConfigError::Invalid(format!("services.{name}: names are 1..=32 letters, digits or '_'")));
        }
        let port_ok =
            s.address.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !port_ok {
            return Err(ConfigError::Invalid(format!("services.{name}.address: {:?} is not host:port", s.address)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(address: &str) -> BTreeMap<String, ServiceConfig> {
        let config = ServiceConfig {
            address: address.into(),
            user: None,
            password: Some(Secret::new("hunter2")),
            database: None,
            bucket: None,
            region: None,
        };
        BTreeMap::from([("redis".to_string(), config)])
    }

    #[test]
    fn loopback_is_rewritten_for_guests_and_others_are_kept() {
        let g = resolve_for_guests(&one("127.0.0.1:6379"), "10.0.2.2").unwrap();
        assert_eq!(g["redis"].addr, "10.0.2.2:6379".parse().unwrap());
        let g = resolve_for_guests(&one("localhost:6380"), "10.0.2.2").unwrap();
        assert_eq!(g["redis"].addr, "10.0.2.2:6380".parse().unwrap());
        let g = resolve_for_guests(&one("192.0.2.7:5432"), "10.0.2.2").unwrap();
        assert_eq!(g["redis"].addr, "192.0.2.7:5432".parse().unwrap());
        assert_eq!(g["redis"].wire().password.unwrap().expose(), "hunter2");
    }

    #[test]
    fn secrets_never_show() {
        let services = one("127.0.0.1:1");
        assert!(!format!("{services:?}").contains("hunter2"));
        let g = resolve_for_guests(&services, "10.0.2.2").unwrap();
        assert!(!format!("{g:?}").contains("hunter2"));
        assert!(!format!("{:?}", g["redis"].wire()).contains("hunter2"));
        assert!(!toml::to_string(&services).unwrap().contains("hunter2"));
    }

    #[test]
    fn bad_addresses_are_named() {
        assert!(validate(&one("127.0.0.1")).unwrap_err().to_string().contains("services.redis.address"));
        assert!(validate(&one(":80")).is_err());
        assert!(validate(&one("127.0.0.1:6379")).is_ok());
    }
}
