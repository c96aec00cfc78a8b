//! FFI declarations: host function entries (the seed's `FfiFunction`), the
//! registry, host function ids, the call generator, the owned values hosts
//! exchange with Jue, and host errors. Implementations are closures the registry
//! holds but never calls; the VM calls them.

pub mod context;
pub mod error;
pub mod function;
pub mod generator;
pub mod handle;
pub mod host_function;
pub mod registry;
pub mod standard;
pub mod value;

pub use super::capability::{CapSet, Capability};
pub use super::tier::TrustTier;
pub use super::types::{Signature, Type};
pub use context::{CallbackScope, HostContext, HostCx, HostData, SharedData};
pub use error::{HostError, HostErrorKind};
pub use function::{FfiFunction, HostImpl, Implementation, RegistryError, SourceLocation};
pub use generator::{FfiCallGenerator, FfiOp, GenerateError};
pub use handle::{Function, Rooted};
pub use host_function::HostFunction;
pub use registry::FfiRegistry;
pub use value::Value;
