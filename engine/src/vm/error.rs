//! Run-time errors: a kind, a message, where it happened and the call stack.

use crate::ground::ffi::{HostError, HostErrorKind};
use crate::ground::span::Span;
use std::fmt;

/// The kinds of run-time error (language §11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Wrong type of value.
    Type,
    /// Wrong number of arguments.
    Arity,
    /// A global read before its definition ran.
    Unbound,
    /// Index out of range.
    Range,
    /// A capability the session does not hold.
    CapabilityDenied,
    /// Integer division or remainder by zero.
    DivisionByZero,
    /// Integer overflow.
    Overflow,
    /// Step limit reached.
    StepLimit,
    /// Heap limit reached.
    MemoryLimit,
    /// Wall-time limit reached.
    Timeout,
    /// Call-depth limit reached.
    DepthLimit,
    /// Interrupted (Ctrl-C).
    Interrupted,
    /// A host function failed.
    Host,
    /// Raised by `error`.
    User,
    /// `vector-set!` on a literal vector (language §12.1).
    Immutable,
    /// A dict key that is not there (§12.2).
    Key,
    /// A bad `format` template or argument count (§12.3).
    Format,
    /// A text that is not JSON, or a JSON number out of range (§12.5).
    Json,
    /// A `set!` of a global that the tier rule forbids (§7).
    Tier,
    /// A fixed limit of the language was reached: a full mailbox, the live-actor
    /// limit (§9); catchable, unlike the resource limits.
    Limit,
    /// An awaited actor failed (§9).
    ActorFailed,
    /// Actor 0 waits for something nothing can bring (§9).
    Deadlock,
    /// The actor was ended by `kill` (§9); it cannot catch this.
    Killed,
}

impl ErrorKind {
    /// All kinds.
    pub const ALL: [ErrorKind; 23] = [
        ErrorKind::Type,
        ErrorKind::Arity,
        ErrorKind::Unbound,
        ErrorKind::Range,
        ErrorKind::CapabilityDenied,
        ErrorKind::DivisionByZero,
        ErrorKind::Overflow,
        ErrorKind::StepLimit,
        ErrorKind::MemoryLimit,
        ErrorKind::Timeout,
        ErrorKind::DepthLimit,
        ErrorKind::Interrupted,
        ErrorKind::Host,
        ErrorKind::User,
        ErrorKind::Immutable,
        ErrorKind::Key,
        ErrorKind::Format,
        ErrorKind::Json,
        ErrorKind::Tier,
        ErrorKind::Limit,
        ErrorKind::ActorFailed,
        ErrorKind::Deadlock,
        ErrorKind::Killed,
    ];
    /// The kind's name as `error-kind` returns it (`division-by-zero`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Type => "type",
            ErrorKind::Arity => "arity",
            ErrorKind::Unbound => "unbound",
            ErrorKind::Range => "range",
            ErrorKind::CapabilityDenied => "capability-denied",
            ErrorKind::DivisionByZero => "division-by-zero",
            ErrorKind::Overflow => "overflow",
            ErrorKind::StepLimit => "step-limit",
            ErrorKind::MemoryLimit => "memory-limit",
            ErrorKind::Timeout => "timeout",
            ErrorKind::DepthLimit => "depth-limit",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Host => "host",
            ErrorKind::User => "user",
            ErrorKind::Immutable => "immutable",
            ErrorKind::Key => "key",
            ErrorKind::Format => "format",
            ErrorKind::Json => "json",
            ErrorKind::Tier => "tier",
            ErrorKind::Limit => "limit",
            ErrorKind::ActorFailed => "actor-failed",
            ErrorKind::Deadlock => "deadlock",
            ErrorKind::Killed => "killed",
        }
    }
    /// Parses a kind name.
    pub fn from_name(s: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.name() == s)
    }
    /// The Jue error kind's name and the message of an error that a call made
    /// inside a host callback returned (the VM words those `kind: message`);
    /// another host error's own kind and message.
    pub fn of_nested(e: &HostError) -> (&str, &str) {
        match e.message.split_once(": ") {
            Some((k, m)) if ErrorKind::from_name(k).is_some() => (k, m),
            _ => (e.kind.as_str(), &e.message),
        }
    }
    /// Resource-limit and interrupt errors cannot be caught by `try`.
    pub fn is_catchable(self) -> bool {
        !matches!(
            self,
            ErrorKind::StepLimit
                | ErrorKind::MemoryLimit
                | ErrorKind::Timeout
                | ErrorKind::DepthLimit
                | ErrorKind::Interrupted
                | ErrorKind::Killed
        )
    }

    /// Kinds that end the whole evaluation, every actor with it (language §9):
    /// the resource limits counted for all actors together, and interrupts.
    pub fn stops_all(self) -> bool {
        matches!(
            self,
            ErrorKind::StepLimit
                | ErrorKind::MemoryLimit
                | ErrorKind::Timeout
                | ErrorKind::Interrupted
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault raised inside the VM or a built-in, before location is attached.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// What kind.
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
}

impl Fault {
    /// A fault of a kind with a message.
    #[cold]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Box<Fault> {
        Box::new(Fault {
            kind,
            message: message.into(),
        })
    }

    /// A host function's error as a fault of the matching kind.
    #[cold]
    pub fn from_host(e: HostError) -> Box<Fault> {
        let kind = match e.kind {
            HostErrorKind::CapabilityDenied => ErrorKind::CapabilityDenied,
            HostErrorKind::Type => ErrorKind::Type,
            HostErrorKind::Host => ErrorKind::Host,
            HostErrorKind::Timeout => ErrorKind::Timeout,
            HostErrorKind::Interrupted => ErrorKind::Interrupted,
        };
        Fault::new(kind, e.message)
    }
}

/// Shorthand for results of built-ins and host calls.
pub type FaultResult<T> = Result<T, Box<Fault>>;

/// One entry of a call stack: the function and the span of the call or operation.
#[derive(Clone, Debug, PartialEq)]
pub struct StackFrame {
    /// Function name (`lambda` for anonymous ones, `<top>` for a top-level form).
    pub function: String,
    /// Which source text (index into the session's sources).
    pub source: u32,
    /// The span within it.
    pub span: Span,
}

/// A run-time error with its location and call stack (innermost first).
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeError {
    /// What kind.
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
    /// Innermost first; the first entry is where it happened.
    pub stack: Vec<StackFrame>,
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for RuntimeError {}
