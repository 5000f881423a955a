//! Host side: JSON request bodies ⇄ postcard, through the functions' own typed arguments, so the
//! orchestrator rejects a bad request before any worker is powered on.
use std::string::{String, ToString};
use std::vec::Vec;

use crate::function::{Clock, Context, ErrorKind, FnError, Function};
use crate::net::Service;
use crate::net::host::HostConnector;

/// An error on the host side: like [`FnError`] but with an owned message, so serde's own words
/// (which name the field and the expected type) reach the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    pub kind: ErrorKind,
    pub message: String,
}

impl From<FnError> for HostError {
    fn from(e: FnError) -> Self {
        HostError { kind: e.kind, message: e.message.into() }
    }
}

impl core::fmt::Display for HostError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostError {}

/// JSON → typed `Args` → checked → postcard.
pub fn args_from_json<F: Function + ?Sized>(json: &serde_json::Value) -> Result<Vec<u8>, HostError> {
    // `&Value` is a borrowing deserializer, so `&str` fields work without copies. serde names the
    // field in a missing-field error but not in a wrong-type one; the path wrapper prefixes it
    // ("rounds: invalid type: ...").
    let args = serde_path_to_error::deserialize::<_, F::Args<'_>>(json)
        .map_err(|e| HostError { kind: ErrorKind::BadArguments, message: e.to_string() })?;
    F::check(&args)?;
    Ok(postcard::to_allocvec(&args).map_err(|_| FnError::bad_args("arguments do not encode"))?)
}

/// postcard → typed `Output` → JSON.
pub fn output_to_json<F: Function + ?Sized>(output: &[u8]) -> Result<serde_json::Value, HostError> {
    let out: F::Output<'_> =
        postcard::from_bytes(output).map_err(|_| FnError::failed("worker output does not decode"))?;
    Ok(serde_json::to_value(&out).map_err(|_| FnError::failed("worker output is not representable as JSON"))?)
}

/// The host's monotonic clock.
pub struct HostClock(std::time::Instant);

impl HostClock {
    pub fn new() -> Self {
        HostClock(std::time::Instant::now())
    }
}

impl Default for HostClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for HostClock {
    fn now_ns(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

/// Runs a function natively on the host: JSON in, JSON out. The reference the worker's results are
/// compared with, and the native baseline of the benchmarks. For functions that need no services.
pub fn run_on_host(name: &str, args: &serde_json::Value) -> Result<serde_json::Value, HostError> {
    run_on_host_with(name, args, &[])
}

/// [`run_on_host`] with the services a data-plane function needs, reached over host sockets.
pub fn run_on_host_with(
    name: &str,
    args: &serde_json::Value,
    services: &[Service<'_>],
) -> Result<serde_json::Value, HostError> {
    let entry = crate::find(name)?;
    let args = (entry.args_from_json)(args)?;
    let clock = HostClock::new();
    let mut net = HostConnector::new();
    let unix_time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut ctx = Context::with_network(&clock, &mut net, services).with_unix_time(unix_time);
    let mut out = std::vec![0u8; crate::wire::MAX_FRAME];
    let len = (entry.run)(&mut ctx, &args, &mut out)
        .map_err(|e| HostError { kind: e.kind, message: ctx.describe(&e).to_string() })?;
    (entry.output_to_json)(&out[..len])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::run_on_host;
    use crate::ErrorKind;

    #[test]
    fn every_example_runs() {
        // Data-plane functions need a server: their own tests start one.
        for e in crate::CATALOGUE.iter().filter(|e| e.services.is_empty()) {
            let args: serde_json::Value = serde_json::from_str(e.example).unwrap();
            run_on_host(e.name, &args).unwrap_or_else(|err| panic!("{}: {err}", e.name));
        }
    }

    #[test]
    fn echo_returns_any_json() {
        let v = json!({"a": [1, 2.5, "x\n\"y\""], "b": null});
        assert_eq!(run_on_host("echo", &v).unwrap(), v);
    }

    #[test]
    fn escaped_strings_are_accepted() {
        let out = run_on_host("cascading_sha256", &json!({"data": "a\"b\\c\n", "rounds": 1})).unwrap();
        assert_eq!(out.as_str().unwrap().len(), 64);
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let e = run_on_host("cascading_sha256", &json!({"data": "x"})).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadArguments);
        assert!(e.message.contains("rounds"), "{}", e.message);
        let e = run_on_host("cascading_sha256", &json!({"data": 5, "rounds": 1})).unwrap_err();
        assert!(e.message.starts_with("data:") && e.message.contains("string"), "{}", e.message);
        let e = run_on_host("cascading_sha256", &json!({"data": "x", "rounds": -1})).unwrap_err();
        assert!(e.message.starts_with("rounds:"), "{}", e.message);
        let e = run_on_host("float_operations", &json!({"n": 10_000_001})).unwrap_err();
        assert!(e.message.starts_with("n:"), "{}", e.message);
    }
}
