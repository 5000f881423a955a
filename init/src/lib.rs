//! The worker's `/init`: reads its configuration from the kernel command line, brings up eth0,
//! runs smoltcp over an AF_PACKET socket, connects to the orchestrator and serves invocations
//! until it is told to reboot or power off.
//!
//! Everything but the process entry lives in this library so it can be unit-tested on the host;
//! `main.rs` adds `_start`, the panic handler and the C memory functions.
#![cfg_attr(not(test), no_std)]

pub mod arena;
pub mod clock;
pub mod config;
pub mod console;
pub mod env;
pub mod link;
pub mod net;
pub mod power;
pub mod serve;

use log::{error, info};

/// Runs the worker; never returns: every path ends in reboot or power-off.
pub fn main(env: env::Env) -> ! {
    let init_start_us = clock::now_us();
    console::install(env.get("mfaas_log"));
    info!(
        "microfaas init {} (protocol {}, arena {} KiB)",
        env!("CARGO_PKG_VERSION"),
        functions::wire::PROTOCOL_VERSION,
        arena::ARENA_BYTES / 1024
    );
    let config = match config::Config::parse(env.vars()) {
        Ok(config) => config,
        Err(e) => {
            error!("bad kernel command line: {e}");
            power::reboot_after_ms(config::FAULT_DELAY_MS)
        }
    };
    match serve::run(&config, init_start_us) {
        serve::Exit::Reboot => power::reboot(),
        serve::Exit::PowerOff => power::power_off(),
        serve::Exit::Fault(why) => {
            error!("{why}; rebooting");
            power::reboot_after_ms(config::FAULT_DELAY_MS)
        }
    }
}
