//! The init's side of the protocol, on a real worker (our kernel and init under QEMU): what it does
//! with malformed frames, and that it reboots rather than lingers when its orchestrator is gone.
//! Frames are written by hand here, below the orchestrator's own (well-formed) link layer.
use std::time::Duration;

use functions::ErrorKind;
use functions::wire::{self, FromWorker, Outcome, ToWorker};
use orchestrator::Config;
use orchestrator::listener::WorkerListener;
use orchestrator::power::qemu::{QemuLaunch, QemuProcess};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOOT: Duration = Duration::from_secs(20);

/// A booted worker and the raw connection it opened, after its Hello.
struct Booted {
    qemu: QemuProcess,
    stream: TcpStream,
    launch: QemuLaunch,
}

async fn boot(name: &str) -> Booted {
    let config = artifacts_or_fail();
    let listener = WorkerListener::bind("127.0.0.1:0").await.unwrap();
    let launch = QemuLaunch::from_config(&config, name, listener.local_addr().unwrap().port());
    launch.reset_log().unwrap();
    let qemu = launch.spawn().unwrap();
    let (mut stream, _) = tokio::time::timeout(BOOT, listener.accept()).await.expect("no worker connected").unwrap();
    let body = read_frame(&mut stream).await;
    match wire::decode::<FromWorker>(&body) {
        Ok(FromWorker::Hello(hello)) => assert_eq!(hello.worker, name),
        other => panic!("first frame is not a Hello: {other:?}"),
    }
    Booted { qemu, stream, launch }
}

fn artifacts_or_fail() -> Config {
    let mut config = Config::embedded();
    config.log_dir = Some(std::env::temp_dir().join("microfaas-test-logs"));
    for path in [config.kernel_path(), config.initrd_path()] {
        assert!(path.exists(), "{} is missing: run `cargo xtask artifacts` (or `cargo xtask test`)", path.display());
    }
    config
}

async fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    let len = stream.read_u32_le().await.unwrap() as usize;
    assert!(len <= wire::MAX_FRAME);
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await.unwrap();
    body
}

async fn write_body(stream: &mut TcpStream, body: &[u8]) {
    stream.write_all(&(body.len() as u32).to_le_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
}

/// The worker must end its connection and its QEMU process (reboot with `-no-reboot`).
async fn expect_reboot(mut w: Booted, why: &str) {
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), w.stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the worker kept the connection open after {why}");
    let exited = tokio::time::timeout(Duration::from_secs(10), w.qemu.wait()).await;
    assert!(exited.is_ok(), "QEMU still runs 10 s after {why}");
    let console = std::fs::read_to_string(&w.launch.console_log).unwrap();
    assert!(console.contains("reboot"), "no reboot on the console after {why}:\n{console}");
}

#[tokio::test]
async fn a_malformed_invoke_with_a_readable_call_id_gets_an_error_and_the_worker_keeps_serving() {
    let mut w = boot("proto-malformed").await;
    // Invoke (variant 0), call 42, then a function name that claims 200 bytes and ends early.
    write_body(&mut w.stream, &[0, 42, 200, b'e', b'c']).await;
    let body = read_frame(&mut w.stream).await;
    match wire::decode::<FromWorker>(&body).unwrap() {
        FromWorker::Result(r) => {
            assert_eq!(r.call, 42);
            assert!(matches!(r.outcome, Outcome::Error(ref e) if e.kind == ErrorKind::Malformed), "{:?}", r.outcome);
        }
        other => panic!("expected a Result, got {other:?}"),
    }
    // Still serving: a well-formed echo works.
    let args = (functions::find("echo").unwrap().args_from_json)(&serde_json::json!({"still": "here"})).unwrap();
    let mut frame = vec![0; wire::HEADER_LEN + wire::MAX_FRAME];
    let n = wire::encode(
        &ToWorker::Invoke(wire::Invoke {
            call: 43,
            function: "echo",
            args: &args,
            services: Default::default(),
            unix_time: 0,
        }),
        &mut frame,
    )
    .unwrap();
    w.stream.write_all(&frame[..n]).await.unwrap();
    let body = read_frame(&mut w.stream).await;
    let FromWorker::Result(r) = wire::decode::<FromWorker>(&body).unwrap() else { panic!("no Result") };
    assert_eq!(r.call, 43);
    let Outcome::Output(out) = r.outcome else { panic!("echo failed: {:?}", r.outcome) };
    assert_eq!((functions::find("echo").unwrap().output_to_json)(out).unwrap(), serde_json::json!({"still": "here"}));
    // A frame with no call id to answer: the worker gives up on this connection and reboots.
    write_body(&mut w.stream, &[9, 9, 9]).await;
    expect_reboot(w, "a frame without a call id").await;
}

#[tokio::test]
async fn an_oversize_frame_makes_the_worker_reboot() {
    let mut w = boot("proto-oversize").await;
    w.stream.write_all(&((wire::MAX_FRAME + 1) as u32).to_le_bytes()).await.unwrap();
    expect_reboot(w, "an oversize frame header").await;
}

#[tokio::test]
async fn the_worker_reboots_when_the_orchestrator_goes_away() {
    let mut w = boot("proto-hangup").await;
    w.stream.shutdown().await.unwrap();
    expect_reboot(w, "the orchestrator closed the connection").await;
}

#[tokio::test]
async fn an_unreachable_orchestrator_makes_the_worker_reboot_within_a_bounded_time() {
    let config = artifacts_or_fail();
    // A port nobody listens on: bind one, learn its number, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let launch = QemuLaunch::from_config(&config, "proto-unreachable", port);
    launch.reset_log().unwrap();
    let mut qemu = launch.spawn().unwrap();
    // The init gives up after 30 s of retries, then waits 2 s before rebooting.
    let exited = tokio::time::timeout(Duration::from_secs(60), qemu.wait()).await;
    let console = std::fs::read_to_string(&launch.console_log).unwrap();
    assert!(exited.is_ok(), "the worker still runs after 60 s with no orchestrator:\n{console}");
    assert!(console.contains("orchestrator unreachable"), "{console}");
}
