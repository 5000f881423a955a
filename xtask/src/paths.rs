//! Where things are: the workspace and the artifacts a worker boots from.
use std::path::{Path, PathBuf};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").to_path_buf()
}

/// `target/microfaas/x86_64-microvm`: the kernel, the init and the initramfs.
pub fn artifacts() -> PathBuf {
    workspace().join("target/microfaas/x86_64-microvm")
}
