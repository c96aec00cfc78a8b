//! Ctrl-C during an evaluation. The VM runs with the GIL released and polls only
//! its own interrupt flag, so a C-level SIGINT handler raises the flag of the
//! evaluation running on the main thread and then calls the handler it replaced
//! (Python's, which marks the signal pending). When the VM stops, `eval`/`call`
//! run `check_signals`, which raises `KeyboardInterrupt`, or whatever the
//! program's own SIGINT handler does.
//!
//! The handler is (re)installed at the start of each evaluation if something else
//! (`signal.signal`) replaced it since; it is never installed over `SIG_DFL` or
//! `SIG_IGN`, which keep their meaning.

use jue_engine::vm::limits::Interrupt;

/// While alive, SIGINT raises this evaluation's interrupt flag.
pub struct Armed {
    #[cfg(unix)]
    prev: *mut std::sync::atomic::AtomicU8,
}

#[cfg(unix)]
mod imp {
    use std::ffi::{c_int, c_void};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering::SeqCst};

    /// The flag of the evaluation SIGINT stops (null: none runs).
    pub static SLOT: AtomicPtr<AtomicU8> = AtomicPtr::new(std::ptr::null_mut());
    /// Handlers between reading `SLOT` and finishing with the flag it named.
    pub static IN_HANDLER: AtomicUsize = AtomicUsize::new(0);
    static PREV_HANDLER: AtomicUsize = AtomicUsize::new(libc::SIG_DFL);
    static PREV_SIGINFO: AtomicBool = AtomicBool::new(false);
    static INSTALL: Mutex<()> = Mutex::new(());

    /// The value of `Stop::Interrupt` in the engine's flag.
    const RAISED: u8 = 1;

    extern "C" fn on_sigint(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
        IN_HANDLER.fetch_add(1, SeqCst);
        let p = SLOT.load(SeqCst);
        if !p.is_null() {
            // SAFETY: a non-null SLOT points to a live flag: `Armed` keeps the
            // session's flag alive and waits for IN_HANDLER before letting go.
            unsafe { (*p).store(RAISED, SeqCst) };
        }
        IN_HANDLER.fetch_sub(1, SeqCst);
        let prev = PREV_HANDLER.load(SeqCst);
        if prev == libc::SIG_DFL || prev == libc::SIG_IGN {
            return;
        }
        // SAFETY: `prev` is the handler sigaction reported before ours was
        // installed, called with the signature its flags declare.
        unsafe {
            if PREV_SIGINFO.load(SeqCst) {
                let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                    std::mem::transmute(prev);
                f(sig, info, ctx);
            } else {
                let f: extern "C" fn(c_int) = std::mem::transmute(prev);
                f(sig);
            }
        }
    }

    /// Puts our handler in front of the current one, unless it is already there
    /// or the current disposition is the default or ignore.
    pub fn ensure_installed() {
        let _g = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: plain sigaction calls on valid, zero-initialised structs.
        unsafe {
            let mut cur: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGINT, std::ptr::null(), &mut cur) != 0 {
                return;
            }
            let ours = on_sigint as *const () as usize;
            let h = cur.sa_sigaction;
            if h == ours || h == libc::SIG_DFL || h == libc::SIG_IGN {
                return;
            }
            PREV_SIGINFO.store(cur.sa_flags & libc::SA_SIGINFO != 0, SeqCst);
            PREV_HANDLER.store(h, SeqCst);
            let mut new = cur;
            new.sa_sigaction = ours;
            new.sa_flags = (cur.sa_flags | libc::SA_SIGINFO) & !libc::SA_RESETHAND;
            libc::sigaction(libc::SIGINT, &new, std::ptr::null_mut());
        }
    }
}

impl Armed {
    /// Arms SIGINT for the evaluation whose flag is `flag` (nested evaluations
    /// stack: the inner one is stopped, and the outer one re-armed after it).
    pub fn new(flag: &Interrupt) -> Armed {
        #[cfg(unix)]
        {
            use std::sync::atomic::Ordering::SeqCst;
            imp::ensure_installed();
            let p = std::sync::Arc::as_ptr(flag.as_atomic()).cast_mut();
            let prev = imp::SLOT.swap(p, SeqCst);
            Armed { prev }
        }
        #[cfg(not(unix))]
        {
            let _ = flag;
            Armed {}
        }
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::sync::atomic::Ordering::SeqCst;
            imp::SLOT.store(self.prev, SeqCst);
            // A handler that read the old SLOT may still be writing to our flag.
            while imp::IN_HANDLER.load(SeqCst) != 0 {
                std::hint::spin_loop();
            }
        }
    }
}
