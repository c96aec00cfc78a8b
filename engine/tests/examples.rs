//! Runs the examples under `engine/examples/` and checks what they print.

use std::process::Command;

#[test]
fn seed_guide_example_walks_every_step() {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["run", "-q", "-p", "jue-engine", "--example", "seed_guide"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    // Cargo sets these for the test itself; passed on, they would make build
    // scripts that watch them (ring's watches CARGO_MANIFEST_DIR) rebuild everything.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if [
            "CARGO_MANIFEST_",
            "CARGO_PKG_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
        ]
        .iter()
        .any(|p| key.starts_with(p))
        {
            cargo.env_remove(&key);
        }
    }
    let out = cargo.output().expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
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
            "missing {expected:?} in:\n{stdout}\nstderr:\n{stderr}"
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
