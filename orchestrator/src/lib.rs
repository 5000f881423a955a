//! The MicroFaaS orchestrator: an OpenFaaS-compatible HTTP gateway in front of a pool of tiny
//! workers that are powered on for one invocation each and off again when idle.
//!
//! The pieces, bottom up (each usable alone, e.g. by the boot benchmark):
//! - [`power`]: switch a worker on and off — [`power::qemu::QemuLaunch`] builds and spawns one
//!   QEMU worker from config ([`power::qemu::QemuProcess::spawned_at`], `console_log`).
//! - [`link`]: wire frames over tokio.
//! - [`listener`]: [`listener::WorkerListener`] accepts a worker and returns its checked Hello and
//!   the instant it arrived ([`listener::Arrival`]).
//! - [`conn`]: [`conn::WorkerConn::invoke`] (reply + round trip) and
//!   [`conn::WorkerConn::power_off`].
//! - [`pool`]: the scheduler and each worker's state machine, built on the three above.
//! - [`gateway`]: the HTTP API; [`server::Orchestrator`] puts it all together.
//! - [`client`], [`cli`], [`demo`]: the `microfaas` command.
//!
//! One worker by hand, as the boot benchmark does it:
//!
//! ```no_run
//! # async fn boot_once() -> Result<(), Box<dyn std::error::Error>> {
//! use orchestrator::{Config, listener::WorkerListener, power::qemu::QemuLaunch};
//! let config = Config::embedded();
//! let listener = WorkerListener::bind("127.0.0.1:0").await?;
//! let launch = QemuLaunch::from_config(&config, "w0", listener.local_addr()?.port());
//! let mut qemu = launch.spawn()?; // console in launch.console_log
//! let mut arrival = listener.accept_hello(config.boot_timeout()).await?;
//! let boot = arrival.at - qemu.spawned_at;
//! let echo = functions::find("echo").map_err(|e| e.to_string())?;
//! let args = (echo.args_from_json)(&serde_json::json!("hi"))?;
//! let (reply, round_trip) = arrival.conn.invoke(1, "echo", &args).await?;
//! arrival.conn.power_off().await?;
//! qemu.wait().await?;
//! println!("boot {boot:?}, exec {:?}, round trip {round_trip:?}: {:?}", reply.exec, reply.outcome);
//! # Ok(()) }
//! ```
pub mod cli;
pub mod client;
pub mod config;
pub mod conn;
pub mod demo;
pub mod gateway;
pub mod link;
pub mod listener;
pub mod pool;
pub mod power;
pub mod server;
#[cfg(test)]
mod testing;

pub use config::Config;
pub use server::{Orchestrator, StartError};
