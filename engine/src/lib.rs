//! jue-engine: reads, checks, compiles and runs Jue.

pub mod analysis;
pub mod builtins;
pub mod compile;
pub mod diagnostic;
pub mod ffi;
pub mod session;
pub mod suggest;
pub mod syntax;
pub mod vm;

pub use diagnostic::{Code, Diagnostic, Severity};
pub use ffi::{
    CapSet, Capability, FfiCallGenerator, FfiFunction, FfiOp, FfiRegistry, HostFunction, HostImpl,
    RegistryError, Signature, SourceLocation, TrustTier, Type, Value,
};
pub use host::{HostError, HostErrorKind};
pub use session::grants::{GrantError, GrantSource};
pub use session::{EvalError, Prepared, Session};
pub use syntax::span::{SourceFile, Span};
pub use vm::error::{ErrorKind, RuntimeError};
pub use vm::limits::Limits;
pub mod config;
pub mod docs;
pub mod host;
pub mod report;
