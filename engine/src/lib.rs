//! jue-engine: reads, checks, compiles and runs Jue.
//!
//! Data flows one way: text → [`syntax`] (tokens, tree, spans) → [`analysis`]
//! (names, types, tiers, capabilities, diagnostics) → [`compile`] (bytecode) →
//! [`vm`]. [`session::Session`] is the public face that ties them together with the
//! FFI registry ([`ffi`]) and the host library ([`host`]).

pub mod analysis;
pub mod builtins;
pub mod compile;
pub mod config;
pub mod diagnostic;
pub mod docs;
pub mod ffi;
pub mod host;
pub mod intern;
pub mod report;
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
