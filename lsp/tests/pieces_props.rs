//! Whole-file answers assembled from cached per-slot pieces (full semantic tokens,
//! document symbols, folding ranges) equal a fresh computation: random texts of
//! Jue fragments take random edit sequences, each analysed as the server does (one
//! incremental document, each analysis handed the previous one's pieces), and
//! after each edit the cached answers must equal the uncached token pass and the
//! symbols and folding ranges of a fresh document of the same text, in UTF-16 and
//! UTF-8, nested and flat.
//!
//! Deterministic: a fixed seed, no failure-persistence files.

use jue_engine::analysis::document::Document;
use jue_lsp::analyze::{Analyzed, analyze};
use jue_lsp::features::{
    ClientCaps, Ctx, document_symbols, folding_ranges, semantic_tokens, semantic_tokens_full,
};
use jue_lsp::pieces::SlotTokens;
use jue_lsp::project::{Project, Projects};
use jue_lsp::protocol::Cancel;
use jue_lsp::text::Encoding;
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};
use ropey::Rope;
use std::str::FromStr;
use std::sync::Arc;
use tower_lsp_server::ls_types::Uri;

const FRAGMENTS: &[&str] = &[
    "(define (f x) (+ x 1))\n",
    "(define (g a b) (f a))\n",
    "(define h f)\n",
    "(define k fs:read-file)\n",
    "(g 1 2)\n",
    "(set! f 3)\n",
    ";; Reads the config.\n(define (read-config p) (fs:read-file p))\n",
    "(define (fetch u) (net:http-get u))\n",
    "(define (both u) (fetch u) (read-config u))\n",
    "(require-capability IoNetwork)\n",
    "(define (declared u) (require-capability IoNetwork) (fetch u))\n",
    "@formal\n(define (pure-fn x) (fetch x))\n",
    "(:formal (define (tf x) (exp-fn x)))\n",
    "(let ((loop (lambda (n) (fetch n)))) (loop 1))\n",
    "(define (uses-later) (later 1))\n(define (later x) x)\n",
    "(unknwn 1)\n",
    "(begin (define b1 1) (define b2 (lambda (q) q)))\n",
    "(a b) (c d)\n",
    "(define (dup) 1)\n(define (dup) 2)\n",
    "\"multi\nline\nstring\"\n",
    "; comment only\n",
    "(define (ünï x) \"→λ\") ; trailing comment\n",
    "(try (fetch 1) (catch e e))\n",
    ")\n",
    "  (define (indented y)\n    (let ((z y)) z))\n",
    "(define (cr a)\r  a)\r(cr 1)\r",
    "(define (crlf b)\r\n  b)\r\n",
];

/// Small pieces typed into the text: they break and mend forms.
const TYPED: &[&str] = &[
    "(", ")", "x", " ", "\n", ";", "\"", "@formal ", "(f ", "λ", "define", "fetch", "\r",
];

#[derive(Clone, Debug)]
enum Edit {
    Insert(f64, String),
    Delete(f64, usize),
    Replace(f64, usize, String),
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

fn project() -> Arc<Project> {
    Projects::default().for_file(None).0
}

/// Analyses `doc` as the server does, handing on `last`'s pieces.
fn analysed(
    doc: &mut Document,
    version: i32,
    project: &Arc<Project>,
    last: Option<&Analyzed>,
) -> Analyzed {
    let rope = Rope::from_str(doc.text());
    let mut a =
        analyze(doc, version, rope, project.clone(), None, None, &|| false).expect("not cancelled");
    if let Some(last) = last {
        a.pieces = last.pieces.clone();
    }
    a
}

fn same(a: &Analyzed, project: &Arc<Project>) -> Result<(), TestCaseError> {
    let uri = Uri::from_str("file:///t.jue").expect("uri");
    let cancel = Cancel::default();
    let tier = project.session().env().default_tier;
    let mut fresh_doc = Document::new(a.text().to_string(), tier);
    let fresh = analysed(&mut fresh_doc, a.version, project, None);
    for enc in [Encoding::Utf16, Encoding::Utf8] {
        for hierarchical in [true, false] {
            let caps = ClientCaps {
                hierarchical_symbols: hierarchical,
                ..ClientCaps::default()
            };
            let cx = |doc| Ctx {
                doc,
                uri: &uri,
                enc,
                caps: &caps,
                cancel: &cancel,
            };
            prop_assert_eq!(
                semantic_tokens_full(&cx(a)),
                semantic_tokens(&cx(&fresh), None),
                "tokens of {:?} ({:?})",
                a.text(),
                enc
            );
            prop_assert_eq!(
                serde_json::to_value(document_symbols(&cx(a))).expect("json"),
                serde_json::to_value(document_symbols(&cx(&fresh))).expect("json"),
                "symbols of {:?} ({:?})",
                a.text(),
                enc
            );
            prop_assert_eq!(
                folding_ranges(&cx(a)),
                folding_ranges(&cx(&fresh)),
                "folding ranges of {:?} ({:?})",
                a.text(),
                enc
            );
        }
    }
    Ok(())
}

#[test]
fn cached_answers_equal_fresh_ones_after_random_edits() {
    let config = ProptestConfig {
        cases: 96,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5eed_7011),
        ..ProptestConfig::default()
    };
    let project = project();
    let strategy = (
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..14).prop_map(|v| v.concat()),
        prop::collection::vec(edit_strategy(), 1..14),
    );
    TestRunner::new(config)
        .run(&strategy, |(text, edits)| {
            let tier = project.session().env().default_tier;
            let mut doc = Document::new(text, tier);
            let mut last = analysed(&mut doc, 0, &project, None);
            same(&last, &project)?;
            for (v, e) in edits.iter().enumerate() {
                let t = doc.text().to_string();
                let (r, s) = match e {
                    Edit::Insert(at, s) => (range_of(&t, *at, 0), s.as_str()),
                    Edit::Delete(at, n) => (range_of(&t, *at, *n), ""),
                    Edit::Replace(at, n, s) => (range_of(&t, *at, *n), s.as_str()),
                };
                doc.edit(r, s).expect("edit on character boundaries");
                last = analysed(&mut doc, v as i32 + 1, &project, Some(&last));
                same(&last, &project)?;
            }
            Ok(())
        })
        .unwrap();
}

/// An edit inside one definition of many makes one slot's piece again; the
/// others come from the cache.
#[test]
fn an_edit_remakes_only_the_pieces_of_the_slots_it_changed() {
    let project = project();
    let text: String = (0..200)
        .map(|i| format!("(define (f{i} x)\n  (+ x {i}))\n\n"))
        .collect();
    let tier = project.session().env().default_tier;
    let mut doc = Document::new(text, tier);
    let first = analysed(&mut doc, 0, &project, None);
    let uri = Uri::from_str("file:///t.jue").expect("uri");
    let (caps, cancel) = (ClientCaps::default(), Cancel::default());
    let cx = |doc| Ctx {
        doc,
        uri: &uri,
        enc: Encoding::Utf16,
        caps: &caps,
        cancel: &cancel,
    };
    let before = semantic_tokens_full(&cx(&first));
    assert!(!before.is_empty());
    // In the body of the 100th definition.
    let at = doc.text().find("(+ x 100)").expect("there") + 5;
    doc.edit(at..at, "1").expect("edit");
    let second = analysed(&mut doc, 1, &project, Some(&first));
    let revs: Vec<u64> = second.slots().map(|s| s.data.rev()).collect();
    assert_eq!(revs.len(), 200);
    let mut made = 0;
    second
        .pieces
        .tokens
        .pieces(&revs, Encoding::Utf16, |_| {
            made += 1;
            Some(SlotTokens::default())
        })
        .expect("not cancelled");
    assert_eq!(made, 1, "only the edited slot's tokens are made again");
}

/// What a definition needs is inferred over the whole text: a cached symbol's
/// detail follows a change in another slot that its own slot never saw.
#[test]
fn a_symbols_needs_follow_an_edit_elsewhere() {
    let project = project();
    let text = "(define (fetch u) u)\n\n(define (both u) (fetch u))\n";
    let tier = project.session().env().default_tier;
    let mut doc = Document::new(text.to_string(), tier);
    let first = analysed(&mut doc, 0, &project, None);
    let uri = Uri::from_str("file:///t.jue").expect("uri");
    let caps = ClientCaps {
        hierarchical_symbols: true,
        ..ClientCaps::default()
    };
    let cancel = Cancel::default();
    let details = |a: &Analyzed| -> Vec<String> {
        let cx = Ctx {
            doc: a,
            uri: &uri,
            enc: Encoding::Utf16,
            caps: &caps,
            cancel: &cancel,
        };
        let v = serde_json::to_value(document_symbols(&cx)).expect("json");
        v.as_array()
            .expect("nested symbols")
            .iter()
            .map(|s| s["detail"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(details(&first), ["@empirical", "@empirical"]);
    let both_rev = first.slots().nth(1).expect("two slots").data.rev();
    let at = doc.text().find("u) u)").expect("there") + 3;
    doc.edit(at..at + 1, "(fs:read-file u)").expect("edit");
    let second = analysed(&mut doc, 1, &project, Some(&first));
    assert_eq!(
        second.slots().nth(1).expect("two slots").data.rev(),
        both_rev,
        "the caller's slot is unchanged"
    );
    assert_eq!(
        details(&second),
        ["@empirical ⟨IoPersist⟩", "@empirical ⟨IoPersist⟩"]
    );
}
