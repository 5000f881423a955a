//! The process entry point. The kernel jumps to `_start` with the stack pointer at `argc`, followed
//! by `argv`, a NULL, `envp` and a NULL; the stack is 16-byte aligned there, but not as a called
//! function expects it, so `_start` is naked and does the System V call itself.
use core::ffi::c_char;

#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "xor ebp, ebp",   // the outermost frame, for debuggers
        "mov rdi, rsp",   // first argument: the initial stack
        "and rsp, -16",   // call with the ABI's alignment
        "call {entry}",
        "ud2",
        entry = sym entry,
    )
}

/// # Safety
/// `sp` is the initial process stack as the kernel laid it out.
unsafe extern "C" fn entry(sp: *const usize) -> ! {
    unsafe {
        let argc = *sp;
        let envp = sp.add(1 + argc + 1) as *const *const c_char;
        init::main(init::env::Env::from_raw(envp))
    }
}
