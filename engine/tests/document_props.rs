//! The incremental document equals a from-scratch analysis: random texts built
//! from Jue fragments (definitions, uses before definitions, `set!`, tiers,
//! capability declarations, FFI calls, doc comments, syntax errors, unclosed
//! forms, multi-line strings, non-ASCII) take random edit sequences (insertions,
//! deletions, replacements, at any character boundary), and after each refresh the
//! document's parse and analysis must equal `parse` + `analyze` of the whole text:
//! diagnostics, definitions with inferred needs, references, locals, the lowered
//! items, input needs and global uses. Refreshes are sometimes skipped, so several
//! edits pile up before one refresh, and sometimes cancelled half-way.
//!
//! Deterministic: a fixed seed, no failure-persistence files.

use jue_engine::Session;
use jue_engine::analysis::document::Document;
use jue_engine::analysis::{Analysis, analyze};
use jue_engine::syntax::parse;
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};
use std::cell::Cell;

const FRAGMENTS: &[&str] = &[
    "(define (f x) (+ x 1))\n",
    "(define (g a b) (f a))\n",
    "(define (f y z) y)\n",
    "(define h f)\n",
    "(define k fs:read-file)\n",
    "(g 1 2)\n",
    "(f 1 2 3)\n",
    "(h 1)\n",
    "(set! f 3)\n",
    "(define counter 0)\n(set! counter (+ counter 1))\n",
    ";; Reads the config.\n(define (read-config p) (fs:read-file p))\n",
    "(define (fetch u) (net:http-get u))\n",
    "(define (both u) (fetch u) (read-config u))\n",
    "(require-capability IoNetwork)\n",
    "(define (declared u) (require-capability IoNetwork) (fetch u))\n",
    "(define (unused-decl) (require-capability IoPersist) 1)\n",
    "@formal\n(define (pure-fn x) (fetch x))\n",
    "@experimental (define (exp-fn x) x)\n",
    "(:formal (define (tf x) (exp-fn x)))\n",
    "(let ((loop (lambda (n) (fetch n)))) (loop 1))\n",
    "(define (uses-later) (later 1))\n(define (later x) x)\n",
    "(unknwn 1)\n",
    "(fs:raed-file \"a\")\n",
    "(define (shadow f) (f))\n",
    "(begin (define b1 1) (define b2 (lambda (q) q)))\n",
    "(a b) (c d)\n",
    "(define (dup) 1)\n(define (dup) 2)\n",
    "\"multi\nline\nstring\"\n",
    "; comment only\n",
    "(define (ünï x) \"→λ\") ; trailing comment\n",
    "'(quoted (data . tail))\n",
    "(if)\n",
    "(let ((x 1)) 2)\n",
    "(try (fetch 1) (catch e e))\n",
    ")\n",
    "[mismatch)\n",
    "@bogus (define z 1)\n",
    "(define (w . rest) rest)\n(w)\n",
    "(cond ((f 1) (fetch 2)) (else 3))\n",
    "(define (guarded u) (if (has-capability? IoNetwork) (fetch u) 0))\n",
    "(when (not (has-capability? 'IoPersist)) (read-config 1))\n",
    "(define (cr a)\r  a)\r(cr 1)\r",
    "(define (crlf b)\r\n  b)\r\n",
];

/// Small pieces typed into the text: they break and mend forms.
const TYPED: &[&str] = &[
    "(", ")", "]", "x", " ", "\n", ";", ";; ", "\"", "'", "@formal ", "f", "(f ", "1", "λ", "set!",
    "define", "(g)", "fetch", ":formal", "\r", "\r\n",
];

#[derive(Clone, Debug)]
enum Edit {
    /// Insert text at a fraction of the length.
    Insert(f64, String),
    /// Delete from a fraction of the length, up to `n` characters.
    Delete(f64, usize),
    /// Replace `n` characters at a fraction of the length.
    Replace(f64, usize, String),
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12).prop_map(|v| v.concat())
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(TYPED).prop_map(str::to_string),
        2 => prop::sample::select(FRAGMENTS).prop_map(str::to_string),
    ]
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..=1.0f64, piece()).prop_map(|(a, s)| Edit::Insert(a, s)),
        (0.0..=1.0f64, 0usize..30).prop_map(|(a, n)| Edit::Delete(a, n)),
        (0.0..=1.0f64, 0usize..6, piece()).prop_map(|(a, n, s)| Edit::Replace(a, n, s)),
    ]
}

/// What each step does after its edit.
#[derive(Clone, Copy, Debug)]
enum After {
    Refresh,
    Skip,
    /// Refresh, cancelled after this many slots, then refresh fully.
    Cancel(usize),
}

fn after_strategy() -> impl Strategy<Value = After> {
    prop_oneof![
        6 => Just(After::Refresh),
        2 => Just(After::Skip),
        1 => (0usize..3).prop_map(After::Cancel),
    ]
}

/// The byte range of an edit in `text`, on character boundaries.
fn range_of(text: &str, at: f64, n: usize) -> std::ops::Range<usize> {
    let mut start = ((text.len() as f64) * at) as usize;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let end = text[start..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(i, _)| start + i);
    start..end
}

thread_local! {
    /// Comparisons made, and how many of them had the text in several slots (not
    /// the one-slot fallback of an unclosed form): the test must exercise reuse.
    static COMPARED: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

fn same(doc: &Document, session: &Session, with_ir: bool) -> Result<(), TestCaseError> {
    let env = session.env();
    COMPARED.with(|c| {
        let (n, several) = c.get();
        c.set((n + 1, several + usize::from(doc.slots().count() > 2)));
    });
    let text = doc.text();
    let whole = parse(text);
    let incremental = doc.parse();
    prop_assert_eq!(&incremental.forms, &whole.forms, "forms of {:?}", text);
    prop_assert_eq!(
        &incremental.diagnostics,
        &whole.diagnostics,
        "syntax diagnostics of {:?}",
        text
    );
    let want: Analysis = analyze(&whole, &env);
    let got = doc.analysis(env.mode);
    prop_assert_eq!(
        &got.diagnostics,
        &want.diagnostics,
        "diagnostics of {:?}",
        text
    );
    prop_assert_eq!(
        &got.definitions,
        &want.definitions,
        "definitions of {:?}",
        text
    );
    prop_assert_eq!(
        &got.references,
        &want.references,
        "references of {:?}",
        text
    );
    prop_assert_eq!(
        format!("{:?}", got.locals),
        format!("{:?}", want.locals),
        "locals of {:?}",
        text
    );
    if with_ir {
        prop_assert_eq!(
            format!("{:?}", got.items),
            format!("{:?}", want.items),
            "items of {:?}",
            text
        );
    }
    prop_assert_eq!(
        got.input_needs,
        want.input_needs,
        "input needs of {:?}",
        text
    );
    prop_assert_eq!(
        &got.global_uses,
        &want.global_uses,
        "global uses of {:?}",
        text
    );
    prop_assert_eq!(&got.own_needs, &want.own_needs, "own needs of {:?}", text);
    Ok(())
}

fn run(text: String, edits: Vec<(Edit, After)>, with_ir: bool) -> Result<(), TestCaseError> {
    let session = Session::new();
    let env_tier = session.env().default_tier;
    let mut doc = Document::new(text, env_tier);
    doc.retain_ir(with_ir);
    doc.refresh(&session.env(), &|| false);
    same(&doc, &session, with_ir)?;
    for (edit, after) in edits {
        let (range, new) = match edit {
            Edit::Insert(at, s) => (range_of(doc.text(), at, 0), s),
            Edit::Delete(at, n) => (range_of(doc.text(), at, n), String::new()),
            Edit::Replace(at, n, s) => (range_of(doc.text(), at, n), s),
        };
        doc.edit(range, &new).expect("ranges are on boundaries");
        match after {
            After::Skip => continue,
            After::Refresh => {}
            After::Cancel(n) => {
                let left = Cell::new(n);
                let stop = || {
                    let l = left.get();
                    left.set(l.saturating_sub(1));
                    l == 0
                };
                doc.refresh(&session.env(), &stop);
            }
        }
        prop_assert!(doc.refresh(&session.env(), &|| false));
        same(&doc, &session, with_ir)?;
    }
    doc.refresh(&session.env(), &|| false);
    same(&doc, &session, with_ir)
}

#[test]
fn incremental_equals_whole_on_random_edit_sequences() {
    let config = ProptestConfig {
        cases: 400,
        rng_seed: RngSeed::Fixed(0x6a75_6520_696e_6372),
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    };
    let strategy = (
        text_strategy(),
        prop::collection::vec((edit_strategy(), after_strategy()), 1..25),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, |(text, edits, with_ir)| {
        run(text, edits, with_ir)
    }) {
        panic!("{e}");
    }
    let (n, several) = COMPARED.with(Cell::get);
    // Typed brackets and quotes often leave a form open (one slot); most
    // comparisons must still have reused slots to compare.
    assert!(
        several * 4 > n,
        "only {several} of {n} comparisons had several slots"
    );
}

#[test]
fn a_new_top_level_declaration_rewarns_later_slots() {
    let session = Session::new();
    let env = session.env();
    let text = "(define (a) 1)\n(define (fetch u) (net:http-get u))\n".to_string();
    let mut doc = Document::new(text, env.default_tier);
    doc.refresh(&env, &|| false);
    let w0301 = |doc: &Document| {
        doc.diagnostics(env.mode)
            .iter()
            .filter(|d| d.code == jue_engine::Code::W0301)
            .count()
    };
    assert_eq!(w0301(&doc), 1);
    doc.edit(0..0, "(require-capability IoNetwork)\n")
        .expect("valid edit");
    doc.refresh(&env, &|| false);
    assert_eq!(w0301(&doc), 0);
    assert_eq!(doc.work().relowered, 1, "{:?}", doc.work());
}

#[test]
fn an_edit_inside_one_definition_relowers_one_slot() {
    let session = Session::new();
    let env = session.env();
    let text: String = (0..200)
        .map(|i| format!("(define (f{i} x) (+ x {i}))\n"))
        .collect();
    let mut doc = Document::new(text, env.default_tier);
    doc.refresh(&env, &|| false);
    let at = doc.text().find("(+ x 100)").expect("present") + 5;
    doc.edit(at..at, "1").expect("valid edit");
    doc.refresh(&env, &|| false);
    let w = doc.work();
    assert_eq!((w.reparsed, w.relowered), (1, 1), "{w:?}");
}

#[test]
fn changing_a_signature_relowers_its_users_only() {
    let session = Session::new();
    let env = session.env();
    let mut text: String = (0..100)
        .map(|i| format!("(define (f{i} x) (+ x {i}))\n"))
        .collect();
    text.push_str("(define (user) (f7 1))\n(define (other) (f8 1))\n");
    let mut doc = Document::new(text, env.default_tier);
    doc.refresh(&env, &|| false);
    let at = doc.text().find("(define (f7 x)").expect("present") + "(define (f7 x".len();
    doc.edit(at..at, " y").expect("valid edit");
    doc.refresh(&env, &|| false);
    assert_eq!(doc.work().relowered, 2, "{:?}", doc.work());
    assert!(
        doc.diagnostics(env.mode)
            .iter()
            .any(|d| d.code == jue_engine::Code::E0103)
    );
}

#[test]
fn bad_edits_are_refused_and_change_nothing() {
    let session = Session::new();
    let env = session.env();
    let mut doc = Document::new("(define (é) 1)\n".into(), env.default_tier);
    doc.refresh(&env, &|| false);
    let before = doc.text().to_string();
    assert!(doc.edit(0..100, "x").is_err());
    #[allow(clippy::reversed_empty_ranges)] // a reversed range is the bad input here
    let reversed = 5..3;
    assert!(doc.edit(reversed, "x").is_err());
    assert!(doc.edit(10..10, "x").is_err(), "inside `é`");
    assert_eq!(doc.text(), before);
    assert!(doc.refresh(&env, &|| false));
}
