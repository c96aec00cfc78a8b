#!/usr/bin/env python3
"""REPL latency, Jue against Python 3 in the same run, both in a real pty (pexpect).

Measures, over N runs each (median, and min..max):
  start   - from spawning the process to its first prompt on the screen;
  eval    - from sending Enter after a small expression to its printed result.
Usage: bench/repl_startup.py JUE_BINARY [N]
"""
import os, statistics, sys, tempfile, time
import pexpect

JUE = sys.argv[1] if len(sys.argv) > 1 else "target/release/jue"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 20
DATA = tempfile.mkdtemp(prefix="jue-bench-")
ENV = dict(os.environ, TERM="xterm", NO_COLOR="1", XDG_DATA_HOME=DATA, PYTHONSTARTUP="")

REPLS = {
    # name: (argv, prompt regex, expression, result regex)
    "jue": ([JUE, "repl"], r"jue> ", "(+ 1 2)", r"\r\n3\r\n"),
    "python3": (["python3", "-q", "-i"], r">>> ", "1 + 2", r"\r\n3\r\n"),
}

def once(argv, prompt, expr, result):
    t0 = time.perf_counter()
    p = pexpect.spawn(argv[0], argv[1:], env=ENV, timeout=10, echo=True)
    p.delaybeforesend = None           # pexpect sleeps 50 ms before each send by default
    p.expect(prompt)
    start = time.perf_counter() - t0
    p.send(expr)
    p.expect_exact(expr[-1])           # the echo of the last character: typing is done
    time.sleep(0.05)
    t1 = time.perf_counter()
    p.send("\r")
    p.expect(result)
    ev = time.perf_counter() - t1
    p.sendeof()
    p.expect(pexpect.EOF)
    p.close()
    return start * 1000, ev * 1000

def fmt(xs):
    return f"median {statistics.median(xs):7.2f} ms  (min {min(xs):.2f}, max {max(xs):.2f})"

results = {}
for name, spec in REPLS.items():
    once(*spec)                        # warm the page cache
    runs = [once(*spec) for _ in range(N)]
    results[name] = ([r[0] for r in runs], [r[1] for r in runs])

print(f"REPL latency over {N} runs each, in a pty:")
for name, (start, ev) in results.items():
    print(f"  {name:8} start-to-prompt {fmt(start)}")
    print(f"  {name:8} enter-to-result {fmt(ev)}")
js, ps = statistics.median(results["jue"][0]), statistics.median(results["python3"][0])
verdict = "no slower than" if js <= ps else "SLOWER than"
print(f"jue start-up is {verdict} python3's ({js:.2f} ms vs {ps:.2f} ms)")
sys.exit(0 if js <= ps else 1)
