//! The FFI: capabilities, trust tiers, types, the registry of host functions, and
//! the call generator.

pub mod capability;
pub mod function;
pub mod generator;
pub mod host_function;
pub mod registry;
pub mod standard;
pub mod tier;
pub mod types;
pub mod value;

pub use capability::{CapSet, Capability};
pub use function::{FfiFunction, HostImpl, RegistryError, SourceLocation};
pub use generator::{FfiCallGenerator, FfiOp, GenerateError};
pub use host_function::HostFunction;
pub use registry::FfiRegistry;
pub use tier::TrustTier;
pub use types::{Signature, Type};
pub use value::Value;
