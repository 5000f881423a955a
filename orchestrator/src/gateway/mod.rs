//! The HTTP API, OpenFaaS-compatible where the two overlap:
//!
//! - `POST /function/{name}`: JSON body in, the function's JSON output out (200). Errors are plain
//!   text: 404 unknown function, 400 bad body or arguments, 413 body too large, 502 worker died or
//!   failed to boot, 503 queue full or shutting down, 504 timeout, 507 worker out of memory, 500
//!   function failed. Every answer carries the timing headers below.
//! - `GET /system/functions`: the compiled-in functions (name, summary, args, output, example).
//! - `GET /system/workers`: every worker's state.
//! - `GET /healthz`: 200 while the server runs.
pub mod request;
pub mod status;

use crate::config::GuestServices;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::pool::{Report, Scheduler};

/// The invocation's id (also in the orchestrator's log).
pub const CALL_ID: &str = "x-call-id";
/// The worker that ran it.
pub const WORKER: &str = "x-worker";
/// OpenFaaS's header: total wall time in the gateway, seconds.
pub const DURATION: &str = "x-duration-seconds";
/// Time in the function on the worker, seconds.
pub const EXEC: &str = "x-exec-seconds";
/// Power-on → Hello of the worker that ran it, seconds.
pub const BOOT: &str = "x-boot-seconds";
/// Time waiting for a free worker, seconds.
pub const QUEUE: &str = "x-queue-seconds";

/// What the handlers share.
struct Gateway {
    scheduler: Arc<Scheduler>,
    services: Arc<GuestServices>,
    next_call: AtomicU64,
}

/// The API's router over `scheduler`; request bodies over `max_body` bytes get 413.
/// `services` are the configured data-plane services, as the workers reach them.
pub fn router(scheduler: Arc<Scheduler>, services: Arc<GuestServices>, max_body: usize) -> Router {
    let gateway = Arc::new(Gateway { scheduler, services, next_call: AtomicU64::new(1) });
    Router::new()
        .route("/function/{name}", post(invoke))
        .route("/system/functions", get(list_functions))
        .route("/system/workers", get(list_workers))
        .route("/healthz", get(|| async { "OK" }))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(gateway)
}

async fn invoke(
    State(gateway): State<Arc<Gateway>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let call = gateway.next_call.fetch_add(1, Ordering::Relaxed);
    let prepared = match body {
        Ok(body) => request::prepare(&name, &body, &gateway.services),
        Err(rejection) => Err(request::Refusal { status: rejection.status(), message: rejection.body_text() }),
    };
    let (entry, args, services) = match prepared {
        Ok(ready) => ready,
        Err(refusal) => {
            log::info!("call {call}: {name} refused: {} {}", refusal.status.as_u16(), refusal.message);
            return respond(call, started, None, refusal.status, Answer::Text(refusal.message));
        }
    };
    let report = gateway.scheduler.invoke(call, entry.name, args, services).await;
    let (status, answer) = match &report.result {
        Ok(output) => match (entry.output_to_json)(output) {
            Ok(json) => (StatusCode::OK, Answer::Json(json)),
            Err(e) => (StatusCode::BAD_GATEWAY, Answer::Text(format!("worker output does not decode: {}", e.message))),
        },
        Err(error) => (status::for_invoke_error(error), Answer::Text(error.to_string())),
    };
    log::info!(
        "call {call}: {} -> {} worker={} queue={} boot={} exec={} total={:.3}s{}",
        entry.name,
        status.as_u16(),
        report.worker.as_deref().unwrap_or("-"),
        secs(Some(report.queue)),
        secs(report.boot),
        secs(report.exec),
        started.elapsed().as_secs_f64(),
        match &answer {
            Answer::Text(m) => format!(": {m}"),
            Answer::Json(_) => String::new(),
        }
    );
    respond(call, started, Some(&report), status, answer)
}

enum Answer {
    Json(serde_json::Value),
    Text(String),
}

fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{:.3}s", d.as_secs_f64()))
}

/// Builds an invocation response with its timing headers.
fn respond(call: u64, started: Instant, report: Option<&Report>, status: StatusCode, answer: Answer) -> Response {
    let (content_type, body) = match answer {
        Answer::Json(json) => ("application/json", serde_json::to_vec(&json).unwrap_or_default()),
        Answer::Text(mut text) => {
            text.push('\n');
            ("text/plain; charset=utf-8", text.into_bytes())
        }
    };
    let mut response = (status, Body::from(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CALL_ID, HeaderValue::from(call));
    let mut put_secs = |name: &'static str, d: Option<Duration>| {
        if let Some(value) = d.and_then(|d| HeaderValue::from_str(&format!("{:.6}", d.as_secs_f64())).ok()) {
            headers.insert(name, value);
        }
    };
    put_secs(DURATION, Some(started.elapsed()));
    if let Some(report) = report {
        put_secs(QUEUE, Some(report.queue));
        put_secs(BOOT, report.boot);
        put_secs(EXEC, report.exec);
        if let Some(worker) = report.worker.as_deref().and_then(|w| HeaderValue::from_str(w).ok()) {
            headers.insert(WORKER, worker);
        }
    }
    response
}

/// One entry of `GET /system/functions`.
#[derive(Serialize)]
struct FunctionInfo {
    name: &'static str,
    summary: &'static str,
    args: &'static str,
    output: &'static str,
    /// The `[services.<name>]` it needs.
    services: &'static [&'static str],
    example: serde_json::Value,
}

async fn list_functions() -> Response {
    let list: Vec<FunctionInfo> = functions::CATALOGUE
        .iter()
        .map(|e| FunctionInfo {
            name: e.name,
            summary: e.summary,
            args: e.args,
            output: e.output,
            services: e.services,
            example: serde_json::from_str(e.example).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    axum::Json(list).into_response()
}

async fn list_workers(State(gateway): State<Arc<Gateway>>) -> Response {
    axum::Json(gateway.scheduler.workers()).into_response()
}
