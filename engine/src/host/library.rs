//! The standard host functions that need a capability: sensors, actuators, the
//! clock, files, HTTP and SQLite. The VM has checked the grant and the argument
//! types before any of these runs; scoped checks happen in the backends.

use super::{HostError, HostErrorKind, SqlValue, clock, db, fs, net};
use crate::builtins::natives::Ctx;
use crate::vm::error::{ErrorKind, Fault, FaultResult};
use crate::vm::value::Value;
use std::time::{Duration, Instant};

/// A backend error as a VM fault of the matching kind.
pub fn fault(e: HostError) -> Box<Fault> {
    let kind = match e.kind {
        HostErrorKind::CapabilityDenied => ErrorKind::CapabilityDenied,
        HostErrorKind::Type => ErrorKind::Type,
        HostErrorKind::Host => ErrorKind::Host,
        HostErrorKind::Timeout => ErrorKind::Timeout,
        HostErrorKind::Interrupted => ErrorKind::Interrupted,
    };
    Fault::new(kind, e.message)
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
    Ok(Value::Float(cx.host.sensors.read_sensor("default")))
}
/// `io:sensor:read`
pub fn sensor_read(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let name = symbol(cx, a[0]);
    Ok(Value::Float(cx.host.sensors.read_sensor(&name)))
}
/// `write-actuator`: the actuator named `default`.
pub fn write_actuator(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    cx.host.sensors.write_actuator("default", float(a[0]));
    Ok(Value::Bool(true))
}
/// `io:actuator:write`
pub fn actuator_write(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let name = symbol(cx, a[0]);
    cx.host.sensors.write_actuator(&name, float(a[1]));
    Ok(Value::Bool(true))
}
/// `get-wall-clock`
pub fn wall_clock(_: &mut Ctx, _: &[Value]) -> FaultResult<Value> {
    Ok(Value::Int(clock::wall_clock_ns()))
}
/// `fs:read-file`
pub fn fs_read_file(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let text = fs::read_file(&cx.host.persist, string(cx, a[0])).map_err(fault)?;
    Ok(cx.heap.string(text))
}
/// `fs:safe-read`
pub fn fs_safe_read(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match fs::safe_read(&cx.host.persist, string(cx, a[0])).map_err(fault)? {
        Some(text) => Ok(cx.heap.string(text)),
        None => Ok(Value::Nil),
    }
}
/// `fs:write-file`
pub fn fs_write_file(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let n = fs::write_file(&cx.host.persist, string(cx, a[0]), string(cx, a[1])).map_err(fault)?;
    Ok(Value::Int(n))
}
/// `fs:list-dir`
pub fn fs_list_dir(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let names = fs::list_dir(&cx.host.persist, string(cx, a[0])).map_err(fault)?;
    let vals: Vec<Value> = names.into_iter().map(|n| cx.heap.string(n)).collect();
    Ok(cx.heap.list(&vals))
}
/// `net:http-get`: at most 30 s or what is left of the evaluation's time.
pub fn http_get(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let timeout = match cx.host.deadline {
        Some(d) => d
            .saturating_duration_since(Instant::now())
            .min(net::MAX_TIMEOUT),
        None => net::MAX_TIMEOUT,
    };
    let body = net::http_get(
        &cx.host.net,
        string(cx, a[0]),
        timeout.max(Duration::from_millis(1)),
    )
    .map_err(fault)?;
    Ok(cx.heap.string(body))
}
/// `db:query`: path, SQL, then values bound to the `?` parameters.
pub fn db_query(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut params = Vec::new();
    for (i, v) in a[2..].iter().enumerate() {
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
    let rows = db::query(
        &cx.host.persist,
        string(cx, a[0]),
        string(cx, a[1]),
        &params,
        &db::Watch {
            deadline: cx.host.deadline,
            stop: cx.host.stop.clone(),
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
