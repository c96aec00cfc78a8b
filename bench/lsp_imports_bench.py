#!/usr/bin/env python3
"""Times `jue lsp` on a small document importing a large file (bench/gen_large.py
cut to each size), over JSON-RPC on pipes: open → first diagnostics, and a
one-character edit of the small document → diagnostics (median of 20, best).
What it shows: whether an edit reads and checks the imported file again.

Usage: bench/lsp_imports_bench.py [JUE] [LINES ...]
       (defaults: target/release/jue; 1000 10000 100000 lines)"""
import json, os, subprocess, sys, tempfile, time

jue = sys.argv[1] if len(sys.argv) > 1 else "target/release/jue"
sizes = [int(a) for a in sys.argv[2:]] or [1000, 10000, 100000]
here = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp(prefix="jue-lsp-imports-bench-")


def library(lines):
    """The generated file cut to about `lines` lines, written 1 hour old."""
    gen = os.path.join(tmp, f"gen-{lines}.jue")
    subprocess.run([sys.executable, os.path.join(here, "gen_large.py"), gen,
                    "--size-mb", str(max(1, lines // 25000 + 1))], check=True, stdout=subprocess.DEVNULL)
    with open(gen) as f:
        text = "".join(f.readlines()[:lines])
    cut = text.rfind("\n\n(")
    text = text[:cut + 1] if cut > 0 else text
    path = os.path.join(tmp, f"lib-{lines}.jue")
    with open(path, "w") as f:
        f.write(text)
    old = time.time() - 3600
    os.utime(path, (old, old))
    return path


class Server:
    def __init__(self):
        self.p = subprocess.Popen([jue, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 1

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        length = 0
        while True:
            line = self.p.stdout.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(length))

    def wait(self, pred):
        while True:
            m = self.read()
            if "method" in m and "id" in m:  # a request from the server: answer it
                self.send({"jsonrpc": "2.0", "id": m["id"], "result": None})
                continue
            if pred(m):
                return m

    def request(self, method, params):
        i = self.next_id = self.next_id + 1
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == i and "method" not in m).get("result")

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, uri, version):
        self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                  and m["params"].get("uri") == uri and m["params"].get("version") == version)

    def stop(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        self.p.wait(timeout=10)


def measure(lines):
    lib = library(lines)
    text = f'(import "{os.path.basename(lib)}" :as lib)\n' + "".join(
        f"(define (f{i} x) (+ x {i}))\n" for i in range(50))
    uri = "file://" + os.path.join(tmp, f"main-{lines}.jue")
    s = Server()
    s.request("initialize", {"processId": None, "rootUri": "file://" + tmp,
                             "capabilities": {"general": {"positionEncodings": ["utf-16"]}}})
    s.notify("initialized", {})
    t = time.perf_counter()
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "jue", "version": 1, "text": text}})
    s.diagnostics(uri, 1)
    opened = (time.perf_counter() - t) * 1000
    edits = []
    for v in range(2, 22):
        t = time.perf_counter()
        s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [
            {"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": " "}]})
        s.diagnostics(uri, v)
        edits.append((time.perf_counter() - t) * 1000)
    s.stop()
    return lines, opened, sorted(edits)[len(edits) // 2], min(edits)


rows = [measure(n) for n in sizes]
print("| imported file | " + " | ".join(f"{n:,} lines" for n, *_ in rows) + " |")
print("|---|" + "---|" * len(rows))
print("| open → first diagnostics | " + " | ".join(f"{o:.0f} ms" for _, o, _, _ in rows) + " |")
print("| one-character edit → diagnostics (median of 20; best) | "
      + " | ".join(f"{m:.2f} ms ({b:.2f})" for _, _, m, b in rows) + " |")
