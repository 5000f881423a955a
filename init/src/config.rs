//! The worker's configuration, from `mfaas_*` words on the kernel command line:
//!
//! | word | meaning |
//! |---|---|
//! | `mfaas_id=NAME` | the worker's id (required; 1–32 of `[A-Za-z0-9_.-]`) |
//! | `mfaas_orch=IP:PORT` | the orchestrator's worker port (required) |
//! | `mfaas_ip=IP/PREFIX` or `mfaas_ip=dhcp` | static address, or DHCPv4 (the default) |
//! | `mfaas_gw=IP` | default gateway with a static address |
//! | `mfaas_log=LEVEL` | `error`, `warn`, `info` (default), `debug` or `trace` |
use core::fmt;
use core::net::{Ipv4Addr, SocketAddrV4};

/// How long a worker with a fatal fault waits before rebooting.
pub const FAULT_DELAY_MS: u64 = 2_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config<'a> {
    pub id: &'a str,
    pub orchestrator: SocketAddrV4,
    pub address: Address,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Address {
    Static { ip: Ipv4Addr, prefix: u8, gateway: Option<Ipv4Addr> },
    Dhcp,
}

/// What is wrong with the command line; names the word so the console says what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    Missing(&'static str),
    Invalid { word: &'static str, expected: &'static str },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Missing(word) => write!(f, "{word}= is missing"),
            ConfigError::Invalid { word, expected } => write!(f, "{word}= is invalid: expected {expected}"),
        }
    }
}

impl<'a> Config<'a> {
    /// Parses the `mfaas_*` variables; other variables are ignored, the last of a repeated word wins.
    pub fn parse(vars: impl Iterator<Item = (&'a str, &'a str)>) -> Result<Config<'a>, ConfigError> {
        let (mut id, mut orch, mut ip, mut gw) = (None, None, None, None);
        for (name, value) in vars {
            match name {
                "mfaas_id" => id = Some(value),
                "mfaas_orch" => orch = Some(value),
                "mfaas_ip" => ip = Some(value),
                "mfaas_gw" => gw = Some(value),
                _ => {}
            }
        }
        let id = id.ok_or(ConfigError::Missing("mfaas_id"))?;
        if !(1..=32).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) {
            return Err(ConfigError::Invalid { word: "mfaas_id", expected: "1-32 of A-Z a-z 0-9 _ . -" });
        }
        let orchestrator = orch
            .ok_or(ConfigError::Missing("mfaas_orch"))?
            .parse()
            .map_err(|_| ConfigError::Invalid { word: "mfaas_orch", expected: "IPv4:PORT" })?;
        let gateway = gw
            .map(|g| g.parse().map_err(|_| ConfigError::Invalid { word: "mfaas_gw", expected: "an IPv4 address" }))
            .transpose()?;
        let address = match ip {
            None | Some("dhcp") => Address::Dhcp,
            Some(cidr) => parse_static(cidr, gateway)?,
        };
        Ok(Config { id, orchestrator, address })
    }
}

fn parse_static(cidr: &str, gateway: Option<Ipv4Addr>) -> Result<Address, ConfigError> {
    let bad = ConfigError::Invalid { word: "mfaas_ip", expected: "IPv4/PREFIX or dhcp" };
    let (ip, prefix) = cidr.split_once('/').ok_or(bad)?;
    let ip = ip.parse().map_err(|_| bad)?;
    let prefix = prefix.parse().ok().filter(|p| *p <= 32).ok_or(bad)?;
    Ok(Address::Static { ip, prefix, gateway })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &str) -> Result<Config<'_>, ConfigError> {
        Config::parse(words.split_whitespace().filter_map(|w| w.split_once('=')))
    }

    #[test]
    fn static_address_with_gateway() {
        let c =
            parse("TERM=linux mfaas_id=w0 mfaas_orch=10.0.2.2:63302 mfaas_ip=10.0.2.15/24 mfaas_gw=10.0.2.2").unwrap();
        assert_eq!(c.id, "w0");
        assert_eq!(c.orchestrator, "10.0.2.2:63302".parse().unwrap());
        assert_eq!(
            c.address,
            Address::Static { ip: Ipv4Addr::new(10, 0, 2, 15), prefix: 24, gateway: Some(Ipv4Addr::new(10, 0, 2, 2)) }
        );
    }

    #[test]
    fn dhcp_is_the_default_and_can_be_asked_for() {
        assert_eq!(parse("mfaas_id=a mfaas_orch=1.2.3.4:5").unwrap().address, Address::Dhcp);
        assert_eq!(parse("mfaas_id=a mfaas_orch=1.2.3.4:5 mfaas_ip=dhcp").unwrap().address, Address::Dhcp);
    }

    #[test]
    fn missing_words_are_named() {
        assert_eq!(parse("mfaas_orch=1.2.3.4:5"), Err(ConfigError::Missing("mfaas_id")));
        assert_eq!(parse("mfaas_id=w"), Err(ConfigError::Missing("mfaas_orch")));
    }

    #[test]
    fn malformed_words_are_named() {
        let word = |e: ConfigError| match e {
            ConfigError::Invalid { word, .. } => word,
            ConfigError::Missing(w) => panic!("{w} reported missing"),
        };
        for (line, expect) in [
            ("mfaas_id=w mfaas_orch=1.2.3.4", "mfaas_orch"),
            ("mfaas_id=w mfaas_orch=1.2.3.4:70000", "mfaas_orch"),
            ("mfaas_id=w mfaas_orch=host:80", "mfaas_orch"),
            ("mfaas_id=w mfaas_orch=1.2.3.4:5 mfaas_ip=10.0.2.15", "mfaas_ip"),
            ("mfaas_id=w mfaas_orch=1.2.3.4:5 mfaas_ip=10.0.2.15/33", "mfaas_ip"),
            ("mfaas_id=w mfaas_orch=1.2.3.4:5 mfaas_ip=10.0.2/24", "mfaas_ip"),
            ("mfaas_id=w mfaas_orch=1.2.3.4:5 mfaas_ip=1.2.3.4/8 mfaas_gw=x", "mfaas_gw"),
            ("mfaas_id=bad/id mfaas_orch=1.2.3.4:5", "mfaas_id"),
            ("mfaas_id= mfaas_orch=1.2.3.4:5", "mfaas_id"),
            ("mfaas_id=abcdefghijabcdefghijabcdefghijabc mfaas_orch=1.2.3.4:5", "mfaas_id"),
        ] {
            assert_eq!(word(parse(line).unwrap_err()), expect, "{line}");
        }
    }

    #[test]
    fn messages_say_what_to_fix() {
        let e = parse("mfaas_id=w mfaas_orch=nope").unwrap_err();
        assert_eq!(std::format!("{e}"), "mfaas_orch= is invalid: expected IPv4:PORT");
    }
}
