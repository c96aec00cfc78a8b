//! Grants: the capabilities a session holds, their scopes and amounts, and how
//! each was granted. Parses the `--grant CAP[=SCOPE]` syntax.

use crate::ground::ffi::{CapSet, Capability};
use crate::host::HostState;
use std::fmt;
use std::time::SystemTime;

/// How a grant was made (shown by `:caps`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantSource {
    /// `--grant` on the command line.
    CommandLine,
    /// `:grant` in the REPL.
    Command,
    /// Answered `y` at the pre-flight prompt.
    Prompt,
    /// Answered `once` at the pre-flight prompt.
    PromptOnce,
    /// `jue.toml`.
    Config,
    /// The embedding API.
    Host,
}

impl GrantSource {
    /// As shown by `:caps`.
    pub fn label(self) -> &'static str {
        match self {
            GrantSource::CommandLine => "--grant",
            GrantSource::Command => ":grant",
            GrantSource::Prompt => "prompt",
            GrantSource::PromptOnce => "prompt once",
            GrantSource::Config => "jue.toml",
            GrantSource::Host => "host",
        }
    }
}

/// One grant as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantRecord {
    /// The capability.
    pub capability: Capability,
    /// Its scope or amount as resolved (a realpath, `host:port`, bytes, ms).
    pub scope: Option<String>,
    /// How it was granted.
    pub source: GrantSource,
    /// When.
    pub time: SystemTime,
}

/// A grant that could not be made.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantError {
    /// Message (starts with E0202 for an unknown capability).
    pub message: String,
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GrantError {}

fn err(message: impl Into<String>) -> GrantError {
    GrantError {
        message: message.into(),
    }
}

/// Parses a capability name, with E0202 and "did you mean" when it is not one.
pub fn parse_capability(name: &str) -> Result<Capability, GrantError> {
    Capability::from_name(name).ok_or_else(|| {
        let hint = crate::ground::suggest::closest(name, Capability::ALL.iter().map(|c| c.name()))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        err(format!("E0202: unknown capability `{name}`{hint}"))
    })
}

/// Splits `CAP` or `CAP=SCOPE`.
pub fn parse_grant(spec: &str) -> Result<(Capability, Option<String>), GrantError> {
    let (name, scope) = match spec.split_once('=') {
        Some((n, s)) => (n, Some(s.to_string())),
        None => (spec, None),
    };
    Ok((parse_capability(name.trim())?, scope))
}

/// The grants of a session.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    /// Extra heap bytes from ResourceExtraMemory.
    pub extra_memory: u64,
    /// Extra milliseconds from ResourceExtraTime.
    pub extra_time_ms: u64,
    records: Vec<GrantRecord>,
}

impl Grants {
    /// Grants `cap` with an optional scope, updating the VM's set and scopes.
    pub fn grant(
        &mut self,
        set: &mut CapSet,
        host: &mut HostState,
        cap: Capability,
        scope: Option<&str>,
        source: GrantSource,
    ) -> Result<(), GrantError> {
        let scope = scope.map(str::trim);
        if scope == Some("") {
            // `IoPersist=` must not quietly widen to "unscoped".
            return Err(err(format!(
                "{cap}= has an empty scope; write {cap} alone for an unscoped grant"
            )));
        }
        let resolved = match cap {
            Capability::IoPersist => {
                let dir = host.persist.grant(scope).map_err(|e| err(e.message))?;
                Some(dir.display().to_string())
            }
            Capability::IoNetwork => {
                host.net.grant(scope).map_err(|e| err(e.message))?;
                Some(scope.unwrap_or("any host").to_string())
            }
            Capability::ResourceExtraMemory | Capability::ResourceExtraTime => {
                let unit = if cap == Capability::ResourceExtraMemory {
                    "bytes"
                } else {
                    "milliseconds"
                };
                let amount: u64 = scope
                    .ok_or_else(|| err(format!("{cap} needs an amount in {unit}: {cap}=N")))?
                    .parse()
                    .map_err(|_| err(format!("{cap} needs a whole number of {unit}")))?;
                if cap == Capability::ResourceExtraMemory {
                    self.extra_memory = self.extra_memory.saturating_add(amount);
                } else {
                    self.extra_time_ms = self.extra_time_ms.saturating_add(amount);
                }
                Some(format!("{amount} {unit}"))
            }
            _ => {
                if let Some(s) = scope {
                    return Err(err(format!(
                        "{cap} takes no scope (got `{s}`); only IoPersist and IoNetwork are scoped"
                    )));
                }
                None
            }
        };
        set.insert(cap);
        self.records.push(GrantRecord {
            capability: cap,
            scope: resolved,
            source,
            time: SystemTime::now(),
        });
        Ok(())
    }

    /// Revokes every grant of `cap`.
    pub fn revoke(&mut self, set: &mut CapSet, host: &mut HostState, cap: Capability) {
        set.remove(cap);
        match cap {
            Capability::IoPersist => host.persist.clear(),
            Capability::IoNetwork => host.net.clear(),
            Capability::ResourceExtraMemory => self.extra_memory = 0,
            Capability::ResourceExtraTime => self.extra_time_ms = 0,
            _ => {}
        }
        self.records.retain(|r| r.capability != cap);
    }

    /// The grants in the order made.
    pub fn records(&self) -> &[GrantRecord] {
        &self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grants() {
        assert_eq!(
            parse_grant("IoNetwork=127.0.0.1:8080").unwrap(),
            (Capability::IoNetwork, Some("127.0.0.1:8080".into()))
        );
        assert_eq!(
            parse_grant("SysClock").unwrap(),
            (Capability::SysClock, None)
        );
        let e = parse_grant("io-network").unwrap_err();
        assert!(
            e.message.contains("E0202") && e.message.contains("IoNetwork"),
            "{e}"
        );
    }

    #[test]
    fn scopes_and_amounts() {
        let (mut set, mut host, mut g) = (CapSet::EMPTY, HostState::default(), Grants::default());
        assert!(
            g.grant(
                &mut set,
                &mut host,
                Capability::SysClock,
                Some("x"),
                GrantSource::Host
            )
            .is_err()
        );
        assert!(
            g.grant(
                &mut set,
                &mut host,
                Capability::ResourceExtraTime,
                None,
                GrantSource::Host
            )
            .is_err()
        );
        g.grant(
            &mut set,
            &mut host,
            Capability::ResourceExtraTime,
            Some("500"),
            GrantSource::Host,
        )
        .unwrap();
        g.grant(
            &mut set,
            &mut host,
            Capability::ResourceExtraTime,
            Some("250"),
            GrantSource::Host,
        )
        .unwrap();
        assert_eq!(g.extra_time_ms, 750);
        assert!(
            g.grant(
                &mut set,
                &mut host,
                Capability::IoPersist,
                Some("/definitely/not/here"),
                GrantSource::Host
            )
            .is_err()
        );
        assert!(!set.contains(Capability::IoPersist));
        g.revoke(&mut set, &mut host, Capability::ResourceExtraTime);
        assert_eq!(g.extra_time_ms, 0);
        assert!(!set.contains(Capability::ResourceExtraTime));
    }
}
