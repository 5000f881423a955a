//! The worker's heap: one fixed arena, bump-allocated and reset after every invocation, so no
//! invocation can leak into the next and memory use is bounded by a number fixed at build time.
//!
//! The size is `MFAAS_ARENA_KIB` at build time (`cargo xtask image` sets and prints it), 4 MiB by
//! default. It lives in .bss: it costs nothing in the image and the kernel backs it with pages
//! only as they are touched. A request the arena cannot satisfy returns null, which the
//! `functions` crate's fallible helpers turn into an `OutOfMemory` error.
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Arena size in bytes.
pub const ARENA_BYTES: usize = kib(option_env!("MFAAS_ARENA_KIB")) * 1024;

const fn kib(text: Option<&str>) -> usize {
    let Some(text) = text else { return 4096 };
    let bytes = text.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "MFAAS_ARENA_KIB must be a number of KiB");
        n = n * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    n
}

/// The arena's memory and its fill level. The worker is single-threaded; the atomics only make the
/// static `Sync`.
pub struct Arena<const N: usize> {
    memory: UnsafeCell<[u8; N]>,
    used: AtomicUsize,
    peak: AtomicUsize,
}

// SAFETY: one thread; `used` hands out disjoint ranges of `memory`.
unsafe impl<const N: usize> Sync for Arena<N> {}

pub static ARENA: Arena<ARENA_BYTES> = Arena::new();

impl<const N: usize> Arena<N> {
    pub const fn new() -> Self {
        Arena { memory: UnsafeCell::new([0; N]), used: AtomicUsize::new(0), peak: AtomicUsize::new(0) }
    }

    /// Frees everything and returns the most bytes in use since the last reset, so each
    /// invocation's high-water mark can be reported (it is what sizes `MFAAS_ARENA_KIB`). Only
    /// between invocations: nothing allocated may be alive.
    pub fn reset(&self) -> usize {
        self.used.store(0, Ordering::Relaxed);
        self.peak.swap(0, Ordering::Relaxed)
    }

    fn base(&self) -> usize {
        self.memory.get() as usize
    }

    fn bump(&self, layout: Layout) -> *mut u8 {
        let used = self.used.load(Ordering::Relaxed);
        let start = (self.base() + used).next_multiple_of(layout.align()) - self.base();
        match start.checked_add(layout.size()) {
            Some(end) if end <= N => {
                self.used.store(end, Ordering::Relaxed);
                self.peak.fetch_max(end, Ordering::Relaxed);
                (self.base() + start) as *mut u8
            }
            _ => core::ptr::null_mut(),
        }
    }

    /// True when `ptr..ptr+size` is the most recent allocation, which can shrink or grow in place.
    fn is_last(&self, ptr: *mut u8, size: usize) -> bool {
        ptr as usize + size == self.base() + self.used.load(Ordering::Relaxed)
    }
}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: `bump` returns aligned, disjoint, in-bounds blocks or null.
unsafe impl<const N: usize> GlobalAlloc for Arena<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.bump(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Only the last block can be given back; the rest goes at the next reset.
        if self.is_last(ptr, layout.size()) {
            self.used.store(ptr as usize - self.base(), Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A growing Vec is usually the last block: extend it in place instead of copying.
        if self.is_last(ptr, layout.size()) {
            let start = ptr as usize - self.base();
            if start + new_size <= N {
                self.used.store(start + new_size, Ordering::Relaxed);
                self.peak.fetch_max(start + new_size, Ordering::Relaxed);
                return ptr;
            }
            return core::ptr::null_mut();
        }
        let new = self.bump(Layout::from_size_align(new_size, layout.align()).unwrap_or(layout));
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct; copy the smaller size.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}

/// The global allocator the init binary installs: forwards to [`ARENA`].
pub struct Heap;

// SAFETY: forwards to ARENA.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { ARENA.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { ARENA.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { ARENA.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn allocations_are_aligned_disjoint_and_bounded() {
        let arena: Box<Arena<1024>> = Box::default();
        unsafe {
            let a = arena.alloc(layout(3, 1));
            let b = arena.alloc(layout(16, 16));
            assert_eq!(b as usize % 16, 0);
            assert!(b as usize >= a as usize + 3);
            assert!(arena.alloc(layout(2048, 8)).is_null(), "over the arena must fail, not overlap");
            arena.reset();
            assert_eq!(arena.alloc(layout(3, 1)), a, "reset starts over");
        }
    }

    #[test]
    fn the_last_block_grows_in_place_and_others_move() {
        let arena: Box<Arena<1024>> = Box::default();
        unsafe {
            let a = arena.alloc(layout(8, 8));
            a.write(42);
            let grown = arena.realloc(a, layout(8, 8), 64);
            assert_eq!(grown, a);
            let b = arena.alloc(layout(8, 8));
            let moved = arena.realloc(a, layout(64, 8), 128);
            assert!(moved as usize > b as usize);
            assert_eq!(moved.read(), 42);
            assert!(arena.realloc(moved, layout(128, 8), 4096).is_null());
            let high_water = moved as usize + 128 - a as usize;
            assert_eq!(arena.reset(), high_water);
            assert_eq!(arena.reset(), 0, "the peak starts over");
        }
    }

    #[test]
    fn freeing_the_last_block_gives_it_back() {
        let arena: Box<Arena<64>> = Box::default();
        unsafe {
            let a = arena.alloc(layout(64, 1));
            assert!(arena.alloc(layout(1, 1)).is_null());
            arena.dealloc(a, layout(64, 1));
            assert_eq!(arena.alloc(layout(64, 1)), a);
        }
    }
}
