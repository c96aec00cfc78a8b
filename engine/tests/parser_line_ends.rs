//! One diagnostic for a closer of the wrong kind, and lone-CR line ends counted
//! by the parser as by the lexer, `SourceFile` and the language server (LSP:
//! `\n`, `\r\n` and a lone `\r` end a line).

use jue_engine::analysis::analyze;
use jue_engine::analysis::document::Document;
use jue_engine::syntax::parse;
use jue_engine::syntax::parser::parse_slots;
use jue_engine::{Code, Session, SourceFile, Span};

fn spans_and_help(text: &str) -> Vec<(Span, String, Option<String>)> {
    parse(text)
        .diagnostics
        .into_iter()
        .map(|d| (d.span, d.message, d.help))
        .collect()
}

#[test]
fn a_wrong_kind_closer_is_one_error() {
    // The issue's case: no second "unclosed" error after the right one.
    let got = spans_and_help("(+ 1 2]");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, Span::new(6, 7));
    assert_eq!(got[0].1, "`]` does not close `(`");
    assert_eq!(got[0].2.as_deref(), Some("write `)`"));
    for text in ["[1 2 3)", "{:a 1)", "(g 1]\n(h 2)\n", "(a] b c", "(a]]"] {
        let p = parse(text);
        assert!(
            p.diagnostics
                .iter()
                .all(|d| d.code == Code::E0001 && !d.message.starts_with("unclosed")),
            "{text:?}: {:?}",
            p.diagnostics
        );
    }
    // A skipped wrong closer still lets the right one close the form.
    let p = parse("(a (b c]) d)");
    assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
    assert_eq!(p.forms.len(), 1);
}

#[test]
fn forms_around_a_mismatched_one_are_still_unclosed() {
    // Writing `)` for the `]` closes `(+ x 1`; the `(define` stays open.
    let text = "(define (f x)\n  (+ x 1]\n(f 2)\n";
    let got = spans_and_help(text);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, Span::new(0, 1));
    assert_eq!(got[0].1, "unclosed `(`");
    assert_eq!(got[0].2.as_deref(), Some("add `)` at the end of line 2"));
    assert_eq!(got[1].1, "`]` does not close `(`");
    // The session reports the same, and `(f 2)` is checked as if nothing were wrong.
    let s = Session::new();
    let an = s.check(&SourceFile::new("t.jue", text));
    let e0001 = an
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::E0001)
        .count();
    assert_eq!(e0001, 2);
}

#[test]
fn lone_cr_ends_lines_for_recovery_and_messages() {
    for nl in ["\n", "\r\n", "\r"] {
        let text = format!("(define (f x){nl}  (+ x 1){nl}{nl}(define (g y) y){nl}");
        let p = parse(&text);
        assert_eq!(p.diagnostics.len(), 1, "{nl:?}: {:?}", p.diagnostics);
        assert_eq!(p.diagnostics[0].span, Span::new(0, 1));
        // The line the message names is the line an editor shows (LSP counting).
        assert_eq!(
            p.diagnostics[0].help.as_deref(),
            Some("add `)` at the end of line 2"),
            "{nl:?}"
        );
        // `(define (g y) y)` in the first column after the error is parsed alone.
        assert_eq!(p.forms.len(), 2, "{nl:?}");
        assert!(p.forms[0].has_error);
        assert!(!p.forms[1].has_error);
        let src = SourceFile::new("t.jue", text.as_str());
        let g = p.forms[1].node.span.start;
        assert_eq!(src.line_col(g).0, 3, "{nl:?}: the third line (0-based)");
    }
}

#[test]
fn doc_comments_above_a_form_with_lone_cr() {
    let p = parse(";; Adds one.\r;; Really.\r(define (inc x) (+ x 1))\r; not doc\r\r(define y 2)");
    assert_eq!(p.forms[0].doc.as_deref(), Some("Adds one.\nReally."));
    assert_eq!(p.forms[1].doc, None);
}

/// Slot boundaries fall at line starts by all three line ends, and never between
/// the `\r` and `\n` of one line end.
#[test]
fn slots_end_at_every_kind_of_line_end() {
    let text = "(a)\r(b)\r\n(c)\n(d)";
    let slots = parse_slots(text, 0, |_| false).expect("balanced");
    let lens: Vec<u32> = slots.iter().map(|s| s.len).collect();
    assert_eq!(lens, vec![4, 5, 4, 3]);
    // Messages inside a later slot name lines of the whole text.
    let text = "(a)\r(b)\r(\"x\" . )\r";
    let slots = parse_slots(text, 0, |_| false).expect("balanced");
    assert_eq!(slots.len(), 3);
}

/// The incremental document agrees with a fresh parse when an edit joins a lone
/// `\r` and a `\n` into one line end, or splits one.
#[test]
fn edits_across_a_cr_keep_the_document_whole() {
    let session = Session::new();
    let env = session.env();
    let start = "(define (f x) x)\r(define (g y) (f y))\r(g 1)\r";
    let cases: [(usize, usize, &str); 5] = [
        (17, 17, "\n"),      // joins the first `\r` with a new `\n`
        (17, 17, "(h 1)\r"), // a form right after a lone `\r`
        (16, 17, ""),        // removes a line end: the forms share a line
        (16, 17, "\r\n(+ 1 2]\r"),
        (16, 17, "\r(+ 1\r"), // unclosed: recovery at a form after a lone `\r`
    ];
    for (a, b, new) in cases {
        let mut doc = Document::new(start.to_string(), env.default_tier);
        doc.refresh(&env, &|| false);
        doc.edit(a..b, new).expect("edit");
        assert!(doc.refresh(&env, &|| false));
        let mut text = start.to_string();
        text.replace_range(a..b, new);
        let whole = parse(&text);
        let incremental = doc.parse();
        assert_eq!(incremental.forms, whole.forms, "{text:?}");
        assert_eq!(incremental.diagnostics, whole.diagnostics, "{text:?}");
        let want = analyze(&whole, &env);
        let got = doc.analysis(env.mode);
        assert_eq!(got.diagnostics, want.diagnostics, "{text:?}");
        assert_eq!(got.definitions, want.definitions, "{text:?}");
    }
}
