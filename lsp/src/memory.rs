//! Keeping the server's resident memory close to what it holds. The engine's
//! document frees as much as it keeps while opening a big file (each slot's syntax
//! tree and lowered code are dropped once read), and glibc's defaults keep freed
//! memory: a large message raises its mmap threshold (so later buffers stay in the
//! heap) and freed pages stay in per-thread arenas. Both are tuned here; elsewhere
//! these are no-ops.

/// Fixes glibc's mmap threshold at its default (128 KiB), so buffers of a few MB
/// (a whole text in a message) go back to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune_allocator() {
    const M_MMAP_THRESHOLD: i32 = -3;
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    // SAFETY: mallopt only sets an allocator parameter; it is called once, before
    // the runtime starts any thread.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Hands whole free pages of every arena back to the system (after a large analysis).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: malloc_trim takes no pointers and may be called at any time.
    unsafe {
        malloc_trim(0);
    }
}

/// No tuning outside glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune_allocator() {}

/// Nothing to release outside glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}
