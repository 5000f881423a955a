//! The boot benchmark (`cargo xtask bench boot [--runs N]`): boots one QEMU worker N times exactly
//! as the scheduler does and reports, as median / min / max:
//! - QEMU start → Hello received (the whole cold start a client waits for);
//! - kernel start → `/init`, and init start → link up → address → connected (from the Hello);
//! - Invoke → Result for `echo` on the booted worker (warm round trip);
//! - Reboot sent → QEMU exited (power-off).
//!
//! Baselines measured in the same run, so the figures are read as ratios:
//! - the same kernel booted with no initramfs, which panics right where `/init` would start and
//!   exits (`panic=-1`, `-no-reboot`): the floor any init pays;
//! - the same echo frames answered by a worker loop on the host over loopback TCP: the floor of
//!   the orchestrator's side of a round trip.
//!
//! One last boot without `quiet` shows where the kernel spends its time (printk timestamps).
use std::error::Error;
use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use functions::Clock;
use functions::wire::{self, BootTimings, CallResult, FromWorker, Hello, Outcome, ToWorker, WireError};
use orchestrator::Config;
use orchestrator::listener::WorkerListener;
use orchestrator::power::qemu::QemuLaunch;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Warm echo calls per boot.
const ECHO_CALLS: u64 = 20;

type Res<T> = Result<T, Box<dyn Error>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let runs = parse_runs()?;
    let config = Config::embedded();
    let listener = WorkerListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let launch = QemuLaunch::from_config(&config, "bench", port);
    launch.reset_log()?;
    let echo_args = (functions::find("echo")?.args_from_json)(&serde_json::json!("hi"))?;
    println!("booting a worker {runs} times ({ECHO_CALLS} echo calls each); console: {}", launch.console_log.display());

    let mut m = Metrics::default();
    for run in 0..runs {
        let mut qemu = launch.spawn()?;
        let mut arrival = listener.accept_hello(config.boot_timeout()).await?;
        let hello = arrival.at - qemu.spawned_at;
        m.hello.push(hello);
        let b: BootTimings = arrival.hello.boot;
        // The guest's clock starts with the kernel, so what precedes `connected_us` on the host's
        // clock is QEMU's own start, firmware and decompression.
        m.firmware.push(hello.saturating_sub(micros(b.connected_us)));
        m.kernel.push(micros(b.init_start_us));
        m.link.push(micros(b.link_up_us - b.init_start_us));
        m.address.push(micros(b.address_us - b.init_start_us));
        m.connected.push(micros(b.connected_us - b.init_start_us));
        for call in 0..ECHO_CALLS {
            let (reply, round_trip) = arrival.conn.invoke(run * ECHO_CALLS + call, "echo", &echo_args).await?;
            reply.outcome.map_err(|e| format!("echo failed: {e}"))?;
            m.echo.push(round_trip);
        }
        arrival.conn.reboot().await?;
        let sent = Instant::now();
        qemu.wait().await?;
        m.exit.push(sent.elapsed());
    }

    let floor = kernel_floor(&launch, runs).await?;
    let host_echo = host_echo(&echo_args).await?;
    let phases = verbose_boot(&launch, &listener, &config).await?;

    println!();
    println!("{:<44} {:>10} {:>10} {:>10}", "milestone (ms)", "median", "min", "max");
    row("QEMU start -> Hello received", &m.hello);
    row("  baseline: same kernel, no init -> exit", &floor);
    row("QEMU start -> kernel start (derived)", &m.firmware);
    row("kernel start -> /init", &m.kernel);
    row("init start -> link up", &m.link);
    row("init start -> address", &m.address);
    row("init start -> connected", &m.connected);
    row("echo Invoke -> Result (warm)", &m.echo);
    row("  baseline: same frames, host loopback", &host_echo);
    row("Reboot sent -> QEMU exited", &m.exit);
    println!();
    println!("QEMU start -> Hello is {:.2}x the bare kernel boot-and-exit", ratio(&m.hello, &floor));
    println!("echo round trip is {:.1}x the host loopback round trip", ratio(&m.echo, &host_echo));
    println!();
    println!("where the kernel spends its time (one boot without `quiet`, printk timestamps):");
    for (label, at) in phases {
        println!("  {at:>9.3} s  {label}");
    }
    println!();
    let dir = config.artifacts_dir();
    for name in ["init", "initramfs.cpio", "bzImage"] {
        let len = std::fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
        println!("{name:<16} {len:>9} bytes  {:>7.1} KiB", len as f64 / 1024.0);
    }
    Ok(())
}

#[derive(Default)]
struct Metrics {
    hello: Vec<Duration>,
    firmware: Vec<Duration>,
    kernel: Vec<Duration>,
    link: Vec<Duration>,
    address: Vec<Duration>,
    connected: Vec<Duration>,
    echo: Vec<Duration>,
    exit: Vec<Duration>,
}

fn parse_runs() -> Res<u64> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(10),
        [flag, n] if flag == "--runs" => Ok(n.parse().map_err(|_| format!("--runs takes a number, not {n:?}"))?),
        _ => Err("usage: bench_boot [--runs N]".into()),
    }
}

fn micros(us: u64) -> Duration {
    Duration::from_micros(us)
}

fn median(samples: &[Duration]) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s.get(s.len() / 2).copied().unwrap_or_default()
}

fn row(label: &str, samples: &[Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (min, max) =
        (samples.iter().min().copied().unwrap_or_default(), samples.iter().max().copied().unwrap_or_default());
    println!("{label:<44} {:>10.3} {:>10.3} {:>10.3}", ms(median(samples)), ms(min), ms(max));
}

fn ratio(a: &[Duration], b: &[Duration]) -> f64 {
    median(a).as_secs_f64() / median(b).as_secs_f64().max(1e-9)
}

/// The same QEMU and kernel without our initramfs: the kernel finds no /init, panics and exits.
async fn kernel_floor(launch: &QemuLaunch, runs: u64) -> Res<Vec<Duration>> {
    let mut bare = launch.clone();
    if let Some(i) = bare.args.iter().position(|a| a == "-initrd") {
        bare.args.drain(i..i + 2);
    }
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut qemu = bare.spawn()?;
        tokio::time::timeout(Duration::from_secs(30), qemu.wait()).await??;
        times.push(qemu.spawned_at.elapsed());
    }
    Ok(times)
}

/// Echo answered on the host: a worker loop over loopback TCP using the same framing and the same
/// function code, driven through the same connection type.
async fn host_echo(args: &[u8]) -> Res<Vec<Duration>> {
    let listener = WorkerListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let worker = tokio::spawn(async move { host_worker(addr).await.map_err(|e| e.to_string()) });
    let mut arrival = listener.accept_hello(Duration::from_secs(5)).await?;
    let mut times = Vec::new();
    for call in 0..200 {
        let (reply, round_trip) = arrival.conn.invoke(call, "echo", args).await?;
        reply.outcome.map_err(|e| format!("host echo failed: {e}"))?;
        times.push(round_trip);
    }
    arrival.conn.reboot().await?;
    worker.await??;
    Ok(times)
}

async fn host_worker(addr: std::net::SocketAddr) -> Res<()> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut frame = vec![0u8; wire::HEADER_LEN + wire::MAX_FRAME];
    let mut output = vec![0u8; wire::MAX_FRAME];
    let hello = FromWorker::Hello(Hello {
        version: wire::PROTOCOL_VERSION,
        worker: "bench",
        catalogue: functions::catalogue_hash(),
        boot: BootTimings::default(),
    });
    let n = wire::encode(&hello, &mut frame)?;
    stream.write_all(&frame[..n]).await?;
    let mut body = vec![0u8; wire::MAX_FRAME];
    loop {
        let len = stream.read_u32_le().await? as usize;
        stream.read_exact(&mut body[..len]).await?;
        let ToWorker::Invoke(invoke) = wire::decode(&body[..len])? else { return Ok(()) };
        let n = answer(&invoke, &mut output, &mut frame)?;
        stream.write_all(&frame[..n]).await?;
    }
}

/// Runs the invoked function as the init does and writes the Result frame; returns its length.
fn answer(invoke: &wire::Invoke<'_>, output: &mut [u8], frame: &mut [u8]) -> Res<usize> {
    let clock = functions::json::HostClock::new();
    let mut ctx = functions::Context::new(&clock);
    let start = clock.now_ns();
    let result = functions::find(invoke.function).and_then(|e| (e.run)(&mut ctx, invoke.args, output));
    let outcome = match result {
        Ok(len) => Outcome::Output(&output[..len]),
        Err(e) => Outcome::Error(WireError { kind: e.kind, message: e.message }),
    };
    let reply = FromWorker::Result(CallResult { call: invoke.call, outcome, exec_ns: clock.now_ns() - start });
    Ok(wire::encode(&reply, frame)?)
}

/// One boot with the kernel's messages on: the printk timestamps of its milestones.
async fn verbose_boot(
    launch: &QemuLaunch,
    listener: &WorkerListener,
    config: &Config,
) -> Res<Vec<(&'static str, f64)>> {
    let mut verbose = launch.clone();
    for arg in verbose.args.iter_mut() {
        let text = arg.to_string_lossy();
        if text.contains("mfaas_id=") {
            *arg = OsString::from(text.split_whitespace().filter(|w| *w != "quiet").collect::<Vec<_>>().join(" "));
        }
    }
    verbose.reset_log()?;
    let mut qemu = verbose.spawn()?;
    let mut arrival = listener.accept_hello(config.boot_timeout()).await?;
    arrival.conn.reboot().await?;
    qemu.wait().await?;
    Ok(milestones(&verbose.console_log))
}

fn milestones(log: &Path) -> Vec<(&'static str, f64)> {
    const MARKS: &[(&str, &str)] = &[
        ("Linux version", "kernel starts (its clock's zero)"),
        ("Memory:", "memory initialised"),
        ("virtio-mmio: Registering", "virtio-mmio devices registered"),
        ("Unpacking initramfs", "initramfs unpacked"),
        ("Freeing unused kernel image (initmem)", "init memory freed"),
        ("Run /init", "kernel runs /init"),
        ("init: INFO connected", "init connected to the orchestrator"),
        ("reboot: Restarting", "reboot"),
    ];
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut found = Vec::new();
    for (needle, label) in MARKS {
        let stamp = text.lines().find(|l| l.contains(needle)).and_then(|l| {
            let open = l.find('[')?;
            let close = l[open..].find(']')? + open;
            l[open + 1..close].trim().parse::<f64>().ok()
        });
        if let Some(at) = stamp {
            found.push((*label, at));
        }
    }
    found
}
