#!/usr/bin/env python3
"""Times `jue lsp` on a small document importing a large file (bench/gen_large.py
cut to each size), over JSON-RPC on pipes: open → first diagnostics, and a
one-character edit of the small document → diagnostics (median of 20, best).
What it shows: whether an edit reads and checks the imported file again.

Usage: bench/lsp_imports_bench.py [JUE] [LINES ...]
       (defaults: target/release/jue; 1000 10000 100000 lines)"""
import os, sys, tempfile, time

from lsp_client import Server, generated

jue = sys.argv[1] if len(sys.argv) > 1 else "target/release/jue"
sizes = [int(a) for a in sys.argv[2:]] or [1000, 10000, 100000]
tmp = tempfile.mkdtemp(prefix="jue-lsp-imports-bench-")


def library(lines):
    """The generated file cut to about `lines` lines, written 1 hour old."""
    path = os.path.join(tmp, f"lib-{lines}.jue")
    with open(path, "w") as f:
        f.write(generated(lines, tmp))
    old = time.time() - 3600
    os.utime(path, (old, old))
    return path


def measure(lines):
    lib = library(lines)
    text = f'(import "{os.path.basename(lib)}" :as lib)\n' + "".join(
        f"(define (f{i} x) (+ x {i}))\n" for i in range(50))
    uri = "file://" + os.path.join(tmp, f"main-{lines}.jue")
    s = Server(jue)
    s.request("initialize", {"processId": None, "rootUri": "file://" + tmp,
                             "capabilities": {"general": {"positionEncodings": ["utf-16"]}}})
    s.notify("initialized", {})
    t = time.perf_counter()
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "jue", "version": 1, "text": text}})
    s.diagnostics(1, uri)
    opened = (time.perf_counter() - t) * 1000
    edits = []
    for v in range(2, 22):
        t = time.perf_counter()
        s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [
            {"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": " "}]})
        s.diagnostics(v, uri)
        edits.append((time.perf_counter() - t) * 1000)
    s.stop()
    return lines, opened, sorted(edits)[len(edits) // 2], min(edits)


rows = [measure(n) for n in sizes]
print("| imported file | " + " | ".join(f"{n:,} lines" for n, *_ in rows) + " |")
print("|---|" + "---|" * len(rows))
print("| open → first diagnostics | " + " | ".join(f"{o:.0f} ms" for _, o, _, _ in rows) + " |")
print("| one-character edit → diagnostics (median of 20; best) | "
      + " | ".join(f"{m:.2f} ms ({b:.2f})" for _, _, m, b in rows) + " |")
