//! The whole orchestrator in one value: worker listener, scheduler and HTTP API, started from a
//! config and shut down in order (stop accepting, power every worker off, return).
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{Config, ConfigError, PowerKind, WorkerConfig};
use crate::listener::WorkerListener;
use crate::pool::{Scheduler, Timeouts, WorkerStatus};
use crate::power::{self, PowerBackend};

/// How long the HTTP server may take to finish its last responses at shutdown.
const HTTP_DRAIN: Duration = Duration::from_secs(5);

/// Why the orchestrator did not start.
#[derive(Debug)]
pub enum StartError {
    Config(ConfigError),
    /// Kernel or initramfs missing.
    MissingArtifacts(Vec<PathBuf>),
    /// The QEMU binary is not there.
    MissingQemu(String),
    LogDir {
        dir: PathBuf,
        error: io::Error,
    },
    Bind {
        what: &'static str,
        addr: SocketAddr,
        error: io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Config(e) => e.fmt(f),
            StartError::MissingArtifacts(missing) => {
                write!(f, "worker artifacts missing:")?;
                for path in missing {
                    let how = match path.extension().and_then(|e| e.to_str()) {
                        Some("cpio") => "cargo xtask image",
                        _ => "cargo xtask kernel",
                    };
                    write!(f, "\n  {} (build it with `{how}`)", path.display())?;
                }
                write!(
                    f,
                    "\nor point ${} or `artifacts` in the config at a directory that has them",
                    crate::config::ARTIFACTS_ENV
                )
            }
            StartError::MissingQemu(binary) => {
                write!(
                    f,
                    "QEMU binary {binary:?} not found (install qemu-system-x86, or set qemu.binary in the config)"
                )
            }
            StartError::LogDir { dir, error } => write!(f, "cannot create log directory {}: {error}", dir.display()),
            StartError::Bind { what, addr, error } => write!(f, "cannot listen for {what} on {addr}: {error}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<ConfigError> for StartError {
    fn from(e: ConfigError) -> Self {
        StartError::Config(e)
    }
}

/// A running orchestrator.
pub struct Orchestrator {
    http_addr: SocketAddr,
    scheduler: Arc<Scheduler>,
    http_stop: Option<oneshot::Sender<()>>,
    http_task: Option<JoinHandle<io::Result<()>>>,
}

impl Orchestrator {
    /// Starts from `config` with the power backends it names, after checking that the worker
    /// artifacts and QEMU are there. Needs a tokio runtime.
    pub async fn start(config: &Config) -> Result<Orchestrator, StartError> {
        config.validate()?;
        if config.workers.iter().any(|w| w.power == PowerKind::Qemu) {
            check_qemu_artifacts(config)?;
        }
        let log_dir = config.log_dir();
        std::fs::create_dir_all(&log_dir).map_err(|error| StartError::LogDir { dir: log_dir.clone(), error })?;
        Orchestrator::start_with_power(config, power::from_config).await
    }

    /// Starts from `config` with power backends made by `make` (given the config, the worker and
    /// the worker listener's actual port). Checks no artifacts: the seam for other backends and for
    /// tests.
    pub async fn start_with_power(
        config: &Config,
        mut make: impl FnMut(&Config, &WorkerConfig, u16) -> Box<dyn PowerBackend>,
    ) -> Result<Orchestrator, StartError> {
        config.validate()?;
        let bind_error = |what, addr| move |error| StartError::Bind { what, addr, error };
        let listener =
            WorkerListener::bind(config.worker_listen).await.map_err(bind_error("workers", config.worker_listen))?;
        let worker_addr = listener.local_addr().map_err(bind_error("workers", config.worker_listen))?;
        let http = tokio::net::TcpListener::bind(config.http).await.map_err(bind_error("HTTP", config.http))?;
        let http_addr = http.local_addr().map_err(bind_error("HTTP", config.http))?;

        let workers = config.workers.iter().map(|w| (w.id.clone(), make(config, w, worker_addr.port()))).collect();
        let timeouts = Timeouts {
            boot: config.boot_timeout(),
            invoke: config.invoke_timeout(),
            power_off_grace: config.power_off_grace(),
        };
        let scheduler = Arc::new(
            Scheduler::start(listener, workers, timeouts, config.queue)
                .map_err(bind_error("workers", config.worker_listen))?,
        );
        let services = crate::config::resolve_for_guests(&config.services, &config.qemu.host_addr)?;
        for (name, s) in &services {
            log::info!("service {name}: {} (as workers reach it {})", s.config.address, s.addr);
        }
        for e in functions::CATALOGUE {
            for s in e.services.iter().filter(|s| !services.contains_key(**s)) {
                log::info!("{} needs [services.{s}], which is not configured: it will be answered 503", e.name);
            }
        }
        let router = crate::gateway::router(scheduler.clone(), Arc::new(services), config.max_body);
        let (http_stop, stopped) = oneshot::channel::<()>();
        let http_task = tokio::spawn(async move {
            axum::serve(http, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        log::info!(
            "orchestrator up: HTTP on http://{http_addr}, workers connect to {worker_addr}, {} worker(s) off: {}",
            config.workers.len(),
            config.workers.iter().map(|w| w.id.as_str()).collect::<Vec<_>>().join(", ")
        );
        Ok(Orchestrator { http_addr, scheduler, http_stop: Some(http_stop), http_task: Some(http_task) })
    }

    /// Where the HTTP API listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The API's base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Where workers connect.
    pub fn worker_addr(&self) -> SocketAddr {
        self.scheduler.worker_addr()
    }

    /// Every worker's state (and QEMU pid while on).
    pub fn workers(&self) -> Vec<WorkerStatus> {
        self.scheduler.workers()
    }

    pub fn scheduler(&self) -> &Arc<Scheduler> {
        &self.scheduler
    }

    /// Stops the HTTP API, fails queued and running invocations (503), powers every worker off
    /// and waits until all are off. Returns the workers' final states.
    pub async fn shutdown(mut self) -> Vec<WorkerStatus> {
        log::info!("shutting down: powering off all workers");
        if let Some(stop) = self.http_stop.take() {
            let _ = stop.send(());
        }
        self.scheduler.shutdown().await;
        if let Some(task) = self.http_task.take() {
            match tokio::time::timeout(HTTP_DRAIN, task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => log::warn!("HTTP server error: {e}"),
                Ok(Err(e)) => log::warn!("HTTP server task failed: {e}"),
                Err(_) => log::warn!("HTTP connections still open after {} s; dropping them", HTTP_DRAIN.as_secs()),
            }
        }
        log::info!("orchestrator stopped");
        self.scheduler.workers()
    }

    /// Runs until Ctrl-C or SIGTERM, then shuts down.
    pub async fn serve_until_signal(self) -> io::Result<()> {
        shutdown_signal().await?;
        self.shutdown().await;
        Ok(())
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() -> io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    log::info!("signal received");
    Ok(())
}

/// The kernel, initramfs and QEMU binary a QEMU worker needs.
fn check_qemu_artifacts(config: &Config) -> Result<(), StartError> {
    let missing: Vec<PathBuf> =
        [config.kernel_path(), config.initrd_path()].into_iter().filter(|p| !p.is_file()).collect();
    if !missing.is_empty() {
        return Err(StartError::MissingArtifacts(missing));
    }
    if find_program(&config.qemu.binary).is_none() {
        return Err(StartError::MissingQemu(config.qemu.binary.clone()));
    }
    Ok(())
}

/// `program` as `execvp` would find it.
fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn missing_artifacts_name_the_xtask_that_builds_them() {
        let mut c = Config::embedded();
        c.artifacts = Some("/nonexistent/artifacts".into());
        let err = match Orchestrator::start(&c).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("started without artifacts"),
        };
        assert!(err.contains("/nonexistent/artifacts/bzImage"), "{err}");
        assert!(err.contains("cargo xtask kernel") && err.contains("cargo xtask image"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_qemu_is_named() {
        let dir = crate::testing::temp_dir("fake-artifacts");
        std::fs::write(dir.path().join("bzImage"), b"").unwrap();
        std::fs::write(dir.path().join("initramfs.cpio"), b"").unwrap();
        let mut c = Config::embedded();
        c.artifacts = Some(dir.path());
        c.qemu.binary = "no-such-qemu-binary".into();
        let err = match Orchestrator::start(&c).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("started without QEMU"),
        };
        assert!(err.contains("no-such-qemu-binary"), "{err}");
    }

    #[test]
    fn programs_are_found_on_the_path() {
        assert!(find_program("sh").is_some());
        assert!(find_program("/bin/sh").is_some());
        assert!(find_program("no-such-program-here").is_none());
    }
}
