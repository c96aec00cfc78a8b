//! The standard host functions that need a capability: sensors, actuators, the
//! clock, files, HTTP and SQLite, as natives over VM values. The VM has checked the
//! grant and the argument types before any of these runs; scoped checks happen in
//! the backends. [`standard_native`] is what the session installs for each
//! standard host function id.

#[cfg(feature = "net")]
use super::net;
use super::{HostError, HostState, clock, fs};
#[cfg(feature = "db")]
use super::{SqlValue, db};
use crate::ground::ffi::Value as HostValue;
use crate::ground::ffi::{Capability, HostFunction};
use crate::vm::blocking::{BlockingNative, Job, JobCx};
use crate::vm::error::{ErrorKind, Fault, FaultResult};
use crate::vm::natives::{Ctx, NativeFn};
use crate::vm::value::Value;
use std::any::Any;
#[cfg(feature = "net")]
use std::time::{Duration, Instant};

/// The native that runs a standard host function in this build, if any.
pub fn standard_native(h: HostFunction) -> Option<NativeFn> {
    use HostFunction as H;
    Some(match h {
        H::ReadSensor => read_sensor,
        H::SensorRead => sensor_read,
        H::WriteActuator => write_actuator,
        H::ActuatorWrite => actuator_write,
        H::GetWallClockNs => wall_clock,
        H::PersistRead => fs_read_file,
        H::FsSafeRead => fs_safe_read,
        H::PersistWrite => fs_write_file,
        H::FsListDir => fs_list_dir,
        #[cfg(feature = "net")]
        H::HttpGet => http_get,
        #[cfg(feature = "db")]
        H::DbQuery => db_query,
        other => return crate::vm::ffi_math::native(other),
    })
}

/// The standard functions whose work may run off the VM thread (language §6,
/// §9): files, HTTP, SQLite, sensors and actuators. Each checks its arguments
/// here and returns the work, which owns a copy of the scopes it needs (and a
/// handle on the shared sensor bank).
pub fn standard_blocking(h: HostFunction) -> Option<BlockingNative> {
    use HostFunction as H;
    Some(match h {
        H::PersistRead => job_read_file,
        H::FsSafeRead => job_safe_read,
        H::PersistWrite => job_write_file,
        H::FsListDir => job_list_dir,
        #[cfg(feature = "net")]
        H::HttpGet => job_http_get,
        #[cfg(feature = "db")]
        H::DbQuery => job_db_query,
        H::ReadSensor => job_read_sensor,
        H::SensorRead => job_sensor_read,
        H::WriteActuator => job_write_actuator,
        H::ActuatorWrite => job_actuator_write,
        _ => return None,
    })
}

/// What an embedder's blocking closure gets of the host state when it runs off
/// the VM thread: the scope its capability opens (IoPersist directories,
/// IoNetwork hosts), copied at call time; nothing else.
pub fn host_snapshot(state: &(dyn Any + Send), cap: Option<Capability>) -> Box<dyn Any + Send> {
    let mut out = HostState::default();
    if let Some(s) = state.downcast_ref::<HostState>() {
        match cap {
            Some(Capability::IoPersist) => out.persist = s.persist.clone(),
            Some(Capability::IoNetwork) => out.net = s.net.clone(),
            _ => {}
        }
    }
    Box::new(out)
}

fn job_read_sensor(cx: &mut Ctx, _: &[Value]) -> FaultResult<Job> {
    let bank = state(cx)?.sensors.clone();
    Ok(Box::new(move |_: &JobCx| {
        Ok(HostValue::Float(bank.read_sensor("default")))
    }))
}

fn job_sensor_read(cx: &mut Ctx, a: &[Value]) -> FaultResult<Job> {
    let (bank, name) = (state(cx)?.sensors.clone(), symbol(cx, a[0]));
    Ok(Box::new(move |_: &JobCx| {
        Ok(HostValue::Float(bank.read_sensor(&name)))
    }))
}

fn job_write_actuator(cx: &mut Ctx, a: &[Value]) -> FaultResult<Job> {
    let (bank, v) = (state(cx)?.sensors.clone(), float(a[0]));
    Ok(Box::new(move |_: &JobCx| {
        bank.write_actuator("default", v);
        Ok(HostValue::Bool(true))
    }))
}

fn job_actuator_write(cx: &mut Ctx, a: &[Value]) -> FaultResult<Job> {
    let (bank, name, v) = (state(cx)?.sensors.clone(), symbol(cx, a[0]), float(a[1]));
    Ok(Box::new(move |_: &JobCx| {
        bank.write_actuator(&name, v);
        Ok(HostValue::Bool(true))
    }))
}

#[cfg(feature = "db")]
/// `db:query` off the VM thread: the parameters and the scopes copied here; the
/// statement watches the deadline and the interrupt as on the VM thread.
fn job_db_query(cx: &mut Ctx, a: &[Value]) -> FaultResult<Job> {
    let params = db_params(cx, &a[2..])?;
    let scopes = state(cx)?.persist.clone();
    let (path, sql) = (string(cx, a[0]).to_string(), string(cx, a[1]).to_string());
    Ok(Box::new(move |jcx: &JobCx| {
        let watch = db::Watch {
            deadline: jcx.deadline,
            stop: Some(jcx.interrupt.as_atomic().clone()),
        };
        let Some(rows) = db::query(&scopes, &path, &sql, &params, &watch)? else {
            return Ok(HostValue::Nil);
        };
        Ok(HostValue::List(
            rows.into_iter()
                .map(|row| HostValue::List(row.into_iter().map(sql_to_host).collect()))
                .collect(),
        ))
    }))
}

#[cfg(feature = "db")]
/// A column value as it crosses back (BLOB as lowercase hex, as `db:query` shows it).
fn sql_to_host(c: SqlValue) -> HostValue {
    match c {
        SqlValue::Null => HostValue::Nil,
        SqlValue::Int(n) => HostValue::Int(n),
        SqlValue::Real(f) => HostValue::Float(f),
        SqlValue::Text(s) => HostValue::String(s),
        SqlValue::Blob(b) => HostValue::String(db::blob_hex(&b)),
    }
}

#[cfg(feature = "db")]
/// The values bound to `db:query`'s `?` parameters.
fn db_params(cx: &Ctx, a: &[Value]) -> FaultResult<Vec<SqlValue>> {
    let mut params = Vec::with_capacity(a.len());
    for (i, v) in a.iter().enumerate() {
        params.push(match *v {
            Value::Int(n) => SqlValue::Int(n),
            Value::Float(f) => SqlValue::Real(f),
            Value::Str(_) => SqlValue::Text(string(cx, *v).to_string()),
            Value::Nil => SqlValue::Null,
            Value::Bool(b) => SqlValue::Int(i64::from(b)),
            other => {
                return Err(Fault::new(
                    ErrorKind::Type,
                    format!(
                        "db:query parameter {} must be Int, Float, String, Bool or nil, not {}",
                        i + 1,
                        other.type_name()
                    ),
                ));
            }
        });
    }
    Ok(params)
}

fn job_read_file(cx: &mut Ctx, a: &[Value]) -> FaultResult<Job> {
    let (scopes, path) = (state(cx)?.persist.clone(), string(cx, a[0]).to_string());
    Ok(Box::new(move |_: &JobCx| {
        fs::read_file(&scopes, &path).map(HostValue::String)
    }))
}

fn job_safe_read(cx: &mut Ctx, a: &[Value]) -> FaultResult<Job> {
    let (scopes, path) = (state(cx)?.persist.clone(), string(cx, a[0]).to_string());
    Ok(Box::new(move |_: &JobCx| {
        Ok(match fs::safe_read(&scopes, &path)? {
            Some(text) => HostValue::String(text),
            None => HostValue::Nil,
        })
    }))
}

fn job_write_file(cx: &mut Ctx, a: &[Value]) -> FaultResult<Job> {
    let scopes = state(cx)?.persist.clone();
    let (path, text) = (string(cx, a[0]).to_string(), string(cx, a[1]).to_string());
    Ok(Box::new(move |_: &JobCx| {
        fs::write_file(&scopes, &path, &text).map(HostValue::Int)
    }))
}

fn job_list_dir(cx: &mut Ctx, a: &[Value]) -> FaultResult<Job> {
    let (scopes, path) = (state(cx)?.persist.clone(), string(cx, a[0]).to_string());
    Ok(Box::new(move |_: &JobCx| {
        let names = fs::list_dir(&scopes, &path)?;
        Ok(HostValue::List(
            names.into_iter().map(HostValue::String).collect(),
        ))
    }))
}

#[cfg(feature = "net")]
/// `net:http-get` off the VM thread: at most 30 s or what is left of the time.
fn job_http_get(cx: &mut Ctx, a: &[Value]) -> FaultResult<Job> {
    let (scopes, url) = (state(cx)?.net.clone(), string(cx, a[0]).to_string());
    Ok(Box::new(move |jcx: &JobCx| {
        let timeout = match jcx.deadline {
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .min(net::MAX_TIMEOUT),
            None => net::MAX_TIMEOUT,
        };
        net::http_get(&scopes, &url, timeout.max(Duration::from_millis(1))).map(HostValue::String)
    }))
}

/// A backend error as a VM fault of the matching kind.
fn fault(e: HostError) -> Box<Fault> {
    Fault::from_host(e)
}

/// The session's host state, which the session put in the VM.
fn state<'c>(cx: &'c Ctx) -> FaultResult<&'c HostState> {
    cx.host
        .downcast_ref::<HostState>()
        .ok_or_else(|| Fault::new(ErrorKind::Host, "the host's state is missing"))
}

fn string<'c>(cx: &'c Ctx, v: Value) -> &'c str {
    cx.str(v)
}

fn float(v: Value) -> f64 {
    match v {
        Value::Float(f) => f,
        Value::Int(i) => i as f64,
        _ => 0.0,
    }
}

fn symbol(cx: &Ctx, v: Value) -> String {
    match v {
        Value::Sym(s) => cx.symbols.name(s).to_string(),
        _ => String::new(),
    }
}

/// `read-sensor`: the sensor named `default`.
pub fn read_sensor(cx: &mut Ctx, _: &[Value]) -> FaultResult<Value> {
    Ok(Value::Float(state(cx)?.sensors.read_sensor("default")))
}
/// `io:sensor:read`
pub fn sensor_read(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let name = symbol(cx, a[0]);
    Ok(Value::Float(state(cx)?.sensors.read_sensor(&name)))
}
/// `write-actuator`: the actuator named `default`.
pub fn write_actuator(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    state(cx)?.sensors.write_actuator("default", float(a[0]));
    Ok(Value::Bool(true))
}
/// `io:actuator:write`
pub fn actuator_write(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let name = symbol(cx, a[0]);
    state(cx)?.sensors.write_actuator(&name, float(a[1]));
    Ok(Value::Bool(true))
}
/// `get-wall-clock`
pub fn wall_clock(_: &mut Ctx, _: &[Value]) -> FaultResult<Value> {
    Ok(Value::Int(clock::wall_clock_ns()))
}
/// `fs:read-file`
pub fn fs_read_file(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let text = fs::read_file(&state(cx)?.persist, string(cx, a[0])).map_err(fault)?;
    Ok(cx.heap.string(text))
}
/// `fs:safe-read`
pub fn fs_safe_read(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match fs::safe_read(&state(cx)?.persist, string(cx, a[0])).map_err(fault)? {
        Some(text) => Ok(cx.heap.string(text)),
        None => Ok(Value::Nil),
    }
}
/// `fs:write-file`
pub fn fs_write_file(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let n =
        fs::write_file(&state(cx)?.persist, string(cx, a[0]), string(cx, a[1])).map_err(fault)?;
    Ok(Value::Int(n))
}
/// `fs:list-dir`
pub fn fs_list_dir(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let names = fs::list_dir(&state(cx)?.persist, string(cx, a[0])).map_err(fault)?;
    let vals: Vec<Value> = names.into_iter().map(|n| cx.heap.string(n)).collect();
    Ok(cx.heap.list(&vals))
}
#[cfg(feature = "net")]
/// `net:http-get`: at most 30 s or what is left of the evaluation's time.
pub fn http_get(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let timeout = match cx.deadline {
        Some(d) => d
            .saturating_duration_since(Instant::now())
            .min(net::MAX_TIMEOUT),
        None => net::MAX_TIMEOUT,
    };
    let body = net::http_get(
        &state(cx)?.net,
        string(cx, a[0]),
        timeout.max(Duration::from_millis(1)),
    )
    .map_err(fault)?;
    Ok(cx.heap.string(body))
}
#[cfg(feature = "db")]
/// `db:query`: path, SQL, then values bound to the `?` parameters.
pub fn db_query(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let params = db_params(cx, &a[2..])?;
    let rows = db::query(
        &state(cx)?.persist,
        string(cx, a[0]),
        string(cx, a[1]),
        &params,
        &db::Watch {
            deadline: cx.deadline,
            stop: Some(cx.interrupt.as_atomic().clone()),
        },
    )
    .map_err(fault)?;
    let Some(rows) = rows else {
        return Ok(Value::Nil);
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let cols: Vec<Value> = row
            .into_iter()
            .map(|c| match c {
                SqlValue::Null => Value::Nil,
                SqlValue::Int(n) => Value::Int(n),
                SqlValue::Real(f) => Value::Float(f),
                SqlValue::Text(s) => cx.heap.string(s),
                SqlValue::Blob(b) => cx.heap.string(db::blob_hex(&b)),
            })
            .collect();
        out.push(cx.heap.list(&cols));
    }
    Ok(cx.heap.list(&out))
}
