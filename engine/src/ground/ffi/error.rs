//! Errors returned by the host backends, independent of Jue values.

use std::fmt;

/// The kind of a host error, mapped by the engine onto Jue error kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostErrorKind {
    /// The path or URL lies outside every granted scope (`capability-denied`).
    CapabilityDenied,
    /// The operation itself failed: I/O, HTTP, SQLite, bad input (`host`).
    Host,
    /// A value of the wrong type reached the host (`type`).
    Type,
    /// The evaluation's deadline passed while the host worked (`timeout`).
    Timeout,
    /// The evaluation was interrupted (Ctrl-C) while the host worked (`interrupted`).
    Interrupted,
}

impl HostErrorKind {
    /// The Jue spelling of this kind, as used in diagnostics.
    pub fn as_str(self) -> &'static str {
        match self {
            HostErrorKind::CapabilityDenied => "capability-denied",
            HostErrorKind::Host => "host",
            HostErrorKind::Type => "type",
            HostErrorKind::Timeout => "timeout",
            HostErrorKind::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for HostErrorKind {
    /// Writes the Jue spelling of the kind.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a host function: a kind and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    /// What went wrong, coarsely.
    pub kind: HostErrorKind,
    /// A message naming the path, URL or scopes involved.
    pub message: String,
}

impl HostError {
    /// Builds an error of the given kind.
    pub fn new(kind: HostErrorKind, message: impl Into<String>) -> Self {
        HostError {
            kind,
            message: message.into(),
        }
    }

    /// Builds a `capability-denied` error.
    pub fn capability_denied(message: impl Into<String>) -> Self {
        Self::new(HostErrorKind::CapabilityDenied, message)
    }

    /// Builds a `host` error.
    pub fn host(message: impl Into<String>) -> Self {
        Self::new(HostErrorKind::Host, message)
    }

    /// Builds a `type` error.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new(HostErrorKind::Type, message)
    }

    /// True when this is a `capability-denied` error.
    pub fn is_capability_denied(&self) -> bool {
        self.kind == HostErrorKind::CapabilityDenied
    }
}

impl fmt::Display for HostError {
    /// Writes `kind: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for HostError {}

impl From<String> for HostError {
    /// A plain message is a `host` error.
    fn from(message: String) -> Self {
        HostError::host(message)
    }
}

impl From<&str> for HostError {
    /// A plain message is a `host` error.
    fn from(message: &str) -> Self {
        HostError::host(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Constructors set the kind; Display shows the Jue kind name.
    #[test]
    fn constructors_set_kind_and_message() {
        let e = HostError::capability_denied("path /x is outside");
        assert_eq!(e.kind, HostErrorKind::CapabilityDenied);
        assert!(e.is_capability_denied());
        assert_eq!(e.to_string(), "capability-denied: path /x is outside");
        assert_eq!(HostError::host("m").kind, HostErrorKind::Host);
        assert_eq!(HostError::type_error("m").kind.as_str(), "type");
    }
}
