//! An invocation as it travels from the gateway through the queue to a worker and back.
use std::fmt;
use std::time::{Duration, Instant};

use functions::json::HostError;
use tokio::sync::oneshot;

/// A queued invocation.
pub(crate) struct Job {
    pub call: u64,
    pub function: &'static str,
    /// The function's arguments, postcard-encoded and checked.
    pub args: Vec<u8>,
    /// The services the function declared, as the workers reach them.
    pub services: Vec<crate::config::GuestService>,
    pub enqueued: Instant,
    pub reply: oneshot::Sender<Report>,
}

/// What became of one invocation, with the timings known so far (for the response headers).
#[derive(Debug)]
pub struct Report {
    pub call: u64,
    /// The worker that ran (or tried to run) it.
    pub worker: Option<String>,
    /// Enqueued → taken by a worker.
    pub queue: Duration,
    /// Power-on → Hello of the boot that ran it.
    pub boot: Option<Duration>,
    /// Time in the function, as the worker measured it.
    pub exec: Option<Duration>,
    /// The function's postcard output.
    pub result: Result<Vec<u8>, InvokeError>,
}

impl Report {
    pub(crate) fn failed(call: u64, error: InvokeError) -> Report {
        Report { call, worker: None, queue: Duration::ZERO, boot: None, exec: None, result: Err(error) }
    }
}

/// Why an invocation produced no output.
#[derive(Debug, Clone, PartialEq)]
pub enum InvokeError {
    /// Every worker is busy and the queue is full.
    QueueFull,
    /// The orchestrator is shutting down.
    ShuttingDown,
    /// No boot reached its Hello (the Invoke was never sent).
    BootFailed { attempts: u32, reason: String },
    /// The worker went away after the Invoke was sent.
    WorkerDied(String),
    /// The worker broke the protocol after the Invoke was sent.
    Protocol(String),
    /// No Result within the invocation timeout.
    Timeout(Duration),
    /// The worker answered with a typed error.
    Worker(HostError),
    /// The invocation's task ended without an answer (a bug).
    Lost,
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvokeError::QueueFull => f.write_str("all workers are busy and the queue is full; retry later"),
            InvokeError::ShuttingDown => f.write_str("the orchestrator is shutting down"),
            InvokeError::BootFailed { attempts, reason } => {
                write!(f, "no worker booted ({attempts} attempts); last: {reason}")
            }
            InvokeError::WorkerDied(m) => write!(f, "the worker died during the invocation: {m}"),
            InvokeError::Protocol(m) => write!(f, "the worker broke the protocol: {m}"),
            InvokeError::Timeout(t) => write!(f, "no result within {:.1} s", t.as_secs_f64()),
            InvokeError::Worker(e) => write!(f, "{:?}: {}", e.kind, e.message),
            InvokeError::Lost => f.write_str("the invocation was lost (orchestrator bug)"),
        }
    }
}

impl std::error::Error for InvokeError {}
