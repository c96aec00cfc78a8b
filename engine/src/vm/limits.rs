//! Resource limits (language §10) and the interrupt flag. There is no timer
//! thread: the VM reads the clock at each fuel refill and built-ins read it while
//! they work (`meter.rs`), so a wall-time limit costs nothing per evaluation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// The limits of one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// VM instructions.
    pub steps: u64,
    /// Live heap bytes.
    pub memory: u64,
    /// Wall time in milliseconds; `None` for no limit.
    pub timeout_ms: Option<u64>,
    /// Non-tail call depth, per actor.
    pub depth: u64,
    /// Live actors, actor 0 included (language §9, §10).
    pub actors: u64,
}

impl Limits {
    /// The defaults of `jue run`.
    pub const DEFAULT: Limits = Limits {
        steps: 1_000_000_000,
        memory: 256 << 20,
        timeout_ms: None,
        depth: 100_000,
        actors: 10_000,
    };
    /// The caps for experimental forms.
    pub const EXPERIMENTAL: Limits = Limits {
        steps: 50_000_000,
        memory: 64 << 20,
        timeout_ms: Some(5_000),
        depth: 10_000,
        actors: 10_000,
    };

    /// The smaller of each limit.
    pub fn min(self, other: Limits) -> Limits {
        Limits {
            steps: self.steps.min(other.steps),
            memory: self.memory.min(other.memory),
            timeout_ms: match (self.timeout_ms, other.timeout_ms) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            depth: self.depth.min(other.depth),
            actors: self.actors.min(other.actors),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Why the interrupt flag is raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stop {
    /// Not raised.
    None = 0,
    /// Ctrl-C or a host's request.
    Interrupt = 1,
    /// The wall-time deadline passed.
    Timeout = 2,
}

/// The flag a running evaluation polls at safe points. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicU8>);

impl Interrupt {
    /// Asks the running evaluation to stop (safe from a signal handler thread).
    pub fn raise(&self) {
        self.0.store(Stop::Interrupt as u8, Ordering::SeqCst);
    }
    /// Raises with a reason, unless one is already set.
    pub fn raise_for(&self, why: Stop) {
        let _ = self
            .0
            .compare_exchange(0, why as u8, Ordering::SeqCst, Ordering::SeqCst);
    }
    /// Lowers the flag.
    pub fn clear(&self) {
        self.0.store(0, Ordering::SeqCst);
    }
    /// Why it is raised.
    #[inline]
    pub fn get(&self) -> Stop {
        match self.0.load(Ordering::Relaxed) {
            0 => Stop::None,
            1 => Stop::Interrupt,
            _ => Stop::Timeout,
        }
    }
    /// The raw flag, for `signal_hook::flag::register`-style handlers.
    pub fn as_atomic(&self) -> &Arc<AtomicU8> {
        &self.0
    }
}
