//! The S3 functions on real workers: a QEMU guest's init signs and sends requests to a real
//! `s3s-fs` on the host's loopback through QEMU user networking (10.0.2.2), dating them with the
//! time the orchestrator sent (the worker has no wall clock), and the server's own view (the
//! object's bytes on disk) agrees. A missing object, a wrong secret key and a stopped server give
//! typed errors within the invocation timeout. Prints the worker's execution time next to the
//! same function's on the host.
//!
//! Needs the artifacts and `s3s-fs` (`cargo xtask test` provides them).
mod support;

use std::time::Instant;

use functions::json::run_on_host_with;
use functions::net::{Secret, Service};
use orchestrator::config::{Secret as ConfigSecret, ServiceConfig};
use serde_json::{Value, json};
use support::fake::fake_address;
use support::live::{Live, SERIAL, service_at};
use support::s3::{BUCKET, S3Server};

/// The same function on the host against the same server: its output and wall time in seconds.
fn on_host(server: &S3Server, name: &str, args: Value) -> (Value, f64) {
    let service = Service {
        user: Some(&server.access_key),
        password: Some(Secret(&server.secret_key)),
        bucket: Some(BUCKET),
        ..Service::at("s3", std::net::SocketAddrV4::new([127, 0, 0, 1].into(), server.port))
    };
    let started = Instant::now();
    let out = run_on_host_with(name, &args, &[service]).unwrap();
    (out, started.elapsed().as_secs_f64())
}

fn worker_at(address: &str, access_key: &str, secret_key: &str) -> Live {
    let s3 = ServiceConfig {
        user: Some(access_key.to_string()),
        password: Some(ConfigSecret::new(secret_key)),
        bucket: Some(BUCKET.into()),
        ..service_at(address)
    };
    Live::start(1, "s3", s3, 20.0)
}

#[test]
fn s3_functions_on_a_worker_agree_with_the_server_and_fail_cleanly() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = S3Server::start();
    let live = worker_at(&server.addr().to_string(), &server.access_key, &server.secret_key);

    let sample = include_bytes!("../../functions/src/catalogue/s3_files/hello.txt");
    let up = live.post("upload_file", json!({"file": "hello.txt"}));
    assert_eq!(up.status, 200, "{up:?}");
    assert_eq!(server.object("hello.txt").unwrap(), sample);
    let out: Value = serde_json::from_str(&up.body).unwrap();
    assert_eq!(out["bytes"], json!(sample.len()));

    let data = "x".repeat(20_000) + "ü end";
    let a = live.post("upload_file", json!({"file": "dir/notes 1+1.txt", "data": data}));
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(server.object("dir/notes 1+1.txt").unwrap(), data.as_bytes());

    let down = live.post("download_file", json!({"file": "dir/notes 1+1.txt"}));
    assert_eq!(down.status, 200, "{down:?}");
    let expected = json!({"bytes": data.len(), "sha256": server.sha256sum("dir/notes 1+1.txt")});
    assert_eq!(serde_json::from_str::<Value>(&down.body).unwrap(), expected);

    // Side by side with the host (after the worker's runs, so both see the same objects).
    let (host_up, host_up_s) = on_host(&server, "upload_file", json!({"file": "hello.txt"}));
    assert_eq!(host_up, out);
    let (host_down, host_down_s) = on_host(&server, "download_file", json!({"file": "dir/notes 1+1.txt"}));
    assert_eq!(host_down, expected);
    eprintln!(
        "upload_file (107 B): worker exec {:.2} ms, host {:.2} ms; download_file (20 KB): worker exec {:.2} ms, host {:.2} ms",
        up.exec.unwrap() * 1e3,
        host_up_s * 1e3,
        down.exec.unwrap() * 1e3,
        host_down_s * 1e3
    );

    // A missing object: the function failed (500) with S3's code.
    let a = live.post("download_file", json!({"file": "no-such-object"}));
    assert_eq!(a.status, 500, "{a:?}");
    assert!(a.body.contains("NoSuchKey"), "{}", a.body);

    // A stopped server: 503 well within the invocation timeout, and the worker still serves.
    server.stop();
    let a = live.post("download_file", json!({"file": "hello.txt"}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.exec.unwrap_or(99.0) < 10.0, "{a:?}");
    let a = live.post("echo", json!({"still": "alive"}));
    assert_eq!(a.status, 200, "{a:?}");
    live.stop();
}

#[test]
fn a_wrong_secret_key_is_auth_failed_and_leaves_no_trace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = S3Server::start();
    let live = worker_at(&server.addr().to_string(), &server.access_key, "not-the-secret-key");
    let a = live.post("upload_file", json!({"file": "hello.txt"}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("auth failed") && a.body.contains("SignatureDoesNotMatch"), "{}", a.body);
    assert!(!a.body.contains("not-the-secret-key"), "{}", a.body);
    assert_eq!(server.object("hello.txt"), None);
    live.stop();
}

#[test]
fn a_stalling_server_times_out_and_garbage_is_a_protocol_error_on_a_worker() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let live = worker_at(&fake_address(None), "ak", "sk");
    let a = live.post("download_file", json!({"file": "a"}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.body.contains("timed out"), "{}", a.body);
    let exec = a.exec.unwrap_or(99.0);
    assert!((4.5..8.0).contains(&exec), "the 5 s deadline, not the invocation timeout: {a:?}");
    live.stop();

    let live = worker_at(&fake_address(Some(b"+OK\r\n")), "ak", "sk");
    let a = live.post("upload_file", json!({"file": "hello.txt"}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("protocol error"), "{}", a.body);
    live.stop();
}
