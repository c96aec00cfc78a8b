//! Steps charged by built-ins that walk data (language §10): one per element,
//! pair, entry or JSON value visited. A built-in stops at the step limit, and
//! sees a timeout or Ctrl-C, within `POLL` such steps.

use super::error::{ErrorKind, Fault, FaultResult};
use super::limits::{Interrupt, Stop};

/// Steps between two looks at the interrupt flag.
const POLL: u64 = 4096;

/// What a native has charged, and how far it may go.
#[derive(Debug)]
pub struct Meter<'a> {
    /// Steps charged so far by this call.
    pub used: u64,
    /// Steps left before the evaluation's step limit, when the call started.
    pub room: u64,
    /// The evaluation's interrupt flag (Ctrl-C, the timeout alarm).
    pub interrupt: &'a Interrupt,
    /// The time limit, for the message.
    pub timeout_ms: Option<u64>,
    next_poll: u64,
}

impl<'a> Meter<'a> {
    /// A meter with `room` steps left.
    pub fn new(room: u64, interrupt: &'a Interrupt, timeout_ms: Option<u64>) -> Meter<'a> {
        Meter {
            used: 0,
            room,
            interrupt,
            timeout_ms,
            next_poll: POLL,
        }
    }

    /// Charges `n` steps: a `step-limit` fault past the limit, and a `timeout` or
    /// `interrupted` fault when the flag is raised.
    #[inline]
    pub fn charge(&mut self, n: u64) -> FaultResult<()> {
        self.used += n;
        if self.used < self.next_poll {
            return Ok(());
        }
        self.slow_check()
    }

    #[cold]
    fn slow_check(&mut self) -> FaultResult<()> {
        self.next_poll = self.used + POLL;
        if self.used > self.room {
            return Err(Fault::new(
                ErrorKind::StepLimit,
                "evaluation used more than its step limit (in a built-in walking data)",
            ));
        }
        match self.interrupt.get() {
            Stop::Interrupt => Err(Fault::new(ErrorKind::Interrupted, "interrupted")),
            Stop::Timeout => Err(Fault::new(
                ErrorKind::Timeout,
                format!(
                    "evaluation ran longer than the time limit of {} ms",
                    self.timeout_ms.unwrap_or(0)
                ),
            )),
            Stop::None => Ok(()),
        }
    }
}
