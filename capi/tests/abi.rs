//! The C ABI called from Rust: envelopes, bad inputs, callbacks, capabilities.

use jue::*;
use serde_json::Value as Json;
use std::ffi::{CStr, CString, c_char, c_void};

fn take(p: *mut c_char) -> Json {
    assert!(!p.is_null());
    let text = unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string();
    unsafe { jue_string_free(p) };
    serde_json::from_str(&text).unwrap()
}

fn ok(p: *mut c_char) -> Json {
    let v = take(p);
    assert_eq!(v["status"], "success", "{v}");
    v["result"].clone()
}

fn kind(p: *mut c_char) -> String {
    let v = take(p);
    assert_eq!(v["status"], "error", "{v}");
    v["error"]["kind"].as_str().unwrap().to_string()
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

#[test]
fn version_is_static() {
    let v = unsafe { CStr::from_ptr(jue_version()) };
    assert!(v.to_str().unwrap().starts_with("jue "));
}

#[test]
fn eval_call_and_errors() {
    let s = jue_session_new();
    unsafe {
        assert_eq!(
            ok(jue_eval(s, c("(define (sq x) (* x x)) (sq 9)").as_ptr())),
            81
        );
        assert_eq!(
            ok(jue_call(s, c("math:add").as_ptr(), c("[10, 20]").as_ptr())),
            30
        );
        assert_eq!(
            kind(jue_call(s, c("nope").as_ptr(), c("[]").as_ptr())),
            "unbound"
        );
        assert_eq!(
            kind(jue_call(s, c("math:add").as_ptr(), c("[1,").as_ptr())),
            "argument"
        );
        assert_eq!(kind(jue_eval(s, std::ptr::null())), "argument");
        assert_eq!(
            kind(jue_eval(std::ptr::null_mut(), c("1").as_ptr())),
            "argument"
        );
        let bad = [0xffu8, 0xfe, 0];
        assert_eq!(kind(jue_eval(s, bad.as_ptr().cast())), "argument");
        assert_eq!(kind(jue_eval(s, c("(+ 1").as_ptr())), "compile");
        assert_eq!(kind(jue_grant(s, c("io-network").as_ptr())), "grant");
        jue_string_free(std::ptr::null_mut());
        jue_session_free(s);
        jue_session_free(std::ptr::null_mut());
    }
}

unsafe extern "C" fn reply(user_data: *mut c_void, _args: *const c_char) -> *const c_char {
    if user_data.is_null() {
        c"{\"status\":\"success\",\"result\":\"read\"}".as_ptr()
    } else {
        c"{\"status\":\"error\",\"error\":{\"kind\":\"io\",\"message\":\"broken\"}}".as_ptr()
    }
}

#[test]
fn callbacks_and_capabilities() {
    let s = jue_session_new();
    unsafe {
        let spec = c(
            r#"{"name":"r:read","parameter_types":["String"],"return_type":"String","required_capability":"IoPersist","capability":"IoPersist"}"#,
        );
        let f = ok(jue_register(
            s,
            spec.as_ptr(),
            Some(reply),
            std::ptr::null_mut(),
        ));
        assert_eq!(f["required_capability"], "IoPersist");
        let req = c(r#"{"args":["x"],"capability":"IoPersist"}"#);
        assert_eq!(
            kind(jue_call(s, c("r:read").as_ptr(), req.as_ptr())),
            "capability-denied"
        );
        ok(jue_grant(s, c("IoPersist").as_ptr()));
        assert_eq!(ok(jue_eval(s, c(r#"(r:read "x")"#).as_ptr())), "read");
        ok(jue_revoke(s, c("IoPersist").as_ptr()));
        assert_eq!(
            kind(jue_eval(s, c(r#"(r:read "x")"#).as_ptr())),
            "capability-denied"
        );

        let spec = c(r#"{"name":"r:fail","parameter_types":[],"return_type":"Any"}"#);
        ok(jue_register(
            s,
            spec.as_ptr(),
            Some(reply),
            std::ptr::dangling_mut::<c_void>(),
        ));
        let e = take(jue_eval(s, c("(r:fail)").as_ptr()));
        assert_eq!(e["error"]["kind"], "host");
        assert!(e["error"]["message"].as_str().unwrap().contains("broken"));

        let formal = c(
            r#"{"name":"r:f","parameter_types":[],"return_type":"Int","required_capability":"SysClock","tier":"formal"}"#,
        );
        assert_eq!(
            kind(jue_register(
                s,
                formal.as_ptr(),
                Some(reply),
                std::ptr::null_mut()
            )),
            "registry"
        );
        assert_eq!(
            kind(jue_register(s, spec.as_ptr(), None, std::ptr::null_mut())),
            "argument"
        );

        let reg = ok(jue_registry(s));
        assert!(
            reg["functions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["name"] == "r:fail")
        );
        jue_session_free(s);
    }
}

#[test]
fn limits_interrupt_and_output() {
    use std::sync::atomic::{AtomicPtr, Ordering};
    let s = jue_session_new();
    unsafe {
        let l = ok(jue_session_set_limits(s, c(r#"{"steps": 1000}"#).as_ptr()));
        assert_eq!(l["steps"], 1000);
        assert!(l["timeout_ms"].is_null());
        assert_eq!(
            kind(jue_eval(
                s,
                c("(define (loop n) (loop (+ n 1))) (loop 0)").as_ptr()
            )),
            "step-limit"
        );
        for bad in [
            r#"{"steps": -1}"#,
            r#"{"nope": 1}"#,
            "[]",
            "{",
            r#"{"depth": 1.5}"#,
        ] {
            assert_eq!(kind(jue_session_set_limits(s, c(bad).as_ptr())), "argument");
        }
        assert_eq!(
            kind(jue_session_set_limits(s, std::ptr::null())),
            "argument"
        );
        ok(jue_session_set_limits(
            s,
            c(r#"{"steps": 100000000000, "timeout_ms": 30}"#).as_ptr(),
        ));
        assert_eq!(
            kind(jue_call(s, c("loop").as_ptr(), c("[0]").as_ptr())),
            "timeout"
        );
        ok(jue_session_set_limits(
            s,
            c(r#"{"timeout_ms": null}"#).as_ptr(),
        ));

        // An interrupt raised while idle is dropped.
        assert_eq!(jue_interrupt(s), 0);
        assert_eq!(jue_interrupt(std::ptr::null_mut()), -1);
        assert_eq!(ok(jue_eval(s, c("(+ 1 2)").as_ptr())), 3);

        // From another thread, while a call runs.
        let p = AtomicPtr::new(s);
        std::thread::scope(|sc| {
            sc.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(100));
                jue_interrupt(p.load(Ordering::SeqCst));
            });
            let t = std::time::Instant::now();
            assert_eq!(
                kind(jue_call(s, c("loop").as_ptr(), c("[0]").as_ptr())),
                "interrupted"
            );
            assert!(t.elapsed() < std::time::Duration::from_secs(5));
        });
        assert_eq!(ok(jue_eval(s, c("(+ 2 2)").as_ptr())), 4);

        // The output hook.
        unsafe extern "C" fn sink(ud: *mut c_void, text: *const c_char, len: usize) {
            let out = unsafe { &mut *(ud as *mut Vec<u8>) };
            out.extend_from_slice(unsafe { std::slice::from_raw_parts(text.cast(), len) });
            assert_eq!(unsafe { *text.add(len) }, 0);
        }
        let mut got: Vec<u8> = Vec::new();
        ok(jue_set_output(
            s,
            Some(sink),
            (&mut got as *mut Vec<u8>).cast(),
        ));
        ok(jue_eval(s, c(r#"(println "hi" 1) (print "x")"#).as_ptr()));
        assert_eq!(String::from_utf8_lossy(&got), "hi 1\nx");
        ok(jue_set_output(s, None, std::ptr::null_mut()));
        ok(jue_eval(s, c(r#"(print "")"#).as_ptr()));
        assert_eq!(String::from_utf8_lossy(&got), "hi 1\nx");
        assert_eq!(
            kind(jue_set_output(
                std::ptr::null_mut(),
                Some(sink),
                std::ptr::null_mut()
            )),
            "argument"
        );
        jue_session_free(s);
    }
}

#[test]
fn calls_keep_no_arguments() {
    // A 200,000-character string passed 300 times (60 MB) fits a 16 MB heap
    // only if each call's argument is released when it returns.
    let s = jue_session_new();
    unsafe {
        ok(jue_session_set_limits(
            s,
            c(r#"{"memory": 16777216}"#).as_ptr(),
        ));
        let big = format!("[\"{}\"]", "x".repeat(200_000));
        let arg = c(&big);
        for _ in 0..300 {
            assert_eq!(
                ok(jue_call(s, c("string-length").as_ptr(), arg.as_ptr())),
                200_000
            );
        }
        jue_session_free(s);
    }
}

#[test]
fn an_actor_id_does_not_cross_and_actors_run_during_eval() {
    let s = jue_session_new();
    unsafe {
        ok(jue_grant(s, c("SysCreateActor").as_ptr()));
        // An actor id is kind `type` at the boundary (tooling §5).
        assert_eq!(kind(jue_eval(s, c("(self)").as_ptr())), "type");
        // `eval` runs the scheduler until actor 0's form ends.
        assert_eq!(
            ok(jue_eval(
                s,
                c("(define (sq x) (* x x)) (await (spawn sq 12))").as_ptr()
            )),
            144
        );
        jue_session_free(s);
    }
}
