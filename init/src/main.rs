//! `/init`: the process entry. The kernel starts it with no libc and no runtime, so this file
//! provides what one would: `_start`, the C memory functions and a panic handler.
#![no_std]
#![no_main]

mod mem;
mod start;

/// Function bodies allocate from the fixed arena (reset after every invocation).
#[global_allocator]
static HEAP: init::arena::Heap = init::arena::Heap;

/// A panic is a bug: say what we can on the console, then reboot to a clean worker.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write;
    let mut line = init::console::Line::new();
    let _ = writeln!(line, "init: panic: {info}; rebooting");
    init::console::write_console(line.as_bytes());
    init::power::reboot_after_ms(init::config::FAULT_DELAY_MS)
}
