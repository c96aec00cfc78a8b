//! Runs the tmux screen test (`tests/tmux/repl_screen.sh`): what the REPL's
//! screen shows in a real terminal. Skipped, with a note, where tmux is missing
//! (CI installs it: see `.ci/run`).

use std::process::Command;

#[test]
fn repl_screen_in_tmux() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tmux/repl_screen.sh");
    let out = Command::new("timeout")
        .args(["120", "bash", script, env!("CARGO_BIN_EXE_jue")])
        .output()
        .expect("run the tmux screen test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tmux screen test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all passed"), "{stdout}");
}
