//! Options shared by commands, and how they become engine settings.

use clap::Args;
use jue_engine::{Limits, TrustTier};

/// Resource limits and tier, as `jue run` and `jue repl` take them.
#[derive(Args, Debug, Clone, Default)]
pub struct LimitArgs {
    /// Step limit (VM instructions).
    #[arg(long, value_name = "N")]
    pub steps: Option<u64>,
    /// Heap limit in bytes.
    #[arg(long, value_name = "BYTES")]
    pub memory: Option<u64>,
    /// Wall-time limit in milliseconds.
    #[arg(long, value_name = "MS")]
    pub timeout: Option<u64>,
    /// Call-depth limit.
    #[arg(long, value_name = "N")]
    pub depth: Option<u64>,
    /// Live-actor limit, actor 0 included.
    #[arg(long = "max-actors", value_name = "N")]
    pub max_actors: Option<u64>,
    /// Default tier of code without an annotation.
    #[arg(long, value_name = "TIER", value_parser = parse_tier)]
    pub tier: Option<TrustTier>,
    /// Grant a capability, optionally scoped: `IoPersist=./data`, `IoNetwork=host:port`.
    #[arg(long = "grant", value_name = "CAP[=SCOPE]", value_parser = parse_grant_arg)]
    pub grants: Vec<String>,
}

/// Checks the capability name of a `--grant` (E0202 with "did you mean").
pub fn parse_grant_arg(s: &str) -> Result<String, String> {
    jue_engine::session::grants::parse_grant(s)
        .map(|_| s.to_string())
        .map_err(|e| e.message)
}

/// Applies `--grant`s to a session; a scope that cannot be granted is a usage error.
pub fn apply_grants(session: &mut jue_engine::Session, grants: &[String]) -> Result<(), String> {
    for g in grants {
        session
            .grant_spec(g, jue_engine::GrantSource::CommandLine)
            .map_err(|e| format!("error: --grant {g}: {e}"))?;
    }
    Ok(())
}

impl LimitArgs {
    /// The limits these options set over `base`.
    pub fn limits(&self, base: Limits) -> Limits {
        Limits {
            steps: self.steps.unwrap_or(base.steps),
            memory: self.memory.unwrap_or(base.memory),
            timeout_ms: self.timeout.or(base.timeout_ms),
            depth: self.depth.unwrap_or(base.depth),
            actors: self.max_actors.unwrap_or(base.actors),
        }
    }
}

/// Parses a tier name, with E0002 and "did you mean" on a wrong one.
pub fn parse_tier(s: &str) -> Result<TrustTier, String> {
    TrustTier::from_name(s).ok_or_else(|| {
        let hint = jue_engine::suggest::closest(s, TrustTier::ALL.iter().map(|t| t.name()))
            .map(|t| format!("; did you mean `{t}`?"))
            .unwrap_or_default();
        format!("E0002: unknown tier `{s}` (formal, verified, empirical, experimental){hint}")
    })
}

/// Whether to colour output on stderr: only on a terminal, never with NO_COLOR.
pub fn stderr_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Reads a source file; a clear message when it cannot be read or is not UTF-8.
pub fn read_source(path: &str) -> Result<jue_engine::SourceFile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("error: cannot read `{path}`: {e}"))?;
    jue_engine::SourceFile::from_bytes(path, bytes).map_err(|e| format!("error: {e}"))
}
