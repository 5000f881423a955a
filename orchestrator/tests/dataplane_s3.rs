//! The S3 functions on real workers: a QEMU guest's init signs and sends requests to a real
//! `s3s-fs` on the host's loopback through QEMU user networking (10.0.2.2), dating them with the
//! time the orchestrator sent (the worker has no wall clock), and the server's own view (the
//! object's bytes on disk) agrees. A missing object, a wrong secret key and a stopped server give
//! typed errors within the invocation timeout. Prints the worker's execution time next to the
//! same function's on the host.
//!
//! Needs the artifacts and `s3s-fs` (`cargo xtask artifacts` provides both).
mod support;

use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use functions::json::run_on_host_with;
use functions::net::{Secret, Service};
use orchestrator::client::{Client, Invocation};
use orchestrator::config::{Secret as ConfigSecret, ServiceConfig};
use orchestrator::pool::WorkerState;
use orchestrator::{Config, Orchestrator};
use serde_json::{Value, json};
use support::s3::{BUCKET, S3Server};

/// One VM-using test at a time (two cores and TCG leave no room for parallel VMs).
static SERIAL: Mutex<()> = Mutex::new(());

/// An orchestrator with one real QEMU worker and `[services.s3]` pointing at `server`.
struct Live {
    runtime: tokio::runtime::Runtime,
    orchestrator: Option<Orchestrator>,
    client: Client,
}

impl Live {
    fn start(server: &S3Server, secret_key: &str) -> Live {
        Live::with_s3_at(&server.addr().to_string(), &server.access_key, secret_key)
    }

    fn with_s3_at(address: &str, access_key: &str, secret_key: &str) -> Live {
        let _ = env_logger::builder().is_test(true).try_init();
        let mut config = Config::embedded().with_qemu_workers(1);
        config.http.set_port(0);
        config.worker_listen.set_port(0);
        config.log_dir = Some(config.log_dir().join("tests"));
        config.invoke_timeout_secs = 20.0;
        let s3 = ServiceConfig {
            address: address.to_string(),
            user: Some(access_key.to_string()),
            password: Some(ConfigSecret::new(secret_key)),
            database: None,
            bucket: Some(BUCKET.into()),
            region: None,
        };
        config.services.insert("s3".into(), s3);
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

#[test]
fn s3_functions_on_a_worker_agree_with_the_server_and_fail_cleanly() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = S3Server::start();
    let live = Live::start(&server, &server.secret_key.clone());

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
    let live = Live::start(&server, "not-the-secret-key");
    let a = live.post("upload_file", json!({"file": "hello.txt"}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("auth failed") && a.body.contains("SignatureDoesNotMatch"), "{}", a.body);
    assert!(!a.body.contains("not-the-secret-key"), "{}", a.body);
    assert_eq!(server.object("hello.txt"), None);
    live.stop();
}

/// A listener on loopback that answers every connection with `reply`, or holds it open silently.
fn fake_server(reply: Option<&'static [u8]>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0; 4096];
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
    let live = Live::with_s3_at(&fake_server(None), "ak", "sk");
    let a = live.post("download_file", json!({"file": "a"}));
    assert_eq!(a.status, 503, "{a:?}");
    assert!(a.body.contains("timed out"), "{}", a.body);
    let exec = a.exec.unwrap_or(99.0);
    assert!((4.5..8.0).contains(&exec), "the 5 s deadline, not the invocation timeout: {a:?}");
    live.stop();

    let live = Live::with_s3_at(&fake_server(Some(b"+OK\r\n")), "ak", "sk");
    let a = live.post("upload_file", json!({"file": "hello.txt"}));
    assert_eq!(a.status, 502, "{a:?}");
    assert!(a.body.contains("protocol error"), "{}", a.body);
    live.stop();
}
