#!/usr/bin/env python3
"""Times `jue lsp` on a large file: open → first diagnostics, a one-character edit →
diagnostics (incremental), the same change sent as the whole new text (so the
whole file is analysed again: the ratio of the two is the incremental speed-up),
hover latency, and the server's resident memory.

Usage: bench/lsp_bench.py [JUE] [LINES]   (defaults: target/release/jue, 10000 lines)
Needs a file to open: generated with bench/gen_large.py, cut to LINES lines."""
import json, os, subprocess, sys, tempfile, time

jue = sys.argv[1] if len(sys.argv) > 1 else "target/release/jue"
lines = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
here = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp(prefix="jue-lsp-bench-")
big = os.path.join(tmp, "big.jue")
subprocess.run([sys.executable, os.path.join(here, "gen_large.py"), big, "--size-mb", str(max(1, lines // 25000 + 1))],
               check=True, stdout=subprocess.DEVNULL)
text = "".join(open(big).readlines()[:lines])
cut = text.rfind("\n\n(")
text = text[:cut + 1] if cut > 0 else text
uri = "file://" + big

p = subprocess.Popen([jue, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

def send(msg):
    body = json.dumps(msg).encode()
    p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    p.stdin.flush()

def read():
    length = 0
    while True:
        line = p.stdout.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(p.stdout.read(length))

def wait(pred):
    while True:
        m = read()
        if pred(m):
            return m

send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": "file://" + tmp, "capabilities": {}}})
wait(lambda m: m.get("id") == 1)
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
t = time.perf_counter()
send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "jue", "version": 1, "text": text}}})
wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version", 1) == 1)
open_ms = (time.perf_counter() - t) * 1000
edits = []
for v in range(2, 12):
    t = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": v},
          "contentChanges": [{"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": " "}]}})
    wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == v)
    edits.append((time.perf_counter() - t) * 1000)
rss_edits = next(int(l.split()[1]) for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")) / 1024
# The whole text again, one character different: every slot is re-parsed and re-analysed.
lines_of = text.split("\n")
fulls = []
for v in range(12, 16):
    lines_of[3] = (" " + lines_of[3]) if v % 2 == 0 else lines_of[3][1:]
    t = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": v},
          "contentChanges": [{"text": "\n".join(lines_of)}]}})
    wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == v)
    fulls.append((time.perf_counter() - t) * 1000)
hovers = []
for i in range(20):
    t = time.perf_counter()
    send({"jsonrpc": "2.0", "id": 100 + i, "method": "textDocument/hover", "params": {"textDocument": {"uri": uri}, "position": {"line": 5, "character": 6}}})
    wait(lambda m: m.get("id") == 100 + i)
    hovers.append((time.perf_counter() - t) * 1000)
rss = next(int(l.split()[1]) for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")) / 1024
send({"jsonrpc": "2.0", "id": 999, "method": "shutdown"})
wait(lambda m: m.get("id") == 999)
send({"jsonrpc": "2.0", "method": "exit"})
p.wait(timeout=10)
med = lambda xs: sorted(xs)[len(xs) // 2]
print(f"{text.count(chr(10))} lines: open→diagnostics {open_ms:.1f} ms; edit→diagnostics median {med(edits):.2f} ms; "
      f"whole text→diagnostics median {med(fulls):.1f} ms ({med(fulls) / med(edits):.0f}× the edit); "
      f"hover median {med(hovers):.2f} ms; RSS after open and edits {rss_edits:.0f} MiB ({rss_edits * 1.048576:.0f} MB), "
      f"at the end {rss:.0f} MiB")
