//! Ctrl-C during an evaluation. While rustyline edits, the terminal is in raw
//! mode and Ctrl-C reaches rustyline as a key; while an evaluation runs, it is
//! SIGINT, which a signal-hook thread turns into the engine's interrupt flag.

use jue_engine::vm::limits::Interrupt;
use signal_hook::consts::SIGINT;
use signal_hook::iterator::Signals;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static EVALUATING: AtomicBool = AtomicBool::new(false);
static TARGET: Mutex<Option<Interrupt>> = Mutex::new(None);

/// Installs the SIGINT handler. With `exit_when_idle` (piped input), a SIGINT
/// outside an evaluation ends the process with status 130; otherwise it is ignored
/// there.
pub fn install(exit_when_idle: bool) {
    let Ok(mut signals) = Signals::new([SIGINT]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("jue-sigint".into())
        .spawn(move || {
            for _ in signals.forever() {
                if EVALUATING.load(Ordering::SeqCst) {
                    if let Some(i) = TARGET.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                        i.raise();
                    }
                } else if exit_when_idle {
                    std::process::exit(130);
                }
            }
        });
}

/// Makes `i` the flag a SIGINT raises (the session's; changes on `:reset`).
pub fn set_target(i: Interrupt) {
    *TARGET.lock().unwrap_or_else(|e| e.into_inner()) = Some(i);
}

/// Marks an evaluation as running for as long as it lives.
pub struct Evaluating(());

impl Evaluating {
    /// Starts an evaluation: lowers a stale flag and lets SIGINT raise it.
    pub fn start(i: &Interrupt) -> Evaluating {
        i.clear();
        EVALUATING.store(true, Ordering::SeqCst);
        Evaluating(())
    }
}

impl Drop for Evaluating {
    fn drop(&mut self) {
        EVALUATING.store(false, Ordering::SeqCst);
    }
}
