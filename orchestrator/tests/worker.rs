//! End to end with real workers: QEMU `microvm` guests booting the built kernel and initramfs
//! (`cargo xtask kernel`, `cargo xtask image`).
//!
//! These tests fail, with instructions, when the artifacts are missing (`cargo xtask test` builds them).
//! They run one at a time (two cores and TCG leave no room for parallel VMs).
use std::sync::Mutex;
use std::time::{Duration, Instant};

use orchestrator::client::{Client, Invocation};
use orchestrator::pool::WorkerState;
use orchestrator::{Config, Orchestrator};
use serde_json::json;

/// One VM-using test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Panics with instructions when the artifacts are missing.
fn require_artifacts() {
    let config = Config::embedded();
    let missing: Vec<_> = [config.kernel_path(), config.initrd_path()].into_iter().filter(|p| !p.is_file()).collect();
    assert!(
        missing.is_empty(),
        "worker artifacts missing: {missing:?}\nbuild them with `cargo xtask kernel` and `cargo xtask image` \
         (or point MICROFAAS_ARTIFACTS at them)"
    );
}

/// An orchestrator with real QEMU workers on free ports, and a client for it.
struct Live {
    runtime: tokio::runtime::Runtime,
    orchestrator: Option<Orchestrator>,
    client: Client,
}

impl Live {
    fn start(workers: usize) -> Live {
        let _ = env_logger::builder().is_test(true).try_init();
        let mut config = Config::embedded().with_qemu_workers(workers);
        config.http.set_port(0);
        config.worker_listen.set_port(0);
        config.log_dir = Some(config.log_dir().join("tests"));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let orchestrator = runtime.block_on(Orchestrator::start(&config)).unwrap_or_else(|e| panic!("{e}"));
        let client = Client::new(&orchestrator.url(), Some(Duration::from_secs(90)));
        Live { runtime, orchestrator: Some(orchestrator), client }
    }

    fn orchestrator(&self) -> &Orchestrator {
        self.orchestrator.as_ref().unwrap()
    }

    fn post(&self, name: &str, body: &serde_json::Value) -> Invocation {
        self.client.invoke(name, &body.to_string()).unwrap()
    }

    /// Shuts down and checks every QEMU process is gone.
    fn stop(mut self) {
        let orchestrator = self.orchestrator.take().unwrap();
        let last = self.runtime.block_on(orchestrator.shutdown());
        assert!(last.iter().all(|w| w.state == WorkerState::Off && w.pid.is_none()), "{last:?}");
    }
}

#[test]
fn functions_run_on_real_workers_and_bad_requests_never_boot_one() {
    require_artifacts();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let live = Live::start(2);

    let args = json!({"data": "microfaas on a microvm", "rounds": 5000});
    let answer = live.post("cascading_sha256", &args);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let expected = functions::json::run_on_host("cascading_sha256", &args).unwrap();
    assert_eq!(answer.json().unwrap(), expected);
    assert!(answer.worker.is_some() && answer.boot.is_some() && answer.exec.is_some(), "{answer:?}");
    eprintln!("cascading_sha256: boot {:?} s, exec {:?} s, total {:?} s", answer.boot, answer.exec, answer.duration);

    let echo = json!({"nested": {"list": [1, 2.5, "three", null]}, "s": "quote \" and \\ backslash"});
    let answer = live.post("echo", &echo);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json().unwrap(), echo);

    let answer = live.post("float_operations", &json!({"n": 1000}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let host = functions::json::run_on_host("float_operations", &json!({"n": 1000})).unwrap();
    assert_eq!(answer.json().unwrap()["checksum"], host["checksum"], "libm gives the same bits on both sides");

    let boots_before: u64 = live.orchestrator().workers().iter().map(|w| w.boots).sum();
    let unknown = live.post("no_such_function", &json!({}));
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let bad = live.post("cascading_sha256", &json!({"data": "x", "rounds": "many"}));
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("rounds") || bad.body.contains("string"), "{}", bad.body);
    let boots_after: u64 = live.orchestrator().workers().iter().map(|w| w.boots).sum();
    assert_eq!(boots_before, boots_after, "a refused request powered a worker on");

    live.stop();
}

#[test]
fn killing_qemu_mid_invocation_is_a_quick_502() {
    require_artifacts();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let live = Live::start(1);
    let client = live.client.clone();
    let long = std::thread::spawn(move || client.invoke("float_operations", r#"{"n": 10000000}"#).unwrap());

    // Wait until the worker runs the function, then kill its QEMU.
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        let w = &live.orchestrator().workers()[0];
        if w.state == WorkerState::Busy
            && let Some(pid) = w.pid
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the worker never got busy: {w:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(500));
    let killed_at = Instant::now();
    let pid = rustix::process::Pid::from_raw(pid as i32).expect("a valid pid");
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).expect("kill QEMU");

    let answer = long.join().unwrap();
    let waited = killed_at.elapsed();
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert!(waited < Duration::from_secs(5), "the client waited {waited:?} after the kill");
    eprintln!("502 {:.3} s after the kill: {}", waited.as_secs_f64(), answer.body);

    // The worker comes back for the next invocation.
    let again = live.post("echo", &json!("again"));
    assert_eq!((again.status, again.body.as_str()), (200, "\"again\""));
    live.stop();
}
