//! jue-engine: reads, checks, compiles and runs Jue.
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
pub mod compile;
pub mod ground;
pub mod host;
pub mod session;
pub mod syntax;
pub mod vm;

// The shared vocabulary under the paths hosts and tools have always used.
pub use analysis::docs;
pub use ground::{builtins, diagnostic, ffi, intern, suggest};
pub use session::{config, report};

pub use ground::diagnostic::{Code, Diagnostic, Severity};
pub use ground::ffi::{Function, HostCx, HostData, Rooted,
    
    CapSet, Capability, FfiCallGenerator, FfiFunction, FfiOp, FfiRegistry, HostError,
    HostErrorKind, HostFunction, HostImpl, RegistryError, Signature, SourceLocation, TrustTier,
    Type, Value,
};
pub use ground::span::{SourceFile, Span};
pub use session::grants::{GrantError, GrantSource};
pub use session::{CodeStats, EvalError, Prepared, Session};
pub use vm::error::{ErrorKind, RuntimeError};
pub use vm::limits::Limits;
