//! CLOCK_MONOTONIC, which starts at kernel boot: timestamps from it are also boot times.
use rustix::time::{ClockId, clock_gettime};

/// Microseconds since the kernel started.
pub fn now_us() -> u64 {
    now_ns() / 1_000
}

/// Nanoseconds since the kernel started.
pub fn now_ns() -> u64 {
    let t = clock_gettime(ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// The same clock for smoltcp.
pub fn instant() -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros(now_us() as i64)
}

/// The same clock for function bodies.
pub struct Monotonic;

impl functions::Clock for Monotonic {
    fn now_ns(&self) -> u64 {
        now_ns()
    }
}
