//! The psql functions on real workers: a QEMU guest's init reaches a real PostgreSQL 15 on the
//! host's loopback through QEMU user networking (10.0.2.2), logs in with SCRAM-SHA-256, and the
//! server's own view (`psql -c`) agrees. Concurrent purchases from two workers and the host sell
//! exactly what is in stock; a wrong password is a 502 and a stopped server a 503.
//!
//! Needs the artifacts (`cargo xtask artifacts`) and PostgreSQL 15 (`cargo xtask test` installs it).
mod support;

use std::time::{Duration, Instant};

use functions::json::run_on_host_with;
use functions::net::{Secret, Service};
use orchestrator::client::Client;
use orchestrator::config::{Secret as ConfigSecret, ServiceConfig};
use serde_json::json;
use support::fake::fake_address;
use support::live::{Live, SERIAL, service_at};
use support::postgres::{DATABASE, PostgresServer, USER};

fn host_service(server: &PostgresServer) -> Service<'_> {
    Service {
        user: Some(USER),
        password: Some(Secret(&server.password)),
        database: Some(DATABASE),
        ..Service::at("postgres", std::net::SocketAddrV4::new([127, 0, 0, 1].into(), server.port))
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn worker_at(address: &str, password: &str, workers: usize) -> Live {
    let postgres = ServiceConfig {
        user: Some(USER.into()),
        password: Some(ConfigSecret::new(password)),
        database: Some(DATABASE.into()),
        ..service_at(address)
    };
    Live::start(workers, "postgres", postgres, 30.0)
}

#[test]
fn psql_functions_on_workers_agree_with_the_server_and_fail_cleanly() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = PostgresServer::start();
    let live = worker_at(&server.addr().to_string(), &server.password, 2);
    let host = host_service(&server);

    // The inventory as the worker and the host see it, and their execution times.
    let expected = run_on_host_with("psql_inventory", &json!({"a": 1}), std::slice::from_ref(&host)).unwrap();
    let (mut worker_ms, mut host_ms) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let a = live.post("psql_inventory", json!({"a": 1}));
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.json().unwrap(), expected);
        worker_ms.push(a.exec.unwrap() * 1e3);
        let started = Instant::now();
        run_on_host_with("psql_inventory", &json!(null), std::slice::from_ref(&host)).unwrap();
        host_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    eprintln!(
        "psql_inventory exec: worker median {:.1} ms, host (test profile) median {:.1} ms",
        median(worker_ms),
        median(host_ms)
    );

    let a = live.post("psql_purchase", json!({"id": 1}));
    assert_eq!((a.status, a.body.as_str()), (200, "true"), "{a:?}");
    assert_eq!(server.in_stock(1), 4);
    let started = Instant::now();
    assert_eq!(run_on_host_with("psql_purchase", &json!({"id": 1}), std::slice::from_ref(&host)).unwrap(), json!(true));
    let host_purchase = started.elapsed().as_secs_f64() * 1e3;
    eprintln!("psql_purchase exec: worker {:.1} ms, host (test profile) {host_purchase:.1} ms", a.exec.unwrap() * 1e3);
    assert_eq!(server.in_stock(1), 3);
    let a = live.post("psql_purchase", json!({"id": 4242}));
    assert_eq!((a.status, a.body.as_str()), (200, "false"), "{a:?}");

    // Car 3 has 3 in stock: 6 buyers through two workers and 2 on the host sell exactly 3.
    assert_eq!(server.in_stock(3), 3);
    let url = live.url();
    let sold = std::thread::scope(|s| {
        let workers: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                s.spawn(move || {
                    let a = Client::new(&url, Some(Duration::from_secs(120)))
                        .invoke("psql_purchase", &json!({"id": 3}).to_string())
                        .unwrap();
                    assert_eq!(a.status, 200, "{a:?}");
                    a.body == "true"
                })
            })
            .collect();
        let hosts: Vec<_> = (0..2)
            .map(|_| {
                let host = host.clone();
                s.spawn(move || run_on_host_with("psql_purchase", &json!({"id": 3}), &[host]).unwrap() == json!(true))
            })
            .collect();
        workers.into_iter().chain(hosts).map(|h| h.join().unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(sold.iter().filter(|&&b| b).count(), 3, "{sold:?}");
    assert_eq!(server.in_stock(3), 0);

    // A stopped server: 503 well within the invocation timeout, and the worker keeps serving.
    server.stop();
    let a = live.post("psql_purchase", json!({"id": 1}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.body.contains("service unavailable"), "{}", a.body);
    assert!(a.exec.unwrap_or(99.0) < 10.0, "{a:?}");
    let a = live.post("echo", json!({"still": "alive"}));
    assert_eq!(a.status, 200, "{a:?}");
    live.stop();
}

#[test]
fn a_wrong_password_is_auth_failed_with_the_servers_words_and_sells_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = PostgresServer::start();
    let live = worker_at(&server.addr().to_string(), "not-the-password", 1);
    let a = live.post("psql_purchase", json!({"id": 1}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("auth failed") && a.body.contains("password authentication failed"), "{}", a.body);
    assert!(!a.body.contains("not-the-password"), "{}", a.body);
    assert_eq!(server.in_stock(1), 5);
    live.stop();
}

#[test]
fn a_stalling_server_times_out_and_garbage_is_a_protocol_error_on_a_worker() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let live = worker_at(&fake_address(None), "x", 1);
    let a = live.post("psql_purchase", json!({"id": 1}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.body.contains("timed out"), "{}", a.body);
    let exec = a.exec.unwrap_or(99.0);
    assert!((4.5..8.0).contains(&exec), "the 5 s deadline, not the invocation timeout: {a:?}");
    live.stop();

    let live = worker_at(&fake_address(Some(b"HTTP/1.1 400 Bad Request\r\n\r\n")), "x", 1);
    let a = live.post("psql_inventory", json!({"a": 1}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("protocol error"), "{}", a.body);
    live.stop();
}
