//! Host function ids: upstream's 0–25, the rest of the standard library 26–99, and
//! functions a host registers from 100 up.

use std::fmt;

/// Which host function an FFI entry calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum HostFunction {
    /// 0: read the default sensor.
    #[default]
    ReadSensor,
    /// 1: write the default actuator.
    WriteActuator,
    /// 2: nanoseconds since the Unix epoch.
    GetWallClockNs,
    /// 3: reserved for actors.
    SpawnActor,
    /// 4: reserved for actors.
    TerminateActor,
    /// 5: reserved.
    NetworkSend,
    /// 6: reserved.
    NetworkReceive,
    /// 7: write a file.
    PersistWrite,
    /// 8: read a file.
    PersistRead,
    /// 9
    IntAdd,
    /// 10
    IntSub,
    /// 11
    IntMul,
    /// 12
    IntDiv,
    /// 13
    IntMod,
    /// 14
    FloatAdd,
    /// 15
    FloatSub,
    /// 16
    FloatMul,
    /// 17
    FloatDiv,
    /// 18
    IntToFloat,
    /// 19
    FloatToInt,
    /// 20
    IntEq,
    /// 21
    IntLt,
    /// 22
    IntGt,
    /// 23
    FloatEq,
    /// 24
    FloatLt,
    /// 25
    FloatGt,
    /// 26: HTTP GET.
    HttpGet,
    /// 27: read a named sensor.
    SensorRead,
    /// 28: write a named actuator.
    ActuatorWrite,
    /// 29: read a file or nil.
    FsSafeRead,
    /// 30: list a directory.
    FsListDir,
    /// 31: SQLite query.
    DbQuery,
    /// 100 and up: registered by a host.
    Custom(u16),
}

const STANDARD: [HostFunction; 32] = [
    HostFunction::ReadSensor,
    HostFunction::WriteActuator,
    HostFunction::GetWallClockNs,
    HostFunction::SpawnActor,
    HostFunction::TerminateActor,
    HostFunction::NetworkSend,
    HostFunction::NetworkReceive,
    HostFunction::PersistWrite,
    HostFunction::PersistRead,
    HostFunction::IntAdd,
    HostFunction::IntSub,
    HostFunction::IntMul,
    HostFunction::IntDiv,
    HostFunction::IntMod,
    HostFunction::FloatAdd,
    HostFunction::FloatSub,
    HostFunction::FloatMul,
    HostFunction::FloatDiv,
    HostFunction::IntToFloat,
    HostFunction::FloatToInt,
    HostFunction::IntEq,
    HostFunction::IntLt,
    HostFunction::IntGt,
    HostFunction::FloatEq,
    HostFunction::FloatLt,
    HostFunction::FloatGt,
    HostFunction::HttpGet,
    HostFunction::SensorRead,
    HostFunction::ActuatorWrite,
    HostFunction::FsSafeRead,
    HostFunction::FsListDir,
    HostFunction::DbQuery,
];

impl HostFunction {
    /// Whether the standard function may wait on the outside world (language
    /// §6): files, HTTP, SQLite, sensors and actuators.
    pub fn is_blocking(self) -> bool {
        matches!(
            self,
            HostFunction::ReadSensor
                | HostFunction::WriteActuator
                | HostFunction::PersistWrite
                | HostFunction::PersistRead
                | HostFunction::HttpGet
                | HostFunction::SensorRead
                | HostFunction::ActuatorWrite
                | HostFunction::DbQuery
                | HostFunction::FsSafeRead
                | HostFunction::FsListDir
        )
    }

    /// The numeric id.
    pub fn id(self) -> u16 {
        match self {
            HostFunction::Custom(n) => n,
            other => STANDARD.iter().position(|h| *h == other).unwrap_or(0) as u16,
        }
    }
    /// The host function with an id; 100 and up are custom, unknown standard ids none.
    pub fn from_id(id: u16) -> Option<HostFunction> {
        if id >= 100 {
            return Some(HostFunction::Custom(id));
        }
        STANDARD.get(id as usize).copied()
    }
}

impl fmt::Display for HostFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostFunction::Custom(n) => write!(f, "Custom({n})"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ids() {
        assert_eq!(HostFunction::ReadSensor.id(), 0);
        assert_eq!(HostFunction::WriteActuator.id(), 1);
        assert_eq!(HostFunction::GetWallClockNs.id(), 2);
        assert_eq!(HostFunction::FloatGt.id(), 25);
        assert_eq!(HostFunction::Custom(100).id(), 100);
        assert_eq!(HostFunction::from_id(9), Some(HostFunction::IntAdd));
        assert_eq!(HostFunction::from_id(99), None);
    }
}
