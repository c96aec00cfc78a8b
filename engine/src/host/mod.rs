//! Floor 5, the host: the backends of the standard FFI functions (files, HTTP,
//! SQLite, sensors and the clock, with their scopes) and `library`, the natives
//! that call them on VM values.
//!
//! **Invariant:** the only floor that touches the outside world. It imports the VM
//! (to read and build values) and the ground floor, never analysis or the compiler.
//! The backends themselves work on plain Rust types. `net` (ureq) and `db`
//! (rusqlite) are cargo features, on by default.

pub mod clock;
mod context;
#[cfg(feature = "db")]
pub mod db;
pub mod fs;
pub mod library;
#[cfg(feature = "net")]
pub mod net;
pub mod scope;
pub mod sensors;
pub mod source;

/// The backends' errors, shared with host closures (`ground::ffi`).
pub mod error {
    pub use crate::ground::ffi::error::{HostError, HostErrorKind};
}

#[cfg(feature = "db")]
pub use db::SqlValue;
pub use error::{HostError, HostErrorKind};
pub use scope::{NetScopes, PersistScopes};
pub use sensors::{SensorBank, UnsetReads};

/// What host functions may use of the session: scopes, sensors, the deadline.
#[derive(Clone, Default)]
pub struct HostState {
    /// Directories granted with IoPersist.
    pub persist: PersistScopes,
    /// Hosts granted with IoNetwork.
    pub net: NetScopes,
    /// The sensor and actuator bank.
    pub sensors: SensorBank,
}
