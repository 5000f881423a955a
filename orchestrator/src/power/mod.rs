//! Power backends: how a worker is switched on and off. The scheduler only sees [`PowerBackend`],
//! so a GPIO line or a user command (relays, PDUs, IPMI) can replace QEMU without touching it.
pub mod qemu;

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::config::{Config, PowerKind, WorkerConfig};

/// A boxed future, so backends stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What powering on gave us.
#[derive(Debug, Clone)]
pub struct PowerOn {
    /// When power was applied (the QEMU process spawned): the origin of the boot time.
    pub at: Instant,
    /// Where the worker's console goes, if we capture it.
    pub console_log: Option<PathBuf>,
    /// The process standing for the worker, if there is one.
    pub pid: Option<u32>,
}

/// Switches one worker on and off and says whether it is still on.
///
/// The graceful way off is the protocol's `PowerOff` frame; [`PowerBackend::power_off`] is the
/// hard cut used after a grace period, on errors and at shutdown.
pub trait PowerBackend: Send {
    /// Applies power; the worker boots and connects to the orchestrator.
    fn power_on(&mut self) -> io::Result<PowerOn>;

    /// Cuts power now. Does not wait: use [`PowerBackend::until_off`] for that.
    fn power_off(&mut self) -> io::Result<()>;

    /// Whether the worker is still powered (false once it switched itself off).
    fn is_on(&mut self) -> bool;

    /// Resolves once the worker is off. Must be cancel-safe: the scheduler races it against the
    /// worker's answers. The default polls [`PowerBackend::is_on`].
    fn until_off(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            while self.is_on() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    }

    /// Whether the worker's graceful way off is a reboot. A QEMU `microvm` guest has no power-off
    /// device (the kernel halts instead, leaving QEMU running), but with `-no-reboot` a reboot
    /// ends the process; the scheduler then sends `Reboot` where it would send `PowerOff`.
    fn off_by_reboot(&self) -> bool {
        false
    }

    /// The process standing for the worker while it is on, for status and diagnostics.
    fn pid(&self) -> Option<u32> {
        None
    }

    /// Where the worker's console output goes, for error messages.
    fn console_log(&self) -> Option<PathBuf> {
        None
    }
}

/// Builds the backend a worker's config names. `orchestrator_port` is the worker listener's
/// actual port (known only once it is bound).
pub fn from_config(config: &Config, worker: &WorkerConfig, orchestrator_port: u16) -> Box<dyn PowerBackend> {
    match worker.power {
        PowerKind::Qemu => {
            Box::new(qemu::QemuPower::new(qemu::QemuLaunch::from_config(config, &worker.id, orchestrator_port)))
        }
    }
}
