//! A bounded fuzz of the sandbox: random programs built from the language's forms
//! and built-ins (recursion, sharing, big strings and lists included) run under
//! small limits. Whatever they do, the engine answers with a value or an error
//! and the session goes on working: no panic, no abort, no hang past the limits.
//! CI runs a fixed number of cases (`PROPTEST_CASES` raises it for a longer run).

use jue_engine::{EvalError, Limits, Session, Value};
use proptest::prelude::*;

/// Expressions over a few variables, with the built-ins an attacker would reach
/// for first: recursion, sharing, strings, printing, equality, dict versions.
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        // Literals through `id`, so that no type is known statically and every
        // program compiles: mistakes are run-time errors.
        (-5i64..50).prop_map(|i| format!("(id {i})")),
        Just("x".to_string()),
        Just("y".to_string()),
        Just("(id \"ab\")".to_string()),
        Just("(id '(1 2 3))".to_string()),
        Just("(id nil)".to_string()),
        Just("(f x)".to_string()),
        Just("(g y y)".to_string()),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        let two = (inner.clone(), inner.clone());
        prop_oneof![
            two.clone().prop_map(|(a, b)| format!("(cons {a} {b})")),
            two.clone().prop_map(|(a, b)| format!("(equal? {a} {b})")),
            two.clone()
                .prop_map(|(a, b)| format!("(append (list {a}) (list {b}))")),
            two.clone().prop_map(|(a, b)| format!("(if {a} {b} nil)")),
            two.clone()
                .prop_map(|(a, b)| format!("(string-append (to-string {a}) (to-string {b}))")),
            two.clone()
                .prop_map(|(a, b)| format!("(let ((d {a})) (cons d (cons d {b})))")),
            // Dict versions: one updated and read again (settled), one kept
            // while a newer one changes in place.
            two.clone().prop_map(|(a, b)| format!(
                "(let ((d (dict-set (id {{\"k\" 1}}) {a} {b}))) (list (dict-set d {b} {a}) (dict-ref d {a} nil) d))"
            )),
            two.clone()
                .prop_map(|(a, b)| format!("(dict-remove (dict-set (id {{}}) {a} {b}) {a})")),
            inner.clone().prop_map(|a| format!("(f {a})")),
            inner
                .clone()
                .prop_map(|a| format!("(reverse (list {a} {a}))")),
            inner
                .clone()
                .prop_map(|a| format!("(string->symbol (to-string {a}))")),
            inner.clone().prop_map(|a| format!("(print {a})")),
            inner.clone().prop_map(|a| format!("(length (list {a}))")),
            inner
                .clone()
                .prop_map(|a| format!("(try (car {a}) (catch e (error-kind e)))")),
            two.prop_map(|(a, b)| format!("(+ {a} {b})")),
        ]
        // No result type is known statically either.
        .prop_map(|e| format!("(id {e})"))
    })
}

fn program() -> impl Strategy<Value = String> {
    (expr(), expr(), expr()).prop_map(|(f, g, main)| {
        format!(
            "(define (id v) v)\n\
             (define (f x) (if (pair? x) (f (cdr x)) {f}))\n\
             (define (g x y) (if (= 0 (length (list x))) y (cons (g y y) {g})))\n\
             (define y 7)\n\
             (let ((x (g 1 2))) {main})"
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_programs_end_in_a_value_or_an_error_and_the_session_survives(text in program()) {
        let mut s = Session::with_output(jue_engine::vm::output::Output::new(Box::new(std::io::sink())));
        s.limits = Limits {
            steps: 200_000,
            memory: 4 << 20,
            timeout_ms: Some(2_000),
            depth: 2_000,
            ..Limits::DEFAULT
        };
        let r = s.eval_str("fuzz.jue", &text);
        // Generated programs are well formed: every case really runs.
        prop_assert!(!matches!(r, Err(EvalError::Compile { .. })), "{:?}", r);
        prop_assert_eq!(s.eval_str("after.jue", "(+ 1 2)").ok(), Some(Value::Int(3)));
    }
}
