//! The worker pool: each worker's state machine, the invocation queue and the scheduler that
//! powers workers on for one invocation each.
mod job;
mod scheduler;
mod state;
mod worker;

pub use job::{InvokeError, Report};
pub use scheduler::{BOOT_ATTEMPTS, Scheduler, Timeouts};
pub use state::WorkerState;
pub use worker::WorkerStatus;
