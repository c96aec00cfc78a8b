//! The host-side bank of sensors and actuators read and written by Jue programs.

use std::collections::BTreeMap;
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
}

/// Sensors and actuators shared by the engine, the embedding program and the REPL.
///
/// Clones share the same bank; every method is thread-safe.
#[derive(Debug, Clone, Default)]
pub struct SensorBank {
    inner: Arc<Mutex<Bank>>,
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

    /// Reads a sensor; one never set reads 0.0.
    pub fn read_sensor(&self, name: &str) -> f64 {
        self.lock().sensors.get(name).copied().unwrap_or(0.0)
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

    /// Unset sensors read 0.0; set values are read back.
    #[test]
    fn unset_sensor_reads_zero_and_set_values_stick() {
        let bank = SensorBank::new();
        assert_eq!(bank.read_sensor("default"), 0.0);
        bank.set_sensor("temp", 21.5);
        bank.set_sensor("default", -1.0);
        assert_eq!(bank.read_sensor("temp"), 21.5);
        bank.set_sensor("temp", 22.0);
        assert_eq!(bank.read_sensor("temp"), 22.0);
        assert_eq!(
            bank.sensors(),
            vec![("default".to_string(), -1.0), ("temp".to_string(), 22.0)]
        );
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
