//! jue-engine: reads, checks, compiles and runs Jue, a small Lisp with a typed,
//! capability-checked FFI, for embedding in Rust programs.
//!
//! # Getting started
//!
//! A [`Session`] holds the definitions, the host functions, the capabilities
//! granted and the limits. Evaluate text, call Jue functions with owned
//! [`Value`]s, register Rust closures as host functions:
//!
//! ```
//! use jue_engine::{Session, Value};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut session = Session::new();
//! // A typed host function: the registry entry (Number, Number) → Float comes
//! // from the Rust types; an Int argument widens to a float.
//! session.register_fn("app:hypot", |a: f64, b: f64| a.hypot(b))?;
//! session.eval_str("setup", "(define (norm x y) (app:hypot x y))")?;
//! assert_eq!(session.call("norm", &[Value::Int(3), Value::Int(4)])?, Value::Float(5.0));
//!
//! // Procedures reach the host as callable, rooted handles.
//! let Value::Function(add) = session.eval_str("f", "(lambda (a b) (+ a b))")? else {
//!     unreachable!("a lambda evaluates to a procedure")
//! };
//! session.collect_garbage(); // the handle keeps the closure alive
//! assert_eq!(add.call(&mut session, &[Value::Int(1), Value::Int(2)])?, Value::Int(3));
//!
//! // Errors are values with a kind (and a miette `Diagnostic`), never panics.
//! let err = session.eval_str("bad", "(car 1)").unwrap_err();
//! println!("{err}");
//! # Ok(())
//! # }
//! ```
//!
//! What a host needs: [`Session`] (evaluate, call, grant, limits, handles,
//! registration, host data), [`Value`] (owned values; procedures as
//! [`Function`]s), [`Rooted`] (any value kept in the heap), [`FfiFunction`] and
//! [`HostCx`] (host functions with a context: the grant's scope, the deadline,
//! callbacks into Jue, per-session data), [`EvalError`], [`Limits`],
//! [`Capability`] and [`TrustTier`]. The examples under `engine/examples/` show
//! each (`cargo run -p jue-engine --example embed_handles`, …).
//!
//! # Inside
//!
//! The engine is built in floors; each imports only the floors below it
//! (`docs/architecture.md` has the map):
//!
//! ```text
//!  6 session   wires it together: registry + grants + limits + globals
//!  5 host      files, network, SQLite, sensors, clock (fs beneath a directory)
//!  4 vm        values, heap, natives, printer, limits, dispatch loop
//!  3 compile   analysed tree → bytecode
//!  2 analysis  names, types, arity, tiers, capabilities, the incremental document
//!  1 syntax    lexer, parser, tree with spans
//!  0 ground    spans, names, capabilities, tiers, types, diagnostics,
//!              declarations of built-ins and FFI functions, the bytecode
//! ```
//!
//! [`Session`] is the public face that ties them together.

pub mod analysis;
#[doc(hidden)]
pub mod compile;
pub mod ground;
pub mod host;
pub mod session;
pub mod syntax;
#[doc(hidden)]
pub mod vm;

// The shared vocabulary under the paths hosts and tools have always used.
pub use analysis::docs;
pub use ground::{builtins, diagnostic, ffi, intern, suggest};
pub use session::{config, report};

pub use ground::diagnostic::{Code, Diagnostic, Severity};
pub use ground::ffi::{
    CallbackScope, CapSet, Capability, FfiCallGenerator, FfiFunction, FfiOp, FfiRegistry, Function,
    HostCx, HostData, HostError, HostErrorKind, HostFunction, HostImpl, RegistryError, Rooted,
    SharedData, Signature, SourceLocation, TrustTier, Type, Value,
};
pub use ground::span::{SourceFile, Span};
pub use session::grants::{GrantError, GrantSource};
pub use session::register::{FromJue, IntoJue, TypedCxFn, TypedFn};
pub use session::{CodeStats, EvalError, Prepared, Reload, Session};
pub use vm::error::{ErrorKind, RuntimeError};
pub use vm::limits::{Interrupt, Limits};
pub use vm::output::Output;
