//! Checks an invocation request before any worker is powered on: the function exists, the body is
//! JSON, the arguments fit the function (types and caps), and the Invoke fits in one frame.
use axum::http::StatusCode;
use functions::Entry;

use super::status;
use crate::config::{GuestService, GuestServices};

/// A request refused by the gateway itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into() }
    }
}

/// The catalogue entry and postcard arguments for `POST /function/{name}` with `body`. An empty
/// body stands for JSON `null`.
pub fn prepare(
    name: &str,
    body: &[u8],
    configured: &GuestServices,
) -> Result<(&'static Entry, Vec<u8>, Vec<GuestService>), Refusal> {
    let entry = functions::find(name).map_err(|_| {
        Refusal::new(StatusCode::NOT_FOUND, format!("no function named {name:?} (see GET /system/functions)"))
    })?;
    let services = entry
        .services
        .iter()
        .map(|s| {
            configured.get(*s).cloned().ok_or_else(|| {
                let m = format!("{name} needs the service {s:?}, which is not configured ([services.{s}])");
                Refusal::new(StatusCode::SERVICE_UNAVAILABLE, m)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let json: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(body)
            .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("request body is not JSON: {e}")))?
    };
    let args = (entry.args_from_json)(&json).map_err(|e| {
        Refusal::new(status::for_error_kind(e.kind), format!("bad arguments for {name}: {}", e.message))
    })?;
    if !crate::link::invoke_fits(entry.name, &args, &services) {
        return Err(Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, "arguments do not fit in one worker frame"));
    }
    Ok((entry, args, services))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepare(name: &str, body: &[u8]) -> Result<(&'static Entry, Vec<u8>, Vec<GuestService>), Refusal> {
        let redis = crate::config::ServiceConfig {
            address: "127.0.0.1:6379".into(),
            user: None,
            password: None,
            database: None,
            bucket: None,
            region: None,
        };
        // Every service some function needs, all at one address: only the routing is tested here.
        let configured =
            functions::CATALOGUE.iter().flat_map(|e| e.services).map(|s| (s.to_string(), redis.clone())).collect();
        super::prepare(name, body, &crate::config::resolve_for_guests(&configured, "10.0.2.2").unwrap())
    }

    fn refusal(name: &str, body: &[u8]) -> Refusal {
        match prepare(name, body) {
            Err(r) => r,
            Ok(_) => panic!("{name} {body:?} accepted"),
        }
    }

    #[test]
    fn every_example_is_accepted() {
        for e in functions::CATALOGUE {
            let (entry, _, services) = prepare(e.name, e.example.as_bytes()).unwrap();
            assert_eq!(entry.name, e.name);
            assert_eq!(services.len(), e.services.len());
        }
    }

    #[test]
    fn refusals_say_why() {
        let r = refusal("nope", b"{}");
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.message.contains("nope"));

        let r = refusal("cascading_sha256", b"{not json");
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.message.contains("not JSON"), "{}", r.message);

        let r = refusal("cascading_sha256", br#"{"data": "x"}"#);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.message.contains("rounds"), "{}", r.message);

        let r = refusal("cascading_sha256", br#"{"data": "x", "rounds": 0}"#);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.message.contains("rounds"), "{}", r.message);

        let r = refusal("float_operations", br#"{"n": 10000001}"#);
        assert!(r.message.contains("n:"), "{}", r.message);

        let r = refusal("float_operations", b"");
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_missing_service_is_503_before_any_worker() {
        let Err(r) = super::prepare("redis_insert", br#"{"id": 1, "balance": 2}"#, &Default::default()) else {
            panic!("accepted without [services.redis]")
        };
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.message.contains("[services.redis]"), "{}", r.message);
        let (_, _, services) = prepare("redis_insert", br#"{"id": 1, "balance": 2}"#).unwrap();
        assert_eq!(services[0].addr, "10.0.2.2:6379".parse().unwrap());
    }

    #[test]
    fn echo_accepts_an_empty_body_as_null() {
        assert!(prepare("echo", b"").is_ok());
    }

    #[test]
    fn arguments_larger_than_a_frame_are_413() {
        let big = format!("\"{}\"", "x".repeat(functions::wire::MAX_FRAME));
        assert_eq!(refusal("echo", big.as_bytes()).status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
