//! HTTP status codes for every way an invocation can end, in one place.
use axum::http::StatusCode;
use functions::ErrorKind;

use crate::pool::InvokeError;

/// The status for a typed function error, whether the orchestrator found it (request checks) or
/// the worker reported it.
pub fn for_error_kind(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadArguments => StatusCode::BAD_REQUEST,
        ErrorKind::UnknownFunction => StatusCode::NOT_FOUND,
        ErrorKind::OutOfMemory => StatusCode::INSUFFICIENT_STORAGE,
        ErrorKind::Failed => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::Malformed => StatusCode::BAD_GATEWAY,
        // The function's own upstream: down is 503 (retry later), refused credentials or a
        // garbled exchange are 502 (the gateway's upstream failed; not the client's 401/403).
        ErrorKind::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::AuthFailed | ErrorKind::ProtocolError => StatusCode::BAD_GATEWAY,
    }
}

/// The status for an invocation that did not produce output.
pub fn for_invoke_error(error: &InvokeError) -> StatusCode {
    match error {
        InvokeError::QueueFull | InvokeError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        InvokeError::BootFailed { .. } | InvokeError::WorkerDied(_) | InvokeError::Protocol(_) => {
            StatusCode::BAD_GATEWAY
        }
        InvokeError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        InvokeError::Worker(e) => for_error_kind(e.kind),
        InvokeError::Lost => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use functions::json::HostError;

    use super::*;

    #[test]
    fn worker_errors_map_as_documented() {
        let cases = [
            (ErrorKind::BadArguments, 400),
            (ErrorKind::UnknownFunction, 404),
            (ErrorKind::OutOfMemory, 507),
            (ErrorKind::Failed, 500),
            (ErrorKind::Timeout, 504),
            (ErrorKind::Malformed, 502),
            (ErrorKind::ServiceUnavailable, 503),
            (ErrorKind::AuthFailed, 502),
            (ErrorKind::ProtocolError, 502),
        ];
        for (kind, code) in cases {
            assert_eq!(for_error_kind(kind).as_u16(), code, "{kind:?}");
            let e = InvokeError::Worker(HostError { kind, message: "m".into() });
            assert_eq!(for_invoke_error(&e).as_u16(), code, "{kind:?}");
        }
    }

    #[test]
    fn platform_errors_map_as_documented() {
        let cases = [
            (InvokeError::QueueFull, 503),
            (InvokeError::ShuttingDown, 503),
            (InvokeError::BootFailed { attempts: 3, reason: "r".into() }, 502),
            (InvokeError::WorkerDied("x".into()), 502),
            (InvokeError::Protocol("x".into()), 502),
            (InvokeError::Timeout(Duration::from_secs(1)), 504),
            (InvokeError::Lost, 500),
        ];
        for (error, code) in cases {
            assert_eq!(for_invoke_error(&error).as_u16(), code, "{error:?}");
        }
    }
}
