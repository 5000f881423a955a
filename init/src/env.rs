//! The environment the kernel hands `/init`: `name=value` words of the kernel command line it did
//! not recognise.
use core::ffi::{CStr, c_char};

/// The process environment, read in place from the initial stack.
#[derive(Clone, Copy)]
pub struct Env {
    envp: *const *const c_char,
}

impl Env {
    /// # Safety
    /// `envp` must be the NUL-terminated environment array the kernel placed on the initial stack.
    pub unsafe fn from_raw(envp: *const *const c_char) -> Env {
        Env { envp }
    }

    /// `(name, value)` pairs; entries that are not UTF-8 or have no `=` are skipped.
    pub fn vars(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        let mut p = self.envp;
        core::iter::from_fn(move || {
            loop {
                // SAFETY: `from_raw`'s contract: a NUL-terminated array of C strings that live for
                // the whole process.
                let entry = unsafe { *p };
                if entry.is_null() {
                    return None;
                }
                p = unsafe { p.add(1) };
                let bytes = unsafe { CStr::from_ptr(entry) }.to_str();
                if let Some(pair) = bytes.ok().and_then(|s| s.split_once('=')) {
                    return Some(pair);
                }
            }
        })
    }

    pub fn get(&self, name: &str) -> Option<&'static str> {
        self.vars().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}
