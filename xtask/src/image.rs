//! `cargo xtask image`: builds the worker's `/init` (no_std, static, stripped) and packs it into
//! the initramfs the kernel boots.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cpio::Archive;
use crate::paths;

/// Builds the init and writes `initramfs.cpio`; returns the cpio's path.
pub fn main(args: &[String]) -> Result<PathBuf, String> {
    if let Some(extra) = args.first() {
        return Err(format!("image: unexpected argument {extra:?} (it takes none)"));
    }
    let arena_kib = arena_kib()?;
    let init = build_init(arena_kib)?;
    let out = paths::artifacts();
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let bytes = std::fs::read(&init).map_err(|e| format!("{}: {e}", init.display()))?;
    std::fs::write(out.join("init"), &bytes).map_err(|e| format!("{}: {e}", out.display()))?;

    let mut archive = Archive::new();
    // The kernel's built-in initramfs has /dev/console too; ours does not rely on it.
    archive.dir("dev", 0o755);
    archive.char_device("dev/console", 0o600, 5, 1);
    archive.file("init", 0o755, &bytes);
    let cpio = archive.finish();
    let cpio_path = out.join("initramfs.cpio");
    std::fs::write(&cpio_path, &cpio).map_err(|e| format!("{}: {e}", cpio_path.display()))?;
    println!("init            {:>8} bytes ({:.1} KiB)  {}", bytes.len(), kib(bytes.len()), out.join("init").display());
    println!("initramfs.cpio  {:>8} bytes ({:.1} KiB)  {}", cpio.len(), kib(cpio.len()), cpio_path.display());
    println!("arena           {arena_kib:>8} KiB  (the functions' heap; set MFAAS_ARENA_KIB to change it)");
    Ok(cpio_path)
}

/// The functions' heap on the worker, in KiB: `MFAAS_ARENA_KIB`, 4096 by default.
fn arena_kib() -> Result<u32, String> {
    match std::env::var("MFAAS_ARENA_KIB") {
        Err(_) => Ok(4096),
        Ok(v) => v.parse().ok().filter(|&n| n > 0).ok_or(format!("MFAAS_ARENA_KIB={v:?} is not a positive number")),
    }
}

fn kib(n: usize) -> f64 {
    n as f64 / 1024.0
}

/// `cargo build` of the init binary in the `worker` profile (abort on panic, size-optimised, LTO,
/// stripped). The target is named explicitly so the flags below reach only the init, never build
/// scripts or proc macros.
fn build_init(arena_kib: u32) -> Result<PathBuf, String> {
    const TARGET: &str = "x86_64-unknown-linux-gnu";
    println!("building the init (profile worker, target {TARGET})");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(paths::workspace())
        .args(["build", "--quiet", "--package", "init", "--features", "bin", "--profile", "worker", "--target", TARGET])
        // Non-PIC code: the init is linked static and non-PIE (linker/init.args), so position
        // independence would only cost size.
        .env("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS", "-C relocation-model=static")
        .env("MFAAS_ARENA_KIB", arena_kib.to_string())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the init failed ({status})"));
    }
    let bin = paths::workspace().join("target").join(TARGET).join("worker").join("init");
    check_static(&bin)?;
    Ok(bin)
}

/// The kernel execs /init with no loader: refuse an init that would need one.
fn check_static(bin: &Path) -> Result<(), String> {
    let elf = std::fs::read(bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    if elf.get(..4) != Some(b"\x7fELF") {
        return Err(format!("{} is not an ELF file", bin.display()));
    }
    // e_type at 16: 2 = ET_EXEC (static, non-PIE); 3 = ET_DYN would need relocation.
    if elf.get(16) != Some(&2) {
        return Err(format!("{} is not a fixed-address executable (ET_EXEC)", bin.display()));
    }
    // Program headers: no PT_INTERP (3) and no PT_DYNAMIC (2).
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let phentsize = u16::from_le_bytes([elf[54], elf[55]]) as usize;
    let phnum = u16::from_le_bytes([elf[56], elf[57]]) as usize;
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let kind = elf.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
        if matches!(kind, Some(2 | 3)) {
            return Err(format!("{} has a dynamic section or interpreter", bin.display()));
        }
    }
    Ok(())
}
