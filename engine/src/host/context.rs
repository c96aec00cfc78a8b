//! The host floor's part of [`HostCx`]: the scopes of the grants a host function
//! runs under, and file access held beneath them (cap-std directory handles, as
//! the standard `fs:*` functions do). A function sees the IoPersist scopes only
//! when it was registered with the IoPersist capability, so holding the grant is
//! what opens them, and a host's own `fs:safe-read` stays inside the directory.

use super::HostState;
use super::scope::{NetScopes, PersistScopes};
use crate::ground::ffi::{Capability, HostCx, HostError};

impl HostCx<'_> {
    fn state(&mut self) -> Option<&mut HostState> {
        self.host_state_any().downcast_mut::<HostState>()
    }

    /// The IoPersist scopes granted, when this function requires IoPersist.
    pub fn persist_scopes(&mut self) -> Option<&PersistScopes> {
        if self.capability() != Some(Capability::IoPersist) {
            return None;
        }
        self.state().map(|s| &s.persist)
    }

    /// The IoNetwork scopes granted, when this function requires IoNetwork.
    pub fn net_scopes(&mut self) -> Option<&NetScopes> {
        if self.capability() != Some(Capability::IoNetwork) {
            return None;
        }
        self.state().map(|s| &s.net)
    }

    /// The scope of this function's capability as text (`jue caps` style), if it
    /// has one.
    pub fn scope(&mut self) -> Option<String> {
        match self.capability() {
            Some(Capability::IoPersist) => self.persist_scopes().map(|s| s.describe()),
            Some(Capability::IoNetwork) => self.net_scopes().map(|s| s.describe()),
            _ => None,
        }
    }

    fn persist_or_denied(&mut self) -> Result<&PersistScopes, HostError> {
        let name = self.function_name().to_string();
        self.persist_scopes().ok_or_else(|| {
            HostError::capability_denied(format!(
                "`{name}` was not registered with IoPersist, so it has no file scope"
            ))
        })
    }

    /// Reads a UTF-8 file beneath the granted IoPersist scopes (a path outside is
    /// `capability-denied`, as for `fs:read`).
    pub fn read_file(&mut self, path: &str) -> Result<String, HostError> {
        let scopes = self.persist_or_denied()?;
        super::fs::read_file(scopes, path)
    }

    /// Like [`HostCx::read_file`] but `None` for a missing or unreadable file
    /// inside the scopes (as `fs:safe-read`); outside is still denied.
    pub fn safe_read(&mut self, path: &str) -> Result<Option<String>, HostError> {
        let scopes = self.persist_or_denied()?;
        super::fs::safe_read(scopes, path)
    }

    /// Writes a file beneath the granted IoPersist scopes; returns the bytes written.
    pub fn write_file(&mut self, path: &str, content: &str) -> Result<i64, HostError> {
        let scopes = self.persist_or_denied()?;
        super::fs::write_file(scopes, path, content)
    }
}
