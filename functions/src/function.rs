//! What a function is: a name, typed arguments and output, and a body that runs with a context.
use serde::{Deserialize, Serialize};

use crate::net::{Connector, ServerText, Service, ServiceError};

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
    /// The configured services it needs (`[services.<name>]` in the orchestrator's config), sent
    /// with each Invoke; part of the catalogue hash. Most functions need none.
    const SERVICES: &'static [&'static str] = &[];

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
    /// The network, where the runner has one (the worker's smoltcp, the host's sockets).
    net: Option<&'c mut dyn Connector>,
    /// The services this invocation was given, as declared by [`Function::SERVICES`].
    services: &'c [Service<'c>],
    /// The server's own words about the last failure, for the runner to report with the error.
    server_text: ServerText,
    /// Wall-clock seconds since the Unix epoch, as the orchestrator sent them (0 = unknown).
    unix_time: u64,
}

impl<'c> Context<'c> {
    /// A context without network: enough for every function that declares no services.
    pub fn new(clock: &'c dyn Clock) -> Self {
        Context { clock, net: None, services: &[], server_text: ServerText::new(), unix_time: 0 }
    }

    /// A context with a connector and the invocation's services.
    pub fn with_network(clock: &'c dyn Clock, net: &'c mut dyn Connector, services: &'c [Service<'c>]) -> Self {
        Context { clock, net: Some(net), services, server_text: ServerText::new(), unix_time: 0 }
    }

    /// The context with the wall-clock time (seconds since the Unix epoch, UTC) the invocation
    /// came with: the worker has no clock of its own, so the orchestrator sends it.
    pub fn with_unix_time(mut self, unix_time: u64) -> Self {
        self.unix_time = unix_time;
        self
    }

    /// Now, in seconds since the Unix epoch (UTC), as of the invocation's start; 0 if unknown.
    pub fn unix_time(&self) -> u64 {
        self.unix_time
    }

    /// The service called `name` and the connector to reach it with.
    pub fn service(&mut self, name: &str) -> Result<(&Service<'c>, &mut dyn Connector), FnError> {
        let service = self.services.iter().find(|s| s.name == name).ok_or(FnError {
            kind: ErrorKind::ServiceUnavailable,
            message: "service unavailable: not configured for this invocation",
        })?;
        let net = self.net.as_deref_mut().ok_or(FnError {
            kind: ErrorKind::ServiceUnavailable,
            message: "service unavailable: this runner has no network",
        })?;
        Ok((service, net))
    }

    /// Turns a client's error into the function's, keeping the server's text for the runner.
    pub fn fail(&mut self, e: ServiceError) -> FnError {
        self.server_text = e.server.clone();
        e.fn_error()
    }

    /// What the server said about the failure just returned, if anything (empty otherwise).
    pub fn server_text(&self) -> &str {
        &self.server_text
    }

    /// `e` as a client sees it: our words, then the server's where it gave some. The one place
    /// both runners (the init and `run_on_host_with`) take that text from.
    pub fn describe(&self, e: &FnError) -> Described<'_> {
        Described { message: e.message, server: self.server_text() }
    }

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
    /// A service the function needs refused the connection, timed out or closed it early.
    ServiceUnavailable,
    /// A service refused the configured credentials.
    AuthFailed,
    /// A service answered something the client does not understand, or an error reply.
    ProtocolError,
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

/// An error's message followed by the server's text; see [`Context::describe`].
pub struct Described<'a> {
    message: &'static str,
    server: &'a str,
}

impl core::fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message)?;
        if !self.server.is_empty() {
            write!(f, ": {}", self.server)?;
        }
        Ok(())
    }
}
