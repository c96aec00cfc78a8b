//! In-process engine benchmarks (criterion 0.5, `harness = false`).
//!
//! Run with `cargo bench -p jue-engine --bench engine`
//! (one group: `cargo bench -p jue-engine --bench engine -- fib25`).
//!
//! - `parse`: throughput of `jue_engine::syntax::parse` over a generated,
//!   valid ~5 MB source of varied top-level forms (the same kind of text as
//!   `bench/gen_large.py` writes, generated here so the bench needs no file).
//! - `fib25`, `loop1m`, `list100k`: a fresh `Session` compiles and runs a small
//!   program per iteration, so each sample includes session set-up, parsing and
//!   compiling (all small) plus the run. Whole-process numbers, with start-up,
//!   come from `bench/compare.sh`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// fib(25) = 75025: about 243,000 non-tail calls.
const FIB25: &str = "
(define (fib n)
  (if (< n 2)
      n
      (+ (fib (- n 1)) (fib (- n 2)))))
(fib 25)
";

/// A 1,000,000-iteration tail-recursive counting loop; value 1000000.
const LOOP1M: &str = "
(define (count i acc)
  (if (= i 0)
      acc
      (count (- i 1) (+ acc 1))))
(count 1000000 0)
";

/// Build (1 2 ... 100000) with a tail-recursive cons loop, then sum it;
/// value 5000050000.
const LIST100K: &str = "
(define (build i acc)
  (if (= i 0)
      acc
      (build (- i 1) (cons i acc))))
(define (sum xs acc)
  (if (null? xs)
      acc
      (sum (cdr xs) (+ acc (car xs)))))
(sum (build 100000 nil) 0)
";

/// Deterministic generator of a valid Jue source of at least `target` bytes.
struct Gen {
    state: u64,
    n: usize,
    out: String,
}

const WORDS: &[&str] = &[
    "sensor", "reading", "window", "average", "total", "offset", "scale", "buffer", "record",
    "entry", "matrix", "vector", "packet", "frame", "signal", "filter", "budget", "ledger",
    "account", "route", "node", "edge", "graph", "score", "weight", "delta", "alpha", "limit",
];
const TEXTS: &[&str] = &[
    "hello, world",
    "line one\\nline two",
    "tab\\tseparated\\tvalues",
    "a \\\"quoted\\\" word",
    "back\\\\slash",
    "caf\u{e9} na\u{ef}ve r\u{e9}sum\u{e9}",
    "\u{65e5}\u{672c}\u{8a9e}",
    "emoji \\u{1F600} escape",
    "\u{3bb}-calculus",
    "plain ascii text for the parser",
];
const KEYWORDS: &[&str] = &[":id", ":name", ":kind", ":status", ":ok", ":error", ":tags"];

impl Gen {
    fn new(seed: u64) -> Self {
        Gen {
            state: seed.wrapping_mul(6364136223846793005).wrapping_add(1),
            n: 0,
            out: String::new(),
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }

    fn name(&mut self, kind: &str) -> String {
        self.n += 1;
        format!("{}-{}-{}", self.pick(WORDS), kind, self.n)
    }

    fn comment(&mut self) {
        let k = 3 + self.below(8);
        self.out.push(';');
        for _ in 0..k {
            self.out.push(' ');
            let w = self.pick(WORDS);
            self.out.push_str(w);
        }
        self.out.push_str(".\n");
    }

    fn number(&mut self) -> String {
        match self.below(3) {
            0 => format!("{}", self.below(100_000) as i64 - 1000),
            1 => format!("{}.{}", self.below(1000) as i64 - 99, self.below(10_000)),
            _ => format!(
                "{}.{}e{}",
                1 + self.below(9),
                self.below(100),
                self.below(25) as i64 - 12
            ),
        }
    }

    fn atom(&mut self) -> String {
        match self.below(6) {
            0 | 1 => self.number(),
            2 => format!("\"{}\"", self.pick(TEXTS)),
            3 => self.pick(KEYWORDS).to_string(),
            4 => self.pick(WORDS).to_string(),
            _ => self.pick(&["true", "false", "nil"]).to_string(),
        }
    }

    fn datum(&mut self, depth: u32) -> String {
        if depth == 0 || self.below(10) < 5 {
            return self.atom();
        }
        // Lists in data are headed by a symbol, never by a keyword.
        let mut s = format!("({}", self.pick(WORDS));
        for _ in 0..self.below(5) {
            s.push(' ');
            let d = self.datum(depth - 1);
            s.push_str(&d);
        }
        s.push(')');
        s
    }

    fn expr(&mut self, vars: &[&str], depth: u32) -> String {
        if depth == 0 || self.below(10) < 3 {
            return if self.below(10) < 7 {
                self.pick(vars).to_string()
            } else {
                format!("{}", self.below(100))
            };
        }
        let op = self.pick(&["+", "-", "*", "max", "min"]);
        let a = self.expr(vars, depth - 1);
        let b = self.expr(vars, depth - 1);
        format!("({op} {a} {b})")
    }

    fn form(&mut self) {
        self.comment();
        match self.below(6) {
            0 => {
                let name = self.name("fn");
                let body = self.expr(&["x", "y"], 4);
                self.out
                    .push_str(&format!("(define ({name} x y)\n  (+ {body} x y))\n"));
            }
            1 => {
                let name = self.name("classify");
                self.out.push_str(&format!("(define ({name} n)\n  (cond\n"));
                for _ in 0..2 + self.below(3) {
                    let e = self.expr(&["n"], 2);
                    let k = self.pick(KEYWORDS);
                    self.out.push_str(&format!("    ((< n {e}) {k})\n"));
                }
                let t = self.pick(TEXTS);
                self.out.push_str(&format!("    (else \"{t}\")))\n"));
            }
            2 => {
                let name = self.name("sum");
                let e = self.expr(&["i", "acc"], 2);
                self.out.push_str(&format!(
                    "(define ({name} n)\n  ;; named let: a loop in constant space\n  \
                     (let loop ([i 0] [acc 0])\n    (if (>= i n)\n        acc\n        \
                     (loop (+ i 1) (+ acc {e})))))\n"
                ));
            }
            3 => {
                let name = self.name("pipeline");
                let k = self.below(10);
                self.out.push_str(&format!(
                    "(define ({name} xs)\n  (foldl (lambda (acc x) (+ acc x))\n         0\n         \
                     (map (lambda (x) (* x {k}))\n              (filter (lambda (x) (> x 3)) xs))))\n"
                ));
            }
            4 => {
                let name = self.name("label");
                let t = self.pick(TEXTS);
                self.out.push_str(&format!(
                    "(define ({name} item n)\n  (string-append \"{t}\" \": \" (to-string item)\n                 \
                     \" (#\" (number->string n) \")\"))\n"
                ));
            }
            _ => {
                let name = self.name("table");
                self.out.push_str(&format!("(define {name}\n  '("));
                for i in 0..2 + self.below(6) {
                    if i > 0 {
                        self.out.push_str("\n    ");
                    }
                    let w = self.pick(WORDS);
                    let k = self.pick(KEYWORDS);
                    let num = self.number();
                    let t = self.pick(TEXTS);
                    let d = self.datum(3);
                    self.out.push_str(&format!("({w} {k} {num} \"{t}\" {d})"));
                }
                self.out.push_str("))\n");
            }
        }
        self.out.push('\n');
    }
}

fn generate_source(target: usize) -> String {
    let mut g = Gen::new(1);
    g.out.reserve(target + 4096);
    g.out.push_str("; Generated for the parse benchmark.\n\n");
    while g.out.len() < target {
        g.form();
    }
    g.out
}

fn bench_parse(c: &mut Criterion) {
    let text = generate_source(5 * 1024 * 1024);
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("5MB", |b| {
        b.iter(|| black_box(jue_engine::syntax::parse(black_box(&text))))
    });
    group.finish();
}

fn bench_program(c: &mut Criterion, group_name: &str, src: &'static str) {
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("session", |b| {
        b.iter(|| {
            let mut s = jue_engine::Session::new();
            let v = s.eval_str("bench", black_box(src)).unwrap();
            black_box(v)
        })
    });
    group.finish();
}

fn bench_fib25(c: &mut Criterion) {
    bench_program(c, "fib25", FIB25);
}

fn bench_loop1m(c: &mut Criterion) {
    bench_program(c, "loop1m", LOOP1M);
}

fn bench_list100k(c: &mut Criterion) {
    bench_program(c, "list100k", LIST100K);
}

criterion_group!(
    benches,
    bench_parse,
    bench_fib25,
    bench_loop1m,
    bench_list100k
);
criterion_main!(benches);
