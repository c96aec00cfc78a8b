//! Runs the example programs under `examples/` as the README tells a user to,
//! and checks what they print, so the README's commands stay true.

use std::process::Command;

/// Runs `jue run ARGS...` from the repository root: (status code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_jue"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("run")
        .args(args)
        .output()
        .expect("jue runs");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_tour_runs() {
    let (code, out, err) = run(&["examples/tour.jue"]);
    assert_eq!(code, Some(0), "{err}");
    for line in [
        "squares: (1 4 9 16)",
        "counted: 1000000",
        "counter: 2",
        "caught: (division-by-zero \"division by zero\")",
        "math:add: 42 fadd: 3.75",
        "average: 15",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing {line:?} in:\n{out}"
        );
    }
}

#[test]
fn the_capabilities_example_runs_with_its_grants_and_stops_without() {
    let granted = [
        "--grant",
        "IoPersist=examples",
        "--grant",
        "IoReadSensor",
        "--sensor",
        "temp=21.5",
        "examples/capabilities.jue",
    ];
    let (code, _, err) = run(&granted);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = run(&["examples/capabilities.jue"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("capability-denied"), "{err}");
}

#[test]
fn the_actors_example_talks_by_messages() {
    let (code, out, err) = run(&["--grant", "SysCreateActor", "examples/actors.jue"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "squares: (1 4 9 16)\nworker: done\nsums: (55 5050 500500)\n\
         failed: actor-failed\ntimeout: nothing\n"
    );
    // Its failure was awaited: no W0401.
    assert!(!err.contains("W0401"), "{err}");
    let (code, out, err) = run(&["examples/actors.jue"]);
    assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
    assert!(err.contains("capability-denied"), "{err}");
}

#[test]
fn the_wordcount_example_spans_three_files() {
    let (code, out, err) = run(&["examples/wordcount/main.jue"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "counts: {\"the\" 3 \"cat\" 1 \"and\" 2 \"dog\" 1 \"bird\" 1}\n\
         top: ((\"the\" . 3) (\"and\" . 2))\n\
         json: {\"the\":3,\"cat\":1,\"and\":2,\"dog\":1,\"bird\":1}\n"
    );
}
