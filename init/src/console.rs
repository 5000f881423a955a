//! Logs go to the console (fd 1, which the kernel opened on /dev/console), one line per record,
//! stamped with seconds since boot like the kernel's own printk lines.
use core::fmt::{self, Write};

use log::{LevelFilter, Log, Metadata, Record};

struct Console;

static CONSOLE: Console = Console;

/// Installs the logger; `level` is the `mfaas_log` word, `info` when absent or unknown.
pub fn install(level: Option<&str>) {
    let level = level.and_then(|l| l.parse().ok()).unwrap_or(LevelFilter::Info);
    if log::set_logger(&CONSOLE).is_ok() {
        log::set_max_level(level);
    }
}

impl Log for Console {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let us = crate::clock::now_us();
        let mut line = Line::new();
        let _ =
            writeln!(line, "[{:5}.{:06}] init: {} {}", us / 1_000_000, us % 1_000_000, record.level(), record.args());
        write_console(line.as_bytes());
    }

    fn flush(&self) {}
}

/// Writes raw bytes to the console, ignoring errors: there is nowhere else to report them.
pub fn write_console(mut bytes: &[u8]) {
    // SAFETY: fd 1 stays open for the life of the process (the kernel opened it; nothing closes it).
    let console = unsafe { rustix::fd::BorrowedFd::borrow_raw(1) };
    while !bytes.is_empty() {
        match rustix::io::write(console, bytes) {
            Ok(0) | Err(_) => return,
            Ok(n) => bytes = &bytes[n..],
        }
    }
}

/// A fixed-size line buffer: formatting never allocates, and an overlong record is cut (with a
/// trailing newline kept) rather than lost.
pub struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Line {
    pub fn new() -> Line {
        Line { buf: [0; 512], len: 0 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        if n < s.len() {
            self.buf[self.buf.len() - 1] = b'\n';
        }
        Ok(())
    }
}
