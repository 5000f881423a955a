//! What a function is: a name, typed arguments and output, and a body that runs with a context.
use serde::{Deserialize, Serialize};

/// A compiled-in function. Adding one is one file in `catalogue/` plus one line in the registry.
pub trait Function {
    /// The name clients invoke it by (`POST /function/{NAME}`).
    const NAME: &'static str;
    /// One line for `microfaas functions`.
    const SUMMARY: &'static str;
    /// The JSON shape of the arguments, for humans; part of the catalogue hash.
    const ARGS: &'static str;
    /// The JSON shape of the output, for humans; part of the catalogue hash.
    const OUTPUT: &'static str;
    /// A small valid request body (JSON), for the demo and `microfaas functions`.
    const EXAMPLE: &'static str;

    /// Arguments as they travel (postcard), borrowing from the Invoke frame.
    type Args<'a>: Serialize + Deserialize<'a>;
    /// Output as it travels (postcard), may borrow from the arguments.
    type Output<'a>: Serialize + Deserialize<'a>;

    /// Rejects arguments outside the documented caps. Runs on the orchestrator (to answer 400
    /// before a worker is powered on) and again on the worker.
    fn check(_args: &Self::Args<'_>) -> Result<(), FnError> {
        Ok(())
    }

    /// The body.
    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError>;

    /// Turns a JSON request body into postcard arguments (host side).
    #[cfg(feature = "std")]
    fn args_from_json(json: &serde_json::Value) -> Result<std::vec::Vec<u8>, crate::json::HostError> {
        crate::json::args_from_json::<Self>(json)
    }

    /// Turns postcard output into the JSON response body (host side).
    #[cfg(feature = "std")]
    fn output_to_json(output: &[u8]) -> Result<serde_json::Value, crate::json::HostError> {
        crate::json::output_to_json::<Self>(output)
    }
}

/// A monotonic clock, in nanoseconds from an arbitrary origin.
pub trait Clock {
    fn now_ns(&self) -> u64;
}

/// What a function body may use besides its arguments.
pub struct Context<'c> {
    pub clock: &'c dyn Clock,
}

impl Context<'_> {
    /// Seconds elapsed since `start_ns` (a value from `clock.now_ns()`), for `latency` outputs.
    pub fn seconds_since(&self, start_ns: u64) -> f64 {
        self.clock.now_ns().saturating_sub(start_ns) as f64 / 1e9
    }
}

/// Why an invocation produced no output. Travels in Result frames; the orchestrator maps it to an
/// HTTP status.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No function of that name is compiled in.
    UnknownFunction,
    /// The arguments do not fit the function (wrong shape, out of the documented caps).
    BadArguments,
    /// The function needed more memory than the worker's arena holds.
    OutOfMemory,
    /// The function ran and failed, or its output does not fit a frame.
    Failed,
    /// The invocation did not finish in time.
    Timeout,
    /// The Invoke frame could not be decoded.
    Malformed,
}

/// An error from a function or from decoding its arguments. Messages are static so a worker can
/// report them without allocating; they name the offending field where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FnError {
    pub kind: ErrorKind,
    pub message: &'static str,
}

impl FnError {
    pub const fn bad_args(message: &'static str) -> Self {
        FnError { kind: ErrorKind::BadArguments, message }
    }
    pub const fn failed(message: &'static str) -> Self {
        FnError { kind: ErrorKind::Failed, message }
    }
    pub const fn out_of_memory(message: &'static str) -> Self {
        FnError { kind: ErrorKind::OutOfMemory, message }
    }
}

impl core::fmt::Display for FnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl core::error::Error for FnError {}
