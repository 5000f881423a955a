//! The messages. Borrowed fields decode without copies on either side.
use serde::{Deserialize, Serialize};

use crate::function::ErrorKind;
use crate::net::Services;

/// Bumped on any change to these types; the orchestrator refuses workers of another version.
pub const PROTOCOL_VERSION: u16 = 3;

/// Orchestrator → worker.
// Invoke is the big one (its services inline): decoded once per frame on the stack, where boxing
// would allocate outside the invocation's arena.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub enum ToWorker<'a> {
    /// Run one function. Must stay variant 0: [`call_id_of`] relies on it.
    #[serde(borrow)]
    Invoke(Invoke<'a>),
    /// Reboot now (a fresh worker for the next invocation).
    Reboot,
    /// Power off now.
    PowerOff,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Invoke<'a> {
    /// Must stay the first field: [`call_id_of`] relies on it.
    pub call: u64,
    pub function: &'a str,
    /// The function's `Args`, postcard-encoded.
    pub args: &'a [u8],
    /// The services the function declared, resolved for this worker (empty for most functions).
    #[serde(borrow)]
    pub services: Services<'a>,
    /// The orchestrator's wall clock when it sent the Invoke, in seconds since the Unix epoch (UTC):
    /// the worker has no clock of its own to date requests with (S3's `x-amz-date`). 0 = unknown.
    pub unix_time: u64,
}

/// Worker → orchestrator.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub enum FromWorker<'a> {
    /// The first frame on every connection.
    #[serde(borrow)]
    Hello(Hello<'a>),
    Result(CallResult<'a>),
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Hello<'a> {
    pub version: u16,
    pub worker: &'a str,
    /// [`crate::catalogue_hash`] of the worker's build.
    pub catalogue: u64,
    pub boot: BootTimings,
}

/// Milestones of the worker's boot, in microseconds of CLOCK_MONOTONIC, which starts with the
/// kernel: so `init_start_us` is also the kernel's own boot time.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Copy, Default)]
pub struct BootTimings {
    pub init_start_us: u64,
    pub link_up_us: u64,
    pub address_us: u64,
    pub connected_us: u64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct CallResult<'a> {
    pub call: u64,
    #[serde(borrow)]
    pub outcome: Outcome<'a>,
    /// Time spent in the function on the worker.
    pub exec_ns: u64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub enum Outcome<'a> {
    /// The function's `Output`, postcard-encoded.
    Output(&'a [u8]),
    Error(WireError<'a>),
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct WireError<'a> {
    pub kind: ErrorKind,
    pub message: &'a str,
}

/// The call id of an Invoke frame whose body does not fully decode, so the worker can still answer
/// it with an error: the variant index and the call id come first and are plain varints.
pub fn call_id_of(body: &[u8]) -> Option<u64> {
    match postcard::take_from_bytes::<(u32, u64)>(body) {
        Ok(((0, call), _)) => Some(call),
        _ => None,
    }
}
