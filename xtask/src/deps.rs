//! The Debian packages the build and the tests need. Installed with apt-get when we are root (the
//! CI and a fresh machine), otherwise the exact command is printed.
use std::process::Command;

/// A package and a file whose presence shows it is installed.
pub struct Package {
    pub name: &'static str,
    pub provides: &'static str,
}

/// The kernel source (`cargo xtask kernel` without `--src`).
pub const KERNEL_SOURCE: &[Package] =
    &[Package { name: "linux-source-6.12", provides: "/usr/src/linux-source-6.12.tar.xz" }];

/// Tools the kernel build runs; objtool (always on for x86-64) needs libelf's headers, and the
/// bzImage is LZ4-compressed.
pub const KERNEL_TOOLS: &[Package] = &[
    Package { name: "build-essential", provides: "/usr/bin/make" },
    Package { name: "build-essential", provides: "/usr/bin/gcc" },
    Package { name: "flex", provides: "/usr/bin/flex" },
    Package { name: "bison", provides: "/usr/bin/bison" },
    Package { name: "bc", provides: "/usr/bin/bc" },
    Package { name: "xz-utils", provides: "/usr/bin/xz" },
    Package { name: "lz4", provides: "/usr/bin/lz4" },
    Package { name: "libelf-dev", provides: "/usr/include/gelf.h" },
];

/// Booting workers, and the cpio(1) the initramfs writer's test reads its archives back with.
pub const RUN: &[Package] = &[
    Package { name: "qemu-system-x86", provides: "/usr/bin/qemu-system-x86_64" },
    Package { name: "cpio", provides: "/usr/bin/cpio" },
];

/// The real servers the data-plane tests and benchmark start (Debian's part of them).
pub const SERVERS: &[Package] = &[
    Package { name: "redis-server", provides: "/usr/bin/redis-server" },
    Package { name: "redis-tools", provides: "/usr/bin/redis-cli" },
    Package { name: "postgresql-15", provides: "/usr/lib/postgresql/15/bin/postgres" },
    Package { name: "postgresql-client-15", provides: "/usr/bin/psql" },
];

/// `cargo xtask bench functions` also runs the functions under qemu-user.
pub const BENCH: &[Package] = &[Package { name: "qemu-user", provides: "/usr/bin/qemu-x86_64" }];

/// A server the tests start that Debian does not package, built with `cargo install --locked`.
pub struct CargoTool {
    /// The binary, looked for in `$CARGO_HOME/bin` (`~/.cargo/bin`).
    pub binary: &'static str,
    /// `cargo install --locked` arguments: the crate (pinned where it matters) and its features.
    pub install: &'static [&'static str],
}

/// The cargo-installed servers of the data-plane tests. A fresh machine builds each once (tansu:
/// ~17 minutes on 2 shared cores, ~400 crates; s3s-fs: a few minutes); cached binaries are reused.
pub const CARGO_TOOLS: &[CargoTool] = &[
    // An S3 server on a directory that checks SigV4 signatures.
    CargoTool { binary: "s3s-fs", install: &["s3s-fs@0.14.1", "--features", "binary"] },
    // A Kafka-protocol broker, run with in-memory storage.
    CargoTool { binary: "tansu", install: &["tansu", "--features", "dynostore"] },
];

/// Installs whichever of `packages` are missing, or explains how to.
pub fn ensure(packages: &[Package]) -> Result<(), String> {
    let mut missing: Vec<&str> =
        packages.iter().filter(|p| !std::path::Path::new(p.provides).exists()).map(|p| p.name).collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let command = format!("apt-get install -y {}", missing.join(" "));
    if !is_root() {
        return Err(format!("missing Debian packages; install them with:\n  sudo apt-get update && sudo {command}"));
    }
    println!("installing missing Debian packages: {}", missing.join(" "));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get").args(["install", "-y", "-qq"]).args(&missing).env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Installs whichever of `tools` are missing (a cached binary is reused; a build takes minutes).
pub fn ensure_cargo_tools(tools: &[CargoTool]) -> Result<(), String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    for tool in tools.iter().filter(|t| !home.join("bin").join(t.binary).exists()) {
        println!("installing {} with cargo install (a long build, once per machine)", tool.binary);
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run(Command::new(cargo).args(["install", "--locked"]).args(tool.install))?;
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.trim_ascii() == b"0").unwrap_or(false)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed ({status})")) }
}
