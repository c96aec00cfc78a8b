//! Host backends of the FFI: files, HTTP, SQLite, sensors and the clock, with their scopes.
//!
//! Plain Rust types only; the engine converts Jue values to and from them and checks
//! that the capability itself is granted before calling in here.

pub mod clock;
pub mod db;
pub mod error;
pub mod fs;
pub mod net;
pub mod scope;
pub mod sensors;

pub use db::SqlValue;
pub use error::{HostError, HostErrorKind};
pub use scope::{NetScopes, PersistScopes};
pub use sensors::SensorBank;
pub mod library;

/// What host functions may use of the session: scopes, sensors, the deadline.
#[derive(Clone, Default)]
pub struct HostState {
    /// Directories granted with IoPersist.
    pub persist: PersistScopes,
    /// Hosts granted with IoNetwork.
    pub net: NetScopes,
    /// The sensor and actuator bank.
    pub sensors: SensorBank,
    /// When the running evaluation must stop, if it has a time limit.
    pub deadline: Option<std::time::Instant>,
    /// The evaluation's stop flag, shared with the VM's `Interrupt`: non-zero means stop
    /// (2 = the deadline passed, any other value = interrupted). Long host work (SQLite)
    /// polls it.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicU8>>,
}
