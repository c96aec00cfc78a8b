#!/usr/bin/env python3
"""Times `jue lsp` on generated files of definitions (bench/gen_large.py, cut to
each size), one server per size, over JSON-RPC on pipes, as a VS Code-like client:

- open → first diagnostics; a one-character edit → diagnostics (median of 20);
  the same change sent as the whole text → diagnostics (median of 4);
- hover on a name in the middle of the file (median of 20);
- completion in a body in the middle of the file, with nothing typed and with
  one letter typed (median of 10 each; bytes of the largest answer);
- semantic tokens for a screen of 60 lines (`range`, median of 10), and for the
  whole file (`full`, bytes); folding ranges (at most 5,000, as VS Code asks)
  and document symbols: each whole-file answer the first time it is asked, then
  after a one-character edit (median of 3);
- the server's resident memory after the open and the edits, and after all of
  it (whole-text replacements and whole-file answers included).

Prints a Markdown table (medians, with the best run in parentheses: on a loaded
machine the best is the closer to the server's own cost), with the growth of the
medians from the 10,000-line to the 100,000-line file when both are measured.

Usage: bench/lsp_bench.py [JUE] [LINES ...]
       (defaults: target/release/jue; 1000 10000 20000 100000 lines)"""
import os, sys, tempfile, time

from lsp_client import Server, generated

jue = sys.argv[1] if len(sys.argv) > 1 else "target/release/jue"
sizes = [int(a) for a in sys.argv[2:]] or [1000, 10000, 20000, 100000]
tmp = tempfile.mkdtemp(prefix="jue-lsp-bench-")

CAPS = {
    "general": {"positionEncodings": ["utf-16"]},
    "textDocument": {
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "completion": {"completionItem": {"documentationFormat": ["markdown", "plaintext"],
                                          "resolveSupport": {"properties": ["documentation"]}},
                       "completionItemKind": {"valueSet": list(range(1, 26))}},
        "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
        "foldingRange": {"rangeLimit": 5000, "lineFoldingOnly": True},  # as VS Code sends
        "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}}},
        "semanticTokens": {"requests": {"range": True, "full": {"delta": True}},
                           "tokenTypes": [], "tokenModifiers": [], "formats": ["relative"]},
    },
}



med = lambda xs: sorted(xs)[len(xs) // 2]


def measure(lines):
    text = generated(lines, tmp)
    rows = text.split("\n")
    n = text.count("\n")
    uri = "file://" + os.path.join(tmp, f"big-{lines}.jue")
    s = Server(jue)
    s.request("initialize", {"processId": None, "rootUri": "file://" + tmp, "capabilities": CAPS})
    s.notify("initialized", {})
    r = {"lines": n}
    t = time.perf_counter()
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "jue", "version": 1, "text": text}})
    s.diagnostics(1)
    r["open"] = (time.perf_counter() - t) * 1000
    edits = []
    for v in range(2, 22):
        t = time.perf_counter()
        s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [
            {"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": " "}]})
        s.diagnostics(v)
        edits.append((time.perf_counter() - t) * 1000)
    r["edit"] = med(edits)
    r["edit_best"] = min(edits)
    r["rss_edits"] = s.rss_mib()
    # The whole text again, one character different: every slot is analysed again.
    fulls = []
    version = 22
    for k in range(4):
        rows[3] = (" " + rows[3]) if k % 2 == 0 else rows[3][1:]
        t = time.perf_counter()
        s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                            "contentChanges": [{"text": "\n".join(rows)}]})
        s.diagnostics(version)
        fulls.append((time.perf_counter() - t) * 1000)
        version += 1
    r["whole"] = med(fulls)
    # A definition in the middle: its name (hover) and its body (completion).
    mid = next(i for i in range(len(rows) // 2, len(rows)) if rows[i].startswith("(define (")
               and i + 1 < len(rows) and rows[i + 1].startswith("  ("))
    doc = {"uri": uri}
    hovers = [s.request("textDocument/hover", {"textDocument": doc, "position": {"line": mid, "character": 10}})[1]
              for _ in range(20)]
    r["hover"], r["hover_best"] = med(hovers), min(hovers)
    comp = {}
    for label, col in (("empty", 3), ("letter", 4)):
        runs = [s.request("textDocument/completion", {"textDocument": doc, "position": {"line": mid + 1, "character": col}})
                for _ in range(10)]
        comp[label] = (med([x[1] for x in runs]), max(x[2] for x in runs), len(runs[0][0]["items"]),
                       min(x[1] for x in runs))
    r["completion"] = comp
    screen = {"start": {"line": mid, "character": 0}, "end": {"line": mid + 60, "character": 0}}
    ranges = [s.request("textDocument/semanticTokens/range", {"textDocument": doc, "range": screen})[1]
              for _ in range(10)]
    r["tokens_range"], r["tokens_range_best"] = med(ranges), min(ranges)
    # Whole-file answers: the first one after the open, then each after a
    # one-character edit (the server may reuse what the edit left alone).
    def whole_file(method):
        nonlocal version
        first = s.request(method, {"textDocument": doc})
        runs = []
        for _ in range(3):
            s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [
                {"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": " "}]})
            s.diagnostics(version)
            version += 1
            runs.append(s.request(method, {"textDocument": doc})[1])
        return first[1], med(runs), first[2]
    r["tokens_full"] = whole_file("textDocument/semanticTokens/full")
    r["folding"] = whole_file("textDocument/foldingRange")
    r["symbols"] = whole_file("textDocument/documentSymbol")
    r["rss"] = s.rss_mib()
    s.stop()
    return r


results = [measure(n) for n in sizes]
kb = lambda b: f"{b / 1024:.0f} KB" if b >= 1024 else f"{b} B"
table = [
    ("open → first diagnostics", lambda r: f"{r['open']:.0f} ms", lambda r: r["open"]),
    ("one-character edit → diagnostics (median of 20; best)", lambda r: f"{r['edit']:.2f} ms ({r['edit_best']:.2f})", lambda r: r["edit"]),
    ("the same change as the whole text → diagnostics", lambda r: f"{r['whole']:.0f} ms", lambda r: r["whole"]),
    ("hover (median of 20; best)", lambda r: f"{r['hover']:.2f} ms ({r['hover_best']:.2f})", lambda r: r["hover"]),
    ("completion, nothing typed (median of 10; best; items, bytes)",
     lambda r: "{:.2f} ms ({:.2f}; {} items, {})".format(r["completion"]["empty"][0], r["completion"]["empty"][3], r["completion"]["empty"][2], kb(r["completion"]["empty"][1])),
     lambda r: r["completion"]["empty"][0]),
    ("completion, one letter typed",
     lambda r: "{:.2f} ms ({:.2f}; {} items, {})".format(r["completion"]["letter"][0], r["completion"]["letter"][3], r["completion"]["letter"][2], kb(r["completion"]["letter"][1])),
     lambda r: r["completion"]["letter"][0]),
    ("semantic tokens, 60-line range (median of 10; best)", lambda r: f"{r['tokens_range']:.2f} ms ({r['tokens_range_best']:.2f})", lambda r: r["tokens_range"]),
    ("semantic tokens, full: first; after an edit (median of 3; bytes)",
     lambda r: f"{r['tokens_full'][0]:.0f} ms; {r['tokens_full'][1]:.1f} ms ({kb(r['tokens_full'][2])})", lambda r: r["tokens_full"][1]),
    ("folding ranges: first; after an edit", lambda r: f"{r['folding'][0]:.1f} ms; {r['folding'][1]:.1f} ms", lambda r: r["folding"][1]),
    ("document symbols: first; after an edit", lambda r: f"{r['symbols'][0]:.1f} ms; {r['symbols'][1]:.1f} ms", lambda r: r["symbols"][1]),
    ("resident memory after open and edits", lambda r: f"{r['rss_edits']:.0f} MiB", lambda r: r["rss_edits"]),
    ("resident memory at the end", lambda r: f"{r['rss']:.0f} MiB", lambda r: r["rss"]),
]
by_size = {n: r for n, r in zip(sizes, results)}
growth = 10000 in by_size and 100000 in by_size
head = "| | " + " | ".join(f"{r['lines']:,} lines" for r in results) + (" | 10k → 100k |" if growth else " |")
print(head)
print("|---" * (len(results) + 1 + growth) + "|")
for name, show, value in table:
    cells = [show(r) for r in results]
    if growth:
        a, b = value(by_size[10000]), value(by_size[100000])
        cells.append(f"{b / a:.1f}×" if a > 0 else "–")
    print(f"| {name} | " + " | ".join(cells) + " |")
