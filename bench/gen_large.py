#!/usr/bin/env python3
"""Generate a large, valid Jue source file for the parser throughput benchmark.

Usage:
    python3 bench/gen_large.py OUT.jue [--size-mb 20] [--seed 1]

The output is deterministic for a given seed and size. It is a sequence of
varied, realistic top-level forms: commented function definitions (if, cond,
let/let* with both bracket styles, named let loops, lambdas, map/filter/foldl,
try/catch, string operations), `@formal` pure helpers, quoted data tables with
nested lists, keywords, floats, negative numbers and strings with escapes and
non-ASCII text, plus multi-line strings.

The file is meant to be valid per shared/spec/language.md: every top-level name
is unique, every referenced name is a built-in, a registry function needing no
capability, a parameter/local, or an earlier definition called with the right
number of arguments, and `@formal` forms call only formal built-ins. Loading it
runs only the definitions (data tables are quoted literals) and a final
`println` of the number of definitions, so `jue run OUT.jue` is quick too.
"""

import argparse
import random
import sys

WORDS = [
    "sensor", "reading", "window", "average", "total", "offset", "scale",
    "buffer", "record", "entry", "matrix", "vector", "packet", "frame",
    "signal", "filter", "budget", "ledger", "account", "invoice", "order",
    "route", "node", "edge", "graph", "score", "rank", "weight", "delta",
    "alpha", "beta", "gamma", "limit", "count", "index", "value", "result",
]
TEXTS = [
    "hello, world",
    "line one\\nline two",
    "tab\\tseparated\\tvalues",
    "a \\\"quoted\\\" word",
    "back\\\\slash",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "emoji \\u{1F600} escape",
    "\u03bb-calculus",
    "plain ascii text for the parser",
    "carriage\\rreturn",
    "nul\\0byte",
]
KEYWORDS = [":id", ":name", ":kind", ":status", ":ok", ":error", ":pending",
            ":left", ":right", ":weight", ":tags"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.n = 0            # forms emitted
        self.defs = 0         # top-level definitions emitted
        # Earlier user functions that can be called: (name, arity).
        self.unary = []
        self.binary = []

    # ---- small pieces -------------------------------------------------
    def word(self):
        return self.r.choice(WORDS)

    def name(self, kind):
        self.n += 1
        return "%s-%s-%d" % (self.word(), kind, self.n)

    def string(self):
        return '"%s"' % self.r.choice(TEXTS)

    def number(self):
        c = self.r.random()
        if c < 0.5:
            return str(self.r.randint(-1000, 100000))
        if c < 0.8:
            return "%d.%d" % (self.r.randint(-99, 999), self.r.randint(0, 9999))
        return "%d.%de%d" % (self.r.randint(1, 9), self.r.randint(0, 99),
                             self.r.randint(-12, 12))

    def atom(self):
        c = self.r.random()
        if c < 0.35:
            return self.number()
        if c < 0.55:
            return self.string()
        if c < 0.75:
            return self.r.choice(KEYWORDS)
        if c < 0.9:
            return self.word()
        return self.r.choice(["true", "false", "nil"])

    def datum(self, depth):
        """A quotable datum (inside a quoted list)."""
        if depth <= 0 or self.r.random() < 0.55:
            return self.atom()
        k = self.r.randint(0, 5)
        parts = [self.datum(depth - 1) for _ in range(k)]
        if parts and parts[0].startswith(":"):
            # A list headed by a keyword reads as a tier form (or E0002)
            # in code; keep data lists unambiguous even when quoted.
            parts.insert(0, self.word())
        items = " ".join(parts)
        if k >= 2 and self.r.random() < 0.1:
            return "(%s . %s)" % (items, self.atom())
        return "(%s)" % items

    def int_expr(self, vars_, depth):
        """An arithmetic expression over numeric variables."""
        if depth <= 0 or self.r.random() < 0.3:
            if vars_ and self.r.random() < 0.7:
                return self.r.choice(vars_)
            return str(self.r.randint(0, 100))
        op = self.r.choice(["+", "-", "*", "max", "min", "+", "abs"])
        if op == "abs":
            return "(abs %s)" % self.int_expr(vars_, depth - 1)
        k = self.r.randint(2, 3)
        return "(%s %s)" % (op, " ".join(self.int_expr(vars_, depth - 1)
                                        for _ in range(k)))

    def uses(self, expr, vars_):
        """Wrap expr so that every variable in vars_ is used (no W0303)."""
        op = self.r.choice(["+", "-", "max", "min"])
        return "(%s %s %s)" % (op, expr, " ".join(vars_))

    def cond_expr(self, vars_):
        a = self.r.choice(vars_) if vars_ else self.int_expr(vars_, 1)
        b = self.int_expr(vars_, 1)
        return "(%s %s %s)" % (self.r.choice(["<", ">", "<=", ">=", "="]), a, b)

    def comment(self, indent=""):
        w = [self.word() for _ in range(self.r.randint(3, 12))]
        return "%s; %s.\n" % (indent, " ".join(w).capitalize())

    # ---- top-level forms ----------------------------------------------
    def f_arith(self):
        name = self.name("fn")
        a, b = "x", "y"
        body = self.uses(self.int_expr([a, b], 4), [a, b])
        out = self.comment()
        out += "(define (%s %s %s)\n  %s)\n" % (name, a, b, body)
        self.binary.append(name)
        return out

    def f_cond(self):
        name = self.name("classify")
        out = self.comment()
        out += "(define (%s n)\n  (cond\n" % name
        for _ in range(self.r.randint(2, 5)):
            out += "    (%s %s)\n" % (self.cond_expr(["n"]),
                                      self.r.choice(KEYWORDS))
        out += "    (else %s)))\n" % self.string()
        self.unary.append(name)
        return out

    def f_let(self):
        name = self.name("calc")
        o, c = ("[", "]") if self.r.random() < 0.5 else ("(", ")")
        form = self.r.choice(["let", "let*"])
        out = self.comment()
        out += "(define (%s a b)\n  (%s (%sp %s%s\n" % (
            name, form, o, self.uses(self.int_expr(["a", "b"], 2), ["a", "b"]), c)
        out += "        %sq %s%s)\n" % (o, self.int_expr(["a", "b"], 2), c)
        out += "    ;; combine the two partial results\n"
        out += "    (if %s\n        %s\n        %s)))\n" % (
            self.cond_expr(["p", "q"]),
            self.uses(self.int_expr(["p", "q"], 2), ["p", "q"]),
            self.uses(self.int_expr(["p", "q", "a"], 2), ["p", "q"]))
        self.binary.append(name)
        return out

    def f_loop(self):
        name = self.name("sum")
        step = self.r.randint(1, 5)
        out = self.comment()
        out += ("(define (%s n)\n"
                "  ;; named let: a loop in constant space\n"
                "  (let loop ([i 0] [acc 0])\n"
                "    (if (>= i n)\n"
                "        acc\n"
                "        (loop (+ i %d) (+ acc %s)))))\n"
                % (name, step, self.int_expr(["i", "acc"], 2)))
        self.unary.append(name)
        return out

    def f_hof(self):
        name = self.name("pipeline")
        k = self.r.randint(1, 9)
        out = self.comment()
        out += ("(define (%s xs)\n"
                "  (foldl (lambda (acc x) (+ acc x))\n"
                "         0\n"
                "         (map (lambda (x) (* x %d))\n"
                "              (filter (lambda (x) (> x %d)) xs))))\n"
                % (name, k, self.r.randint(0, 50)))
        self.unary.append(name)
        return out

    def f_string(self):
        name = self.name("label")
        out = self.comment()
        out += ("(define (%s item n)\n"
                "  (string-append %s \": \" (to-string item)\n"
                "                 \" (#\" (number->string n) \")\"))\n"
                % (name, self.string()))
        self.binary.append(name)
        return out

    def f_try(self):
        name = self.name("safe-div")
        out = self.comment()
        out += ("(define (%s a b)\n"
                "  (try\n"
                "    (/ a b)\n"
                "    (catch err\n"
                "      (begin\n"
                "        (when (eq? (error-kind err) 'division-by-zero)\n"
                "          %s)\n"
                "        0))))\n" % (name, self.string()))
        self.binary.append(name)
        return out

    def f_formal(self):
        name = self.name("pure")
        out = self.comment()
        out += "@formal\n"
        out += ("(define (%s v w)\n"
                "  ;; pure: only formal built-ins\n"
                "  (if (and (number? v) (number? w))\n"
                "      %s\n"
                "      (list v w %s)))\n"
                % (name, self.int_expr(["v", "w"], 3), self.r.choice(KEYWORDS)))
        # Not added to the callable pools: calls below stay among
        # empirical helpers, which keeps every call tier-correct.
        return out

    def f_ffi(self):
        name = self.name("reg")
        out = self.comment()
        out += ("(define (%s a b)\n"
                "  ;; registry functions that need no capability\n"
                "  (if (lt a b) (add (mul a 2) b) (sub a (mod b 7))))\n" % name)
        self.binary.append(name)
        return out

    def f_calls(self):
        if not self.unary or not self.binary:
            return self.f_arith()
        name = self.name("combo")
        u = self.r.choice(self.unary[-50:])
        b = self.r.choice(self.binary[-50:])
        out = self.comment()
        out += ("(define (%s x)\n"
                "  (list (%s x) (%s x %d) %s))\n"
                % (name, u, b, self.r.randint(1, 99), self.string()))
        self.unary.append(name)
        return out

    def f_table(self):
        name = self.name("table")
        out = self.comment()
        out += "(define %s\n  '(" % name
        rows = self.r.randint(2, 8)
        for i in range(rows):
            if i:
                out += "\n    "
            out += "(%s %s %s %s %s)" % (self.word(), self.r.choice(KEYWORDS),
                                         self.number(), self.string(),
                                         self.datum(3))
        out += "))\n"
        return out

    def f_text(self):
        name = self.name("doc")
        lines = [self.comment("").strip("; \n") for _ in range(self.r.randint(2, 6))]
        out = "(define %s\n  \"%s\")\n" % (name, "\n".join(lines))
        return out

    def form(self):
        fns = [self.f_arith, self.f_cond, self.f_let, self.f_loop, self.f_hof,
               self.f_string, self.f_try, self.f_formal, self.f_ffi,
               self.f_calls, self.f_calls, self.f_table, self.f_table,
               self.f_text]
        self.defs += 1
        return self.r.choice(fns)() + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="output path")
    ap.add_argument("--size-mb", type=float, default=20.0,
                    help="target size in MiB (default 20)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    target = int(args.size_mb * 1024 * 1024)
    g = Gen(args.seed)
    header = ("; Generated by bench/gen_large.py (seed %d, target %d bytes).\n"
              "; Parser throughput benchmark input: varied top-level forms.\n\n"
              % (args.seed, target))
    chunks = [header]
    size = len(header.encode("utf-8"))
    while size < target:
        s = g.form()
        chunks.append(s)
        size += len(s.encode("utf-8"))
    tail = '(println "loaded" %d "definitions")\n' % g.defs
    chunks.append(tail)
    size += len(tail)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(chunks))
    print("wrote %s: %d bytes, %d definitions" % (args.out, size, g.defs),
          file=sys.stderr)


if __name__ == "__main__":
    main()
