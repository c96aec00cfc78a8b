//! The 14 capabilities (language §8) and sets of them.

use std::fmt;

/// A capability a host function may require. Spelled exactly as upstream.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Capability {
    /// Modify the running program.
    MetaSelfModify,
    /// Grant capabilities to others.
    MetaGrant,
    /// Hygienic macros.
    MacroHygienic,
    /// Unhygienic macros.
    MacroUnsafe,
    /// Compile-time evaluation.
    ComptimeEval,
    /// Read sensors.
    IoReadSensor,
    /// Write actuators.
    IoWriteActuator,
    /// Network access (scoped by host or host:port).
    IoNetwork,
    /// Files and databases (scoped by directory).
    IoPersist,
    /// Create actors.
    SysCreateActor,
    /// Terminate actors.
    SysTerminateActor,
    /// Read the clock.
    SysClock,
    /// Raise the memory limit by an amount.
    ResourceExtraMemory,
    /// Raise the time limit by an amount.
    ResourceExtraTime,
}

impl Capability {
    /// All capabilities in the order of the language reference.
    pub const ALL: [Capability; 14] = [
        Capability::MetaSelfModify,
        Capability::MetaGrant,
        Capability::MacroHygienic,
        Capability::MacroUnsafe,
        Capability::ComptimeEval,
        Capability::IoReadSensor,
        Capability::IoWriteActuator,
        Capability::IoNetwork,
        Capability::IoPersist,
        Capability::SysCreateActor,
        Capability::SysTerminateActor,
        Capability::SysClock,
        Capability::ResourceExtraMemory,
        Capability::ResourceExtraTime,
    ];

    /// The name as written in source (`IoNetwork`).
    pub fn name(self) -> &'static str {
        match self {
            Capability::MetaSelfModify => "MetaSelfModify",
            Capability::MetaGrant => "MetaGrant",
            Capability::MacroHygienic => "MacroHygienic",
            Capability::MacroUnsafe => "MacroUnsafe",
            Capability::ComptimeEval => "ComptimeEval",
            Capability::IoReadSensor => "IoReadSensor",
            Capability::IoWriteActuator => "IoWriteActuator",
            Capability::IoNetwork => "IoNetwork",
            Capability::IoPersist => "IoPersist",
            Capability::SysCreateActor => "SysCreateActor",
            Capability::SysTerminateActor => "SysTerminateActor",
            Capability::SysClock => "SysClock",
            Capability::ResourceExtraMemory => "ResourceExtraMemory",
            Capability::ResourceExtraTime => "ResourceExtraTime",
        }
    }
    /// Parses an exact name.
    pub fn from_name(s: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == s)
    }
    /// The capability index, 0..14, as used in bit sets.
    pub fn index(self) -> u8 {
        self as u8
    }
    /// What the capability guards, one line (for hover and `:doc`).
    pub fn description(self) -> &'static str {
        match self {
            Capability::MetaSelfModify => "lets code modify the running program",
            Capability::MetaGrant => "lets code grant capabilities to others",
            Capability::MacroHygienic => "hygienic macro expansion",
            Capability::MacroUnsafe => "unhygienic macro expansion",
            Capability::ComptimeEval => "evaluation at compile time",
            Capability::IoReadSensor => "reading sensors (read-sensor, io:sensor:read)",
            Capability::IoWriteActuator => "writing actuators (write-actuator, io:actuator:write)",
            Capability::IoNetwork => "network requests (net:http-get); scoped by host or host:port",
            Capability::IoPersist => "files and databases (fs:*, db:query); scoped by directory",
            Capability::SysCreateActor => "creating actors (spawn)",
            Capability::SysTerminateActor => "terminating actors (kill)",
            Capability::SysClock => "reading the wall clock (get-wall-clock)",
            Capability::ResourceExtraMemory => "raises the heap memory limit by an amount of bytes",
            Capability::ResourceExtraTime => {
                "raises the wall-time limit by an amount of milliseconds"
            }
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of capabilities as a bit mask: the VM tests a grant with one AND.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CapSet(pub u16);

impl CapSet {
    /// The empty set.
    pub const EMPTY: CapSet = CapSet(0);
    /// Whether `c` is in the set.
    #[inline]
    pub fn contains(self, c: Capability) -> bool {
        self.0 & (1 << c.index()) != 0
    }
    /// Adds `c`.
    pub fn insert(&mut self, c: Capability) {
        self.0 |= 1 << c.index();
    }
    /// Removes `c`.
    pub fn remove(&mut self, c: Capability) {
        self.0 &= !(1 << c.index());
    }
    /// The union.
    pub fn union(self, other: CapSet) -> CapSet {
        CapSet(self.0 | other.0)
    }
    /// Whether empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Members in the order of the language reference.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }
}

impl FromIterator<Capability> for CapSet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut s = CapSet::EMPTY;
        for c in iter {
            s.insert(c);
        }
        s
    }
}

impl fmt::Display for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Capability::name).collect();
        f.write_str(&names.join(", "))
    }
}
