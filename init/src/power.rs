//! Leaving: reboot or power off through reboot(2). On QEMU `microvm` (no power-off device) a
//! reboot with `-no-reboot` ends the QEMU process, which is how a virtual worker powers off.
use rustix::system::{RebootCommand, reboot as sys_reboot};

pub fn reboot() -> ! {
    leave(RebootCommand::Restart)
}

pub fn power_off() -> ! {
    leave(RebootCommand::PowerOff)
}

/// Waits, so a fault on the console can be read and a broken configuration does not make the
/// worker spin through boots, then reboots.
pub fn reboot_after_ms(ms: u64) -> ! {
    sleep_ms(ms);
    reboot()
}

pub fn sleep_ms(ms: u64) {
    let ts = rustix::time::Timespec { tv_sec: (ms / 1000) as i64, tv_nsec: ((ms % 1000) * 1_000_000) as i64 };
    let _ = rustix::event::poll(&mut [], Some(&ts));
}

fn leave(cmd: RebootCommand) -> ! {
    let err = sys_reboot(cmd);
    // Only reachable without CAP_SYS_BOOT (e.g. run by hand on a host). Exiting pid 1 makes the
    // kernel panic, and `panic=-1` on the command line turns that into a reboot too.
    log::error!("reboot(2) failed: {err:?}; exiting");
    exit_group(1)
}

fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group(2) takes one integer and does not return.
    unsafe {
        core::arch::asm!("syscall", in("rax") 231usize, in("rdi") code as isize, options(noreturn, nostack));
    }
}
