//! Imports in `eval`ed source are relative to the process's current directory,
//! which is their root (tooling §5). Its own test binary: it changes the
//! process's current directory.

use jue_engine::vm::output::{Captured, Output};
use jue_engine::{Code, EvalError, Session};

#[test]
fn eval_imports_relative_to_the_current_directory() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("lib")).unwrap();
    std::fs::write(d.path().join("lib/u.jue"), "(define (twice x) (* 2 x))\n").unwrap();
    std::fs::write(d.path().join("outside.jue"), "(define z 1)\n").unwrap();
    std::env::set_current_dir(d.path().join("lib")).unwrap();
    let out = Captured::default();
    let mut s = Session::with_output(Output::new(Box::new(out.clone())));
    let v = s
        .eval_str("<eval>", "(import \"u.jue\" :as u) (u/twice 21)")
        .unwrap();
    assert_eq!(v, jue_engine::Value::Int(42));
    // Later evaluations of the session see the names it imported.
    assert_eq!(
        s.eval_str("<eval>", "(u/twice 1)").unwrap(),
        jue_engine::Value::Int(2)
    );
    // The current directory is the root: `..` may not leave it.
    match s.eval_str("<eval>", "(import \"../outside.jue\")") {
        Err(EvalError::Compile { diagnostics, .. }) => {
            assert!(
                diagnostics.iter().any(|d| d.code == Code::E0107),
                "{diagnostics:?}"
            )
        }
        other => panic!("{other:?}"),
    }
}
