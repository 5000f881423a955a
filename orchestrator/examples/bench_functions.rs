//! The function benchmark (`cargo xtask bench functions [--reps N]`): every catalogue function
//! with a fixed payload set (small, medium, large), timed three ways side by side:
//! - on one booted worker (our kernel and init under QEMU TCG): the init's own execution time;
//! - natively on the host, by this same binary (`--host-run`);
//! - on the host under `qemu-x86_64 -cpu max` (Debian's qemu-user: the same TCG engine and CPU
//!   model the worker runs on).
//!
//! `cargo xtask bench functions` builds this binary with the worker's cargo profile, so all three
//! columns run the same build (opt-level s, LTO) of each function.
//!
//! Worker ÷ qemu-user isolates what is ours (arena, copies, framing, the no_std build) from what
//! is the emulator's; qemu-user ÷ native is the emulator's cost.
use std::error::Error;
use std::process::Command;
use std::time::Duration;

use orchestrator::Config;
use orchestrator::listener::WorkerListener;
use orchestrator::power::qemu::QemuLaunch;
use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn Error>>;

/// (function, size, request body). Sizes grow by about 10x; large stays within the caps.
fn payloads() -> Vec<(&'static str, &'static str, Value)> {
    let text = |n: usize| "microfaas".repeat(n / 9 + 1)[..n].to_string();
    let matrix =
        |n: usize| (0..n).map(|i| (0..n).map(|j| ((i * n + j) % 7) as f64 - 3.0).collect()).collect::<Vec<Vec<f64>>>();
    let mut p = vec![
        ("echo", "small", json!({"a": 1})),
        ("echo", "medium", json!({"text": text(1_000)})),
        ("echo", "large", json!({"text": text(30_000)})),
        ("float_operations", "small", json!({"n": 1_000})),
        ("float_operations", "medium", json!({"n": 10_000})),
        ("float_operations", "large", json!({"n": 100_000})),
        ("cascading_sha256", "small", json!({"data": text(64), "rounds": 100})),
        ("cascading_sha256", "medium", json!({"data": text(64), "rounds": 1_000})),
        ("cascading_sha256", "large", json!({"data": text(64), "rounds": 10_000})),
        ("cascading_md5", "small", json!({"data": text(64), "rounds": 100})),
        ("cascading_md5", "medium", json!({"data": text(64), "rounds": 1_000})),
        ("cascading_md5", "large", json!({"data": text(64), "rounds": 10_000})),
        ("pyaes", "small", json!({"data": text(16), "rounds": 10})),
        ("pyaes", "medium", json!({"data": text(256), "rounds": 100})),
        ("pyaes", "large", json!({"data": text(1024), "rounds": 1_000})),
        ("html_generation", "small", json!({"n": 10, "seed": 1})),
        ("html_generation", "medium", json!({"n": 100, "seed": 1})),
        ("html_generation", "large", json!({"n": 1_000, "seed": 1})),
        ("matmul", "small", json!({"A": matrix(4), "B": matrix(4)})),
        ("matmul", "medium", json!({"A": matrix(16), "B": matrix(16)})),
        ("matmul", "large", json!({"A": matrix(40), "B": matrix(40)})),
        ("linpack", "small", json!({"n": 10, "seed": 1})),
        ("linpack", "medium", json!({"n": 50, "seed": 1})),
        ("linpack", "large", json!({"n": 200, "seed": 1})),
        ("regex_search", "small", json!({"data": text(100) + "2026-11-27", "pattern": r"\d{4}-\d{2}-\d{2}"})),
        ("regex_search", "medium", json!({"data": text(1_000) + "2026-11-27", "pattern": r"\d{4}-\d{2}-\d{2}"})),
        ("regex_search", "large", json!({"data": text(10_000) + "2026-11-27", "pattern": r"\d{4}-\d{2}-\d{2}"})),
        ("regex_match", "small", json!({"data": text(100), "pattern": r"(micro)?faas\w*"})),
        ("regex_match", "medium", json!({"data": text(1_000), "pattern": r"(micro)?faas\w*"})),
        ("regex_match", "large", json!({"data": text(10_000), "pattern": r"(microfaas)+$"})),
    ];
    for (size, n) in [("small", 100), ("medium", 2_000), ("large", 20_000)] {
        p.push(("zlib_decompress", size, json!({"data": zlib_hex(text(n).as_bytes())})));
    }
    // Only what this build compiles in.
    p.retain(|(name, _, _)| functions::find(name).is_ok());
    p
}

/// A zlib stream of `data` with stored (uncompressed) blocks: enough to exercise the inflater's
/// framing and checksum without needing a compressor here.
fn zlib_hex(data: &[u8]) -> String {
    let mut out = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, name, body, reps] = args.as_slice()
        && flag == "--host-run"
    {
        return host_run(name, body, reps.parse()?);
    }
    let reps: usize = match args.as_slice() {
        [] => 5,
        [flag, n] if flag == "--reps" => n.parse()?,
        _ => return Err("usage: bench_functions [--reps N]".into()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let worker = runtime.block_on(on_worker(reps))?;
    let me = std::env::current_exe()?;
    println!();
    println!(
        "{:<18} {:<7} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "function", "payload", "worker ms", "qemu-user ms", "native ms", "wkr/qemu", "qemu/nat"
    );
    for ((name, size, body), worker_ms) in payloads().into_iter().zip(worker) {
        let native = median_ms(Command::new(&me).args(["--host-run", name, &body.to_string(), &reps.to_string()]))?;
        let emulated = median_ms(Command::new("qemu-x86_64").args(["-cpu", "max"]).arg(&me).args([
            "--host-run",
            name,
            &body.to_string(),
            &reps.to_string(),
        ]))?;
        println!(
            "{name:<18} {size:<7} {worker_ms:>12.3} {emulated:>12.3} {native:>12.3} {:>10.2} {:>10.1}",
            worker_ms / emulated.max(1e-6),
            emulated / native.max(1e-6)
        );
    }
    Ok(())
}

/// Median on-worker execution time (ms) of each payload, all on one booted worker.
async fn on_worker(reps: usize) -> Res<Vec<f64>> {
    let config = Config::embedded();
    let listener = WorkerListener::bind("127.0.0.1:0").await?;
    let launch = QemuLaunch::from_config(&config, "bench-fn", listener.local_addr()?.port());
    launch.reset_log()?;
    let mut qemu = launch.spawn()?;
    let mut arrival = listener.accept_hello(config.boot_timeout()).await?;
    println!(
        "worker booted; running {} payloads x {reps} (console: {})",
        payloads().len(),
        launch.console_log.display()
    );
    let mut medians = Vec::new();
    let mut call = 0;
    for (name, size, body) in payloads() {
        let entry = functions::find(name)?;
        let args = (entry.args_from_json)(&body)?;
        let mut times = Vec::new();
        for _ in 0..reps {
            call += 1;
            let (reply, _) = arrival.conn.invoke(call, name, &args).await?;
            reply.outcome.map_err(|e| format!("{name} {size} failed on the worker: {e}"))?;
            times.push(reply.exec);
        }
        medians.push(median(&mut times).as_secs_f64() * 1e3);
    }
    arrival.conn.reboot().await?;
    qemu.wait().await?;
    Ok(medians)
}

/// `--host-run NAME BODY REPS`: runs the function REPS times in this process and prints the
/// median execution time in ms (argument decoding excluded, like on the worker).
fn host_run(name: &str, body: &str, reps: usize) -> Res<()> {
    use functions::Clock;
    let entry = functions::find(name)?;
    let args = (entry.args_from_json)(&serde_json::from_str(body)?)?;
    let clock = functions::json::HostClock::new();
    let mut out = vec![0u8; functions::wire::MAX_FRAME];
    let mut times = Vec::new();
    for _ in 0..reps {
        let mut ctx = functions::Context::new(&clock);
        let start = clock.now_ns();
        (entry.run)(&mut ctx, &args, &mut out)?;
        times.push(Duration::from_nanos(clock.now_ns() - start));
    }
    println!("{}", median(&mut times).as_secs_f64() * 1e3);
    Ok(())
}

fn median_ms(cmd: &mut Command) -> Res<f64> {
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
