//! The RESP client and the Redis functions on the host (`run_on_host_with`) against a real
//! `redis-server`, including its failure modes: wrong password, no password, a stopped server, a
//! server that stalls and one that answers garbage.
mod support;

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use functions::ErrorKind;
use functions::json::{HostError, run_on_host_with};
use functions::net::{Secret, Service};
use serde_json::{Value, json};
use support::fake::fake_server;
use support::redis::RedisServer;

fn v4(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new([127, 0, 0, 1].into(), port)
}

fn run(name: &str, args: Value, port: u16, password: Option<&str>) -> Result<Value, HostError> {
    let service = Service { password: password.map(Secret), ..Service::at("redis", v4(port)) };
    run_on_host_with(name, &args, &[service])
}

#[test]
fn insert_and_modify_agree_with_the_server() {
    let server = RedisServer::start();
    let pw = Some(server.password.as_str());
    assert_eq!(run("redis_insert", json!({"id": 7, "balance": 100}), server.port, pw).unwrap(), json!(100));
    assert_eq!(server.get("7"), "100");
    assert_eq!(run("redis_modify", json!({"id": 7, "spend": 30}), server.port, pw).unwrap(), json!(70));
    assert_eq!(server.get("7"), "70");
    // A string id names the same key as the integer; negative balances are fine.
    assert_eq!(run("redis_modify", json!({"id": "7", "spend": 100}), server.port, pw).unwrap(), json!(-30));
    assert_eq!(server.get("7"), "-30");
    // A missing key starts at 0, as INCRBY does.
    assert_eq!(run("redis_modify", json!({"id": "fresh", "spend": 5}), server.port, pw).unwrap(), json!(-5));
    assert_eq!(server.get("fresh"), "-5");
    let big = i64::MAX;
    assert_eq!(run("redis_insert", json!({"id": "big", "balance": big}), server.port, pw).unwrap(), json!(big));
    // Overflow is the server's error, reported with its text.
    let e = run("redis_modify", json!({"id": "big", "spend": -1}), server.port, pw).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError);
    assert!(e.message.contains("overflow"), "{}", e.message);
}

#[test]
fn bad_arguments_are_refused_before_connecting() {
    for args in [
        json!({"id": 1}),
        json!({"id": 1, "balance": "100"}),
        json!({"id": 1.5, "balance": 1}),
        json!({"id": "k".repeat(65), "balance": 1}),
    ] {
        let e = run("redis_insert", args.clone(), 1, None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadArguments, "{args}: {e}");
    }
    let e = run("redis_modify", json!({"id": 1, "spend": i64::MIN}), 1, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadArguments);
}

#[test]
fn wrong_or_missing_password_is_auth_failed_with_the_servers_words() {
    let server = RedisServer::start();
    let e = run("redis_insert", json!({"id": 1, "balance": 1}), server.port, Some("wrong")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthFailed, "{e}");
    assert!(e.message.contains("WRONGPASS"), "{}", e.message);
    assert!(!e.message.contains("wrong\""), "{}", e.message);
    let e = run("redis_insert", json!({"id": 1, "balance": 1}), server.port, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthFailed, "{e}");
    assert!(e.message.contains("NOAUTH"), "{}", e.message);
    assert_eq!(server.get("1"), "");
}

#[test]
fn a_stopped_server_is_service_unavailable() {
    let mut server = RedisServer::start();
    let port = server.port;
    server.stop();
    let started = Instant::now();
    let e = run("redis_insert", json!({"id": 1, "balance": 1}), port, Some("x")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("refused"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_stalling_server_times_out_and_garbage_is_a_protocol_error() {
    let started = Instant::now();
    let e = run("redis_insert", json!({"id": 1, "balance": 1}), fake_server(None), Some("x")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.message.contains("timed out"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());

    let e = run("redis_insert", json!({"id": 1, "balance": 1}), fake_server(Some(b"HTTP/1.1 400 Bad\r\n")), None)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    // Garbage in answer to AUTH is not a refused password.
    let e =
        run("redis_insert", json!({"id": 1, "balance": 1}), fake_server(Some(b"220 smtp\r\n")), Some("x")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ProtocolError, "{e}");
    // An error reply to AUTH is.
    let e =
        run("redis_insert", json!({"id": 1, "balance": 1}), fake_server(Some(b"-ERR invalid password\r\n")), Some("x"))
            .unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthFailed, "{e}");
    assert!(e.message.ends_with("ERR invalid password"), "{}", e.message);
    let e = run("redis_insert", json!({"id": 1, "balance": 1}), fake_server(Some(b"+OK")), None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "closed mid-reply: {e}");
    assert!(e.message.contains("closed"), "{}", e.message);
}

#[test]
fn a_function_without_its_service_says_so() {
    let e = run_on_host_with("redis_insert", &json!({"id": 1, "balance": 1}), &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable);
    assert!(e.message.contains("not configured"), "{}", e.message);
}
