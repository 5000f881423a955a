//! End to end with real workers: QEMU `microvm` guests booting the built kernel and initramfs
//! (`cargo xtask kernel`, `cargo xtask image`).
//!
//! These tests fail, with instructions, when the artifacts are missing (`cargo xtask test` builds them).
//! They run one at a time (two cores and TCG leave no room for parallel VMs).
use std::sync::Mutex;
use std::time::{Duration, Instant};

use functions::rng::SplitMix64;
use orchestrator::client::{Client, Invocation};
use orchestrator::pool::WorkerState;
use orchestrator::{Config, Orchestrator};
use serde_json::{Value, json};

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

/// Arguments for `name` drawn the way the original MicroFaaS load generator drew its `f_args`
/// (random sizes within each function's caps), from a seeded generator so a failure reproduces.
fn draw(name: &str, rng: &mut SplitMix64) -> Option<Value> {
    let text = |rng: &mut SplitMix64, max: u64| -> String {
        let len = 1 + rng.below(max);
        (0..len).map(|_| char::from(b' ' + rng.below(95) as u8)).collect()
    };
    let matrix = |rng: &mut SplitMix64, n: u64| -> Value {
        (0..n).map(|_| (0..n).map(|_| rng.next_f64() * 200.0 - 100.0).collect::<Vec<f64>>()).collect::<Vec<_>>().into()
    };
    Some(match name {
        "echo" => json!({"message": text(rng, 200), "n": rng.below(1000)}),
        "float_operations" => json!({"n": 1 + rng.below(20_000)}),
        "cascading_sha256" | "cascading_md5" => json!({"data": text(rng, 100), "rounds": 1 + rng.below(2_000)}),
        "pyaes" => {
            let blocks = 1 + rng.below(8) as usize;
            let data: String = text(rng, 1000).chars().cycle().take(16 * blocks).collect();
            json!({"data": data, "rounds": 1 + rng.below(50)})
        }
        "matmul" => {
            let n = 1 + rng.below(20);
            json!({"A": matrix(rng, n), "B": matrix(rng, n)})
        }
        "linpack" => json!({"n": 2 + rng.below(60), "seed": rng.next_u64() >> 12}),
        "html_generation" => json!({"n": rng.below(200), "seed": rng.next_u64() >> 12}),
        "zlib_decompress" => {
            // Compressed on the host by the same inflate crate's counterpart; any valid stream works.
            let plain = text(rng, 2_000).repeat(1 + rng.below(4) as usize);
            let stream = miniz_oxide::deflate::compress_to_vec_zlib(plain.as_bytes(), 1 + rng.below(9) as u8);
            json!({"data": stream.iter().map(|b| format!("{b:02x}")).collect::<String>()})
        }
        "regex_search" | "regex_match" => {
            let patterns = [r"\d+", r"[a-f]+\d?", r"(ab|cd)+", r"^\s*\w+", r"x{2,3}y?", r"[^ ]+ [^ ]+$"];
            let pattern = patterns[rng.below(patterns.len() as u64) as usize];
            json!({"data": text(rng, 300), "pattern": pattern})
        }
        _ => return None,
    })
}

/// What varies from run to run (timings) is not compared.
fn without_timings(mut v: Value) -> Value {
    if let Some(map) = v.as_object_mut() {
        map.remove("latency");
        map.remove("mflops");
    }
    v
}

#[test]
fn every_function_on_a_worker_matches_the_host() {
    require_artifacts();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let live = Live::start(2);
    let mut rng = SplitMix64::new(2022);
    // Data-plane functions need servers: tests/dataplane.rs starts them.
    for entry in functions::CATALOGUE.iter().filter(|e| e.services.is_empty()) {
        for draw_no in 0..3 {
            let args = draw(entry.name, &mut rng)
                .unwrap_or_else(|| panic!("{}: no argument generator; add one to draw()", entry.name));
            let answer = live.post(entry.name, &args);
            assert_eq!(answer.status, 200, "{} draw {draw_no} {args}: {}", entry.name, answer.body);
            let host = functions::json::run_on_host(entry.name, &args)
                .unwrap_or_else(|e| panic!("{} on the host, {args}: {e}", entry.name));
            assert_eq!(
                without_timings(answer.json().unwrap()),
                without_timings(host),
                "{} draw {draw_no}: worker and host differ for {args}",
                entry.name
            );
        }
    }
    live.stop();
}

#[test]
fn a_decompression_bomb_is_out_of_memory_on_the_worker_and_the_platform_keeps_serving() {
    require_artifacts();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let live = Live::start(1);
    // 16 KB of zlib that inflates to 16 MiB of zeros, far past the worker's 4 MiB arena.
    let bomb = include_str!("../../functions/src/catalogue/testdata/zlib_bomb_16mib.hex").trim();
    let answer = live.post("zlib_decompress", &json!({"data": bomb}));
    assert_eq!(answer.status, 507, "{}", answer.body);
    assert!(answer.body.contains("memory"), "{}", answer.body);
    assert!(answer.worker.is_some() && answer.exec.is_some(), "the worker answered it: {answer:?}");
    let echo = live.post("echo", &json!({"after": "the bomb"}));
    assert_eq!(echo.status, 200, "{}", echo.body);
    assert_eq!(echo.json().unwrap(), json!({"after": "the bomb"}));
    live.stop();
}
