//! Floor 0, the ground: the words every other floor shares, depending on nothing
//! else in the engine. Spans and source files, interned names, capabilities and
//! their sets, trust tiers, type names and signatures, diagnostics and their codes,
//! number literals, the declarations of built-ins and FFI functions (what analysis
//! must know: name, signature, tier, capability, documentation), and the bytecode
//! vocabulary the compiler writes and the VM reads.
//!
//! **Invariant:** nothing here does I/O, runs code or knows the VM's values.

pub mod builtins;
pub mod bytecode;
pub mod capability;
pub mod diagnostic;
pub mod ffi;
pub mod intern;
pub mod number;
pub mod printed;
pub mod span;
pub mod suggest;
pub mod tier;
pub mod types;
