//! The FFI: capabilities, trust tiers, and the registry of host functions.

pub mod capability;
pub mod registry;
pub mod standard;
pub mod tier;
pub mod types;

pub use capability::{CapSet, Capability};
pub use tier::TrustTier;
pub use types::{Signature, Type};
