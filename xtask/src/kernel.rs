//! `cargo xtask kernel [--src DIR] [--jobs N]`: builds the worker's Linux kernel.
//!
//! The kernel is Debian's `linux-source-6.12` (or an unpacked tree given with `--src`), configured
//! as `make tinyconfig` plus `kernel-config/x86_64-microvm.config`, and built out of tree in a
//! cache directory outside the checkout, so fresh clones on the same machine reuse it. A build is
//! keyed on the source's identity and the fragment's options; a repeated run with the same key only
//! copies the cached bzImage.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::{deps, paths};

/// Debian's kernel source package puts its tarball here.
const TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
/// Config fragment, relative to the workspace root.
const FRAGMENT: &str = "kernel-config/x86_64-microvm.config";
/// Part of every cache key: bump it when the build recipe below changes, so old builds are not reused.
const RECIPE: &str = "microfaas-kernel-1: ARCH=x86_64 tinyconfig + merge_config -m + olddefconfig, bzImage";
/// How often a running step reports that it is alive.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How many log lines to show when a step fails.
const FAILURE_TAIL: usize = 40;

/// Builds (or fetches from the cache) the kernel and returns the path of the copied bzImage.
pub fn main(args: &[String]) -> Result<PathBuf, String> {
    let started = Instant::now();
    let options = Options::parse(args)?;
    let workspace = paths::workspace();
    let fragment_path = workspace.join(FRAGMENT);
    let fragment =
        fs::read_to_string(&fragment_path).map_err(|e| format!("reading {}: {e}", fragment_path.display()))?;
    let cache = cache_dir()?;

    let source = match &options.src {
        Some(dir) => Source::tree(dir)?,
        None => Source::debian()?,
    };
    let identity = source.identity()?;
    let wanted = fragment_options(&fragment);
    let key = cache_key(&[RECIPE.as_bytes(), identity.as_bytes(), wanted.as_bytes()]);
    let product = cache.join("kernels").join(format!("{key:016x}"));
    println!("kernel: source: {identity}");
    println!("kernel: cache key {key:016x} ({})", product.display());

    if product.join("bzImage").is_file() {
        println!("kernel: cache hit, not rebuilding");
    } else {
        deps::ensure(deps::KERNEL_TOOLS)?;
        let tree = match &source {
            Source::Tarball(tarball) => unpack(tarball, &cache, &identity)?,
            Source::Tree(tree) => tree.clone(),
        };
        let build = cache.join("build").join(format!("{key:016x}"));
        configure(&tree, &build, &fragment_path, &fragment)?;
        compile(&tree, &build, options.jobs)?;
        store(&build, &product)?;
    }

    let image = publish(&product, &paths::artifacts())?;
    println!("kernel: {} ({:.1}s)", image.display(), started.elapsed().as_secs_f64());
    Ok(image)
}

/// Command-line options of `cargo xtask kernel`.
struct Options {
    src: Option<PathBuf>,
    jobs: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options { src: None, jobs: default_jobs() };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--src" => options.src = Some(PathBuf::from(value()?)),
                "--jobs" | "-j" => {
                    let jobs = value()?;
                    options.jobs = jobs.parse().ok().filter(|&n| n > 0).ok_or(format!("bad --jobs {jobs}"))?;
                }
                _ => return Err(format!("unknown argument {arg}; usage: cargo xtask kernel [--src DIR] [--jobs N]")),
            }
        }
        Ok(options)
    }
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `$MICROFAAS_CACHE`, else `$XDG_CACHE_HOME/microfaas`, else `$HOME/.cache/microfaas`.
fn cache_dir() -> Result<PathBuf, String> {
    let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = non_empty("MICROFAAS_CACHE") {
        return Ok(dir);
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return Ok(dir.join("microfaas"));
    }
    match non_empty("HOME") {
        Some(home) => Ok(home.join(".cache/microfaas")),
        None => Err("no cache directory: set MICROFAAS_CACHE (or XDG_CACHE_HOME or HOME)".into()),
    }
}

/// Where the kernel source comes from.
enum Source {
    /// A tarball (Debian's by default), unpacked once into the cache.
    Tarball(PathBuf),
    /// An already unpacked tree given with `--src`.
    Tree(PathBuf),
}

impl Source {
    /// Debian's tarball, installing its package first if it is missing.
    fn debian() -> Result<Source, String> {
        let tarball = PathBuf::from(TARBALL);
        if !tarball.is_file() {
            deps::ensure(deps::KERNEL_SOURCE)?;
        }
        Ok(Source::Tarball(tarball))
    }

    fn tree(dir: &Path) -> Result<Source, String> {
        let tree = fs::canonicalize(dir).map_err(|e| format!("--src {}: {e}", dir.display()))?;
        Ok(Source::Tree(tree))
    }

    /// What the cache key records of the source: path, size and mtime for a tarball; path and the
    /// Makefile's version lines for a tree. A tree's identity does not change when files inside it
    /// are edited: delete its cache entry (`<cache>/kernels/<key>`) to rebuild after such edits.
    fn identity(&self) -> Result<String, String> {
        match self {
            Source::Tarball(tarball) => {
                let meta = fs::metadata(tarball).map_err(|e| format!("{}: {e}", tarball.display()))?;
                let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok());
                let mtime = mtime.unwrap_or_default().as_secs();
                Ok(format!("tarball {} size {} mtime {mtime}", tarball.display(), meta.len()))
            }
            Source::Tree(tree) => {
                let makefile = fs::read_to_string(tree.join("Makefile"))
                    .map_err(|e| format!("--src {}: no kernel Makefile: {e}", tree.display()))?;
                let version: Vec<String> = makefile
                    .lines()
                    .filter(|l| ["VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"].iter().any(|k| l.starts_with(k)))
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                    .collect();
                Ok(format!("tree {} ({})", tree.display(), version.join(", ")))
            }
        }
    }
}

/// The cache key: the parts joined with a 0xff byte (which no UTF-8 text contains) and hashed.
fn cache_key(parts: &[&[u8]]) -> u64 {
    fnv1a64(&parts.join(&0xff))
}

/// FNV-1a, 64 bit: a fixed algorithm, so keys stay the same across Rust releases (std's
/// `DefaultHasher` makes no such promise).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Unpacks the tarball once into `<cache>/src/<hash of identity>` and returns the kernel tree in it.
fn unpack(tarball: &Path, cache: &Path, identity: &str) -> Result<PathBuf, String> {
    let dest = cache.join("src").join(format!("{:016x}", cache_key(&[identity.as_bytes()])));
    if !dest.is_dir() {
        // Unpack beside the destination and rename, so an interrupted unpack is never mistaken for a
        // finished one.
        let partial = dest.with_extension("partial");
        remove_dir_if_exists(&partial)?;
        fs::create_dir_all(&partial).map_err(|e| format!("creating {}: {e}", partial.display()))?;
        println!("kernel: unpacking {} into {}", tarball.display(), dest.display());
        let log = partial.with_extension("log");
        let mut tar = Command::new("tar");
        tar.arg("-xf").arg(tarball).arg("-C").arg(&partial);
        run_logged("unpack", tar, &log)?;
        fs::rename(&partial, &dest).map_err(|e| format!("renaming {}: {e}", partial.display()))?;
    }
    kernel_tree_in(&dest)
}

/// The directory (the unpacked one itself or its only child) holding the kernel's Makefile.
fn kernel_tree_in(dir: &Path) -> Result<PathBuf, String> {
    if dir.join("Makefile").is_file() {
        return Ok(dir.to_path_buf());
    }
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.join("Makefile").is_file() && path.join("Kconfig").is_file())
        .ok_or_else(|| format!("no kernel tree in {}", dir.display()))
}

fn remove_dir_if_exists(dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("removing {}: {e}", dir.display())),
        _ => Ok(()),
    }
}

/// `make tinyconfig`, merge the fragment with the kernel's `merge_config.sh`, `make olddefconfig`,
/// then check that every option of the fragment survived.
fn configure(tree: &Path, build: &Path, fragment_path: &Path, fragment: &str) -> Result<(), String> {
    fs::create_dir_all(build).map_err(|e| format!("creating {}: {e}", build.display()))?;
    let log = build.join("microfaas-config.log");
    let _ = fs::remove_file(&log);
    println!("kernel: configuring in {}", build.display());
    run_logged("tinyconfig", make(tree, build, &["tinyconfig"]), &log)?;

    let mut merge = Command::new(tree.join("scripts/kconfig/merge_config.sh"));
    merge.arg("-m").arg("-O").arg(build).arg(build.join(".config")).arg(fragment_path);
    // It writes a temporary file into its working directory.
    merge.current_dir(build);
    run_logged("merge_config", merge, &log)?;

    run_logged("olddefconfig", make(tree, build, &["olddefconfig"]), &log)?;
    let config = fs::read_to_string(build.join(".config")).map_err(|e| format!("reading .config: {e}"))?;
    check_fragment(fragment, &config)
}

/// Fails, listing them, if any `CONFIG_X=v` / `# CONFIG_X is not set` line of the fragment does not
/// hold in the final .config (Kconfig silently drops options whose dependencies are missing).
fn check_fragment(fragment: &str, config: &str) -> Result<(), String> {
    let mut wrong = Vec::new();
    for (name, wanted) in fragment.lines().filter_map(config_line) {
        let actual = config.lines().filter_map(config_line).find(|(n, _)| *n == name).map(|(_, v)| v);
        if actual.unwrap_or("n") != wanted {
            wrong.push(format!("    {name}: wanted {wanted}, got {}", actual.unwrap_or("(absent)")));
        }
    }
    if wrong.is_empty() {
        println!("kernel: all options of the fragment hold in .config");
        Ok(())
    } else {
        Err(format!("the final .config does not honour the fragment:\n{}", wrong.join("\n")))
    }
}

/// The fragment's options, one `X=v` a line: what the cache key covers, so editing a comment in the
/// fragment does not cost a rebuild.
fn fragment_options(fragment: &str) -> String {
    fragment.lines().filter_map(config_line).map(|(name, value)| format!("{name}={value}\n")).collect()
}

/// Parses `CONFIG_X=v` as (X, v) and `# CONFIG_X is not set` as (X, "n").
fn config_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("# CONFIG_") {
        return rest.strip_suffix(" is not set").map(|name| (name, "n"));
    }
    line.strip_prefix("CONFIG_")?.split_once('=')
}

/// `make -jN bzImage`, with progress on the terminal and the full output in the build directory.
fn compile(tree: &Path, build: &Path, jobs: usize) -> Result<(), String> {
    let log = build.join("microfaas-build.log");
    let _ = fs::remove_file(&log);
    println!("kernel: building bzImage with {jobs} jobs (log: {})", log.display());
    let jobs = format!("-j{jobs}");
    run_logged("build", make(tree, build, &[&jobs, "bzImage"]), &log)
}

/// A `make` in the source tree that writes to the build directory.
fn make(tree: &Path, build: &Path, targets: &[&str]) -> Command {
    let mut make = Command::new("make");
    make.arg("-C").arg(tree).arg(format!("O={}", build.display())).arg("ARCH=x86_64").args(targets);
    // A surrounding make's jobserver and flags are not ours to use.
    make.env_remove("MAKEFLAGS").env_remove("MFLAGS").env_remove("MAKELEVEL");
    make
}

/// Runs a step with its output appended to `log`, printing the elapsed time and the log's last line
/// every few seconds; on failure, returns the log's tail and path.
fn run_logged(step: &str, mut command: Command, log: &Path) -> Result<(), String> {
    let started = Instant::now();
    let child = spawn_with_log(&mut command, log).map_err(|e| format!("{step}: starting {command:?}: {e}"))?;
    let status = wait_with_heartbeat(step, child, log, started)?;
    let seconds = started.elapsed().as_secs_f64();
    if status.success() {
        println!("kernel: {step} done in {seconds:.1}s");
        return Ok(());
    }
    Err(format!(
        "{step} failed ({status}) after {seconds:.1}s; last lines of {}:\n{}",
        log.display(),
        tail(log, FAILURE_TAIL).join("\n")
    ))
}

fn spawn_with_log(command: &mut Command, log: &Path) -> std::io::Result<Child> {
    let out = fs::OpenOptions::new().create(true).append(true).open(log)?;
    let err = out.try_clone()?;
    command.stdin(Stdio::null()).stdout(out).stderr(err).spawn()
}

fn wait_with_heartbeat(
    step: &str,
    mut child: Child,
    log: &Path,
    started: Instant,
) -> Result<std::process::ExitStatus, String> {
    let mut next_beat = started + HEARTBEAT;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("{step}: waiting: {e}"))? {
            return Ok(status);
        }
        if Instant::now() >= next_beat {
            let last = tail(log, 1).pop().unwrap_or_else(|| "running".into());
            println!("kernel:   [{:4}s] {step}: {}", started.elapsed().as_secs(), last.trim());
            next_beat += HEARTBEAT;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The last `n` non-empty lines of a log (reading only its end: build logs get long).
fn tail(log: &Path, n: usize) -> Vec<String> {
    let Ok(mut file) = fs::File::open(log) else { return Vec::new() };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| l.to_string()).collect()
}

/// Copies bzImage and .config from the build into the cache entry, atomically (via a temporary
/// directory), so a half-written entry never counts as a cache hit.
fn store(build: &Path, product: &Path) -> Result<(), String> {
    let partial = product.with_extension("partial");
    remove_dir_if_exists(&partial)?;
    fs::create_dir_all(&partial).map_err(|e| format!("creating {}: {e}", partial.display()))?;
    copy(&build.join("arch/x86/boot/bzImage"), &partial.join("bzImage"))?;
    copy(&build.join(".config"), &partial.join("kernel.config"))?;
    remove_dir_if_exists(product)?;
    fs::rename(&partial, product).map_err(|e| format!("renaming {}: {e}", partial.display()))
}

/// Copies the cached bzImage and kernel.config to the workspace's output directory.
fn publish(product: &Path, out_dir: &Path) -> Result<PathBuf, String> {
    fs::create_dir_all(out_dir).map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    copy(&product.join("kernel.config"), &out_dir.join("kernel.config"))?;
    let image = out_dir.join("bzImage");
    copy(&product.join("bzImage"), &image)?;
    Ok(image)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to).map(drop).map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_ne!(cache_key(&[b"ab", b"c"]), cache_key(&[b"a", b"bc"]));
    }

    #[test]
    fn config_lines_parse() {
        assert_eq!(config_line("CONFIG_NET=y"), Some(("NET", "y")));
        assert_eq!(config_line("# CONFIG_INET is not set"), Some(("INET", "n")));
        assert_eq!(config_line("CONFIG_PHYSICAL_START=0x200000"), Some(("PHYSICAL_START", "0x200000")));
        assert_eq!(config_line("# why this option"), None);
    }

    #[test]
    fn fragment_check_reports_dropped_options() {
        let config = "CONFIG_NET=y\n# CONFIG_INET is not set\n";
        assert!(check_fragment("CONFIG_NET=y\n# CONFIG_INET is not set\n# CONFIG_ABSENT is not set\n", config).is_ok());
        let err = check_fragment("CONFIG_PACKET=y\n", config).unwrap_err();
        assert!(err.contains("PACKET: wanted y, got (absent)"));
    }

    #[test]
    fn comments_do_not_change_the_options() {
        let plain = fragment_options("CONFIG_NET=y\n# CONFIG_INET is not set\n");
        assert_eq!(plain, fragment_options("# why\nCONFIG_NET=y\n\n# no IPv4\n# CONFIG_INET is not set\n"));
        assert_eq!(plain, "NET=y\nINET=n\n");
    }
}
