//! Data-plane functions on real workers: a QEMU guest's init reaches a real `redis-server` on the
//! host's loopback through QEMU user networking (the orchestrator rewrites 127.0.0.1 to 10.0.2.2),
//! and the server's own view (`redis-cli GET`) agrees. Wrong password and a stopped server give
//! typed errors within the invocation timeout, and the next invocation still works.
//!
//! Needs the artifacts (`cargo xtask artifacts`) and `redis-server` (`cargo xtask deps`).
mod support;

use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::Duration;

use orchestrator::client::{Client, Invocation};
use orchestrator::config::{Secret, ServiceConfig};
use orchestrator::pool::WorkerState;
use orchestrator::{Config, Orchestrator};
use serde_json::{Value, json};
use support::redis::RedisServer;

/// One VM-using test at a time (two cores and TCG leave no room for parallel VMs).
static SERIAL: Mutex<()> = Mutex::new(());

/// An orchestrator with one real QEMU worker and `[services.redis]` pointing at `server`.
struct Live {
    runtime: tokio::runtime::Runtime,
    orchestrator: Option<Orchestrator>,
    client: Client,
}

impl Live {
    fn start(server: &RedisServer, password: &str) -> Live {
        Live::with_redis_at(&server.addr().to_string(), password)
    }

    fn with_redis_at(address: &str, password: &str) -> Live {
        let _ = env_logger::builder().is_test(true).try_init();
        let mut config = Config::embedded().with_qemu_workers(1);
        config.http.set_port(0);
        config.worker_listen.set_port(0);
        config.log_dir = Some(config.log_dir().join("tests"));
        config.invoke_timeout_secs = 20.0;
        let redis = ServiceConfig {
            address: address.to_string(),
            user: None,
            password: Some(Secret::new(password)),
            database: None,
            bucket: None,
            region: None,
        };
        config.services.insert("redis".into(), redis);
        let missing: Vec<_> =
            [config.kernel_path(), config.initrd_path()].into_iter().filter(|p| !p.is_file()).collect();
        assert!(missing.is_empty(), "worker artifacts missing: {missing:?}; run `cargo xtask artifacts`");
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let orchestrator = runtime.block_on(Orchestrator::start(&config)).unwrap_or_else(|e| panic!("{e}"));
        let client = Client::new(&orchestrator.url(), Some(Duration::from_secs(90)));
        Live { runtime, orchestrator: Some(orchestrator), client }
    }

    fn post(&self, name: &str, body: Value) -> Invocation {
        self.client.invoke(name, &body.to_string()).unwrap()
    }

    fn stop(mut self) {
        let orchestrator = self.orchestrator.take().unwrap();
        let last = self.runtime.block_on(orchestrator.shutdown());
        assert!(last.iter().all(|w| w.state == WorkerState::Off && w.pid.is_none()), "{last:?}");
    }
}

#[test]
fn redis_functions_on_a_worker_agree_with_the_server_and_fail_cleanly() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = RedisServer::start();
    let live = Live::start(&server, &server.password.clone());

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
    let live = Live::start(&server, "not-the-password");
    let a = live.post("redis_insert", json!({"id": 5, "balance": 5}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("auth failed") && a.body.contains("WRONGPASS"), "{}", a.body);
    assert!(!a.body.contains("not-the-password"), "{}", a.body);
    assert_eq!(server.get("5"), "");
    live.stop();
}

/// A listener on loopback that answers every connection with `reply`, or holds it open silently.
fn fake_server(reply: Option<&'static [u8]>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0; 256];
            let _ = conn.read(&mut buf);
            match reply {
                Some(reply) => {
                    let _ = conn.write_all(reply);
                    let _ = conn.shutdown(std::net::Shutdown::Write);
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                    let _ = std::io::copy(&mut conn, &mut std::io::sink());
                }
                None => std::thread::sleep(Duration::from_secs(30)),
            }
        }
    });
    addr
}

#[test]
fn a_stalling_server_times_out_and_garbage_is_a_protocol_error_on_a_worker() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let live = Live::with_redis_at(&fake_server(None), "x");
    let a = live.post("redis_insert", json!({"id": 1, "balance": 1}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.body.contains("timed out"), "{}", a.body);
    let exec = a.exec.unwrap_or(99.0);
    assert!((4.5..8.0).contains(&exec), "the 5 s deadline, not the invocation timeout: {a:?}");
    live.stop();

    let live = Live::with_redis_at(&fake_server(Some(b"HTTP/1.1 400 Bad Request\r\n\r\n")), "x");
    let a = live.post("redis_insert", json!({"id": 1, "balance": 1}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("protocol error"), "{}", a.body);
    live.stop();
}
