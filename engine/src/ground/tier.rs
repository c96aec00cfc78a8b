//! Trust tiers (language §7): how much assurance a piece of code claims.

use std::fmt;

/// A trust tier, from most to least assurance. Keeps the seed's variant order;
/// deliberately not `Ord`: use [`TrustTier::may_call`] to state the call rule.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TrustTier {
    /// Formally proven.
    Formal,
    /// Verified by checks.
    Verified,
    /// Tested; the session default.
    #[default]
    Empirical,
    /// Untested; runs under tighter limits.
    Experimental,
}

impl TrustTier {
    /// All tiers, most trusted first.
    pub const ALL: [TrustTier; 4] = [
        TrustTier::Formal,
        TrustTier::Verified,
        TrustTier::Empirical,
        TrustTier::Experimental,
    ];

    /// 0 for formal up to 3 for experimental.
    pub fn rank(self) -> u8 {
        self as u8
    }
    /// The call rule: code of tier `self` may use functions of tier `callee` only
    /// when the callee claims at least as much.
    pub fn may_call(self, callee: TrustTier) -> bool {
        callee.rank() <= self.rank()
    }
    /// The lowercase name (`formal`).
    pub fn name(self) -> &'static str {
        match self {
            TrustTier::Formal => "formal",
            TrustTier::Verified => "verified",
            TrustTier::Empirical => "empirical",
            TrustTier::Experimental => "experimental",
        }
    }
    /// Parses a lowercase tier name.
    pub fn from_name(s: &str) -> Option<TrustTier> {
        TrustTier::ALL.into_iter().find(|t| t.name() == s)
    }
}

impl fmt::Display for TrustTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_rule() {
        assert!(TrustTier::Empirical.may_call(TrustTier::Formal));
        assert!(!TrustTier::Formal.may_call(TrustTier::Empirical));
        assert!(TrustTier::Experimental.may_call(TrustTier::Experimental));
        assert_eq!(TrustTier::from_name("verified"), Some(TrustTier::Verified));
    }
}
