//! jue-engine: reads, checks, compiles and runs Jue.

pub mod diagnostic;
pub mod ffi;
pub mod suggest;
pub mod syntax;
