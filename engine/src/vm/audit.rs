//! The audit log: every capability check, allowed or denied, counted per
//! (function, capability, result) with first and last time, plus the last 10,000
//! checks in full.

use crate::ground::ffi::Capability;
use std::collections::{HashMap, VecDeque};
use std::time::SystemTime;

/// How many checks are kept in full.
pub const RECENT: usize = 10_000;

/// One check.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    /// The function (or `require-capability`).
    pub function: String,
    /// The capability checked.
    pub capability: Capability,
    /// Whether it was allowed.
    pub allowed: bool,
    /// When.
    pub time: SystemTime,
    /// Why it was denied, when it was.
    pub detail: Option<String>,
}

/// Counts for one (function, capability, result).
#[derive(Clone, Debug, PartialEq)]
pub struct AuditCount {
    /// How many checks.
    pub count: u64,
    /// The first.
    pub first: SystemTime,
    /// The last.
    pub last: SystemTime,
}

/// The log.
#[derive(Clone, Debug, Default)]
pub struct Audit {
    counts: HashMap<(String, Capability, bool), AuditCount>,
    recent: VecDeque<AuditRecord>,
}

impl Audit {
    /// Records a check.
    pub fn record(
        &mut self,
        function: &str,
        capability: Capability,
        allowed: bool,
        detail: Option<String>,
    ) {
        let time = SystemTime::now();
        self.counts
            .entry((function.to_string(), capability, allowed))
            .and_modify(|c| {
                c.count += 1;
                c.last = time;
            })
            .or_insert(AuditCount {
                count: 1,
                first: time,
                last: time,
            });
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(AuditRecord {
            function: function.to_string(),
            capability,
            allowed,
            time,
            detail,
        });
    }

    /// Counts, sorted by function, capability, then allowed before denied.
    pub fn counts(&self) -> Vec<(&str, Capability, bool, &AuditCount)> {
        let mut v: Vec<_> = self
            .counts
            .iter()
            .map(|((f, c, a), n)| (f.as_str(), *c, *a, n))
            .collect();
        v.sort_by(|a, b| (a.0, a.1, !a.2).cmp(&(b.0, b.1, !b.2)));
        v
    }

    /// The last checks, oldest first.
    pub fn recent(&self) -> impl DoubleEndedIterator<Item = &AuditRecord> + ExactSizeIterator {
        self.recent.iter()
    }

    /// Number of checks counted.
    pub fn total(&self) -> u64 {
        self.counts.values().map(|c| c.count).sum()
    }
}
