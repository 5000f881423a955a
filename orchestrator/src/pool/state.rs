//! A worker's power/usage state. One invocation per boot:
//! Off → Booting → Ready → Busy → PoweringOff → Off, and Failed (boot failure, death, protocol
//! error, timeout) on the way back to Off once the worker is killed.
use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Powered off, free for the next invocation.
    Off,
    /// Powered on, waiting for its Hello.
    Booting,
    /// Said Hello; the Invoke is about to go out.
    Ready,
    /// Running an invocation.
    Busy,
    /// Told to power off, waiting for it to be off.
    PoweringOff,
    /// Something went wrong; being killed.
    Failed,
}

impl fmt::Display for WorkerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WorkerState::Off => "off",
            WorkerState::Booting => "booting",
            WorkerState::Ready => "ready",
            WorkerState::Busy => "busy",
            WorkerState::PoweringOff => "powering-off",
            WorkerState::Failed => "failed",
        })
    }
}
