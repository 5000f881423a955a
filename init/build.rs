//! Links the `init` binary statically, with no libc and no start files, using the arguments kept
//! in `linker/init.args`. Scoped to this crate's binaries, so host builds of everything else (and
//! build scripts) are untouched.
use std::path::Path;

fn main() {
    let args = Path::new(env!("CARGO_MANIFEST_DIR")).join("../linker/init.args");
    println!("cargo:rerun-if-changed={}", args.display());
    let text = std::fs::read_to_string(&args).unwrap_or_else(|e| panic!("{}: {e}", args.display()));
    for arg in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
