//! Runs the examples under `engine/examples/` and checks what they print. The
//! example's code is compiled into this test (no nested `cargo run`, which would
//! rebuild the workspace under another profile and double the test time).

#[path = "../examples/seed_guide.rs"]
mod seed_guide;

#[test]
fn seed_guide_example_walks_every_step() {
    let mut out = Vec::new();
    let result = seed_guide::run(&mut out);
    let stdout = String::from_utf8_lossy(&out);
    if let Err(e) = result {
        panic!("the guide failed: {e}\nstdout:\n{stdout}");
    }
    for expected in [
        "step 1: defined math:custom-add (formal) and guide:read-config (needs IoPersist)",
        "step 2: registered math:custom-add (Int Int) → Int as host function 100",
        "step 2: registered guide:read-config (String) → String as host function 8",
        "step 2: refused guide:formal-read:",
        "step 3: generated 3 ops for (math:custom-add 10 20):",
        "  PushConst(Int(10))",
        "  PushConst(Int(20))",
        "host_function: Custom(100), argc: 2 }",
        "step 3: a closure argument is refused:",
        "step 4: math:custom-add needs no capability check",
        "step 4: guide:read-config is guarded by [HasCap(",
        "step 5: (math:custom-add 10 20) => 30",
        "step 5: (ffi-call \"math:custom-add\" 1 2) => 3",
        "step 5: without IoPersist, (load-config) => error capability-denied:",
        "step 5: with IoPersist, (load-config) => \"debug = true\"",
        "step 5: after revoke, (load-config) => error capability-denied:",
        "audit: guide:read-config IoPersist allowed 1 time(s)",
        "audit: guide:read-config IoPersist denied 2 time(s)",
        "done",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // The steps come in order.
    let pos = |s: &str| stdout.find(s).unwrap_or(usize::MAX);
    assert!(pos("step 1:") < pos("step 2:"));
    assert!(pos("step 2:") < pos("step 3:"));
    assert!(pos("step 3:") < pos("step 4:"));
    assert!(pos("step 4:") < pos("step 5:"));
    assert!(pos("step 5:") < pos("done"));
}
