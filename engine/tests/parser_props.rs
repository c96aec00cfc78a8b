//! Property tests of the reader and the checker:
//! (a) the parser never panics, and every span it reports lies inside the text on
//!     character boundaries;
//! (b) analysis (`Session::check`) never panics on the same inputs;
//! (c) balanced s-expressions parse without diagnostics, and printing the tree and
//!     parsing it again gives the same tree (modulo spans and layout);
//! (d) small well-formed programs run under tight limits without panicking.
//!
//! Runs are deterministic: a fixed RNG seed and no failure-persistence files.
//! Properties marked "unfiltered" run on every generated input, including the
//! ones that once hit a parser bug (non-ASCII text in an unclosed form).

use jue_engine::syntax::parse;
use jue_engine::syntax::tree::{Bracket, Node, NodeKind};
use jue_engine::vm::output::Output;
use jue_engine::{Session, SourceFile, Span};
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};
use std::cell::RefCell;
use std::fmt::Debug;

// ----- running properties -----

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x4a75_6520_7465_7374),
        failure_persistence: None,
        max_shrink_iters: 4096,
        max_global_rejects: 1 << 20,
        ..ProptestConfig::default()
    }
}

/// Runs `test` on `cases` values of `strategy`; panics with the minimal failing input.
fn check_property<S>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let mut runner = TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

/// Runs `f` on a thread with a 64 MiB stack (analysis recurses over source nesting).
fn big_stack(f: impl FnOnce() + Send + 'static) {
    let r = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .expect("spawn")
        .join();
    if let Err(p) = r {
        std::panic::resume_unwind(p);
    }
}

// ----- span checks -----

fn span_ok(text: &str, s: Span) -> Result<(), String> {
    let (a, b) = (s.start as usize, s.end as usize);
    if a > b || b > text.len() {
        return Err(format!("span {s:?} outside a text of {} bytes", text.len()));
    }
    if !text.is_char_boundary(a) || !text.is_char_boundary(b) {
        return Err(format!("span {s:?} not on char boundaries"));
    }
    Ok(())
}

/// Parses `text` and checks every span: diagnostics (primary and related), tokens,
/// and every node of every form (walked without recursion).
fn parse_and_check_spans(text: &str) -> Result<(), TestCaseError> {
    let p = parse(text);
    for d in &p.diagnostics {
        span_ok(text, d.span).map_err(|e| TestCaseError::fail(format!("diagnostic {d:?}: {e}")))?;
        for r in &d.related {
            span_ok(text, r.span)
                .map_err(|e| TestCaseError::fail(format!("related span of {d:?}: {e}")))?;
        }
    }
    for t in &jue_engine::syntax::lexer::lex(text).tokens {
        span_ok(text, t.span).map_err(|e| TestCaseError::fail(format!("token {t:?}: {e}")))?;
    }
    for f in &p.forms {
        if let Some((_, s)) = f.annotation {
            span_ok(text, s).map_err(|e| TestCaseError::fail(format!("annotation: {e}")))?;
        }
        let mut work: Vec<&Node> = vec![&f.node];
        while let Some(n) = work.pop() {
            span_ok(text, n.span)
                .map_err(|e| TestCaseError::fail(format!("node {:?}: {e}", n.kind)))?;
            match &n.kind {
                NodeKind::List(l) => {
                    work.extend(l.items.iter());
                    work.extend(l.tail.iter());
                }
                NodeKind::Quote(q) => work.push(q),
                _ => {}
            }
        }
    }
    // A form marked broken implies some syntax diagnostic.
    if p.forms.iter().any(|f| f.has_error) {
        prop_assert!(
            !p.diagnostics.is_empty(),
            "a form is marked broken but no diagnostic says why"
        );
    }
    Ok(())
}

/// Whether `text` has the shape of a fixed parser bug: some form is left open, and a
/// token that is not a comment ends in a multi-byte character (reporting the
/// unclosed form once sliced the text inside that character). Some properties
/// skip such inputs; their unfiltered copies keep them.
fn hits_known_parser_bug(text: &str) -> bool {
    use jue_engine::syntax::lexer::{TokenKind, lex};
    let tokens = lex(text).tokens;
    let mut stack = Vec::new();
    for t in &tokens {
        match t.kind {
            TokenKind::LParen => stack.push(')'),
            TokenKind::LBracket => stack.push(']'),
            TokenKind::RParen if stack.last() == Some(&')') => {
                stack.pop();
            }
            TokenKind::RBracket if stack.last() == Some(&']') => {
                stack.pop();
            }
            _ => {}
        }
    }
    !stack.is_empty()
        && tokens.iter().any(|t| {
            t.kind != TokenKind::Comment
                && t.span.end > 0
                && !text.is_char_boundary(t.span.end as usize - 1)
        })
}

// ----- input strategies -----

/// Fragments that exercise nesting, quoting, dots, strings, escapes, comments,
/// annotations, keywords, special forms, numbers and recovery (`\n(`).
const ASCII_FRAGMENTS: &[&str] = &[
    "(",
    "(",
    "(",
    ")",
    ")",
    ")",
    "[",
    "]",
    "'",
    "\"",
    "\\",
    ";",
    "@",
    ".",
    " ",
    " ",
    "\n",
    "\n(",
    "\n[",
    "\t",
    "\r\n",
    "\\u{",
    "\\u{1F600}",
    "\\n",
    "}",
    "{",
    "0",
    "-7",
    "1.5",
    "1e9",
    "1e400",
    "-",
    "99999999999999999999",
    "a",
    "x",
    "f",
    "_",
    "_x",
    "define",
    "def",
    "lambda",
    "fn",
    "let",
    "let*",
    "letrec",
    "loop",
    "if",
    "cond",
    "else",
    "when",
    "unless",
    "and",
    "or",
    "begin",
    "do",
    "quote",
    "set!",
    "try",
    "catch",
    "ffi-call",
    "require-capability",
    "has-capability?",
    "IoNetwork",
    "math:add",
    "nope:fn",
    "car",
    "+",
    "<",
    "list",
    "map",
    ":formal",
    ":bogus",
    "@formal",
    "@bogus",
    "@experimental",
    "nil",
    "true",
    "false",
    ";; doc\n",
    "\"str\"",
    "spawn",
];

/// Multi-byte text placed only where it cannot end a symbol or number token
/// (inside complete string literals, comments, or as white space).
const SAFE_UNICODE_FRAGMENTS: &[&str] = &[
    "\"λ😀\"",
    "\"é\\u{e9}\"",
    "\"\\é\"",
    "; λé 😀\n",
    ";; ü\n",
    "\u{3000}",
    "\u{a0}",
    "\u{2028}",
];

/// Multi-byte text anywhere, including at the end of symbols.
const ANY_UNICODE_FRAGMENTS: &[&str] = &["λ", "é", "😀", "日本", "λ)", "(λ", "\"λ", "é\n"];

fn fragments(pool: Vec<&'static str>, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(pool), 0..max).prop_map(|v| v.concat())
}

/// ASCII Jue-ish text, odd quotes included (unterminated strings, bad escapes).
fn jueish_ascii() -> impl Strategy<Value = String> {
    let pool: Vec<&'static str> = ASCII_FRAGMENTS.to_vec();
    fragments(pool, 80)
}

/// Jue-ish text with multi-byte characters in strings, comments and white space.
/// Lone `"` is left out so that multi-byte text never leaks out of its literal.
fn jueish_unicode_safe() -> impl Strategy<Value = String> {
    let pool: Vec<&'static str> = ASCII_FRAGMENTS
        .iter()
        .copied()
        .filter(|f| *f != "\"")
        .chain(SAFE_UNICODE_FRAGMENTS.iter().copied())
        .collect();
    fragments(pool, 80)
}

/// Jue-ish text with multi-byte characters anywhere.
fn jueish_unicode_any() -> impl Strategy<Value = String> {
    let pool: Vec<&'static str> = ASCII_FRAGMENTS
        .iter()
        .chain(SAFE_UNICODE_FRAGMENTS)
        .chain(ANY_UNICODE_FRAGMENTS)
        .copied()
        .collect();
    fragments(pool, 80)
}

/// Arbitrary Unicode strings, and arbitrary strings over a small alphabet of
/// delimiters (so that random nesting actually happens).
fn arbitrary_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[()\\[\\]'\";@. \\n\\\\a-c0-9]{0,60}",]
}

// ===================================================================== (a) parser

#[test]
fn parser_never_panics_on_arbitrary_text() {
    check_property(512, arbitrary_text(), |t| {
        prop_assume!(!hits_known_parser_bug(&t));
        parse_and_check_spans(&t)
    });
}

#[test]
fn parser_never_panics_on_arbitrary_text_unfiltered() {
    check_property(512, arbitrary_text(), |t| parse_and_check_spans(&t));
}

#[test]
fn parser_never_panics_on_jueish_ascii() {
    check_property(512, jueish_ascii(), |t| parse_and_check_spans(&t));
}

#[test]
fn parser_never_panics_on_jueish_unicode_in_literals() {
    check_property(512, jueish_unicode_safe(), |t| parse_and_check_spans(&t));
}

#[test]
fn parser_never_panics_on_jueish_unicode_anywhere() {
    check_property(512, jueish_unicode_any(), |t| {
        prop_assume!(!hits_known_parser_bug(&t));
        parse_and_check_spans(&t)
    });
}

#[test]
fn parser_never_panics_on_jueish_unicode_anywhere_unfiltered() {
    check_property(1024, jueish_unicode_any(), |t| parse_and_check_spans(&t));
}

#[test]
fn parser_handles_nesting_around_the_limit() {
    // Nesting from 990 to 1010 levels with mixed brackets and atoms in between: at
    // most 1000 parses cleanly; deeper is one E0001 at the 1001st opener. Analysis
    // recurses over the nesting, so this runs on a big stack.
    big_stack(|| {
        let strategy = (
            990usize..1010,
            prop::collection::vec((any::<bool>(), 0u8..4), 1010),
        );
        let session = Session::new();
        check_property(24, strategy, |(depth, levels)| {
            let mut text = String::new();
            let mut closers = Vec::new();
            let mut opener_at = Vec::new();
            for &(square, atom) in &levels[..depth] {
                opener_at.push(text.len());
                text.push(if square { '[' } else { '(' });
                closers.push(if square { ']' } else { ')' });
                match atom {
                    0 => text.push_str("list "),
                    1 => text.push_str("f 1 "),
                    2 => text.push('\n'),
                    _ => {}
                }
            }
            while let Some(c) = closers.pop() {
                text.push(c);
            }
            parse_and_check_spans(&text)?;
            let p = parse(&text);
            if depth <= 1000 {
                prop_assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
            } else {
                prop_assert_eq!(p.diagnostics.len(), 1);
                let d = &p.diagnostics[0];
                prop_assert!(d.message.contains("nesting too deep"));
                let at = opener_at[1000];
                prop_assert_eq!(d.span, Span::new(at, at + 1));
            }
            let a = session.check(&SourceFile::new("deep.jue", text.as_str()));
            for d in &a.diagnostics {
                span_ok(&text, d.span).map_err(TestCaseError::fail)?;
            }
            Ok(())
        });
    });
}

// ===================================================================== (b) analysis

thread_local! {
    static FILE_SESSION: Session = Session::new();
    static REPL_SESSION: Session = {
        let mut s = Session::new();
        s.set_repl_mode(true);
        s
    };
}

/// Checks `text` in file and REPL mode; every diagnostic span must be sound, and
/// the analysis must keep every syntax diagnostic of the parse.
fn check_both_modes(text: &str) -> Result<(), TestCaseError> {
    let src = SourceFile::new("prop.jue", text);
    let syntax = parse(text).diagnostics.len();
    for session in [&FILE_SESSION, &REPL_SESSION] {
        let a = session.with(|s| s.check(&src));
        prop_assert!(a.diagnostics.len() >= syntax);
        for d in &a.diagnostics {
            span_ok(text, d.span)
                .map_err(|e| TestCaseError::fail(format!("{:?} {}: {e}", d.code, d.message)))?;
            for r in &d.related {
                span_ok(text, r.span).map_err(TestCaseError::fail)?;
            }
        }
        // Sorted by position, as documented.
        let starts: Vec<(u32, u32)> = a
            .diagnostics
            .iter()
            .map(|d| (d.span.start, d.span.end))
            .collect();
        let mut sorted = starts.clone();
        sorted.sort();
        prop_assert_eq!(starts, sorted);
    }
    Ok(())
}

#[test]
fn checker_never_panics_on_arbitrary_text() {
    check_property(256, arbitrary_text(), |t| {
        prop_assume!(!hits_known_parser_bug(&t));
        check_both_modes(&t)
    });
}

#[test]
fn checker_never_panics_on_jueish_ascii() {
    check_property(512, jueish_ascii(), |t| check_both_modes(&t));
}

#[test]
fn checker_never_panics_on_jueish_unicode_in_literals() {
    check_property(256, jueish_unicode_safe(), |t| check_both_modes(&t));
}

#[test]
fn checker_never_panics_on_generated_programs() {
    // Well-formed programs exercise the deeper paths of analysis (every special form).
    check_property(256, program(false), |t| check_both_modes(&t));
}

#[test]
fn checker_never_panics_on_jueish_unicode_anywhere() {
    check_property(256, jueish_unicode_any(), |t| {
        prop_assume!(!hits_known_parser_bug(&t));
        check_both_modes(&t)
    });
}

#[test]
fn checker_never_panics_on_jueish_unicode_anywhere_unfiltered() {
    check_property(512, jueish_unicode_any(), |t| check_both_modes(&t));
}

// ===================================================================== (c) round trip

/// A datum without spans.
#[derive(Clone, Debug, PartialEq)]
enum D {
    Int(i64),
    Float(f64),
    Str(String),
    Sym(String),
    Bool(bool),
    Nil,
    List(Vec<D>, Option<Box<D>>, bool),
    Quote(Box<D>),
}

/// The span-free form of a node (iterative over lists is not needed: generated
/// data is shallow, and parsed data is bounded by the nesting limit).
fn strip(n: &Node) -> D {
    match &n.kind {
        NodeKind::Int(i) => D::Int(*i),
        NodeKind::Float(f) => D::Float(*f),
        NodeKind::Str(s) => D::Str(s.to_string()),
        NodeKind::Symbol(s) => D::Sym(s.to_string()),
        NodeKind::Bool(b) => D::Bool(*b),
        NodeKind::Nil => D::Nil,
        NodeKind::List(l) => D::List(
            l.items.iter().map(strip).collect(),
            l.tail.as_ref().map(|t| Box::new(strip(t))),
            l.bracket == Bracket::Square,
        ),
        NodeKind::Quote(q) => D::Quote(Box::new(strip(q))),
        NodeKind::Vector(_) | NodeKind::Dict(_) => panic!("the generator writes no vector or dict"),
        NodeKind::Error => panic!("error node in a balanced text"),
    }
}

/// A tiny deterministic generator for layout choices.
struct Layout(u64);

impl Layout {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// True one time in `n` (a power of two).
    fn one_in(&mut self, n: u64) -> bool {
        self.next() & (n - 1) == 0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    /// White space between data: any of it, comments included.
    fn sep(&mut self) -> &'static str {
        self.pick(&[
            " ",
            " ",
            " ",
            "\n",
            "\t",
            "  \n  ",
            " ; comment ( [ \" \n",
            "\n;; doc\n",
            "\u{3000}",
            "\r\n",
        ])
    }
    /// Optional white space (inside delimiters, after a quote).
    fn opt(&mut self) -> &'static str {
        if self.one_in(4) { self.sep() } else { "" }
    }
}

fn print_string(out: &mut String, s: &str, l: &mut Layout) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if l.one_in(2) => out.push_str("\\n"),
            '\t' if l.one_in(2) => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || l.one_in(16) => {
                out.push_str(&format!("\\u{{{:X}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn print_datum(out: &mut String, d: &D, l: &mut Layout) {
    match d {
        D::Int(i) => out.push_str(&i.to_string()),
        D::Float(f) => out.push_str(&format!("{f:?}")),
        D::Str(s) => print_string(out, s, l),
        D::Sym(s) => out.push_str(s),
        D::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        D::Nil => out.push_str("nil"),
        D::Quote(q) => {
            out.push('\'');
            out.push_str(l.opt());
            print_datum(out, q, l);
        }
        D::List(items, tail, square) => {
            out.push(if *square { '[' } else { '(' });
            out.push_str(l.opt());
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(l.sep());
                }
                print_datum(out, it, l);
            }
            if let Some(t) = tail {
                out.push_str(l.sep());
                out.push('.');
                out.push_str(l.sep());
                print_datum(out, t, l);
            }
            out.push_str(l.opt());
            out.push(if *square { ']' } else { ')' });
        }
    }
}

fn print_forms(forms: &[D], seed: u64) -> String {
    let mut l = Layout(seed);
    let mut out = String::new();
    for (i, f) in forms.iter().enumerate() {
        if i > 0 {
            out.push_str(l.pick(&["\n", " ", "\n\n", "\n; between\n"]));
        }
        print_datum(&mut out, f, &mut l);
    }
    out
}

fn symbol() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9?!*<>=_/-]{0,8}"
            .prop_filter("reserved words", |s| !matches!(s.as_str(), "true" | "false" | "nil")),
        1 => prop::sample::select(vec![
            "+", "-", "*", "/", "<=", "->", "...", "set!", "λ", "math:add", "io:sensor:read",
            "_", "a.b", "1+", "-x", "é", "日本語", "a'b", "a@b", "%", "1.2.3", "1e", "-.5",
        ])
        .prop_map(String::from),
        1 => "[a-z]{1,6}".prop_map(|s| format!(":{s}")),
    ]
}

fn atom() -> impl Strategy<Value = D> {
    prop_oneof![
        any::<i64>().prop_map(D::Int),
        (-100i64..100).prop_map(D::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(D::Float),
        "(?s).{0,12}".prop_map(D::Str),
        symbol().prop_map(D::Sym),
        any::<bool>().prop_map(D::Bool),
        Just(D::Nil),
    ]
}

fn datum() -> impl Strategy<Value = D> {
    atom().prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            3 => (prop::collection::vec(inner.clone(), 0..6), any::<bool>())
                .prop_map(|(items, sq)| D::List(items, None, sq)),
            1 => (prop::collection::vec(inner.clone(), 1..4), inner.clone(), any::<bool>())
                .prop_map(|(items, tail, sq)| D::List(items, Some(Box::new(tail)), sq)),
            1 => inner.prop_map(|d| D::Quote(Box::new(d))),
        ]
    })
}

#[test]
fn balanced_data_parse_cleanly_and_round_trip() {
    let strategy = (
        prop::collection::vec(datum(), 1..5),
        any::<u64>(),
        any::<u64>(),
    );
    check_property(384, strategy, |(forms, seed1, seed2)| {
        let text = print_forms(&forms, seed1);
        let p = parse(&text);
        prop_assert!(
            p.diagnostics.is_empty(),
            "diagnostics for {text:?}: {:#?}",
            p.diagnostics
        );
        prop_assert!(
            p.forms
                .iter()
                .all(|f| !f.has_error && f.annotation.is_none())
        );
        let parsed: Vec<D> = p.forms.iter().map(|f| strip(&f.node)).collect();
        prop_assert_eq!(&parsed, &forms, "text: {:?}", text);
        parse_and_check_spans(&text)?;

        // Re-print the parsed tree with another layout and parse it again.
        let again = print_forms(&parsed, seed2);
        let p2 = parse(&again);
        prop_assert!(p2.diagnostics.is_empty(), "{again:?}: {:?}", p2.diagnostics);
        let reparsed: Vec<D> = p2.forms.iter().map(|f| strip(&f.node)).collect();
        prop_assert_eq!(&reparsed, &parsed, "text: {:?}", again);

        // Every node's text reads back as that node on its own.
        for f in &p.forms {
            let slice = &text[f.node.span.start as usize..f.node.span.end as usize];
            let alone = parse(slice);
            prop_assert!(alone.diagnostics.is_empty(), "{slice:?}");
            prop_assert_eq!(alone.forms.len(), 1, "{:?}", slice);
            prop_assert_eq!(strip(&alone.forms[0].node), strip(&f.node));
        }
        Ok(())
    });
}

#[test]
fn balanced_data_evaluate_as_quoted_constants() {
    // Quoting a generated datum and evaluating it gives the datum back, printed as §3
    // prints it; the printed form of a quote-free, string-free, float-free datum
    // reads back as the same datum.
    let session = RefCell::new(Session::with_output(Output::new(Box::new(std::io::sink()))));
    check_property(128, datum(), |d| {
        let text = format!("'{}", print_forms(std::slice::from_ref(&d), 7));
        let mut s = session.borrow_mut();
        let v = s
            .eval_vm(SourceFile::new("quoted.jue", text.as_str()))
            .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        let printed = s.show(v);
        let p = parse(&printed);
        prop_assert!(p.diagnostics.is_empty(), "{printed:?}: {:?}", p.diagnostics);
        prop_assert_eq!(p.forms.len(), 1);
        // Compare with the datum as a value: brackets and empty lists normalise, and
        // quotes print as (quote x).
        prop_assert_eq!(
            normalise(&strip(&p.forms[0].node)),
            normalise(&d),
            "{}",
            printed
        );
        Ok(())
    });
}

/// The datum as run-time data: `[ ]` is `( )`, `()` is nil, `'x` is `(quote x)`,
/// a list ending in a list tail is flattened.
fn normalise(d: &D) -> D {
    match d {
        D::List(items, tail, _) => {
            let mut items: Vec<D> = items.iter().map(normalise).collect();
            let mut tail = tail.as_ref().map(|t| normalise(t));
            loop {
                match tail {
                    Some(D::List(more, t, _)) => {
                        items.extend(more);
                        tail = t.map(|b| *b);
                    }
                    Some(D::Nil) => tail = None,
                    _ => break,
                }
            }
            if items.is_empty() && tail.is_none() {
                D::Nil
            } else {
                D::List(items, tail.map(Box::new), false)
            }
        }
        D::Quote(q) => D::List(vec![D::Sym("quote".into()), normalise(q)], None, false),
        D::Float(f) if *f == 0.0 => D::Float(0.0),
        other => other.clone(),
    }
}

// ===================================================================== (d) running programs

/// Names every generated program defines first, so references resolve.
const PROGRAM_PRELUDE: &str = "\
(define x 1)
(define y '(1 2 3))
(define s \"str\")
(define (f a) a)
(define (g a b) (list a b))
(define (rec n) (if (< n 1) 0 (+ 1 (rec (- n 1)))))
";

fn int_literal(risky: bool) -> impl Strategy<Value = String> {
    let mut edges = vec![
        i64::MAX,
        i64::MIN,
        i32::MAX as i64,
        i32::MAX as i64 + 1,
        i32::MIN as i64,
        i16::MAX as i64,
        i16::MAX as i64 + 1,
        i16::MIN as i64 + 1,
        i16::MIN as i64 - 1,
        0,
        -1,
    ];
    if risky {
        edges.push(i16::MIN as i64);
    }
    prop_oneof![
        4 => (-20i64..20).prop_map(|i| i.to_string()),
        1 => prop::sample::select(edges).prop_map(|i| i.to_string()),
    ]
}

fn leaf(risky: bool) -> BoxedStrategy<String> {
    let mut options: Vec<BoxedStrategy<String>> = vec![
        int_literal(risky).boxed(),
        prop::sample::select(vec![
            "1.5",
            "-0.0",
            "1e300",
            "0.1",
            "true",
            "false",
            "nil",
            "'()",
            "'sym",
            ":kw",
            "'(1 2 . 3)",
            "'(a (b) \"c\")",
            "\"\"",
            "\"héllo\"",
            "\"a\\nb\"",
            "x",
            "y",
            "s",
            "(has-capability? IoNetwork)",
            "(require-capability SysClock)",
        ])
        .prop_map(String::from)
        .boxed(),
    ];
    if risky {
        // Built-ins as first-class values: later called with any number of arguments.
        options.push(
            prop::sample::select(vec![
                "car",
                "cons",
                "+",
                "%",
                "substring",
                "list-ref",
                "map",
            ])
            .prop_map(String::from)
            .boxed(),
        );
    }
    // Literals are often passed through the identity function `f`, so their type is
    // unknown to the checker (no E0104) and mistakes surface at run time instead.
    let raw = prop::strategy::Union::new(options);
    prop_oneof![
        1 => raw.clone(),
        1 => raw.prop_map(|l| format!("(f {l})")),
    ]
    .boxed()
}

fn expr(risky: bool) -> impl Strategy<Value = String> {
    leaf(risky).prop_recursive(5, 64, 4, move |e| {
        let e1 = e.clone();
        let e2 = (e.clone(), e.clone());
        let e3 = (e.clone(), e.clone(), e.clone());
        let mut options: Vec<BoxedStrategy<String>> = vec![
            e3.clone()
                .prop_map(|(a, b, c)| format!("(if {a} {b} {c})"))
                .boxed(),
            e2.clone().prop_map(|(a, b)| format!("(if {a} {b})")).boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("(let ((x {a})) {b})"))
                .boxed(),
            e3.clone()
                .prop_map(|(a, b, c)| format!("(let* ((x {a}) (y {b})) {c})"))
                .boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("(letrec ((f (lambda (x) {a}))) (f {b}))"))
                .boxed(),
            e1.clone().prop_map(|a| format!("(lambda (x) {a})")).boxed(),
            e1.clone().prop_map(|a| format!("(lambda (x . y) {a})")).boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("((lambda (x) {a}) {b})"))
                .boxed(),
            (
                prop::sample::select(vec![
                    "+", "-", "*", "/", "%", "<", "<=", ">", ">=", "=", "cons", "list",
                    "append", "equal?", "eq?", "string-append", "g", "math:add", "max", "min",
                    "list-ref",
                ]),
                e.clone(),
                e.clone(),
            )
                .prop_map(|(op, a, b)| format!("({op} {a} {b})"))
                .boxed(),
            (
                prop::sample::select(vec![
                    "-", "car", "cdr", "length", "reverse", "null?", "not", "abs", "f", "rec",
                    "string-length", "number->string", "to-string", "symbol->string",
                    "string->symbol", "string->number", "list?", "procedure?", "error-kind",
                ]),
                e.clone(),
            )
                .prop_map(|(op, a)| format!("({op} {a})"))
                .boxed(),
            e3.clone()
                .prop_map(|(a, b, c)| format!("(substring {a} {b} {c})"))
                .boxed(),
            e3.clone()
                .prop_map(|(a, b, c)| format!("(+ {a} {b} {c})"))
                .boxed(),
            e2.clone().prop_map(|(a, b)| format!("(begin {a} {b})")).boxed(),
            e2.clone().prop_map(|(a, b)| format!("(and {a} {b})")).boxed(),
            e2.clone().prop_map(|(a, b)| format!("(or {a} {b})")).boxed(),
            e2.clone().prop_map(|(a, b)| format!("(when {a} {b})")).boxed(),
            e2.clone().prop_map(|(a, b)| format!("(unless {a} {b})")).boxed(),
            e3.clone()
                .prop_map(|(a, b, c)| format!("(cond ({a} {b}) ({a}) (else {c}))"))
                .boxed(),
            e1.clone().prop_map(|a| format!("(set! x {a})")).boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("(let ((x 0)) (set! x {a}) (list x {b}))"))
                .boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("(try {a} (catch x {b}))"))
                .boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("(try {a} (catch x (list (error-kind x) (error-message x) {b})))"))
                .boxed(),
            e1.clone().prop_map(|a| format!("(error \"boom\" {a})")).boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("(map (lambda (x) {a}) {b})"))
                .boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("(filter (lambda (x) {a}) {b})"))
                .boxed(),
            e3.clone()
                .prop_map(|(a, b, c)| format!("(foldl (lambda (x y) {a}) {b} {c})"))
                .boxed(),
            e1.clone()
                .prop_map(|a| format!("(let loop ((x 0)) (if (< x 5) (loop (+ x 1)) {a}))"))
                .boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("(let loop ((x {a}) (y '())) (if (and (int? x) (< 0 x 50)) (loop (- x 1) (cons x y)) (list y {b})))"))
                .boxed(),
            e1.clone().prop_map(|a| format!("(:empirical {a})")).boxed(),
            e2.clone()
                .prop_map(|(a, b)| format!("(ffi-call math:add {a} {b})"))
                .boxed(),
            e1.clone().prop_map(|a| format!("'{a}")).boxed(),
            e1.clone()
                .prop_map(|a| format!("(let ((h (lambda () {a}))) (list (h) (h)))"))
                .boxed(),
        ];
        if risky {
            options.push(
                e2.clone()
                    .prop_map(|(a, b)| format!("({a} {b})"))
                    .boxed(),
            );
            options.push(e1.clone().prop_map(|a| format!("({a})")).boxed());
            options.push(
                e3.prop_map(|(a, b, c)| format!("({a} {b} {c})")).boxed(),
            );
            options.push(e1.prop_map(|a| format!("(- {a} -32768)")).boxed());
        }
        prop::strategy::Union::new(options)
    })
}

/// A whole program: the prelude of names, optional extra definitions, then forms.
fn program(risky: bool) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(expr(risky), 0..2),
        prop::collection::vec(expr(risky), 1..4),
    )
        .prop_map(|(defs, forms)| {
            let mut text = PROGRAM_PRELUDE.to_string();
            for (i, d) in defs.iter().enumerate() {
                text.push_str(&format!("(define (extra{i} x) {d})\n(extra{i} {i})\n"));
            }
            for f in forms {
                text.push_str(&f);
                text.push('\n');
            }
            text
        })
}

fn limited_session() -> Session {
    let mut s = Session::with_output(Output::new(Box::new(std::io::sink())));
    s.limits.steps = 100_000;
    s.limits.timeout_ms = Some(1000);
    s.limits.memory = 32 << 20;
    s
}

fn run_program(session: &RefCell<Session>, text: &str) -> Result<(), TestCaseError> {
    let mut s = session.borrow_mut();
    match s.eval_str("gen.jue", text) {
        Ok(v) => {
            // The owned value prints without trouble.
            let _ = v.to_string();
        }
        Err(e) => {
            // Errors are fine; they must render.
            let _ = e.to_string();
        }
    }
    // The session survives whatever happened.
    let after = s
        .eval_str("after.jue", "(+ 1 2)")
        .map_err(|e| TestCaseError::fail(format!("session broken after {text:?}: {e}")))?;
    prop_assert_eq!(after, jue_engine::Value::Int(3));
    Ok(())
}

#[test]
fn generated_programs_run_without_panicking() {
    let session = RefCell::new(limited_session());
    let compiled = std::cell::Cell::new(0u32);
    check_property(256, program(false), |text| {
        let has_errors = session
            .borrow()
            .check(&SourceFile::new("gen.jue", text.as_str()))
            .has_errors();
        if !has_errors {
            compiled.set(compiled.get() + 1);
        }
        run_program(&session, &text)
    });
    // The generator must mostly produce programs that get past the checker, or this
    // property says little about the VM.
    assert!(
        compiled.get() >= 96,
        "only {} of 256 generated programs compiled",
        compiled.get()
    );
    let s = session.borrow();
    // Slots the code collector freed have no code; every other one must validate.
    for p in s.vm().protos().iter().filter(|p| !p.code.is_empty()) {
        p.validate().expect("valid bytecode");
    }
}

#[test]
fn generated_programs_run_without_panicking_in_repl_mode() {
    let session = RefCell::new(limited_session());
    session.borrow_mut().set_repl_mode(true);
    check_property(128, program(false), |text| run_program(&session, &text));
}

#[test]
fn generated_programs_with_first_class_builtins_run_without_panicking() {
    let session = RefCell::new(limited_session());
    check_property(512, program(true), |text| run_program(&session, &text));
}
