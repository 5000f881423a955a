//! The orchestrator's configuration: a small TOML file laid over the embedded default
//! ([`DEFAULT_TOML`], shown by `microfaas serve --print-config`), so the default is written once,
//! as a documented file, and a user's file only names what it changes.
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod services;
pub use services::{GuestService, GuestServices, REDACTED, Secret, ServiceConfig, resolve_for_guests};

/// The embedded default configuration, with a comment on every key.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Environment variable naming the artifacts directory when the config does not.
pub const ARTIFACTS_ENV: &str = "MICROFAAS_ARTIFACTS";

/// Longest worker id: it travels in the kernel command line, the Hello and file names.
pub const MAX_WORKER_ID: usize = 32;

/// Everything `microfaas serve` needs. Field docs are in [`DEFAULT_TOML`].
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub http: SocketAddr,
    pub worker_listen: SocketAddr,
    pub queue: usize,
    pub max_body: usize,
    pub boot_timeout_secs: f64,
    pub invoke_timeout_secs: f64,
    pub power_off_grace_secs: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dir: Option<PathBuf>,
    pub qemu: QemuConfig,
    pub workers: Vec<WorkerConfig>,
    /// `[services.<name>]`: data-plane endpoints and credentials, by name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub services: std::collections::BTreeMap<String, ServiceConfig>,
}

/// How the QEMU power backend starts a worker VM.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QemuConfig {
    pub binary: String,
    pub machine: String,
    pub cpu: String,
    pub memory_mib: u32,
    pub kvm: bool,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub cmdline: String,
    pub host_addr: String,
    pub guest_ip: String,
    pub gateway: String,
    pub extra_args: Vec<String>,
}

/// One worker: its id and how it is powered.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    pub id: String,
    pub power: PowerKind,
}

/// Which power backend a worker uses. GPIO and user-command backends will be new variants.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PowerKind {
    /// A local QEMU `microvm` process per boot.
    Qemu,
}

/// Why a configuration was refused.
#[derive(Debug)]
pub enum ConfigError {
    Read { path: PathBuf, error: std::io::Error },
    Parse(String),
    Invalid(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, error } => write!(f, "cannot read config {}: {error}", path.display()),
            ConfigError::Parse(m) => write!(f, "config does not parse: {m}"),
            ConfigError::Invalid(m) => write!(f, "invalid config: {m}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The embedded default.
    pub fn embedded() -> Config {
        // The embedded file is checked by a unit test, so this cannot fail in a built binary.
        Config::from_toml_str("").expect("the embedded default config is valid")
    }

    /// A config file's text laid over the embedded default, then validated.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let mut base: toml::Table = DEFAULT_TOML.parse().map_err(|e| ConfigError::Parse(format!("default: {e}")))?;
        let user: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        merge(&mut base, user);
        let config: Config = toml::Value::Table(base).try_into().map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read { path: path.to_owned(), error })?;
        Config::from_toml_str(&text)
    }

    /// The config as TOML (for `--print-config`).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot print the config: {e}\n"))
    }

    /// Replaces the workers by `n` QEMU workers `w0..w{n-1}`.
    pub fn with_qemu_workers(mut self, n: usize) -> Config {
        self.workers = (0..n).map(|i| WorkerConfig { id: format!("w{i}"), power: PowerKind::Qemu }).collect();
        self
    }

    /// Checks what serde cannot: positive timeouts, sane sizes, unique well-formed worker ids.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        for (name, secs) in [
            ("boot_timeout_secs", self.boot_timeout_secs),
            ("invoke_timeout_secs", self.invoke_timeout_secs),
            ("power_off_grace_secs", self.power_off_grace_secs),
        ] {
            if !(secs.is_finite() && secs > 0.0 && secs < 1e6) {
                return invalid(format!("{name}: must be a positive number of seconds, got {secs}"));
            }
        }
        if self.queue == 0 {
            return invalid("queue: must be at least 1".into());
        }
        if self.max_body == 0 || self.max_body > 16 << 20 {
            return invalid(format!("max_body: must be 1..=16777216 bytes, got {}", self.max_body));
        }
        if self.qemu.memory_mib < 16 {
            return invalid(format!("qemu.memory_mib: must be at least 16, got {}", self.qemu.memory_mib));
        }
        if self.workers.is_empty() {
            return invalid("workers: at least one worker is needed".into());
        }
        services::validate(&self.services)?;
        for (i, w) in self.workers.iter().enumerate() {
            validate_worker_id(&w.id).map_err(|m| ConfigError::Invalid(format!("workers[{i}].id: {m}")))?;
            if self.workers[..i].iter().any(|other| other.id == w.id) {
                return invalid(format!("workers[{i}].id: {:?} is used twice", w.id));
            }
        }
        Ok(())
    }

    pub fn boot_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.boot_timeout_secs)
    }

    pub fn invoke_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.invoke_timeout_secs)
    }

    pub fn power_off_grace(&self) -> Duration {
        Duration::from_secs_f64(self.power_off_grace_secs)
    }

    /// The kernel and initramfs directory: the config's, else `$MICROFAAS_ARTIFACTS`, else the
    /// workspace's `target/microfaas/x86_64-microvm`.
    pub fn artifacts_dir(&self) -> PathBuf {
        if let Some(dir) = &self.artifacts {
            return dir.clone();
        }
        match std::env::var_os(ARTIFACTS_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => workspace_dir().join("target/microfaas/x86_64-microvm"),
        }
    }

    /// Where per-worker console logs go: the config's, else the workspace's `target/microfaas/logs`.
    pub fn log_dir(&self) -> PathBuf {
        self.log_dir.clone().unwrap_or_else(|| workspace_dir().join("target/microfaas/logs"))
    }

    /// The kernel image path.
    pub fn kernel_path(&self) -> PathBuf {
        self.artifacts_dir().join(&self.qemu.kernel)
    }

    /// The initramfs path.
    pub fn initrd_path(&self) -> PathBuf {
        self.artifacts_dir().join(&self.qemu.initrd)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::embedded()
    }
}

/// The cargo workspace this crate was built in.
pub fn workspace_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Worker ids go on the kernel command line and into file names: keep them to `[A-Za-z0-9_-]`.
pub fn validate_worker_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_WORKER_ID {
        return Err(format!("must be 1..={MAX_WORKER_ID} characters, got {:?}", id));
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(format!("{id:?} may only use letters, digits, '_' and '-'"));
    }
    Ok(())
}

/// Lays `over` onto `base`: tables merge key by key, anything else (arrays included) replaces.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_two_qemu_workers_on_the_documented_ports() {
        let c = Config::embedded();
        assert_eq!(c.http, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.worker_listen, "127.0.0.1:63302".parse().unwrap());
        assert_eq!(c.workers.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(), ["w0", "w1"]);
        assert!(c.workers.iter().all(|w| w.power == PowerKind::Qemu));
        assert_eq!(c.boot_timeout(), Duration::from_secs(10));
        assert_eq!(c.invoke_timeout(), Duration::from_secs(30));
        assert_eq!(c.max_body, 64 * 1024);
        assert_eq!(c.qemu.memory_mib, 32);
        assert!(!c.qemu.kvm);
    }

    #[test]
    fn a_file_overrides_only_what_it_names() {
        let c = Config::from_toml_str(
            r#"
            http = "0.0.0.0:9000"
            boot_timeout_secs = 2.5
            log_dir = "/tmp/x"
            [qemu]
            kvm = true
            memory_mib = 128
            [[workers]]
            id = "edge-1"
            power = "qemu"
            "#,
        )
        .unwrap();
        assert_eq!(c.http.port(), 9000);
        assert_eq!(c.boot_timeout(), Duration::from_millis(2500));
        assert_eq!(c.log_dir(), PathBuf::from("/tmp/x"));
        assert!(c.qemu.kvm);
        assert_eq!(c.qemu.memory_mib, 128);
        // Untouched keys keep their defaults, inside tables too.
        assert_eq!(c.qemu.binary, "qemu-system-x86_64");
        assert_eq!(c.worker_listen.port(), 63302);
        // Arrays replace.
        assert_eq!(c.workers.len(), 1);
        assert_eq!(c.workers[0].id, "edge-1");
    }

    #[test]
    fn printed_config_parses_back_to_itself() {
        let c = Config::embedded().with_qemu_workers(3);
        assert_eq!(Config::from_toml_str(&c.to_toml()).unwrap(), c);
    }

    #[test]
    fn mistakes_are_named() {
        let err = |text: &str| Config::from_toml_str(text).unwrap_err().to_string();
        assert!(err("htp = \"127.0.0.1:1\"").contains("htp"));
        assert!(err("http = \"localhost\"").contains("http") || err("http = \"localhost\"").contains("address"));
        assert!(err("boot_timeout_secs = -1.0").contains("boot_timeout_secs"));
        assert!(err("queue = 0").contains("queue"));
        assert!(err("workers = []").contains("workers"));
        assert!(err("[[workers]]\nid = \"a b\"\npower = \"qemu\"").contains("workers[0].id"));
        assert!(err("[[workers]]\nid = \"a\"\npower = \"gpio\"").contains("gpio"));
        let twice = "[[workers]]\nid = \"a\"\npower = \"qemu\"\n[[workers]]\nid = \"a\"\npower = \"qemu\"";
        assert!(err(twice).contains("twice"));
        assert!(err("queue = [").contains("parse"));
    }

    #[test]
    fn services_parse_and_their_mistakes_are_named() {
        let c = Config::from_toml_str(
            "[services.redis]\naddress = \"127.0.0.1:6379\"\npassword = \"hunter2\"\ndatabase = \"2\"",
        )
        .unwrap();
        let redis = &c.services["redis"];
        assert_eq!(redis.password.as_ref().unwrap().expose(), "hunter2");
        assert_eq!(redis.database.as_deref(), Some("2"));
        assert!(!c.to_toml().contains("hunter2") && c.to_toml().contains(REDACTED));
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = |text: &str| Config::from_toml_str(text).unwrap_err().to_string();
        assert!(err("[services.redis]\naddress = \"127.0.0.1:6379\"\npasswd = \"x\"").contains("passwd"));
        assert!(err("[services.redis]\naddress = \"127.0.0.1\"").contains("services.redis.address"));
        assert!(err("[services.redis]\nuser = \"u\"").contains("address"));
    }

    #[test]
    fn with_qemu_workers_names_them_in_order() {
        let c = Config::embedded().with_qemu_workers(3);
        assert_eq!(c.workers.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(), ["w0", "w1", "w2"]);
    }

    #[test]
    fn artifacts_default_to_the_workspace_target() {
        let mut c = Config::embedded();
        c.artifacts = Some(PathBuf::from("/a"));
        assert_eq!(c.kernel_path(), PathBuf::from("/a/bzImage"));
        assert_eq!(c.initrd_path(), PathBuf::from("/a/initramfs.cpio"));
        assert!(workspace_dir().join("Cargo.toml").exists());
    }
}
