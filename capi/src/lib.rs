//! libjue: the C ABI of Jue (tooling §5, "C and Python").
//!
//! Every entry point returns a JSON envelope built by serde_json,
//! `{"status": "success", "result": …}` or
//! `{"status": "error", "error": {"kind": "…", "message": "…"}}`, as a string
//! allocated here and freed with [`jue_string_free`]. No panic crosses the
//! boundary: each entry point runs under `catch_unwind`, and a session in which a
//! panic happened is marked broken and refuses further work (it can still be freed).
//! See `include/jue.h` for the contract, pointer by pointer.

#![allow(clippy::missing_safety_doc)]

pub mod convert;

use convert::{Handles, Oj, check_integer_literals, json_to_value, value_to_json};
use jue_engine::ffi::HostFunction;
use jue_engine::session::grants::parse_capability;
use jue_engine::vm::limits::Interrupt;
use jue_engine::vm::output::Output;
use jue_engine::{CallbackScope, EvalError, FfiRegistry, GrantSource, HostCx, HostError, Session};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::cell::UnsafeCell;
use std::ffi::{CStr, CString, c_char, c_void};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// `jue_version()`: static, never freed.
static VERSION: &CStr = c"jue 0.1.0";

/// The error kinds this layer adds to the engine's run-time kinds.
pub mod kinds {
    /// A null pointer, invalid UTF-8, malformed JSON or JSON of the wrong shape.
    pub const ARGUMENT: &str = "argument";
    /// Source with error diagnostics: nothing ran.
    pub const COMPILE: &str = "compile";
    /// A grant or revoke that could not be made (unknown capability, bad scope).
    pub const GRANT: &str = "grant";
    /// A registration the registry refused.
    pub const REGISTRY: &str = "registry";
    /// The session is already running an entry point (a callback re-entered it,
    /// or another thread is using it).
    pub const BUSY: &str = "busy";
    /// A panic inside the library was caught; the session is now broken.
    pub const PANIC: &str = "panic";
    /// The session was broken by an earlier panic.
    pub const BROKEN: &str = "broken";
}

/// An error on its way into an envelope.
#[derive(Debug)]
pub struct Failure {
    /// Its kind (an engine run-time kind or one of [`kinds`]).
    pub kind: String,
    /// Its message.
    pub message: String,
}

impl Failure {
    /// A failure of a kind.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Failure {
        Failure {
            kind: kind.into(),
            message: message.into(),
        }
    }
    fn argument(message: impl Into<String>) -> Failure {
        Failure::new(kinds::ARGUMENT, message)
    }
}

impl From<EvalError> for Failure {
    fn from(e: EvalError) -> Failure {
        match e {
            EvalError::Compile {
                source,
                diagnostics,
                imported,
            } => {
                let mut errors: Vec<String> = diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| {
                        let (line, col) = source.line_col(d.span.start);
                        format!("{} at {}:{}: {}", d.code, line + 1, col + 1, d.message)
                    })
                    .collect();
                // Errors in imported files name their file (language §13).
                for (file, ds) in &imported {
                    for d in ds.iter().filter(|d| d.is_error()) {
                        let (line, col) = file.line_col(d.span.start);
                        let name = file.name();
                        errors.push(format!(
                            "{} at {name}:{}:{}: {}",
                            d.code,
                            line + 1,
                            col + 1,
                            d.message
                        ));
                    }
                }
                let message = if errors.is_empty() {
                    "compile error".to_string()
                } else {
                    errors.join("; ")
                };
                Failure::new(kinds::COMPILE, message)
            }
            EvalError::Runtime(r) => Failure::new(r.kind.name(), r.message),
        }
    }
}

/// The envelope of every entry point (tooling §5).
#[derive(Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Envelope<'a, R: Serialize> {
    Success { result: R },
    Error { error: ErrorBody<'a> },
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    kind: &'a str,
    message: &'a str,
}

fn error_json(f: &Failure) -> Envelope<'_, Json> {
    Envelope::Error {
        error: ErrorBody {
            kind: &f.kind,
            message: &f.message,
        },
    }
}

/// An envelope as a C string owned by the caller. serde_json escapes every control
/// character, so the text has no interior NUL; should `CString::new` fail anyway,
/// a fixed error envelope is returned instead of panicking.
fn into_c<R: Serialize>(v: &Envelope<'_, R>) -> *mut c_char {
    let text = serde_json::to_string(v).unwrap_or_else(|_| {
        r#"{"status":"error","error":{"kind":"panic","message":"could not serialise the result"}}"#
            .to_string()
    });
    match CString::new(text) {
        Ok(c) => c.into_raw(),
        Err(_) => CString::from(
            c"{\"status\":\"error\",\"error\":{\"kind\":\"panic\",\"message\":\"interior NUL\"}}",
        )
        .into_raw(),
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `f` under `catch_unwind` and turns its outcome into an envelope string.
fn guard<R: Serialize>(f: impl FnOnce() -> Result<R, Failure>) -> *mut c_char {
    let failed = |e: &Failure| catch_unwind(AssertUnwindSafe(|| into_c(&error_json(e))));
    let out = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => catch_unwind(AssertUnwindSafe(|| {
            into_c(&Envelope::Success::<R> { result: v })
        })),
        Ok(Err(e)) => failed(&e),
        Err(p) => failed(&Failure::new(
            kinds::PANIC,
            format!("internal error (caught panic): {}", panic_message(&*p)),
        )),
    };
    // Serialising cannot panic in practice; guard it anyway.
    out.unwrap_or(std::ptr::null_mut())
}

/// Reads a C string argument: null and invalid UTF-8 are errors.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string.
unsafe fn read_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::argument(format!("{what} is a null pointer")));
    }
    // SAFETY: the caller promises a NUL-terminated string.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|e| Failure::argument(format!("{what} is not valid UTF-8: {e}")))
}

const IDLE: u8 = 0;
const BUSY: u8 = 1;
const BUSY_FREE: u8 = 2;

/// A session as the C side sees it (opaque).
pub struct JueSession {
    state: AtomicU8,
    broken: AtomicBool,
    /// The session's interrupt flag, shared: `jue_interrupt` raises it from any
    /// thread without touching the session itself.
    interrupt: Interrupt,
    /// The procedures the host holds (`{"handle": n}`); shared with callbacks,
    /// and reachable while the session runs (`jue_handle_free` from a callback).
    handles: Arc<Mutex<Handles>>,
    /// The engine session's id, which its handles carry.
    id: u64,
    session: UnsafeCell<Session>,
}

impl JueSession {
    fn handles(&self) -> MutexGuard<'_, Handles> {
        lock(&self.handles)
    }
}

/// A lock whose holder panicked is still sound here (the tables stay whole).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// The session is only reached while `state` is BUSY, held by one thread at a time.
unsafe impl Sync for JueSession {}
unsafe impl Send for JueSession {}

/// Writes program output straight to the process's standard output, flushing each
/// write so it interleaves correctly with the host's own output.
struct FlushingStdout;

impl Write for FlushingStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut o = std::io::stdout().lock();
        o.write_all(buf)?;
        o.flush()?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()
    }
}

/// Runs `f` on the session, holding it exclusively; refuses re-entry.
///
/// # Safety
/// `s` is null or a live pointer from [`jue_session_new`].
unsafe fn with_session<R>(
    s: *mut JueSession,
    f: impl FnOnce(&mut Session) -> Result<R, Failure>,
) -> Result<R, Failure> {
    if s.is_null() {
        return Err(Failure::argument("session is a null pointer"));
    }
    // SAFETY: the caller promises a live session.
    let js = unsafe { &*s };
    if js
        .state
        .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return Err(Failure::new(
            kinds::BUSY,
            "the session is already running (a callback may not re-enter its own session)",
        ));
    }
    let out = if js.broken.load(Ordering::Acquire) {
        Err(Failure::new(
            kinds::BROKEN,
            "the session was broken by an earlier internal error; free it",
        ))
    } else {
        // SAFETY: state BUSY gives this thread exclusive access.
        let sess = unsafe { &mut *js.session.get() };
        match catch_unwind(AssertUnwindSafe(|| f(sess))) {
            Ok(r) => r,
            Err(p) => {
                js.broken.store(true, Ordering::Release);
                Err(Failure::new(
                    kinds::PANIC,
                    format!(
                        "internal error (caught panic): {}; the session is now unusable",
                        panic_message(&*p)
                    ),
                ))
            }
        }
    };
    if js
        .state
        .compare_exchange(BUSY, IDLE, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        // jue_session_free was called while we ran (from a callback): free now.
        // SAFETY: the pointer came from Box::into_raw and nobody else holds it.
        drop(unsafe { Box::from_raw(s) });
    }
    out
}

/// The library's version, e.g. `jue 0.1.0`. Static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn jue_version() -> *const c_char {
    VERSION.as_ptr()
}

/// A new session (standard registry, no grants, output to stdout); null only if
/// creating it failed.
#[unsafe(no_mangle)]
pub extern "C" fn jue_session_new() -> *mut JueSession {
    catch_unwind(|| {
        let session = Session::with_output(Output::new(Box::new(FlushingStdout)));
        Box::into_raw(Box::new(JueSession {
            state: AtomicU8::new(IDLE),
            broken: AtomicBool::new(false),
            interrupt: session.interrupt(),
            handles: Arc::new(Mutex::new(Handles::default())),
            id: session.vm().roots.session(),
            session: UnsafeCell::new(session),
        }))
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Frees a session; null is ignored. Called from a callback of the same session,
/// the session is freed when the running call returns.
///
/// # Safety
/// `s` is null or a live pointer from [`jue_session_new`], not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_session_free(s: *mut JueSession) {
    if s.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: live per the contract.
        let js = unsafe { &*s };
        loop {
            match js
                .state
                .compare_exchange(IDLE, BUSY_FREE, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // SAFETY: from Box::into_raw; idle, so nobody uses it.
                    drop(unsafe { Box::from_raw(s) });
                    return;
                }
                Err(BUSY) => {
                    if js
                        .state
                        .compare_exchange(BUSY, BUSY_FREE, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        return; // freed by the running call when it finishes
                    }
                }
                Err(_) => return, // already being freed
            }
        }
    }));
}

/// Frees a string returned by this library; null is ignored.
///
/// # Safety
/// `p` is null or a string returned by a `jue_*` function, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_string_free(p: *mut c_char) {
    if p.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: from CString::into_raw per the contract.
        drop(unsafe { CString::from_raw(p) });
    });
}

/// Grants a capability in the `--grant` syntax: `CAP` or `CAP=SCOPE`.
/// The result is `{"capability": …, "scope": …}` with the scope as resolved.
///
/// # Safety
/// `s` as for [`jue_session_free`]; `grant` null or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_grant(s: *mut JueSession, grant: *const c_char) -> *mut c_char {
    guard(|| unsafe {
        let spec = read_str(grant, "grant")?;
        with_session(s, |sess| {
            sess.grant_spec(spec, GrantSource::Host)
                .map_err(|e| Failure::new(kinds::GRANT, e.message))?;
            let rec = sess.grant_records().last();
            Ok(json!({
                "capability": rec.map(|r| r.capability.name()),
                "scope": rec.and_then(|r| r.scope.clone()),
            }))
        })
    })
}

/// Revokes every grant of a capability (a bare name, no scope). Result: null.
///
/// # Safety
/// As for [`jue_grant`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_revoke(s: *mut JueSession, cap: *const c_char) -> *mut c_char {
    guard(|| unsafe {
        let name = read_str(cap, "capability")?;
        let cap =
            parse_capability(name.trim()).map_err(|e| Failure::new(kinds::GRANT, e.message))?;
        with_session(s, |sess| {
            sess.revoke(cap);
            Ok(Json::Null)
        })
    })
}

/// Checks, compiles and runs source; the result is the value of its last form.
///
/// # Safety
/// As for [`jue_grant`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_eval(s: *mut JueSession, source: *const c_char) -> *mut c_char {
    guard(|| unsafe {
        let text = read_str(source, "source")?;
        let js = session_ref(s)?;
        with_session(s, |sess| {
            // An interrupt raised while nothing ran is dropped.
            sess.interrupt().clear();
            let v = sess.eval_str("<capi>", text)?;
            value_to_json(&v, &mut js.handles())
        })
    })
}

/// Reads call arguments: a JSON array, or an object whose `args` is one (other
/// fields, `capability` included, are ignored).
fn parse_args(text: &str, handles: &Handles) -> Result<Vec<jue_engine::Value>, Failure> {
    let v = Oj::parse(text)
        .map_err(|e| Failure::argument(format!("arguments are not valid JSON: {e}")))?;
    check_integer_literals(text)?;
    let arr = match &v {
        Oj::Arr(a) => a,
        Oj::Obj(_) => match v.get("args") {
            Some(Oj::Arr(a)) => a,
            None => return Ok(Vec::new()),
            Some(_) => return Err(Failure::argument("`args` must be a JSON array")),
        },
        _ => {
            return Err(Failure::argument(
                "arguments must be a JSON array (or an object with an `args` array)",
            ));
        }
    };
    arr.iter().map(|a| json_to_value(a, handles)).collect()
}

/// The session behind a pointer, for what may be touched while it runs (the
/// handle table, the interrupt flag).
///
/// # Safety
/// `s` is null or a live pointer from [`jue_session_new`].
unsafe fn session_ref<'a>(s: *mut JueSession) -> Result<&'a JueSession, Failure> {
    if s.is_null() {
        return Err(Failure::argument("session is a null pointer"));
    }
    // SAFETY: live per the caller's contract; only shared fields are used.
    Ok(unsafe { &*s })
}

/// Calls `callee` on owned arguments, through the session's heap; the result as
/// JSON (procedures in it become handles).
fn call_on(
    sess: &mut Session,
    handles: &Mutex<Handles>,
    callee: jue_engine::vm::value::Value,
    args: &[jue_engine::Value],
) -> Result<Oj, Failure> {
    // Through a procedure value: no code is added per call and the arguments
    // are not kept once it returns.
    let mut argv = Vec::with_capacity(args.len());
    for a in args {
        argv.push(sess.host_to_vm(a).map_err(|m| Failure::new("type", m))?);
    }
    sess.interrupt().clear();
    let v = sess.call_value(callee, &argv).map_err(EvalError::Runtime)?;
    let v = sess.to_host(v).map_err(|m| Failure::new("type", m))?;
    value_to_json(&v, &mut lock(handles))
}

/// Calls a Jue global, built-in or FFI function by name with a JSON array of
/// positional arguments. Capability checks apply as for any call. From inside a
/// callback of the same session (on its thread) it runs within the running
/// evaluation, as `jue_handle_call` does; from another thread while the session
/// runs it is refused with kind `busy`.
///
/// # Safety
/// As for [`jue_grant`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_call(
    s: *mut JueSession,
    name: *const c_char,
    args_json: *const c_char,
) -> *mut c_char {
    guard(|| unsafe {
        let name = read_str(name, "name")?;
        let js = session_ref(s)?;
        let args = parse_args(read_str(args_json, "arguments")?, &js.handles())?;
        if let Some(r) = HostCx::call_by_name_in_callback(js.id, name, &args) {
            let v = r.map_err(nested_failure)?;
            return value_to_json(&v, &mut js.handles());
        }
        with_session(s, |sess| {
            let callee = sess.procedure(name).map_err(EvalError::Runtime)?;
            call_on(sess, &js.handles, callee, &args)
        })
    })
}

/// A host callback: receives `user_data` and the arguments as a JSON array, and
/// returns an envelope string that stays owned by the host.
pub type JueCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, args_json: *const c_char) -> *const c_char>;

struct Callback {
    f: unsafe extern "C" fn(*mut c_void, *const c_char) -> *const c_char,
    user_data: *mut c_void,
    name: String,
    handles: Arc<Mutex<Handles>>,
    session: u64,
}

// The host promises its callback may be called from whichever thread runs the session.
unsafe impl Send for Callback {}
unsafe impl Sync for Callback {}

impl Callback {
    /// Procedures among the arguments become handles the host may call during
    /// the callback (through `cx`) and keep after it (it frees them).
    fn invoke(
        &self,
        cx: &mut HostCx<'_>,
        args: &[jue_engine::Value],
    ) -> Result<jue_engine::Value, HostError> {
        let name = &self.name;
        let items = {
            let mut h = lock(&self.handles);
            args.iter()
                .map(|a| value_to_json(a, &mut h))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| HostError::host(format!("`{name}`: {}", e.message)))?
        };
        let text = serde_json::to_string(&Oj::Arr(items))
            .map_err(|e| HostError::host(format!("`{name}`: {e}")))?;
        let c = CString::new(text).map_err(|e| HostError::host(format!("`{name}`: {e}")))?;
        let entered = CallbackScope::enter(self.session, cx);
        // SAFETY: the host registered this function pointer and user data.
        let out = unsafe { (self.f)(self.user_data, c.as_ptr()) };
        drop(entered);
        if out.is_null() {
            return Err(HostError::host(format!(
                "`{name}`: the callback returned null"
            )));
        }
        // SAFETY: the host returns a NUL-terminated string valid until it regains control;
        // it is copied here at once.
        let reply = unsafe { CStr::from_ptr(out) }.to_str().map(str::to_owned);
        let reply = reply.map_err(|_| {
            HostError::host(format!("`{name}`: the callback returned invalid UTF-8"))
        })?;
        let env = Oj::parse(&reply).map_err(|e| {
            HostError::host(format!("`{name}`: the callback returned invalid JSON: {e}"))
        })?;
        check_integer_literals(&reply)
            .map_err(|e| HostError::host(format!("`{name}`: {}", e.message)))?;
        match env.get("status").and_then(Oj::as_str) {
            Some("success") => {
                let r = env.get("result").unwrap_or(&Oj::Null);
                json_to_value(r, &lock(&self.handles)).map_err(|e| {
                    HostError::host(format!("`{name}`: the callback's result: {}", e.message))
                })
            }
            Some("error") => {
                let err = env.get("error");
                let field = |k: &str| {
                    err.and_then(|e| e.get(k))
                        .and_then(Oj::as_str)
                        .unwrap_or("")
                        .to_string()
                };
                let (kind, message) = (field("kind"), field("message"));
                let detail = match (kind.is_empty(), message.is_empty()) {
                    (true, true) => "the callback failed".to_string(),
                    (true, false) => message,
                    (false, true) => kind,
                    (false, false) if kind == "host" => message,
                    (false, false) => format!("{kind}: {message}"),
                };
                Err(HostError::host(format!("`{name}`: {detail}")))
            }
            _ => Err(HostError::host(format!(
                "`{name}`: the callback's reply is not an envelope (no `status` of success or error)"
            ))),
        }
    }
}

/// Builds the function a registration describes (the registry JSON schema of one
/// function), with `f` as its implementation.
fn function_from_spec(
    spec: &str,
    existing: &FfiRegistry,
) -> Result<jue_engine::FfiFunction, Failure> {
    let v: Json = serde_json::from_str(spec)
        .map_err(|e| Failure::argument(format!("spec is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(Failure::argument("spec must be a JSON object"));
    }
    let wrapped = json!({"functions": [v]}).to_string();
    let reg = FfiRegistry::from_json(&wrapped)
        .map_err(|e| Failure::new(kinds::REGISTRY, e.to_string()))?;
    let mut f = reg
        .iter()
        .next()
        .cloned()
        .ok_or_else(|| Failure::argument("spec describes no function"))?;
    // A host's function gets a fresh custom id, whatever the spec says.
    let next = existing
        .iter()
        .filter_map(|g| match g.host_function {
            HostFunction::Custom(n) => Some(n),
            _ => None,
        })
        .max()
        .map_or(100, |n| n.saturating_add(1))
        .max(100);
    f.host_function = HostFunction::Custom(next);
    Ok(f)
}

/// Registers a host callback as an FFI function. `spec_json` is one function in
/// the registry JSON schema; result: that function as the registry now lists it.
///
/// # Safety
/// As for [`jue_grant`]; `callback` and `user_data` must stay valid until the
/// session is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_register(
    s: *mut JueSession,
    spec_json: *const c_char,
    callback: JueCallback,
    user_data: *mut c_void,
) -> *mut c_char {
    guard(|| unsafe {
        let spec = read_str(spec_json, "spec")?;
        let Some(cb) = callback else {
            return Err(Failure::argument("callback is a null pointer"));
        };
        let js = session_ref(s)?;
        with_session(s, |sess| {
            let f = function_from_spec(spec, sess.registry())?;
            let name = f.name.clone();
            let cb = Callback {
                f: cb,
                user_data,
                name: name.clone(),
                handles: Arc::clone(&js.handles),
                session: js.id,
            };
            let f = f.with_context_implementation(move |cx, args| cb.invoke(cx, args));
            sess.register_function(f)
                .map_err(|e| Failure::new(kinds::REGISTRY, e.to_string()))?;
            let listed = sess
                .registry()
                .find_function(&name)
                .map(jue_engine::ffi::registry::function_json)
                .unwrap_or(Json::Null);
            Ok(listed)
        })
    })
}

/// The registry as JSON, in the schema of `jue registry --json`.
///
/// # Safety
/// As for [`jue_grant`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_registry(s: *mut JueSession) -> *mut c_char {
    guard(|| unsafe { with_session(s, |sess| Ok(sess.registry().to_json())) })
}

/// Asks the evaluation running in `s` (on any thread) to stop; it then fails
/// with kind `interrupted`. Raised while nothing runs, it is dropped. Returns 0,
/// or -1 for a null session.
///
/// # Safety
/// `s` is null or a live session; it must not be freed while this runs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_interrupt(s: *mut JueSession) -> i32 {
    if s.is_null() {
        return -1;
    }
    // SAFETY: live per the contract; only the shared flag is touched.
    unsafe { &*s }.interrupt.raise();
    0
}

/// Sets the session's limits from a JSON object with any of `steps`, `memory`
/// (bytes), `timeout_ms` (null: none) and `depth`; other limits stay. Result:
/// the limits now in force, as such an object.
///
/// # Safety
/// As for [`jue_grant`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_session_set_limits(
    s: *mut JueSession,
    limits_json: *const c_char,
) -> *mut c_char {
    guard(|| unsafe {
        let text = read_str(limits_json, "limits")?;
        let v: Json = serde_json::from_str(text)
            .map_err(|e| Failure::argument(format!("limits are not valid JSON: {e}")))?;
        let Json::Object(m) = v else {
            return Err(Failure::argument("limits must be a JSON object"));
        };
        with_session(s, |sess| {
            let mut l = sess.limits;
            for (k, v) in &m {
                let n = || {
                    v.as_u64().ok_or_else(|| {
                        Failure::argument(format!("`{k}` must be a non-negative integer"))
                    })
                };
                match k.as_str() {
                    "steps" => l.steps = n()?,
                    "memory" => l.memory = n()?,
                    "depth" => l.depth = n()?,
                    "timeout_ms" if v.is_null() => l.timeout_ms = None,
                    "timeout_ms" => l.timeout_ms = Some(n()?),
                    _ => {
                        return Err(Failure::argument(format!(
                            "unknown limit `{k}` (steps, memory, timeout_ms, depth)"
                        )));
                    }
                }
            }
            sess.limits = l;
            Ok(json!({
                "steps": l.steps, "memory": l.memory,
                "timeout_ms": l.timeout_ms, "depth": l.depth,
            }))
        })
    })
}

/// An output hook: receives `user_data` and `len` bytes of UTF-8 text (followed
/// by a NUL that `len` does not count), valid only during the call.
pub type JueOutput =
    Option<unsafe extern "C" fn(user_data: *mut c_void, text: *const c_char, len: usize)>;

struct COutput {
    f: unsafe extern "C" fn(*mut c_void, *const c_char, usize),
    user_data: *mut c_void,
}

// The host promises its hook may be called from whichever thread runs the session.
unsafe impl Send for COutput {}

impl Write for COutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut text = Vec::with_capacity(buf.len() + 1);
        text.extend_from_slice(buf);
        text.push(0);
        // SAFETY: the host registered this hook and user data.
        unsafe { (self.f)(self.user_data, text.as_ptr().cast(), buf.len()) };
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends what Jue prints to `output` (with `user_data`), or back to standard
/// output when `output` is null. Result: null.
///
/// # Safety
/// As for [`jue_grant`]; `output` and `user_data` must stay valid until the
/// session is freed or the hook replaced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_set_output(
    s: *mut JueSession,
    output: JueOutput,
    user_data: *mut c_void,
) -> *mut c_char {
    guard(|| unsafe {
        with_session(s, |sess| {
            let out: Box<dyn Write + Send> = match output {
                Some(f) => Box::new(COutput { f, user_data }),
                None => Box::new(FlushingStdout),
            };
            sess.set_output(Output::new(out));
            Ok(Json::Null)
        })
    })
}

/// Calls the procedure behind `handle` (from a result or a callback's
/// arguments, `{"handle": n}`) with a JSON array of positional arguments, as
/// `jue_call` calls a name. From inside a callback of the same session it runs
/// within the running evaluation (its steps count, its limits hold); otherwise as
/// a new call. An unknown or freed handle is kind `type`.
///
/// # Safety
/// As for [`jue_grant`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_handle_call(
    s: *mut JueSession,
    handle: u64,
    args_json: *const c_char,
) -> *mut c_char {
    guard(|| unsafe {
        let js = session_ref(s)?;
        let text = read_str(args_json, "arguments")?;
        let (f, args) = {
            let h = js.handles();
            let f = h.get(handle).cloned().ok_or_else(|| {
                Failure::new(
                    "type",
                    format!("no handle {handle} is held (freed, or never given)"),
                )
            })?;
            (f, parse_args(text, &h)?)
        };
        if let Some(r) = HostCx::call_in_callback(js.id, &f, &args) {
            let v = r.map_err(nested_failure)?;
            return value_to_json(&v, &mut js.handles());
        }
        with_session(s, |sess| {
            let callee = sess
                .vm()
                .roots
                .get(f.core())
                .map_err(|m| Failure::new("type", m))?;
            call_on(sess, &js.handles, callee, &args)
        })
    })
}

/// The failure of a call made through a running callback's context.
fn nested_failure(e: HostError) -> Failure {
    let (kind, message) = jue_engine::ErrorKind::of_nested(&e);
    Failure::new(kind, message)
}

/// Frees a procedure handle (the procedure may then be collected). Returns 0,
/// or -1 for a null session or a handle not held. Any thread, any time, also
/// from a callback; `jue_session_free` frees every handle still held.
///
/// # Safety
/// `s` is null or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_handle_free(s: *mut JueSession, handle: u64) -> i32 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: live per the contract; only the shared handle table is touched.
        match unsafe { session_ref(s) } {
            Ok(js) if js.handles().remove(handle) => 0,
            _ => -1,
        }
    }))
    .unwrap_or(-1)
}

/// How many procedure handles the host holds in `s` (-1 for a null session):
/// a host can check it does not leak them.
///
/// # Safety
/// `s` is null or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jue_handle_count(s: *mut JueSession) -> i64 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: live per the contract; only the shared handle table is touched.
        match unsafe { session_ref(s) } {
            Ok(js) => js.handles().len() as i64,
            Err(_) => -1,
        }
    }))
    .unwrap_or(-1)
}
