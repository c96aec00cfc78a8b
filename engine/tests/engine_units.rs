//! Focused tests of each engine stage through the public API: lexer, parser
//! (with the recovery rules of language §2), analysis (diagnostics of §11),
//! compiler (bytecode shape), VM (closures, depth, collector, limits), printing
//! (§3) and owned values, and the REPL-mode rules of §4.
//!
//! Tests that could overflow the stack if the engine regressed run in a child
//! process (`in_child_process`), so an abort fails just that test.

use jue_engine::diagnostic::Diagnostic;
use jue_engine::syntax::lexer::{TokenKind, lex};
use jue_engine::syntax::parse;
use jue_engine::syntax::tree::{Bracket, NodeKind};
use jue_engine::vm::output::{Captured, Output};
use jue_engine::vm::value::Value as VmValue;
use jue_engine::{
    Capability, Code, ErrorKind, EvalError, GrantSource, Session, SourceFile, Span, TrustTier,
    Value,
};

// ----- helpers -----

fn src(text: &str) -> SourceFile {
    SourceFile::new("test.jue", text)
}

fn sp(start: usize, end: usize) -> Span {
    Span::new(start, end)
}

/// The printed form of the value of `text`, or a description of the error.
fn show(s: &mut Session, text: &str) -> String {
    match s.eval_vm(src(text)) {
        Ok(v) => s.show(v),
        Err(EvalError::Compile { diagnostics, .. }) => {
            panic!("unexpected diagnostics for {text:?}: {diagnostics:#?}")
        }
        Err(EvalError::Runtime(e)) => panic!("unexpected run-time error for {text:?}: {e}"),
    }
}

/// Evaluates and expects success, returning the owned value.
fn ev(s: &mut Session, text: &str) -> Value {
    match s.eval_str("test.jue", text) {
        Ok(v) => v,
        Err(e) => panic!("evaluating {text:?} failed: {e:?}"),
    }
}

/// Evaluates and expects a run-time error; returns it.
fn runtime_err(s: &mut Session, text: &str) -> jue_engine::RuntimeError {
    match s.eval_str("test.jue", text) {
        Err(EvalError::Runtime(e)) => e,
        other => panic!("expected a run-time error for {text:?}, got {other:?}"),
    }
}

fn diags(s: &Session, text: &str) -> Vec<Diagnostic> {
    s.check(&src(text)).diagnostics
}

fn with_code(ds: &[Diagnostic], code: Code) -> Vec<Diagnostic> {
    ds.iter().filter(|d| d.code == code).cloned().collect()
}

/// Exactly one diagnostic of `code` for `text`; returns it.
fn one(s: &Session, text: &str, code: Code) -> Diagnostic {
    let ds = diags(s, text);
    let found = with_code(&ds, code);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {code} for {text:?}, got {ds:#?}"
    );
    found.into_iter().next().unwrap()
}

fn kinds(text: &str) -> Vec<TokenKind> {
    lex(text).tokens.into_iter().map(|t| t.kind).collect()
}

/// Runs `f` on a thread with a 64 MiB stack (analysis and compilation recurse over
/// source nesting; test threads have small stacks).
fn big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("big-stack thread panicked")
}

/// Runs the test `name` in a child process with `JUE_UNITS_CHILD` set, so a
/// stack overflow (which aborts the process) fails just that test. Returns true in
/// the child, where the caller should run the real body.
fn in_child_process(name: &str) -> bool {
    if std::env::var_os("JUE_UNITS_CHILD").is_some() {
        return true;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env("JUE_UNITS_CHILD", "1")
        .output()
        .expect("run child test process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child process for {name} failed ({}):\n{}\n{}",
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    // The child must really have run the test, not filtered it out.
    assert!(
        stdout.contains("1 passed"),
        "child process ran no test for {name}:\n{stdout}"
    );
    false
}

fn captured_session() -> (Session, Captured) {
    let cap = Captured::default();
    let s = Session::with_output(Output::new(Box::new(cap.clone())));
    (s, cap)
}

// ===================================================================== lexer

#[test]
fn lex_integers_with_spans() {
    let l = lex("0 42 -7 9223372036854775807 -9223372036854775808");
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let got: Vec<(TokenKind, Span)> = l.tokens.into_iter().map(|t| (t.kind, t.span)).collect();
    assert_eq!(
        got,
        vec![
            (TokenKind::Int(0), sp(0, 1)),
            (TokenKind::Int(42), sp(2, 4)),
            (TokenKind::Int(-7), sp(5, 7)),
            (TokenKind::Int(i64::MAX), sp(8, 27)),
            (TokenKind::Int(i64::MIN), sp(28, 48)),
        ]
    );
}

#[test]
fn lex_integer_out_of_range_is_an_error_at_the_literal() {
    for (text, span) in [
        ("9223372036854775808", sp(0, 19)),
        ("(+ 1 -9223372036854775809)", sp(5, 25)),
        ("(+ 1 99999999999999999999)", sp(5, 25)),
    ] {
        let l = lex(text);
        assert_eq!(l.diagnostics.len(), 1, "{text}: {:?}", l.diagnostics);
        assert_eq!(l.diagnostics[0].code, Code::E0001);
        assert_eq!(l.diagnostics[0].span, span, "{text}");
        assert!(l.diagnostics[0].message.contains("out of range"));
        assert!(
            l.tokens
                .iter()
                .any(|t| t.kind == TokenKind::Error && t.span == span)
        );
    }
}

#[test]
fn lex_floats() {
    assert_eq!(
        kinds("1.0 -2.5 1e16 1E3 1.5e-7 -3e+2 0.0 2.5E10"),
        vec![
            TokenKind::Float(1.0),
            TokenKind::Float(-2.5),
            TokenKind::Float(1e16),
            TokenKind::Float(1e3),
            TokenKind::Float(1.5e-7),
            TokenKind::Float(-300.0),
            TokenKind::Float(0.0),
            TokenKind::Float(2.5e10),
        ]
    );
    // `1.0` is a Float, not an Int.
    assert!(matches!(kinds("1.0")[0], TokenKind::Float(_)));
    // Out of range.
    let l = lex("1e400");
    assert_eq!(l.diagnostics.len(), 1);
    assert_eq!(l.diagnostics[0].code, Code::E0001);
    assert_eq!(l.diagnostics[0].span, sp(0, 5));
}

#[test]
fn lex_words_that_are_not_numbers_are_symbols() {
    for w in [
        "-",
        "+",
        "1.",
        ".5",
        "1e",
        "1.2.3",
        "-a",
        "1+",
        "+1",
        "1.5e",
        "--1",
        "1e+",
        "math:add",
        "io:sensor:read",
        "is-even?",
        "set!",
        "<=",
        "my_var",
        "_",
        "λ",
        "a'b",
        "...",
    ] {
        assert_eq!(kinds(w), vec![TokenKind::Symbol], "{w:?}");
    }
}

#[test]
fn lex_literals_booleans_nil_keywords_dot_quote_annotation_comment() {
    assert_eq!(
        kinds("true false nil :formal :a . ' @formal ; c"),
        vec![
            TokenKind::Bool(true),
            TokenKind::Bool(false),
            TokenKind::Nil,
            TokenKind::Symbol,
            TokenKind::Symbol,
            TokenKind::Dot,
            TokenKind::Quote,
            TokenKind::Annotation,
            TokenKind::Comment,
        ]
    );
    assert_eq!(
        kinds("([x])"),
        vec![
            TokenKind::LParen,
            TokenKind::LBracket,
            TokenKind::Symbol,
            TokenKind::RBracket,
            TokenKind::RParen,
        ]
    );
    let l = lex("; hello\n'a");
    let spans: Vec<Span> = l.tokens.iter().map(|t| t.span).collect();
    assert_eq!(spans, vec![sp(0, 7), sp(8, 9), sp(9, 10)]);
}

#[test]
fn lex_unicode_whitespace_separates_tokens() {
    // U+3000 IDEOGRAPHIC SPACE (3 bytes) and U+00A0 NO-BREAK SPACE (2 bytes).
    let l = lex("a\u{3000}b\u{a0}c");
    assert!(l.diagnostics.is_empty());
    let got: Vec<(TokenKind, Span)> = l.tokens.into_iter().map(|t| (t.kind, t.span)).collect();
    assert_eq!(
        got,
        vec![
            (TokenKind::Symbol, sp(0, 1)),
            (TokenKind::Symbol, sp(4, 5)),
            (TokenKind::Symbol, sp(7, 8)),
        ]
    );
}

#[test]
fn lex_string_escapes() {
    let l = lex(r#""a\nb\tc\rd\0e\"f\\g\u{1F600}\u{41}""#);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    assert_eq!(
        l.tokens[0].kind,
        TokenKind::Str("a\nb\tc\rd\0e\"f\\g😀A".into())
    );
    assert_eq!(l.tokens[0].span, sp(0, l.tokens[0].span.end as usize));
    assert_eq!(l.tokens.len(), 1);
}

#[test]
fn lex_strings_may_span_lines() {
    let l = lex("\"line one\nline two\" x");
    assert!(l.diagnostics.is_empty());
    assert_eq!(
        l.tokens[0].kind,
        TokenKind::Str("line one\nline two".into())
    );
    assert_eq!(l.tokens[0].span, sp(0, 19));
    assert_eq!(l.tokens[1].kind, TokenKind::Symbol);
}

#[test]
fn lex_bad_escapes_point_at_the_escape() {
    for (text, span) in [
        (r#""a\qb""#, sp(2, 4)),
        (r#""\u{110000}""#, sp(1, 11)),
        (r#""\u{D800}""#, sp(1, 9)),
        (r#""\u{}""#, sp(1, 5)),
        (r#""\u{1234567}""#, sp(1, 12)),
        (r#""\u{zz}""#, sp(1, 7)),
        (r#""\u41""#, sp(1, 3)),
        (r#""\u{1F600""#, sp(1, 3)),
        ("\"\\é\"", sp(1, 4)),
    ] {
        let l = lex(text);
        assert_eq!(l.diagnostics.len(), 1, "{text}: {:?}", l.diagnostics);
        assert_eq!(l.diagnostics[0].code, Code::E0001, "{text}");
        assert_eq!(l.diagnostics[0].span, span, "{text}");
        // The string itself is still one token: reading goes on after the escape.
        assert_eq!(l.tokens.len(), 1, "{text}: {:?}", l.tokens);
    }
}

#[test]
fn lex_unterminated_string_points_at_its_quote_and_resumes_next_line() {
    let l = lex("(f \"abc");
    assert_eq!(l.diagnostics.len(), 1);
    assert_eq!(l.diagnostics[0].code, Code::E0001);
    assert_eq!(l.diagnostics[0].span, sp(3, 4));
    assert!(l.diagnostics[0].message.contains("unterminated string"));

    let l = lex("(f \"abc\n(g 1)");
    assert_eq!(l.diagnostics.len(), 1);
    assert_eq!(l.diagnostics[0].span, sp(3, 4));
    let after: Vec<TokenKind> = l
        .tokens
        .iter()
        .filter(|t| t.span.start >= 8)
        .map(|t| t.kind.clone())
        .collect();
    assert_eq!(
        after,
        vec![
            TokenKind::LParen,
            TokenKind::Symbol,
            TokenKind::Int(1),
            TokenKind::RParen
        ]
    );
}

#[test]
fn lex_unicode_escape_rejects_a_sign() {
    let l = lex(r#""\u{+41}""#);
    assert_eq!(l.diagnostics.len(), 1, "{:?}", l.tokens);
    assert_eq!(l.diagnostics[0].span, sp(1, 8));
}

// ===================================================================== parser

#[test]
fn parse_several_forms_of_every_shape() {
    let p = parse("1 (a b) '(c . d) [x] \"s\" 2.5 true nil :k ()");
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(p.forms.len(), 10);
    assert!(matches!(p.forms[0].node.kind, NodeKind::Int(1)));
    let NodeKind::Quote(q) = &p.forms[2].node.kind else {
        panic!("quote")
    };
    assert_eq!(p.forms[2].node.span, sp(8, 16));
    let l = q.as_list().expect("quoted list");
    assert_eq!(l.items.len(), 1);
    assert!(l.tail.is_some());
    assert_eq!(p.forms[3].node.as_list().unwrap().bracket, Bracket::Square);
    assert!(matches!(p.forms[8].node.kind, NodeKind::Symbol(ref s) if &**s == ":k"));
    let empty = p.forms[9].node.as_list().expect("() is a list node");
    assert!(empty.items.is_empty() && empty.tail.is_none());
}

#[test]
fn parse_unclosed_form_recovers_at_column_zero() {
    let text = "(define (f x)\n  (+ x 1)\n\n(define (g y) y)\n";
    let p = parse(text);
    assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
    let d = &p.diagnostics[0];
    assert_eq!(d.code, Code::E0001);
    assert_eq!(d.span, sp(0, 1));
    assert_eq!(d.message, "unclosed `(`");
    assert_eq!(d.help.as_deref(), Some("add `)` at the end of line 2"));
    assert_eq!(p.forms.len(), 2);
    assert!(p.forms[0].has_error);
    assert_eq!(p.forms[0].node.span, sp(0, 23));
    assert!(!p.forms[1].has_error);
    assert_eq!(p.forms[1].node.span, sp(25, 41));
}

#[test]
fn parse_unclosed_nested_forms_name_every_closer() {
    let p = parse("(define (f x)\n  (+ x 1\n(g)\n");
    assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
    assert_eq!(p.diagnostics[0].span, sp(0, 1));
    assert_eq!(
        p.diagnostics[0].help.as_deref(),
        Some("add `))` at the end of line 2")
    );
    // A comment after the last token does not move the line.
    let p = parse("(f\n  ; c\n(g)");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(
        p.diagnostics[0].help.as_deref(),
        Some("add `)` at the end of line 1")
    );
    // Brackets are closed with their own kind.
    let p = parse("[a (b\n(c)");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].message, "unclosed `[`");
    assert_eq!(
        p.diagnostics[0].help.as_deref(),
        Some("add `)]` at the end of line 1")
    );
}

#[test]
fn parse_unclosed_at_end_of_text() {
    let p = parse("(a (b");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].span, sp(0, 1));
    assert_eq!(p.forms.len(), 1);
    assert!(p.forms[0].has_error);
}

#[test]
fn parse_forms_after_an_error_are_checked_as_if_it_were_not_there() {
    let s = Session::new();
    let ds = diags(
        &s,
        "(define (f x)\n  (+ x 1)\n\n(define (g y) (lenght y))\n",
    );
    let codes: Vec<(Code, Span)> = ds.iter().map(|d| (d.code, d.span)).collect();
    assert_eq!(
        codes,
        vec![(Code::E0001, sp(0, 1)), (Code::E0101, sp(40, 46))]
    );
}

#[test]
fn parse_stray_closer_is_reported_and_skipped() {
    let p = parse(") (a)");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].code, Code::E0001);
    assert_eq!(p.diagnostics[0].span, sp(0, 1));
    assert_eq!(p.forms.len(), 1);
    assert!(!p.forms[0].has_error);
    assert_eq!(p.forms[0].node.span, sp(2, 5));

    let p = parse("(a))\n(b)");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].span, sp(3, 4));
    assert_eq!(p.forms.len(), 2);
    assert!(p.forms.iter().all(|f| !f.has_error));
}

#[test]
fn parse_wrong_kind_closer_is_reported_and_skipped() {
    let p = parse("[a)]");
    assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
    let d = &p.diagnostics[0];
    assert_eq!(d.code, Code::E0001);
    assert_eq!(d.span, sp(2, 3));
    assert_eq!(d.help.as_deref(), Some("write `]`"));
    assert_eq!(p.forms.len(), 1);
    assert_eq!(p.forms[0].node.span, sp(0, 4));
    let items = &p.forms[0].node.as_list().unwrap().items;
    assert_eq!(items.len(), 1);

    // The `(` left open is then closed by recovery at the next column-0 form,
    // without a second error: the one at `]` already says to write `)`.
    let p = parse("(a]\n(b)");
    let got: Vec<Span> = p.diagnostics.iter().map(|d| d.span).collect();
    assert_eq!(got, vec![sp(2, 3)]);
    assert!(
        p.forms
            .iter()
            .any(|f| f.node.span == sp(4, 7) && !f.has_error)
    );
}

#[test]
fn parse_unterminated_string_resumes_on_the_next_line() {
    let p = parse("\"abc\n(+ 1 2)\n");
    assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
    assert_eq!(p.diagnostics[0].span, sp(0, 1));
    let f = p
        .forms
        .iter()
        .find(|f| f.node.span == sp(5, 12))
        .expect("(+ 1 2) is parsed");
    assert!(!f.has_error);

    // Inside a form: the string error, and the form left open by it.
    let p = parse("(print \"abc)\n(g 1)\n");
    let got: Vec<Span> = p.diagnostics.iter().map(|d| d.span).collect();
    assert_eq!(got, vec![sp(0, 1), sp(7, 8)]);
    let g = p.forms.last().unwrap();
    assert_eq!(g.node.span, sp(13, 18));
    assert!(!g.has_error);
}

#[test]
fn parse_nesting_limit() {
    let ok = "(".repeat(1000) + &")".repeat(1000);
    let p = parse(&ok);
    assert!(p.diagnostics.is_empty());
    assert_eq!(p.forms.len(), 1);

    let deep = "(".repeat(1001) + &")".repeat(1001);
    let p = parse(&deep);
    assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
    assert_eq!(p.diagnostics[0].code, Code::E0001);
    assert_eq!(p.diagnostics[0].span, sp(1000, 1001));
    assert!(p.diagnostics[0].message.contains("nesting too deep"));
    assert_eq!(p.forms.len(), 1);
    assert!(p.forms[0].has_error);

    // Far deeper input never touches the Rust stack in the parser.
    let p = parse(&("[".repeat(200_000) + &"]".repeat(200_000)));
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].span, sp(1000, 1001));
}

#[test]
fn nesting_at_the_limit_checks_compiles_and_runs() {
    big_stack(|| {
        let mut s = Session::new();
        let text = "(list ".repeat(1000) + &")".repeat(1000);
        let v = s.eval_vm(src(&text)).expect("1000 levels are accepted");
        let printed = s.show(v);
        assert_eq!(printed, "(".repeat(999) + "nil" + &")".repeat(999));
        let deep = "(list ".repeat(1001) + &")".repeat(1001);
        let a = s.check(&src(&deep));
        assert_eq!(a.diagnostics.len(), 1, "{:?}", a.diagnostics);
        assert_eq!(a.diagnostics[0].code, Code::E0001);
        assert_eq!(a.diagnostics[0].span, sp(6000, 6001));
    });
}

#[test]
fn parse_balanced_text_ignores_layout() {
    let p = parse("(define (f x)\n(+ x\n1))\n(f\n1)");
    assert!(p.diagnostics.is_empty());
    assert_eq!(p.forms.len(), 2);
}

#[test]
fn parse_dots() {
    assert!(parse("'(1 . 2)").diagnostics.is_empty());
    assert!(parse("(lambda (a . rest) rest)").diagnostics.is_empty());
    for (text, span) in [
        ("(. 1)", sp(1, 2)),
        ("(1 .)", sp(3, 4)),
        (".", sp(0, 1)),
        ("(1 . 2 3)", sp(7, 8)),
        ("(1 . . 2)", sp(5, 6)),
    ] {
        let p = parse(text);
        assert_eq!(p.diagnostics.len(), 1, "{text}: {:?}", p.diagnostics);
        assert_eq!(p.diagnostics[0].code, Code::E0001, "{text}");
        assert_eq!(p.diagnostics[0].span, span, "{text}");
    }
}

#[test]
fn parse_quote_needs_a_datum() {
    let p = parse("'");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].span, sp(0, 1));
    let p = parse("(a ')");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].span, sp(3, 4));
    let p = parse("''a");
    assert!(p.diagnostics.is_empty());
    let NodeKind::Quote(inner) = &p.forms[0].node.kind else {
        panic!()
    };
    assert!(matches!(inner.kind, NodeKind::Quote(_)));
    assert_eq!(inner.span, sp(1, 3));
}

#[test]
fn parse_annotations() {
    let p = parse("@formal\n\n; c\n(define x 1)");
    assert!(p.diagnostics.is_empty());
    assert_eq!(p.forms[0].annotation, Some((TrustTier::Formal, sp(0, 7))));

    let p = parse("@bogus 1");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].code, Code::E0002);
    assert_eq!(p.diagnostics[0].span, sp(0, 6));

    let p = parse("@formall 1");
    assert_eq!(
        p.diagnostics[0].help.as_deref(),
        Some("did you mean `@formal`?")
    );

    for (text, span) in [
        ("@formal @verified 1", sp(0, 7)),
        ("(a @formal b)", sp(3, 10)),
        ("1 @formal", sp(2, 9)),
    ] {
        let p = parse(text);
        assert_eq!(p.diagnostics.len(), 1, "{text}: {:?}", p.diagnostics);
        assert_eq!(p.diagnostics[0].code, Code::E0002, "{text}");
        assert_eq!(p.diagnostics[0].span, span, "{text}");
    }
}

#[test]
fn parse_doc_comments() {
    let p = parse(";; Adds one.\n;; Really.\n(define (inc x) (+ x 1))\n; not doc\n\n(define y 2)");
    assert_eq!(p.forms[0].doc.as_deref(), Some("Adds one.\nReally."));
    assert_eq!(p.forms[1].doc, None);
}

#[test]
fn parse_unclosed_form_after_a_non_ascii_token_does_not_panic() {
    // Minimal: a form left open at the end of the text after `λ`.
    let p = std::panic::catch_unwind(|| parse("(λ"));
    let p = p.expect("parse panicked");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].span, sp(0, 1));
    // Recovery at a `(` in column 0 after such a token.
    let p = parse("(λ\n(a)");
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].span, sp(0, 1));
    assert_eq!(
        p.diagnostics[0].help.as_deref(),
        Some("add `)` at the end of line 1")
    );
    // A realistic one, as an editor sees it while typing.
    let p = parse("(define café\n(display 1)\n");
    assert_eq!(p.diagnostics.len(), 1);
}

#[test]
fn parse_deep_quote_nesting_is_bounded() {
    if !in_child_process("parse_deep_quote_nesting_is_bounded") {
        return;
    }
    // Run on an 8 MiB stack, like a program's main thread.
    let r = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            let text = "'".repeat(100_000) + "a";
            let p = parse(&text);
            let n = p.diagnostics.len();
            drop(p);
            let s = Session::new();
            let a = s.check(&src(&text));
            (n, a.has_errors())
        })
        .unwrap()
        .join()
        .unwrap();
    // Deep quoting must not crash; if it is limited like lists, it is E0001.
    assert!(r.0 <= 1, "{r:?}");
}

// ===================================================================== analysis

#[test]
fn e0101_unbound_with_did_you_mean() {
    let s = Session::new();
    let d = one(&s, "(lenght '(1))", Code::E0101);
    assert_eq!(d.span, sp(1, 7));
    assert_eq!(d.message, "unbound variable `lenght`");
    assert_eq!(d.help.as_deref(), Some("did you mean `length`?"));
    assert_eq!(d.suggestion.as_deref(), Some("length"));

    // Locals are candidates too.
    let d = one(&s, "(let ((counter 1)) countr)", Code::E0101);
    assert_eq!(d.suggestion.as_deref(), Some("counter"));
    assert_eq!(d.span, sp(19, 25));

    // Each occurrence.
    let ds = with_code(&diags(&s, "(list zzq zzq)"), Code::E0101);
    let spans: Vec<Span> = ds.iter().map(|d| d.span).collect();
    assert_eq!(spans, vec![sp(6, 9), sp(10, 13)]);
    assert!(ds.iter().all(|d| d.suggestion.is_none()));

    // The actor built-ins are built-ins now: `spawn` checks its argument type.
    let d = one(&s, "(spawn 1)", Code::E0104);
    assert_eq!(d.span, sp(7, 8));
}

#[test]
fn e0102_unknown_ffi_function() {
    let s = Session::new();
    let d = one(&s, "(math:ad 1 2)", Code::E0102);
    assert_eq!(d.span, sp(1, 8));
    assert_eq!(d.suggestion.as_deref(), Some("math:add"));
    assert_eq!(d.help.as_deref(), Some("did you mean `math:add`?"));
    let d = one(&s, "(ffi-call \"math:ad\" 1 2)", Code::E0102);
    assert_eq!(d.span, sp(10, 19));
    let d = one(&s, "(ffi-call 'nope:nothing-like-it)", Code::E0102);
    assert_eq!(d.span, sp(10, 31));
    // A keyword is not an FFI name.
    assert!(diags(&s, ":a:b").is_empty());
}

#[test]
fn e0103_arity_with_related_definition() {
    let s = Session::new();
    let d = one(&s, "(define (f a b) a b) (f 1)", Code::E0103);
    assert_eq!(d.span, sp(22, 23));
    assert_eq!(d.message, "`f` takes 2 arguments, but 1 was given");
    assert_eq!(d.related.len(), 1);
    assert_eq!(d.related[0].span, sp(9, 10));

    // Used before its definition in the text: still known.
    let d = one(&s, "(define (g) (h 1 2)) (define (h x) x)", Code::E0103);
    assert_eq!(d.span, sp(13, 14));
    assert_eq!(d.related[0].span, sp(30, 31));

    // Variadic, `def`, a let-bound lambda, a named let.
    let d = one(&s, "(define (v a . r) a) (v)", Code::E0103);
    assert!(d.message.contains("at least 1 argument"), "{}", d.message);
    let d = one(&s, "(def w (a) a) (w 1 2)", Code::E0103);
    assert_eq!(d.related[0].span, sp(5, 6));
    let d = one(&s, "(let ((k (lambda (x) x))) (k 1 2))", Code::E0103);
    assert_eq!(d.span, sp(27, 28));
    assert_eq!(d.related[0].span, sp(7, 8));
    one(&s, "(let loop ((i 0)) (loop))", Code::E0103);

    // Built-ins and FFI functions.
    let d = one(&s, "(car 1 2)", Code::E0103);
    assert_eq!(d.span, sp(1, 4));
    assert_eq!(d.help.as_deref(), Some("`car` is (Pair) → Any"));
    let d = one(&s, "(math:add 1)", Code::E0103);
    assert_eq!(d.span, sp(1, 9));

    // A global assigned with set! has no known arity.
    assert!(
        with_code(
            &diags(&s, "(define (f a) a) (set! f car) (f 1 2)"),
            Code::E0103
        )
        .is_empty()
    );
}

#[test]
fn e0104_known_argument_types() {
    let s = Session::new();
    for (text, span) in [
        ("(car 1)", sp(5, 6)),
        ("(string-length 1)", sp(15, 16)),
        ("(+ 1 \"a\")", sp(5, 8)),
        ("(math:add 1 \"a\")", sp(12, 15)),
        ("(cdr 'sym)", sp(5, 9)),
        ("(symbol->string \"s\")", sp(16, 19)),
    ] {
        let d = one(&s, text, Code::E0104);
        assert_eq!(d.span, span, "{text}");
    }
    // A head of a known non-procedure type.
    let d = one(&s, "(1 2)", Code::E0104);
    assert_eq!(d.span, sp(1, 2));
    assert_eq!(d.message, "a value of type Int is not a procedure");
    one(&s, "(\"f\" 1)", Code::E0104);
    // Unknown types are not reported.
    assert!(diags(&s, "(define (f x) (car x))").is_empty());
}

/// E0105 cases whose span is a sub-form.
#[test]
fn e0105_malformed_special_forms_point_at_the_sub_form() {
    let s = Session::new();
    for (text, span) in [
        ("(set! 1 2)", sp(6, 7)),
        ("(set! car 1)", sp(6, 9)),
        ("(ffi-call (f))", sp(10, 13)),
        ("(require-capability 1)", sp(20, 21)),
        ("(has-capability? \"IoNetwork\")", sp(17, 28)),
        ("(cond 1)", sp(6, 7)),
        ("(cond (else 1) (true 2))", sp(6, 14)),
        ("(list (define x 1))", sp(6, 18)),
        ("(list (begin (define x 1)))", sp(13, 25)),
        ("(define x 1 2)", sp(12, 13)),
        ("(define 5 1)", sp(8, 9)),
        ("(define (5) 1)", sp(9, 10)),
        ("(define :k 1)", sp(8, 10)),
        ("(define if 1)", sp(8, 10)),
        ("(let ((x)) 1)", sp(6, 9)),
        ("(let ((x 1) (x 2)) x)", sp(13, 14)),
        ("(let 5 1)", sp(5, 6)),
        ("(lambda (x x) x)", sp(11, 12)),
        ("(lambda (if) 1)", sp(9, 11)),
        ("(lambda 5 1)", sp(8, 9)),
        ("(list if)", sp(6, 8)),
        ("(try 1 (catch 5 2))", sp(8, 13)),
        ("(define (f) 1 (define y 2) y)", sp(14, 26)),
    ] {
        let ds = diags(&s, text);
        let e = with_code(&ds, Code::E0105);
        assert_eq!(e.len(), 1, "{text}: {ds:#?}");
        assert_eq!(e[0].span, span, "{text}: {}", e[0].message);
    }
}

/// E0105 cases where no sub-form is at fault: the diagnostic covers at least the head.
#[test]
fn e0105_malformed_special_forms_without_a_sub_form() {
    let s = Session::new();
    for text in [
        "(if)",
        "(if 1)",
        "(if 1 2 3 4)",
        "(quote)",
        "(quote 1 2)",
        "(lambda)",
        "(fn)",
        "(let)",
        "(let*)",
        "(letrec)",
        "(let loop)",
        "(set! x)",
        "(when)",
        "(unless)",
        "(try 1)",
        "(define)",
        "(define x)",
        "(ffi-call)",
        "(require-capability)",
        "(has-capability? IoNetwork IoPersist)",
    ] {
        let head_end = text.find([' ', ')']).unwrap();
        let ds = diags(&s, text);
        let e = with_code(&ds, Code::E0105);
        assert_eq!(e.len(), 1, "{text}: {ds:#?}");
        assert!(
            e[0].span.start <= 1 && e[0].span.end as usize >= head_end,
            "{text}: {:?}",
            e[0].span
        );
    }
}

#[test]
fn e0105_without_a_sub_form_points_at_the_head() {
    let s = Session::new();
    for text in [
        "(if)",
        "(quote)",
        "(lambda)",
        "(let)",
        "(when)",
        "(try 1)",
        "(define x)",
    ] {
        let head_end = text.find([' ', ')']).unwrap();
        let d = one(&s, text, Code::E0105);
        assert_eq!(d.span, sp(1, head_end), "{text}");
    }
}

#[test]
fn e0105_duplicate_top_level_definition() {
    let s = Session::new();
    let d = one(&s, "(define x 1)\n(define x 2)", Code::E0105);
    assert_eq!(d.span, sp(21, 22));
    assert_eq!(d.message, "`x` is already defined");
    assert_eq!(d.related.len(), 1);
    assert_eq!(d.related[0].span, sp(8, 9));
    // Functions, `def`, and definitions inside top-level `begin` count too.
    let d = one(&s, "(define (f) 1)\n(begin (def f (a) a))", Code::E0105);
    assert_eq!(d.span, sp(27, 28));
    assert_eq!(d.related[0].span, sp(9, 10));
}

#[test]
fn definitions_in_later_evaluations_are_not_duplicates() {
    let mut s = Session::new();
    ev(&mut s, "(define x 1)");
    assert_eq!(ev(&mut s, "(define x 2) x"), Value::Int(2));
}

#[test]
fn w0303_unused_bindings_and_the_underscore_exemption() {
    let s = Session::new();
    for (text, span, msg) in [
        ("(let ((x 1) (_y 2)) 3)", sp(7, 8), "unused binding `x`"),
        ("(lambda (a _b) 1)", sp(9, 10), "unused parameter `a`"),
        (
            "(define (f) (define (h) 1) 2)",
            sp(21, 22),
            "unused binding `h`",
        ),
        (
            "(try 1 (catch e 2))",
            sp(14, 15),
            "unused error variable `e`",
        ),
        ("(let* ((a 1) (b a)) 2)", sp(14, 15), "unused binding `b`"),
        ("(letrec ((a 1)) 2)", sp(10, 11), "unused binding `a`"),
        ("(let loop ((i 0)) 1)", sp(12, 13), "unused parameter `i`"),
        (
            "(define (f unused) 1)",
            sp(11, 17),
            "unused parameter `unused`",
        ),
    ] {
        let ds = diags(&s, text);
        assert_eq!(ds.len(), 1, "{text}: {ds:#?}");
        assert_eq!(ds[0].code, Code::W0303, "{text}");
        assert_eq!(ds[0].span, span, "{text}");
        assert_eq!(ds[0].message, msg, "{text}");
        assert!(!ds[0].is_error());
    }
    for text in [
        "(lambda (_) 1)",
        "(let ((_x 1)) 2)",
        "(define (f _unused) 1)",
        "(define x 1)",
        "(define (never-called) 1)",
        "(try 1 (catch _e 2))",
        "(let ((x 1)) (set! x 2))",
    ] {
        let ds = diags(&s, text);
        assert!(ds.is_empty(), "{text}: {ds:#?}");
    }
}

#[test]
fn w0304_in_repl_mode_only_inside_bodies() {
    let mut s = Session::new();
    // File mode: an unbound name in a body is an error.
    one(&s, "(define (f) (later 1))", Code::E0101);
    s.set_repl_mode(true);
    let ds = diags(&s, "(define (f) (later 1))");
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(ds[0].code, Code::W0304);
    assert_eq!(ds[0].span, sp(13, 18));
    assert!(!ds[0].is_error());
    // At top level it is still E0101.
    one(&s, "(later 1)", Code::E0101);
    // Names with `:` stay E0102.
    one(&s, "(define (f) (nope:fn 1))", Code::E0102);

    // Calling before defining is an `unbound` run-time error; after, it works.
    ev(&mut s, "(define (f) (later 1))");
    let e = runtime_err(&mut s, "(f)");
    assert_eq!(e.kind, ErrorKind::Unbound);
    ev(&mut s, "(define (later x) (+ x 41))");
    assert_eq!(ev(&mut s, "(f)"), Value::Int(42));
}

#[test]
fn forward_references_between_top_level_definitions() {
    let mut s = Session::new();
    let text = "(define (f) (g))\n(define (g) (+ h 1))\n(define h 41)\n(f)";
    assert!(diags(&s, text).is_empty());
    assert_eq!(ev(&mut s, text), Value::Int(42));
    // Mutual recursion.
    let text = "(define (ev? n) (if (= n 0) true (od? (- n 1))))\n\
                (define (od? n) (if (= n 0) false (ev? (- n 1))))\n(ev? 1001)";
    assert_eq!(ev(&mut s, text), Value::Bool(false));
    // Reading a global whose definition has not run yet is `unbound` at run time.
    let e = runtime_err(&mut s, "(define x2 y2)\n(define y2 1)");
    assert_eq!(e.kind, ErrorKind::Unbound);
    assert!(e.message.contains("y2"), "{}", e.message);
}

#[test]
fn errors_stop_everything_from_running() {
    let (mut s, out) = captured_session();
    match s.eval_vm(src("(println \"ran\")\n(car 1 2)")) {
        Err(EvalError::Compile { diagnostics, .. }) => {
            assert!(diagnostics.iter().any(|d| d.code == Code::E0103))
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    assert_eq!(out.text(), "");
    // Warnings do not stop anything.
    s.eval_vm(src("(let ((unused 1)) (println \"ran\"))"))
        .unwrap();
    assert_eq!(out.text(), "ran\n");
}

#[test]
fn analysis_records_definitions_and_references() {
    let s = Session::new();
    let a = s.check(&src(";; Doc.\n(define (f a b) (+ a b))\n(define v 1)"));
    assert!(a.diagnostics.is_empty());
    assert_eq!(a.definitions.len(), 2);
    let f = &a.definitions[0];
    assert_eq!(f.name, "f");
    assert_eq!(f.name_span, sp(17, 18));
    assert_eq!(f.params, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(f.doc.as_deref(), Some("Doc."));
    assert_eq!(
        f.arity,
        Some(jue_engine::analysis::Arity {
            required: 2,
            variadic: false
        })
    );
    assert_eq!(a.definitions[1].arity, None);
    assert_eq!(a.items.len(), 2);
}

// ===================================================================== prepare / run

#[test]
fn prepare_then_run() {
    let mut s = Session::new();
    let p = s.prepare(src("(define x 20)\n(+ x 22)")).unwrap();
    assert_eq!(p.items.len(), 2);
    assert!(p.items[0].is_definition);
    assert!(!p.items[1].is_definition);
    let v = s.run(&p).unwrap();
    assert_eq!(s.show(v), "42");
    // Running again runs the same code again.
    let v = s.run(&p).unwrap();
    assert_eq!(s.show(v), "42");
    assert!(s.prepare(src("(car)")).is_err());
}

// ===================================================================== compiler

fn protos_named(s: &Session, name: &str) -> Vec<String> {
    s.vm()
        .protos()
        .iter()
        .filter(|p| &*p.name == name)
        .map(|p| p.disassemble())
        .collect()
}

fn all_protos_validate(s: &Session) {
    for p in s.vm().protos() {
        if let Err(e) = p.validate() {
            panic!("{e}\n{}", p.disassemble());
        }
    }
}

#[test]
fn tail_calls_compile_to_tail_call() {
    let mut s = Session::new();
    s.limits.depth = 50;
    let v = ev(
        &mut s,
        "(define (count-down n) (if (= n 0) 'done (count-down (- n 1))))\n(count-down 1000000)",
    );
    assert_eq!(v, Value::Symbol("done".into()));
    let code = protos_named(&s, "count-down");
    assert_eq!(code.len(), 1);
    assert!(code[0].contains("TailCall"), "{}", code[0]);
    assert!(!code[0].contains(" Call("), "{}", code[0]);
    // Its own global at its own arity: tried as a loop first.
    assert!(code[0].contains("TailSelf(1, 1)\n"), "{}", code[0]);
    // `(= n 0)` is a compare-and-branch.
    assert!(code[0].contains("JumpIfNotEqImm"), "{}", code[0]);

    // Calls in `cond` and `and` tails, and named-let loops.
    let v = ev(
        &mut s,
        "(define (loop2 i acc) (cond ((> i 100000) acc) (else (and true (loop2 (+ i 1) (+ acc 1))))))\n\
         (loop2 0 0)",
    );
    assert_eq!(v, Value::Int(100001));
    let v = ev(&mut s, "(let lp ((i 0)) (when (< i 100000) (lp (+ i 1))))");
    assert_eq!(v, Value::Nil);
    let code = protos_named(&s, "loop2");
    assert!(code[0].contains("TailCall"), "{}", code[0]);
    // A call of another global, or of another arity, is a plain tail call.
    ev(&mut s, "(define (other n) (count-down n))");
    ev(&mut s, "(define (v n . r) (if (= n 0) r (v (- n 1))))");
    for name in ["other", "v"] {
        let code = protos_named(&s, name);
        assert!(!code[0].contains("TailSelf"), "{}", code[0]);
    }
    // A named let calling itself in tail position is a loop: a backward jump,
    // no call at all.
    let code = protos_named(&s, "lp");
    assert!(code[0].contains("Jump(-"), "{}", code[0]);
    assert!(!code[0].contains("Call("), "{}", code[0]);
    all_protos_validate(&s);
}

#[test]
fn non_tail_calls_are_plain_calls() {
    let mut s = Session::new();
    ev(
        &mut s,
        "(define (sum n) (if (= n 0) 0 (+ n (sum (- n 1)))))\n\
         (define (guarded f) (try (f) (catch e (error-kind e))))\n\
         (define (id x) x)",
    );
    let code = protos_named(&s, "sum");
    assert!(code[0].contains(" CallGlobal("), "{}", code[0]);
    assert!(!code[0].contains("TailCall"), "{}", code[0]);
    // A call inside `try` is not in tail position: the handler must stay in place.
    let code = protos_named(&s, "guarded");
    assert!(code[0].contains(" Call("), "{}", code[0]);
    assert!(code[0].contains("PushHandler"), "{}", code[0]);
    assert_eq!(
        ev(&mut s, "(guarded (lambda () (car (id 1))))"),
        Value::Symbol("type".into())
    );
}

#[test]
fn if_less_than_constant_is_compare_and_branch() {
    let mut s = Session::new();
    let v = ev(
        &mut s,
        "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(fib 20)",
    );
    assert_eq!(v, Value::Int(6765));
    let code = protos_named(&s, "fib");
    assert_eq!(code.len(), 1);
    // The base case in tail position: the branch and its return in one.
    assert!(code[0].contains("ReturnIfLtImm(0, 2, 0)"), "{}", code[0]);
    assert!(!code[0].contains("Lt("), "{}", code[0]);
    assert!(!code[0].contains("JumpIfFalse"), "{}", code[0]);
    // `(- n 1)` is an add of an immediate.
    assert!(code[0].contains("AddImm"), "{}", code[0]);
    // The branch falls back correctly on Floats and fails on non-numbers.
    assert_eq!(ev(&mut s, "(fib 1.5)"), Value::Float(1.5));
    assert_eq!(runtime_err(&mut s, "(fib \"x\")").kind, ErrorKind::Type);
}

#[test]
fn a_base_case_in_tail_position_returns_in_one_instruction() {
    let mut s = Session::new();
    ev(
        &mut s,
        "(define (tak x y z) (if (not (< y x)) z (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))))\n\
         (define (below n) (if (< n 2) n (+ n 1)))\n\
         (define (kept n) (+ 1 (if (< n 2) n 0)))\n\
         (define (two n) (if (< n 2) (+ n 1) n))",
    );
    let tak = protos_named(&s, "tak");
    assert!(
        tak[0].contains("   0  ReturnIfNotLt(1, 0, 2)\n"),
        "{}",
        tak[0]
    );
    assert!(!tak[0].contains("JumpIfLt"), "{}", tak[0]);
    assert_eq!(ev(&mut s, "(tak 18 12 6)"), Value::Int(7));
    assert_eq!(ev(&mut s, "(tak 1 2 3)"), Value::Int(3));
    assert_eq!(ev(&mut s, "(below 1)"), Value::Int(1));
    assert_eq!(ev(&mut s, "(below 5)"), Value::Int(6));
    assert_eq!(ev(&mut s, "(below -4.5)"), Value::Float(-4.5));
    // Floats compare on the slow path; other values fail as `<` does.
    assert_eq!(ev(&mut s, "(tak 1.5 2.5 'z)"), Value::Symbol("z".into()));
    let e = runtime_err(&mut s, "(tak 1 \"a\" 3)");
    assert_eq!(e.kind, ErrorKind::Type);
    assert_eq!(runtime_err(&mut s, "(below 'x)").kind, ErrorKind::Type);
    // Not in tail position, or a branch that does more than return: unfused.
    assert!(!protos_named(&s, "kept")[0].contains("ReturnIf"));
    assert!(!protos_named(&s, "two")[0].contains("ReturnIf"));
    assert_eq!(
        ev(&mut s, "(list (kept 1) (kept 7) (two 1) (two 7))"),
        ev(&mut s, "'(2 1 2 7)")
    );
    // The step limit still stops a recursion that returns this way.
    s.limits.steps = 10_000;
    assert_eq!(
        runtime_err(&mut s, "(tak 24 16 8)").kind,
        ErrorKind::StepLimit
    );
}

#[test]
fn every_prototype_validates() {
    let mut s = Session::new();
    for text in [
        "(define (f x . r) (let loop ((i 0) (acc r)) (if (< i x) (loop (+ i 1) (cons i acc)) acc)))",
        "(f 3 'a 'b)",
        "(define (g) (let ((n 0)) (lambda () (set! n (+ n 1)) n)))",
        "((g))",
        "(define (h x) (cond ((car x)) ((cdr x) 1) (else 2)))",
        "(h '(false . true))",
        "(try (error \"boom\" 1 2) (catch e (list (error-kind e) (error-message e))))",
        "(letrec ((ev? (lambda (n) (if (= n 0) true (od? (- n 1))))) (od? (lambda (n) (if (= n 0) false (ev? (- n 1)))))) (ev? 10))",
        "(define (w) (define a 1) (define (b) a) (b))",
        "(w)",
        "(and 1 (or false 2) (when true 3) (unless false 4))",
        "(:formal (+ 1 2))",
        "(map (lambda (x) (* x x)) '(1 2 3))",
        "(foldl + 0 '(1 2 3))",
    ] {
        s.eval_vm(src(text))
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    assert!(s.vm().protos().len() > 10);
    all_protos_validate(&s);
}

// ===================================================================== VM

#[test]
fn closures_capture_and_share_assigned_variables() {
    let mut s = Session::new();
    ev(
        &mut s,
        "(define (make-counter) (let ((n 0)) (lambda () (set! n (+ n 1)) n)))\n\
         (define c1 (make-counter))\n(define c2 (make-counter))",
    );
    assert_eq!(ev(&mut s, "(c1)"), Value::Int(1));
    assert_eq!(ev(&mut s, "(c1)"), Value::Int(2));
    assert_eq!(ev(&mut s, "(c2)"), Value::Int(1));
    assert_eq!(
        ev(&mut s, "(list (c1) (c2))"),
        Value::List(vec![Value::Int(3), Value::Int(2)])
    );

    // Two closures sharing one variable.
    let v = ev(
        &mut s,
        "(define (make-acc) (let ((total 0))\n\
           (list (lambda (x) (set! total (+ total x))) (lambda () total))))\n\
         (define acc (make-acc))\n\
         ((car acc) 5) ((car acc) 7)\n\
         ((car (cdr acc)))",
    );
    assert_eq!(v, Value::Int(12));

    // set! after the closure was made is seen by it; a parameter can be captured and assigned.
    assert_eq!(
        ev(
            &mut s,
            "(let ((x 1)) (let ((get (lambda () x))) (set! x 2) (get)))"
        ),
        Value::Int(2)
    );
    assert_eq!(
        ev(
            &mut s,
            "(define (p x) (let ((inc (lambda () (set! x (* x 2))))) (inc) (inc) x)) (p 3)"
        ),
        Value::Int(12)
    );
    // Captures through two levels of lambdas.
    assert_eq!(
        ev(
            &mut s,
            "(((lambda (a) (lambda (b) (lambda (c) (+ a b c)))) 1) 2)"
        )
        .type_name(),
        "Fn"
    );
    assert_eq!(
        ev(
            &mut s,
            "((((lambda (a) (lambda (b) (lambda (c) (list a b c)))) 1) 2) 3)"
        ),
        Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)])
    );
    // Each iteration of a named let binds afresh.
    assert_eq!(
        ev(
            &mut s,
            "(let loop ((i 0) (acc '()))\n\
               (if (< i 3) (loop (+ i 1) (cons (lambda () i) acc)) (map (lambda (f) (f)) acc)))"
        ),
        Value::List(vec![Value::Int(2), Value::Int(1), Value::Int(0)])
    );
    // A letrec-bound closure that refers to itself.
    assert_eq!(
        ev(
            &mut s,
            "(letrec ((fact (lambda (n) (if (= n 0) 1 (* n (fact (- n 1))))))) (fact 10))"
        ),
        Value::Int(3628800)
    );
    // The catch variable can be captured.
    assert_eq!(
        ev(
            &mut s,
            "(define (id x) x) ((try (car (id 1)) (catch e (lambda () (error-kind e)))))"
        ),
        Value::Symbol("type".into())
    );
}

#[test]
fn deep_non_tail_recursion_uses_no_rust_stack() {
    big_stack(|| {
        let mut s = Session::new();
        ev(&mut s, "(define (d n) (if (= n 0) 0 (+ 1 (d (- n 1)))))");
        assert_eq!(ev(&mut s, "(d 99000)"), Value::Int(99000));
        // Past the default limit of 100,000: a depth-limit error, not a crash.
        let e = runtime_err(&mut s, "(d 100500)");
        assert_eq!(e.kind, ErrorKind::DepthLimit);
        // Not catchable.
        let e = runtime_err(&mut s, "(try (d 200000) (catch e 'caught))");
        assert_eq!(e.kind, ErrorKind::DepthLimit);
        // With the limit raised the VM goes much deeper without the Rust stack.
        s.limits.depth = 1_000_000;
        assert_eq!(ev(&mut s, "(d 500000)"), Value::Int(500000));
        // The session is still usable afterwards.
        assert_eq!(ev(&mut s, "(d 10)"), Value::Int(10));
    });
}

#[test]
fn deep_recursion_at_depth_100000_on_a_normal_thread() {
    // The VM never recurses on the Rust stack: even a 2 MiB test thread is enough.
    let mut s = Session::new();
    ev(&mut s, "(define (d n) (if (= n 0) 0 (+ 1 (d (- n 1)))))");
    assert_eq!(ev(&mut s, "(d 99990)"), Value::Int(99990));
}

#[test]
fn collector_frees_cycles_under_a_small_memory_limit() {
    let mut s = Session::new();
    s.limits.memory = 4 << 20;
    ev(
        &mut s,
        "(define (mk) (letrec ((f (lambda () g)) (g (lambda () f))) f))",
    );
    let before = s.vm().heap.collections();
    let v = ev(
        &mut s,
        "(let loop ((i 0)) (if (< i 100000) (begin (mk) (loop (+ i 1))) 'done))",
    );
    assert_eq!(v, Value::Symbol("done".into()));
    assert!(s.vm().heap.collections() > before, "the collector ran");
    assert!(s.vm().heap.live_bytes() <= 4 << 20);

    // Cycles through data: a cell holding a closure that holds the cell.
    let v = ev(
        &mut s,
        "(let loop ((i 0)) (if (< i 100000)\n\
           (begin (let ((x nil)) (set! x (lambda () x)) x) (loop (+ i 1)))\n\
           i))",
    );
    assert_eq!(v, Value::Int(100000));

    // Live data over the limit is a memory-limit error that try cannot catch.
    let e = runtime_err(
        &mut s,
        "(try (let loop ((i 0) (acc '())) (if (< i 1000000) (loop (+ i 1) (cons i acc)) (length acc)))\n\
           (catch e 'caught))",
    );
    assert_eq!(e.kind, ErrorKind::MemoryLimit);
    // The session survives.
    assert_eq!(ev(&mut s, "(length (list 1 2 3))"), Value::Int(3));
}

#[test]
fn run_time_data_of_any_depth_prints_compares_and_collects() {
    let mut s = Session::new();
    ev(
        &mut s,
        "(define (nest n) (let loop ((i 0) (acc nil)) (if (< i n) (loop (+ i 1) (list acc)) acc)))\n\
         (define a (nest 200000))\n(define b (nest 200000))",
    );
    assert_eq!(ev(&mut s, "(equal? a b)"), Value::Bool(true));
    assert_eq!(ev(&mut s, "(equal? a (nest 199999))"), Value::Bool(false));
    assert_eq!(
        ev(&mut s, "(string-length (to-string a))"),
        Value::Int(200000 * 2 + 3)
    );
    s.collect_garbage();
    let v = s.eval_vm(src("(car (car a))")).unwrap();
    assert!(s.show(v).starts_with("(((("));
}

#[test]
fn step_and_time_limits_stop_evaluation_and_are_not_catchable() {
    let mut s = Session::new();
    s.limits.steps = 100_000;
    let e = runtime_err(&mut s, "(try (let loop () (loop)) (catch e 'caught))");
    assert_eq!(e.kind, ErrorKind::StepLimit);
    s.limits.steps = u64::MAX;
    s.limits.timeout_ms = Some(50);
    let e = runtime_err(&mut s, "(let loop () (loop))");
    assert_eq!(e.kind, ErrorKind::Timeout);
    s.limits.timeout_ms = None;
    assert_eq!(ev(&mut s, "(+ 1 2)"), Value::Int(3));
}

#[test]
fn run_time_errors_carry_kind_and_stack() {
    let mut s = Session::new();
    let text = "(define (inner x) (car x))\n(define (outer x) (list (inner x)))\n(outer 5)";
    let e = runtime_err(&mut s, text);
    assert_eq!(e.kind, ErrorKind::Type);
    let names: Vec<&str> = e.stack.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(names, vec!["inner", "outer"]);
    // The innermost frame points at the `(car x)` call.
    assert_eq!(e.stack[0].span, sp(18, 25));
    for (text, kind) in [
        ("(/ 1 0)", ErrorKind::DivisionByZero),
        ("(% 1 0)", ErrorKind::DivisionByZero),
        ("(+ 9223372036854775807 1)", ErrorKind::Overflow),
        ("(list-ref '(1 2) 5)", ErrorKind::Range),
        ("(substring \"abc\" 2 9)", ErrorKind::Range),
        ("(error \"boom\" 1 \"s\")", ErrorKind::User),
        ("((lambda (x) x))", ErrorKind::Arity),
        (
            "(require-capability IoNetwork)",
            ErrorKind::CapabilityDenied,
        ),
    ] {
        assert_eq!(runtime_err(&mut s, text).kind, kind, "{text}");
    }
    let e = runtime_err(&mut s, "(error \"boom\" 1 \"s\" '(a \"b\"))");
    assert_eq!(e.message, "boom 1 s (a \"b\")");
}

#[test]
fn globals_set_from_the_host_are_roots() {
    let mut s = Session::new();
    let v = s.eval_vm(src("(list 1 \"two\" 'three)")).unwrap();
    s.set_global("*1", v);
    let got = s.vm().global("*1").expect("defined");
    assert_eq!(s.show(got), "(1 \"two\" three)");
    // Collections, and allocation that reuses freed slots, keep it.
    s.collect_garbage();
    ev(
        &mut s,
        "(let loop ((i 0)) (if (< i 50000) (begin (list i i) (loop (+ i 1))) i))",
    );
    s.collect_garbage();
    let got = s.vm().global("*1").expect("still defined");
    assert_eq!(s.show(got), "(1 \"two\" three)");
    assert_eq!(
        s.to_host(got).expect("shallow data converts").to_string(),
        "(1 \"two\" three)"
    );
}

#[test]
fn globals_set_from_the_host_can_be_read_by_code() {
    let mut s = Session::new();
    s.set_repl_mode(true);
    let v = s.eval_vm(src("(+ 1 2)")).unwrap();
    s.set_global("*1", v);
    assert_eq!(ev(&mut s, "(* *1 10)"), Value::Int(30));
}

// ===================================================================== printing

#[test]
fn printing_of_every_value_kind() {
    let mut s = Session::new();
    s.grant(Capability::SysClock, None, GrantSource::Host)
        .unwrap();
    for (text, printed) in [
        ("nil", "nil"),
        ("'()", "nil"),
        ("()", "nil"),
        ("true", "true"),
        ("false", "false"),
        ("42", "42"),
        ("-7", "-7"),
        ("3.5", "3.5"),
        ("1.0", "1.0"),
        ("1000.0", "1000.0"),
        ("1e16", "1e16"),
        ("1e-7", "1e-7"),
        ("(/ 1.0 0)", "inf"),
        ("(/ -1.0 0)", "-inf"),
        ("(/ 0.0 0.0)", "NaN"),
        ("(+ 0.1 0.2)", "0.30000000000000004"),
        ("\"a\\nb\"", "\"a\\nb\""),
        (
            "\"q\\\"b\\\\s\\tt\\rr\\0z\\u{1b}e\\u{7f}\"",
            "\"q\\\"b\\\\s\\tt\\rr\\0z\\u{1b}e\\u{7f}\"",
        ),
        ("\"λ😀\"", "\"λ😀\""),
        ("'foo", "foo"),
        (":formal", ":formal"),
        ("':a", ":a"),
        ("'(1 2 3)", "(1 2 3)"),
        ("'(1 2 . 3)", "(1 2 . 3)"),
        ("(cons 1 2)", "(1 . 2)"),
        ("'((a) (b . c) \"s\" 1.5)", "((a) (b . c) \"s\" 1.5)"),
        ("''a", "(quote a)"),
        ("'(quote x)", "(quote x)"),
        ("(define (f a b) a) f", "#<fn f/2>"),
        ("(define (g a . r) a) g", "#<fn g/1+>"),
        ("(define (h . r) r) h", "#<fn h/0+>"),
        ("(lambda () 1)", "#<fn lambda/0>"),
        ("(define k (lambda (x) x)) k", "#<fn k/1>"),
        ("(let ((m (lambda (x y) x))) m)", "#<fn m/2>"),
        ("(let loop ((i 0)) loop)", "#<fn loop/1>"),
        ("car", "#<builtin car>"),
        ("+", "#<builtin +>"),
        ("math:add", "#<ffi math:add>"),
        ("map", "#<fn map/2>"),
        ("foldl", "#<fn foldl/3>"),
        ("(require-capability SysClock)", "#<capability SysClock>"),
        (
            "(try (/ 1 0) (catch e e))",
            "#<error division-by-zero: division by zero>",
        ),
        ("(try (error \"x\" 1) (catch e e))", "#<error user: x 1>"),
        ("(list car \"s\" 'x)", "(#<builtin car> \"s\" x)"),
    ] {
        assert_eq!(show(&mut s, text), printed, "{text}");
    }
    assert_eq!(s.show(VmValue::Actor(3)), "#<actor 3>");
    assert_eq!(
        s.show(VmValue::Capability(Capability::IoNetwork)),
        "#<capability IoNetwork>"
    );
}

#[test]
fn to_string_and_print_write_raw_top_level_strings() {
    let (mut s, out) = captured_session();
    assert_eq!(
        ev(&mut s, "(to-string \"a\\nb\")"),
        Value::String("a\nb".into())
    );
    assert_eq!(
        ev(&mut s, "(to-string '(\"a\" b 1.0))"),
        Value::String("(\"a\" b 1.0)".into())
    );
    ev(&mut s, "(print \"x\" 1 \"y\") (println '(\"q\") 2.0)");
    assert_eq!(out.text(), "x 1 y(\"q\") 2.0\n");
}

#[test]
fn printed_floats_read_back() {
    let mut s = Session::new();
    for f in [
        0.1,
        1.0,
        1e16,
        1e-7,
        123456.789,
        -2.5e-300,
        1.7976931348623157e308,
        5e-324,
    ] {
        let v = s.eval_vm(src(&format!("{f:?}"))).unwrap();
        let printed = s.show(v);
        assert_eq!(printed, format!("{f:?}"));
        assert_eq!(ev(&mut s, &printed), Value::Float(f));
    }
}

// ===================================================================== owned values

#[test]
fn owned_values_from_eval_str() {
    let mut s = Session::new();
    s.grant(Capability::SysClock, None, GrantSource::Host)
        .unwrap();
    assert_eq!(ev(&mut s, "nil"), Value::Nil);
    assert_eq!(ev(&mut s, "'()"), Value::Nil);
    assert_eq!(ev(&mut s, "true"), Value::Bool(true));
    assert_eq!(ev(&mut s, "-5"), Value::Int(-5));
    assert_eq!(ev(&mut s, "2.5"), Value::Float(2.5));
    assert_eq!(ev(&mut s, "\"hé\""), Value::String("hé".into()));
    assert_eq!(ev(&mut s, "'sym"), Value::Symbol("sym".into()));
    assert_eq!(ev(&mut s, ":kw"), Value::Symbol(":kw".into()));
    assert_eq!(
        ev(&mut s, "'(1 (2) \"x\")"),
        Value::List(vec![
            Value::Int(1),
            Value::List(vec![Value::Int(2)]),
            Value::String("x".into())
        ])
    );
    assert_eq!(
        ev(&mut s, "'(1 2 . 3)"),
        Value::Pair(
            Box::new(Value::Int(1)),
            Box::new(Value::Pair(
                Box::new(Value::Int(2)),
                Box::new(Value::Int(3))
            ))
        )
    );
    // Procedures reach the host as callable handles, printed as Jue prints them.
    let f = ev(&mut s, "(define (f x) x) f");
    assert!(matches!(f, Value::Function(_)), "{f:?}");
    assert_eq!(f.to_string(), "#<fn f/1>");
    let car = ev(&mut s, "car");
    assert!(matches!(car, Value::Function(_)), "{car:?}");
    assert_eq!(car.to_string(), "#<builtin car>");
    assert_eq!(
        ev(&mut s, "(define (id x) x) (try (car (id 1)) (catch e e))"),
        Value::Error {
            kind: "type".into(),
            message: "`car` expects a pair, but got Int".into()
        }
    );
    assert_eq!(
        ev(&mut s, "(require-capability SysClock)"),
        Value::Capability(Capability::SysClock)
    );
    // A definition has no value.
    assert_eq!(ev(&mut s, "(define z 1)"), Value::Nil);
}

#[test]
fn owned_values_display_as_the_printed_form() {
    let mut s = Session::new();
    for text in [
        "'(1 2 . 3)",
        "'(1 (2 3) . \"s\")",
        "'((a . b) . (c . d))",
        "\"a\\tb\\u{1}\"",
        "(list 1.0 1e16 -0.0 'x :k nil true)",
        "(lambda (a . b) a)",
        "(try (/ 1 0) (catch e e))",
    ] {
        let v = s.eval_vm(src(text)).unwrap();
        let printed = s.show(v);
        let owned = s.to_host(v).expect("shallow data converts");
        assert_eq!(owned.to_string(), printed, "{text}");
    }
}

#[test]
fn owned_values_round_trip_through_the_heap() {
    use jue_engine::vm::heap::Heap;
    use jue_engine::vm::symbols::Symbols;
    let mut heap = Heap::new();
    let mut syms = Symbols::default();
    let values = vec![
        Value::Nil,
        Value::Bool(false),
        Value::Int(i64::MIN),
        Value::Float(-0.5),
        Value::String("ü\"\\".into()),
        Value::Symbol("a:b".into()),
        Value::List(vec![
            Value::Int(1),
            Value::List(vec![Value::Nil, Value::Bool(true)]),
        ]),
        Value::Pair(Box::new(Value::Int(1)), Box::new(Value::Symbol("x".into()))),
        Value::Capability(Capability::IoPersist),
        Value::Error {
            kind: "range".into(),
            message: "m".into(),
        },
        Value::Actor(7),
    ];
    for v in values {
        let vm = jue_engine::vm::convert::from_host(&v, &mut heap, &mut syms).unwrap();
        let show = |_: VmValue| String::from("?");
        let back = jue_engine::vm::convert::to_host(vm, &heap, &syms, &show).unwrap();
        assert_eq!(back, v);
    }
    // Procedures cannot cross into Jue.
    assert!(
        jue_engine::vm::convert::from_host(
            &Value::Procedure("#<fn f/1>".into()),
            &mut heap,
            &mut syms
        )
        .is_err()
    );
    assert_eq!(Value::List(vec![]).type_name(), "Pair");
    assert_eq!(Value::Procedure(String::new()).type_name(), "Fn");
}

#[test]
fn owned_values_of_too_deep_data_are_not_silently_nil() {
    let silently_nil = big_stack(|| {
        let mut s = Session::new();
        let r = s.eval_str(
            "t",
            "(let loop ((i 0) (acc nil)) (if (< i 20000) (loop (+ i 1) (list acc)) acc))",
        );
        matches!(r, Ok(Value::Nil))
    });
    assert!(!silently_nil, "a nested list came back as nil");
}

#[test]
fn owned_values_of_deep_data_do_not_overflow_a_default_thread() {
    if !in_child_process("owned_values_of_deep_data_do_not_overflow_a_default_thread") {
        return;
    }
    let r = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut s = Session::new();
            s.eval_str(
                "t",
                "(let loop ((i 0) (acc nil)) (if (< i 9000) (loop (+ i 1) (list acc)) acc))",
            )
            // Deeper than MAX_DEPTH is a clear error, never a crash.
            .map_or_else(|e| e.to_string().contains("nested too deeply"), |_| true)
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(r);
}

// ===================================================================== REPL-mode rules

#[test]
fn repl_redefinition_replaces_and_earlier_code_calls_the_new_one() {
    let mut s = Session::new();
    s.set_repl_mode(true);
    ev(&mut s, "(define (f) 1)");
    ev(&mut s, "(define (g) (list (f) (f)))");
    assert_eq!(
        ev(&mut s, "(g)"),
        Value::List(vec![Value::Int(1), Value::Int(1)])
    );
    ev(&mut s, "(define (f) 2)");
    assert_eq!(
        ev(&mut s, "(g)"),
        Value::List(vec![Value::Int(2), Value::Int(2)])
    );
    // Within one REPL input a later definition replaces an earlier one (no E0105).
    assert!(with_code(&diags(&s, "(define y 1) (define y 2)"), Code::E0105).is_empty());
    assert_eq!(ev(&mut s, "(define y 1) (define y 2) y"), Value::Int(2));
    // A redefinition with another arity: new code is checked against the new arity.
    ev(&mut s, "(define (f a b) (+ a b))");
    one(&s, "(f 1)", Code::E0103);
    assert_eq!(ev(&mut s, "(f 1 2)"), Value::Int(3));
    // Old code calling it with the old arity now fails at run time.
    assert_eq!(runtime_err(&mut s, "(g)").kind, ErrorKind::Arity);
    // A variable redefined as a function and back.
    ev(&mut s, "(define v 10) (define (use-v) v)");
    ev(&mut s, "(define v 20)");
    assert_eq!(ev(&mut s, "(use-v)"), Value::Int(20));
}

#[test]
fn shadowing_a_builtin_affects_only_code_compiled_after_it() {
    let mut s = Session::new();
    s.set_repl_mode(true);
    ev(&mut s, "(define (first-of l) (car l))");
    ev(&mut s, "(define (car x) 'mine)");
    // Earlier code keeps the built-in.
    assert_eq!(ev(&mut s, "(first-of '(1 2))"), Value::Int(1));
    // Later code uses the new global, also as a value.
    assert_eq!(ev(&mut s, "(car '(1 2))"), Value::Symbol("mine".into()));
    assert_eq!(
        ev(&mut s, "(define (first2 l) (car l)) (first2 '(1 2))"),
        Value::Symbol("mine".into())
    );
    assert_eq!(
        ev(&mut s, "(map car '((1) (2)))"),
        Value::List(vec![
            Value::Symbol("mine".into()),
            Value::Symbol("mine".into())
        ])
    );
    // Shadowing an FFI name; `ffi-call` still reaches the registry.
    ev(&mut s, "(define (old-add) (math:add 1 2))");
    ev(&mut s, "(define (math:add a b) 'user)");
    assert_eq!(ev(&mut s, "(old-add)"), Value::Int(3));
    assert_eq!(ev(&mut s, "(math:add 1 2)"), Value::Symbol("user".into()));
    assert_eq!(ev(&mut s, "(ffi-call math:add 1 2)"), Value::Int(3));
    // The prelude's own use of built-ins is unaffected.
    ev(&mut s, "(define (reverse l) 'mine)");
    assert_eq!(
        ev(&mut s, "(filter (lambda (x) true) '(1 2 3))"),
        Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)])
    );
}

#[test]
fn in_a_file_a_global_shadows_a_builtin_everywhere_in_it() {
    let mut s = Session::new();
    let v = ev(
        &mut s,
        "(define (first-of l) (car l))\n(define (car x) 'mine)\n(first-of '(1 2))",
    );
    assert_eq!(v, Value::Symbol("mine".into()));
    // Locals shadow built-ins too.
    assert_eq!(
        ev(&mut s, "(let ((list (lambda a 'local))) (list 1 2))"),
        Value::Symbol("local".into())
    );
}

// ===================================================================== engine bugs (VM/compiler)

#[test]
fn arguments_of_inline_arithmetic_are_evaluated_left_to_right() {
    let mut s = Session::new();
    assert_eq!(
        ev(&mut s, "(let ((x 1)) (+ x (begin (set! x 10) 1)))"),
        Value::Int(2)
    );
    assert_eq!(
        ev(&mut s, "(let ((x 1)) (< x (begin (set! x 10) 5)))"),
        Value::Bool(true)
    );
}

#[test]
fn subtracting_i16_min_constant() {
    let mut s = Session::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.eval_str("t", "(let ((x 1)) (- x -32768))")
    }));
    let r = r.expect("compiler panicked");
    assert_eq!(r.unwrap(), Value::Int(32769));
}

#[test]
fn letrec_variable_read_before_initialisation_is_unbound() {
    let mut s = Session::new();
    let r = s.eval_vm(src("(letrec ((a b) (b 1)) a)"));
    match r {
        Err(EvalError::Runtime(e)) => assert_eq!(e.kind, ErrorKind::Unbound),
        Ok(v) => panic!("got value {}", s.show(v)),
        Err(e) => panic!("{e}"),
    }
    let e = runtime_err(&mut s, "(define (g) (define a b) (define b 1) a) (g)");
    assert_eq!(e.kind, ErrorKind::Unbound);
}

#[test]
fn builtin_called_through_a_value_with_too_few_arguments_is_an_arity_error() {
    let mut s = Session::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.eval_str("t", "(let ((f car)) (f))")
    }));
    match r.expect("the engine panicked") {
        Err(EvalError::Runtime(e)) => assert_eq!(e.kind, ErrorKind::Arity),
        other => panic!("{other:?}"),
    }
}

#[test]
fn builtin_called_through_a_value_with_too_many_arguments_is_an_arity_error() {
    let mut s = Session::new();
    let e = runtime_err(&mut s, "(let ((f cons)) (f 1 2 3))");
    assert_eq!(e.kind, ErrorKind::Arity);
    let e = runtime_err(&mut s, "(map cons '(1 2))");
    assert_eq!(e.kind, ErrorKind::Arity);
}

// ===================================================================== embedding calls

#[test]
fn session_call_reaches_globals_builtins_prelude_and_ffi() {
    let mut s = Session::new();
    s.eval_str("t", "(define (twice x) (* 2 x))")
        .expect("define");
    assert_eq!(
        s.call("twice", &[Value::Int(21)]).expect("call"),
        Value::Int(42)
    );
    assert_eq!(
        s.call("+", &[Value::Int(1), Value::Float(0.5)])
            .expect("builtin"),
        Value::Float(1.5)
    );
    assert!(
        s.call("map", &[Value::Procedure("x".into())])
            .map_err(|e| e.to_string())
            .unwrap_err()
            .contains("procedure")
    );
    assert_eq!(
        s.call("math:add", &[Value::Int(2), Value::Int(3)])
            .expect("ffi"),
        Value::Int(5)
    );
    let denied = s.call("get-wall-clock", &[]).unwrap_err().to_string();
    assert!(denied.contains("capability-denied"), "{denied}");
    assert!(
        s.call("nope", &[])
            .unwrap_err()
            .to_string()
            .contains("no function")
    );
    assert!(
        s.call("twice", &[])
            .unwrap_err()
            .to_string()
            .contains("arity")
    );
}

#[test]
fn repl_redefinition_at_a_lower_tier_than_a_caller_is_e0201() {
    let mut s = Session::new();
    s.set_repl_mode(true);
    s.eval_str("1", "@formal (define (inc x) (+ x 1))")
        .expect("inc");
    s.eval_str("2", "@formal (define (twice x) (inc (inc x)))")
        .expect("twice");
    let err = s
        .eval_str("3", "@empirical (define (inc x) (println x) (+ x 1))")
        .unwrap_err();
    match err {
        jue_engine::EvalError::Compile { diagnostics, .. } => {
            assert!(
                diagnostics
                    .iter()
                    .any(|d| d.code == Code::E0201 && d.message.contains("twice")),
                "{diagnostics:#?}"
            );
        }
        other => panic!("expected E0201, got {other}"),
    }
    // The old definition stays.
    assert_eq!(
        s.eval_str("4", "(twice 1)").expect("old inc"),
        Value::Int(3)
    );
    // Redefining at the same tier is fine.
    s.eval_str("5", "@formal (define (inc x) (+ x 2))")
        .expect("same tier");
    assert_eq!(
        s.eval_str("6", "(twice 1)").expect("new inc"),
        Value::Int(5)
    );
}

#[test]
fn top_level_items_carry_their_known_type() {
    let s = Session::new();
    let ty = |text: &str| {
        s.check(&SourceFile::new("t", text))
            .items
            .last()
            .and_then(|i| i.ty)
    };
    assert_eq!(ty("(math:add 1 2)"), Some(jue_engine::Type::Int));
    assert_eq!(ty("(+ 1 2.0)"), Some(jue_engine::Type::Float));
    assert_eq!(ty("(let ((x \"s\")) x)"), Some(jue_engine::Type::String));
    assert_eq!(ty("(if true 1 2)"), Some(jue_engine::Type::Int));
    assert_eq!(ty("(if true 1 \"a\")"), None);
    assert_eq!(ty("(:formal 1 2.5)"), Some(jue_engine::Type::Float));
    assert_eq!(ty("(define x 1)"), None);
    assert_eq!(ty("(car '(1))"), None);
}

#[test]
fn ffi_calls_of_two_locals_read_them_in_place_in_order() {
    let mut s = Session::new();
    ev(
        &mut s,
        "(define (f a b) (list (add a b) (sub a b) (sub b a) (add a 1)))",
    );
    assert_eq!(show(&mut s, "(f 7 5)"), "(12 2 -2 8)");
    let code = protos_named(&s, "f");
    assert!(
        code[0].contains("CallFfi2(") && !code[0].contains("Move("),
        "{}",
        code[0]
    );
    // The fast path's fallbacks: a bad type and an overflow keep their kinds.
    assert_eq!(runtime_err(&mut s, "(f 1.5 2)").kind, ErrorKind::Type);
    assert_eq!(
        runtime_err(&mut s, "(f 9223372036854775807 0)").kind,
        ErrorKind::Overflow
    );
    // A local that `set!` assigns is read when its argument's turn comes.
    assert_eq!(
        ev(&mut s, "(let ((a 1)) (sub a (begin (set! a 10) 3)))"),
        Value::Int(-2)
    );
    assert_eq!(
        ev(&mut s, "(let ((a 1)) (sub (begin (set! a 10) 3) a))"),
        Value::Int(-7)
    );
    // A function with a capability takes the window path with the same values.
    assert_eq!(
        runtime_err(&mut s, "(let ((k 'valve) (x 0.5)) (io:actuator:write k x))").kind,
        ErrorKind::CapabilityDenied
    );
    s.grant(Capability::IoWriteActuator, None, GrantSource::Host)
        .expect("grant");
    assert_eq!(
        ev(&mut s, "(let ((k 'valve) (x 0.5)) (io:actuator:write k x))"),
        Value::Bool(true)
    );
    assert_eq!(s.sensors().actuators(), vec![("valve".to_string(), 0.5, 1)]);
    // Locals past register 255 are moved into the window first.
    let names: Vec<String> = (0..300).map(|i| format!("(x{i} {i})")).collect();
    let text = format!("(let ({}) (add x298 x299))", names.join(" "));
    assert_eq!(ev(&mut s, &text), Value::Int(597));
    all_protos_validate(&s);
}

#[test]
fn self_loops_write_arguments_straight_into_parameters_only_when_safe() {
    let mut s = Session::new();
    let cases = [
        // Swapped parameters: each read by the other's argument.
        (
            "(let loop ((a 1) (b 2) (n 3)) (if (= n 0) (list a b) (loop b a (- n 1))))",
            "(2 1)",
        ),
        // A later argument reads the parameter an earlier one replaces.
        (
            "(let loop ((i 0) (acc '())) (if (= i 3) acc (loop (+ i 1) (cons i acc))))",
            "(2 1 0)",
        ),
        // Closures capture the parameter's value of their own iteration.
        (
            "(let loop ((i 0) (fs '())) (if (= i 3) (map (lambda (f) (f)) fs) \
             (loop (+ i 1) (cons (lambda () i) fs))))",
            "(2 1 0)",
        ),
        // An argument that calls, not mentioning its parameter; one parameter.
        (
            "(define (twice n) (* 2 n)) \
             (let loop ((x 1) (n 4)) (if (= n 0) x (loop (twice x) (- n 1))))",
            "16",
        ),
        (
            "(define (down l) (if (null? (cdr l)) (car l) (down (cdr l)))) (down '(1 2 3))",
            "3",
        ),
        (
            "(let loop ((l '(1 2 3)) (acc 0)) (if (null? l) acc (loop (cdr l) (+ acc (car l)))))",
            "6",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(show(&mut s, text), want, "{text}");
    }
    // `map`'s loop conses straight into its accumulator, `foldl`'s takes the
    // rest of its list in place: no move for either.
    let code = protos_named(&s, "loop").join("\n");
    assert!(code.contains("Cons(1, "), "{code}");
    assert!(code.contains("Cdr(1, 1)"), "{code}");
    all_protos_validate(&s);
}

#[test]
fn calls_of_globals_with_plain_arguments_read_the_global_at_the_call() {
    let mut s = Session::new();
    assert_eq!(
        show(
            &mut s,
            "(define (add3 a b c) (+ a (+ b c))) \
             (define (use x) (+ 1 (add3 (- x 1) x 10))) (use 5)"
        ),
        "20"
    );
    let code = protos_named(&s, "use").join("\n");
    assert!(code.contains("CallGlobal("), "{code}");
    assert!(!code.contains("GetGlobal("), "{code}");
    // An argument that calls could change the global: it is read first, as
    // before, and the call sees the function it named then.
    assert_eq!(
        show(
            &mut s,
            "(define (f x) (list 'old x)) (define (g) (set! f (lambda (x) (list 'new x))) 1) \
             (define (h) (list (f (g)))) (h)"
        ),
        "((old 1))"
    );
    let code = protos_named(&s, "h").join("\n");
    // `f` read before `(g)` runs (which itself needs no global read first).
    assert!(code.contains("0  GetGlobal("), "{code}");
    assert!(code.contains("  Call("), "{code}");
    all_protos_validate(&s);
    // The callee not defined (yet): kind unbound, at the call; a global
    // redefined later is called in its new form; `apply` through a global.
    s.set_repl_mode(true);
    ev(&mut s, "(define (k x) (nowhere (+ x 1)))");
    let e = runtime_err(&mut s, "(k 1)");
    assert_eq!(e.kind, ErrorKind::Unbound, "{e:?}");
    assert!(e.message.contains("nowhere"), "{}", e.message);
    assert_eq!(show(&mut s, "(define (nowhere y) (* y 100)) (k 1)"), "200");
    assert_eq!(
        show(
            &mut s,
            "(define ap apply) (define (sum3 l) (ap + l)) (sum3 '(1 2 3))"
        ),
        "6"
    );
}

#[test]
fn dict_update_compiles_to_its_definition_without_the_prelude_call() {
    let mut s = Session::new();
    let cases = [
        (
            "(dict-update {\"a\" 1} \"a\" (lambda (n) (+ n 1)))",
            "{\"a\" 2}",
        ),
        (
            "(dict-update {\"a\" 1} \"b\" (lambda (n) (+ n 1)) 10)",
            "{\"a\" 1 \"b\" 11}",
        ),
        (
            "(dict-update {\"a\" 1} \"a\" (lambda (n) (* n 5)) 10)",
            "{\"a\" 5}",
        ),
        // In tail position, and inside a fold as the word count uses it.
        (
            "(define (bump d k) (dict-update d k (lambda (n) (+ n 1)) 0)) (bump (bump {} :x) :x)",
            "{:x 2}",
        ),
        (
            "(foldl (lambda (d w) (dict-update d w (lambda (n) (+ n 1)) 0)) {} '(a b a c a))",
            "{a 3 b 1 c 1}",
        ),
        // d, k, f and default each evaluated once, left to right.
        (
            "(define trail '()) \
             (define (note x v) (set! trail (cons x trail)) v) \
             (list (dict-update (note 'd {1 2}) (note 'k 1) (note 'f (lambda (n) (* n 10))) (note 'def 0)) \
                   (reverse trail))",
            "({1 20} (d k f def))",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(show(&mut s, text), want, "{text}");
    }
    let code = protos_named(&s, "bump").join("\n");
    assert!(
        !code.contains("GetGlobal("),
        "no call of the prelude's function: {code}"
    );
    // The errors of the definition: a missing key without a default, a
    // non-dict, a non-procedure, a bad key.
    let e = runtime_err(
        &mut s,
        "(define (f1) (dict-update {} :k (lambda (n) n))) (f1)",
    );
    assert_eq!(e.kind, ErrorKind::Key, "{e:?}");
    let e = runtime_err(
        &mut s,
        "(define (f2 d) (dict-update d :k (lambda (n) n) 0)) (f2 5)",
    );
    assert_eq!(e.kind, ErrorKind::Type, "{e:?}");
    let e = runtime_err(&mut s, "(define (f3 g) (dict-update {:k 1} :k g)) (f3 5)");
    assert_eq!(e.kind, ErrorKind::Type, "{e:?}");
    let e = runtime_err(
        &mut s,
        "(define (f4 k) (dict-update {} k (lambda (n) n) 0)) (f4 car)",
    );
    assert_eq!(e.kind, ErrorKind::Type, "{e:?}");
    // A user's own `dict-update` is called as theirs (language §4).
    assert_eq!(
        show(
            &mut s,
            "(define (dict-update d k f . r) 'mine) (dict-update {} 1 car)"
        ),
        "mine"
    );
    all_protos_validate(&s);
}
