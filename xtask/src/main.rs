//! `cargo xtask …`: builds the worker's kernel, init and initramfs, runs the demo, the tests and
//! the benchmarks. Plain Rust, no shell scripts.
mod cpio;
mod deps;
mod image;
mod kernel;
mod paths;

use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  demo [--workers N]              build what is missing, start the orchestrator on its embedded
                                  default (N local QEMU workers), invoke every function once, print
                                  a table of results and timings, shut down
  test [ARGS...]                  install what the tests need, build the artifacts, then
                                  `cargo test --workspace ARGS...` (the tests boot real workers)
  bench boot [--runs N]           boot a worker N times (default 10): QEMU start -> Hello, kernel
                                  and init milestones, echo round trip; init and initramfs sizes
  bench functions [--reps N]      every function, small/medium/large payloads: time on a booted
                                  worker vs the same code on the host, natively and under
                                  qemu-x86_64 (median of N, default 5)
  bench dataplane [--reps N]      every function that talks to a server, against real servers on
                                  loopback: time on a worker vs on the host (median of N)
  kernel [--src DIR] [--jobs N]   build the worker kernel (bzImage) from Debian's linux-source-6.12
                                  (or DIR), cached by source and config fragment
  image                           build the no_std /init and pack initramfs.cpio
  artifacts                       kernel + image: everything a worker boots from

Artifacts go to target/microfaas/x86_64-microvm/. Missing Debian packages are installed when
running as root; otherwise the apt-get command to run is printed.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("kernel") => kernel::main(rest).map(drop),
        Some("image") => image::main(rest).map(drop),
        Some("artifacts") => artifacts(),
        Some("test") => servers().and_then(|()| artifacts()).and_then(|()| cargo(&["test", "--workspace"], rest)),
        Some("demo") => {
            artifacts().and_then(|()| cargo(&["run", "--quiet", "--release", "-p", "orchestrator", "--", "demo"], rest))
        }
        Some("bench") => bench(rest),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Packages, kernel and initramfs, each rebuilt only when its inputs changed.
fn artifacts() -> Result<(), String> {
    deps::ensure(deps::RUN)?;
    kernel::main(&[])?;
    image::main(&[])?;
    Ok(())
}

/// The servers the data-plane tests and benchmark start: Debian's, then the cargo-built ones.
fn servers() -> Result<(), String> {
    deps::ensure(deps::SERVERS)?;
    deps::ensure_cargo_tools(deps::CARGO_TOOLS)
}

/// The benchmarks are examples of the orchestrator crate: they drive real workers through its
/// library, in release mode.
fn bench(args: &[String]) -> Result<(), String> {
    let (which, rest) = args.split_first().ok_or("bench: which one? (boot, functions, dataplane)")?;
    // The function benchmark's host runs use the worker's own profile (opt-level s, LTO), so the
    // host and the worker execute the same build of each function.
    let (example, profile) = match which.as_str() {
        "boot" => ("bench_boot", "release"),
        "functions" => {
            deps::ensure(deps::BENCH)?;
            ("bench_functions", "worker")
        }
        "dataplane" => {
            servers()?;
            ("bench_dataplane", "worker")
        }
        other => return Err(format!("bench: unknown benchmark {other:?} (known: boot, functions, dataplane)")),
    };
    artifacts()?;
    cargo(&["run", "--quiet", "--profile", profile, "-p", "orchestrator", "--example", example, "--"], rest)
}

/// Runs cargo in the workspace with `args` then `extra`.
fn cargo(args: &[&str], extra: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(paths::workspace())
        .args(args)
        .args(extra)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo {} failed ({status})", args.join(" "))) }
}
