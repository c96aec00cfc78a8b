//! The FFI: capabilities, trust tiers, and the registry of host functions.

pub mod capability;
pub mod tier;

pub use capability::{CapSet, Capability};
pub use tier::TrustTier;
