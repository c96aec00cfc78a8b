//! The host-side bank of sensors and actuators read and written by Jue programs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The last value written to an actuator and how many writes it received.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Actuator {
    last: f64,
    count: u64,
}

/// The bank's contents, behind the mutex.
#[derive(Debug, Default)]
struct Bank {
    sensors: BTreeMap<String, f64>,
    actuators: BTreeMap<String, Actuator>,
    /// Sensors read since the last [`SensorBank::take_unset_reads`] that were
    /// never set (they read 0.0), at most [`UNSET_NAMES_KEPT`] names.
    unset_reads: BTreeSet<String>,
    /// How many more distinct unset names were read past that bound.
    unset_more: usize,
}

/// How many names of unset sensors read are kept for the note (a program reading
/// a million made-up names must not grow the bank without bound).
pub const UNSET_NAMES_KEPT: usize = 16;

/// Sensors that were read without ever being set: each read 0.0 (language §6).
/// The `jue` binary and the REPL say so after an evaluation, so a misspelt or
/// forgotten sensor is not silently zero.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnsetReads {
    /// Their names, sorted, at most [`UNSET_NAMES_KEPT`].
    pub names: Vec<String>,
    /// How many reads of further unset names there were past that bound.
    pub more: usize,
}

/// Sensors and actuators shared by the engine, the embedding program and the REPL.
///
/// Clones share the same bank; every method is thread-safe.
#[derive(Debug, Clone, Default)]
pub struct SensorBank {
    inner: Arc<Mutex<Bank>>,
}

impl UnsetReads {
    /// The note for a user, or `None` when no unset sensor was read; `how` says
    /// how to set one, with `NAME` standing for the name (`--sensor NAME=VALUE`).
    pub fn note(&self, how: &str) -> Option<String> {
        // A name comes from a program's symbol: escaped, it cannot drive the terminal.
        let names: Vec<String> = self
            .names
            .iter()
            .map(|n| n.escape_debug().to_string())
            .collect();
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        match (quoted.as_slice(), self.more) {
            ([], 0) => None,
            ([one], 0) => Some(format!(
                "note: sensor {one} was never set and read 0.0; set it with `{}`",
                how.replace("NAME", &names[0])
            )),
            (_, more) => {
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                Some(format!(
                    "note: sensors {}{more} were never set and read 0.0; set them with `{how}`",
                    quoted.join(", ")
                ))
            }
        }
    }
}

impl SensorBank {
    /// A new, empty bank.
    pub fn new() -> Self {
        SensorBank::default()
    }

    /// Locks the bank; a panic elsewhere cannot leave plain numbers inconsistent, so poison is ignored.
    fn lock(&self) -> MutexGuard<'_, Bank> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the value a sensor reads from now on.
    pub fn set_sensor(&self, name: &str, value: f64) {
        self.lock().sensors.insert(name.to_string(), value);
    }

    /// Reads a sensor; one never set reads 0.0 and is remembered for
    /// [`SensorBank::take_unset_reads`].
    pub fn read_sensor(&self, name: &str) -> f64 {
        let mut bank = self.lock();
        if let Some(v) = bank.sensors.get(name) {
            return *v;
        }
        if !bank.unset_reads.contains(name) {
            if bank.unset_reads.len() < UNSET_NAMES_KEPT {
                bank.unset_reads.insert(name.to_string());
            } else {
                bank.unset_more = bank.unset_more.saturating_add(1);
            }
        }
        0.0
    }

    /// The sensors read without ever being set since the last call, and forgets them.
    pub fn take_unset_reads(&self) -> UnsetReads {
        let mut bank = self.lock();
        let names = std::mem::take(&mut bank.unset_reads).into_iter().collect();
        UnsetReads {
            names,
            more: std::mem::take(&mut bank.unset_more),
        }
    }

    /// Records a write to an actuator: its last value and one more write.
    pub fn write_actuator(&self, name: &str, value: f64) {
        let mut bank = self.lock();
        let entry = bank.actuators.entry(name.to_string()).or_default();
        entry.last = value;
        entry.count = entry.count.saturating_add(1);
    }

    /// Every actuator written so far as (name, last value, write count), sorted by name.
    pub fn actuators(&self) -> Vec<(String, f64, u64)> {
        self.lock()
            .actuators
            .iter()
            .map(|(name, a)| (name.clone(), a.last, a.count))
            .collect()
    }

    /// Every sensor set so far as (name, value), sorted by name.
    pub fn sensors(&self) -> Vec<(String, f64)> {
        self.lock()
            .sensors
            .iter()
            .map(|(name, v)| (name.clone(), *v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    /// Unset sensors read 0.0 and are reported once; set values are read back.
    #[test]
    fn unset_sensor_reads_zero_and_set_values_stick() {
        let bank = SensorBank::new();
        assert_eq!(bank.read_sensor("default"), 0.0);
        assert_eq!(bank.read_sensor("default"), 0.0);
        assert_eq!(
            bank.take_unset_reads(),
            UnsetReads {
                names: vec!["default".into()],
                more: 0
            }
        );
        assert_eq!(bank.take_unset_reads(), UnsetReads::default());
        assert_eq!(UnsetReads::default().note("--sensor NAME=VALUE"), None);
        bank.read_sensor("b");
        bank.read_sensor("a");
        assert_eq!(
            bank.take_unset_reads()
                .note(":sensor NAME VALUE")
                .as_deref(),
            Some(
                "note: sensors `a`, `b` were never set and read 0.0; set them with `:sensor NAME VALUE`"
            )
        );
        bank.read_sensor("temp");
        assert_eq!(
            bank.take_unset_reads()
                .note("--sensor NAME=VALUE")
                .as_deref(),
            Some(
                "note: sensor `temp` was never set and read 0.0; set it with `--sensor temp=VALUE`"
            )
        );
        bank.set_sensor("temp", 21.5);
        bank.set_sensor("default", -1.0);
        assert_eq!(bank.read_sensor("temp"), 21.5);
        bank.set_sensor("temp", 22.0);
        assert_eq!(bank.read_sensor("temp"), 22.0);
        assert_eq!(
            bank.sensors(),
            vec![("default".to_string(), -1.0), ("temp".to_string(), 22.0)]
        );
        // Set sensors are not reported.
        assert_eq!(bank.take_unset_reads(), UnsetReads::default());
    }

    /// The names kept for the note are bounded; the rest are counted.
    #[test]
    fn unset_names_are_bounded() {
        let bank = SensorBank::new();
        for i in 0..1000 {
            bank.read_sensor(&format!("s{i:04}"));
        }
        let u = bank.take_unset_reads();
        assert_eq!(u.names.len(), UNSET_NAMES_KEPT);
        assert_eq!(u.names[0], "s0000");
        assert_eq!(u.more, 1000 - UNSET_NAMES_KEPT);
    }

    /// Actuators keep the last value and the number of writes, sorted by name.
    #[test]
    fn actuators_record_last_value_and_count() {
        let bank = SensorBank::new();
        assert!(bank.actuators().is_empty());
        bank.write_actuator("valve", 1.0);
        bank.write_actuator("motor", 0.5);
        bank.write_actuator("valve", 0.25);
        assert_eq!(
            bank.actuators(),
            vec![
                ("motor".to_string(), 0.5, 1),
                ("valve".to_string(), 0.25, 2)
            ]
        );
    }

    /// Clones share one bank and count writes from many threads exactly.
    #[test]
    fn clones_share_one_bank_across_threads() {
        let bank = SensorBank::new();
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let b = bank.clone();
                thread::spawn(move || {
                    for _ in 0..250 {
                        b.write_actuator("shared", f64::from(i));
                    }
                    b.set_sensor(&format!("s{i}"), f64::from(i));
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        let acts = bank.actuators();
        assert_eq!(acts.len(), 1);
        assert_eq!(acts[0].2, 1000);
        assert_eq!(bank.sensors().len(), 4);
        assert_eq!(bank.read_sensor("s3"), 3.0);
    }
}
