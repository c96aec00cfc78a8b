//! Charging what built-ins do to the evaluation's step budget (language §10): a
//! built-in that walks or builds data charges one step per element, pair or
//! character run it visits, and sees the step limit, the deadline and Ctrl-C
//! while it works, not only when it returns.

use super::error::{ErrorKind, Fault, FaultResult};
use super::limits::{Interrupt, Stop};
use std::time::Instant;

/// Steps between two looks at the interrupt flag and the clock inside a built-in.
const POLL_EVERY: u64 = 4_096;

/// What a running built-in may spend, and where it reports what it spent.
pub struct Meter<'a> {
    /// Steps charged since the VM last took them into its count.
    pub(super) used: &'a mut u64,
    /// Steps left in the evaluation when the built-in started.
    pub(super) allowance: u64,
    /// The evaluation's step limit, for the message.
    pub(super) limit: u64,
    pub(super) next_poll: u64,
    pub(super) interrupt: &'a Interrupt,
    pub(super) deadline: Option<Instant>,
    pub(super) timeout_ms: Option<u64>,
    /// Bytes a built-in may still add to the heap (what its result may take).
    pub(super) room: usize,
}

impl Meter<'_> {
    /// Charges `n` steps; fails at the step limit, the deadline or an interrupt.
    #[inline]
    pub fn charge(&mut self, n: u64) -> FaultResult<()> {
        *self.used = self.used.saturating_add(n);
        if *self.used >= self.next_poll {
            self.poll()
        } else {
            Ok(())
        }
    }

    /// Whether `bytes` more may be built: a result that cannot fit under the memory
    /// limit is refused before it is built (`memory-limit`).
    pub fn room_for(&self, bytes: usize) -> FaultResult<()> {
        if bytes > self.room {
            return Err(Fault::new(
                ErrorKind::MemoryLimit,
                format!(
                    "building {bytes} bytes would pass the memory limit ({} bytes left)",
                    self.room
                ),
            ));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn poll(&mut self) -> FaultResult<()> {
        if *self.used > self.allowance {
            return Err(step_limit(self.limit));
        }
        match self.interrupt.get() {
            Stop::None => {}
            Stop::Interrupt => return Err(Fault::new(ErrorKind::Interrupted, "interrupted")),
            Stop::Timeout => return Err(timeout(self.timeout_ms)),
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(timeout(self.timeout_ms));
        }
        self.next_poll = self
            .used
            .saturating_add(POLL_EVERY)
            .min(self.allowance.saturating_add(1));
        Ok(())
    }
}

/// The step-limit fault, naming the limit.
#[cold]
pub fn step_limit(limit: u64) -> Box<Fault> {
    Fault::new(
        ErrorKind::StepLimit,
        format!("evaluation used more than the step limit of {limit} steps"),
    )
}

/// The timeout fault, naming the limit.
#[cold]
pub fn timeout(ms: Option<u64>) -> Box<Fault> {
    Fault::new(
        ErrorKind::Timeout,
        format!(
            "evaluation ran longer than the time limit of {} ms",
            ms.unwrap_or(0)
        ),
    )
}
