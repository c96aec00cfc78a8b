//! Typing speed of the REPL's line-editor helper (issue 16): what the helper
//! costs per keystroke (rustyline calls `hint`, `highlight_char` and
//! `highlight` on every key; `validate` on Enter), on short and long inputs and
//! in a session of 10,000 definitions, beside the path without highlighting
//! (`NO_COLOR`: the hint only) and the lexer alone. Rustyline without a helper
//! does none of this work.
//!
//! Run: `bench/repl_typing.sh` (release build of this example only).
//! Prints a Markdown table; medians over repeated keystrokes.

use jue_engine::syntax::lexer::{is_incomplete, lex};
use jue_engine::{Session, SourceFile};
use jue_repl::helper::{HIGHLIGHT_LIMIT, JueHelper};
use jue_repl::names::Names;
use rustyline::Context;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[t.len() / 2]
}

/// One keystroke at the end of `text`: what rustyline asks of the helper.
fn keystroke(h: &JueHelper, ctx: &Context<'_>, text: &str) {
    let pos = text.len();
    black_box(h.hint(text, pos, ctx));
    if h.highlight_char(text, pos, CmdKind::Other) {
        black_box(h.highlight(text, pos));
    }
}

fn definition(lines: usize) -> String {
    let mut s = String::from("(define (long-fn x)\n  (let* (");
    for i in 0..lines {
        s.push_str(&format!("\n         (v{i} (+ x {i} (* 2 \"s{i}\")))"));
    }
    s.push_str(")\n    x))");
    s
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let history = DefaultHistory::new();
    let ctx = Context::new(&history);

    let small = Session::new();
    let mut big = Session::new();
    big.set_repl_mode(true);
    let mut defs = String::new();
    for i in 0..10_000 {
        defs.push_str(&format!("(define (f{i} x) (+ x {i}))\n"));
    }
    big.eval(SourceFile::new("defs", defs))
        .expect("definitions");

    // Per input, after it ran: the helper's names are rebuilt from the session.
    let refresh_small = median(runs.min(50), || {
        black_box(Names::from_session(&small));
    });
    let refresh_big = median(runs.min(50), || {
        black_box(Names::from_session(&big));
    });
    // What the REPL does after a Jue input: update the names it defined.
    let mut names_big = Names::from_session(&big);
    let update_big = median(runs.min(50), || {
        names_big.update(&big, &["f5000".to_string()]);
    });
    // Enter to result in the big session: check, compile and run one call.
    let mut n = 0u32;
    let eval_big = median(runs.min(50), || {
        n += 1;
        let v = big.eval(SourceFile::new(format!("<repl:{n}>"), "(f5000 1)"));
        black_box(v.expect("runs"));
    });
    let define_big = median(runs.min(50), || {
        n += 1;
        let v = big.eval(SourceFile::new(
            format!("<repl:{n}>"),
            "(define (f5000 x) (+ x 5000))",
        ));
        black_box(v.expect("defines"));
    });
    let helper_small = JueHelper::new(Rc::new(RefCell::new(Names::from_session(&small))), true);
    let helper_big = JueHelper::new(Rc::new(RefCell::new(Names::from_session(&big))), true);
    // NO_COLOR: no highlighting, the hint only (the REPL's plain path).
    let helper_plain = JueHelper::new(Rc::new(RefCell::new(Names::from_session(&small))), false);

    let one_line = "(define (area w h) (* w h (math:add 1 2) (string-length \"abc\"))".to_string();
    let def_50 = definition(50);
    let def_200 = definition(200);
    let long_line = format!("(list {})", "12345 ".repeat(1000));
    let inputs: [(&str, &str); 4] = [
        ("one line, 66 chars", &one_line),
        ("50-line definition", &def_50),
        ("200-line definition (pasted)", &def_200),
        ("one 6,000-char line", &long_line),
    ];

    println!(
        "| input | chars | helper per key (µs) | same, 10,000 definitions (µs) | no highlighting (NO_COLOR) (µs) | lexer alone (µs) | validate on Enter (µs) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, text) in inputs {
        let small = median(runs, || keystroke(&helper_small, &ctx, text));
        let big = median(runs, || keystroke(&helper_big, &ctx, text));
        let plain = median(runs, || keystroke(&helper_plain, &ctx, text));
        let lexer = median(runs, || {
            black_box(lex(text));
        });
        let validate = median(runs, || {
            black_box(is_incomplete(text));
        });
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            text.len(),
            us(small),
            us(big),
            us(plain),
            us(lexer),
            us(validate)
        );
    }
    println!();
    println!(
        "Inputs over {HIGHLIGHT_LIMIT} characters are neither highlighted nor hinted (the helper returns at once); \
the \"lexer alone\" column is the floor of what highlighting them would cost per key."
    );
    println!(
        "Rebuilding the helper's names: {} µs with the prelude only, {} µs with 10,000 definitions; \
updating the names an input defined (what the REPL does after a Jue input): {} µs at 10,000.",
        us(refresh_small),
        us(refresh_big),
        us(update_big)
    );
    println!(
        "Engine, 10,000 definitions: a call input `(f5000 1)` checked, compiled and run in {} µs; \
redefining `f5000` in {} µs.",
        us(eval_big),
        us(define_big)
    );
}
