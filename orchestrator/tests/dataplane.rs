//! Data-plane functions on real workers: a QEMU guest's init reaches a real `redis-server` on the
//! host's loopback through QEMU user networking (the orchestrator rewrites 127.0.0.1 to 10.0.2.2),
//! and the server's own view (`redis-cli GET`) agrees. Wrong password and a stopped server give
//! typed errors within the invocation timeout, and the next invocation still works.
//!
//! Needs the artifacts (`cargo xtask artifacts`) and `redis-server` (`cargo xtask test` installs it).
mod support;

use orchestrator::config::{Secret, ServiceConfig};
use serde_json::json;
use support::fake::fake_address;
use support::live::{Live, SERIAL, service_at};
use support::redis::RedisServer;

fn worker_at(address: &str, password: &str) -> Live {
    Live::start(1, "redis", ServiceConfig { password: Some(Secret::new(password)), ..service_at(address) }, 20.0)
}

#[test]
fn redis_functions_on_a_worker_agree_with_the_server_and_fail_cleanly() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = RedisServer::start();
    let live = worker_at(&server.addr().to_string(), &server.password);

    let a = live.post("redis_insert", json!({"id": 42, "balance": 1000}));
    assert_eq!((a.status, a.body.as_str()), (200, "1000"), "{a:?}");
    assert_eq!(server.get("42"), "1000");
    let a = live.post("redis_modify", json!({"id": 42, "spend": 250}));
    assert_eq!((a.status, a.body.as_str()), (200, "750"), "{a:?}");
    assert_eq!(server.get("42"), "750");
    let a = live.post("redis_modify", json!({"id": "42", "spend": 1}));
    assert_eq!((a.status, a.body.as_str()), (200, "749"), "{a:?}");
    assert_eq!(server.get("42"), "749");

    // The server's own error, with its words, as a 502.
    live.post("redis_insert", json!({"id": "max", "balance": i64::MAX}));
    let a = live.post("redis_modify", json!({"id": "max", "spend": -1}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("overflow"), "{}", a.body);

    // A stopped server: 503 well within the invocation timeout, and nothing crashes.
    server.stop();
    let a = live.post("redis_insert", json!({"id": 1, "balance": 1}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.body.contains("service unavailable"), "{}", a.body);
    assert!(a.exec.unwrap_or(99.0) < 10.0, "{a:?}");
    // Workers still serve functions without services.
    let a = live.post("echo", json!({"still": "alive"}));
    assert_eq!(a.status, 200, "{a:?}");
    live.stop();
}

#[test]
fn a_wrong_password_is_auth_failed_and_leaves_no_trace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = RedisServer::start();
    let live = worker_at(&server.addr().to_string(), "not-the-password");
    let a = live.post("redis_insert", json!({"id": 5, "balance": 5}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("auth failed") && a.body.contains("WRONGPASS"), "{}", a.body);
    assert!(!a.body.contains("not-the-password"), "{}", a.body);
    assert_eq!(server.get("5"), "");
    live.stop();
}

#[test]
fn a_stalling_server_times_out_and_garbage_is_a_protocol_error_on_a_worker() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let live = worker_at(&fake_address(None), "x");
    let a = live.post("redis_insert", json!({"id": 1, "balance": 1}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.body.contains("timed out"), "{}", a.body);
    let exec = a.exec.unwrap_or(99.0);
    assert!((4.5..8.0).contains(&exec), "the 5 s deadline, not the invocation timeout: {a:?}");
    live.stop();

    let live = worker_at(&fake_address(Some(b"HTTP/1.1 400 Bad Request\r\n\r\n")), "x");
    let a = live.post("redis_insert", json!({"id": 1, "balance": 1}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("protocol error"), "{}", a.body);
    live.stop();
}
