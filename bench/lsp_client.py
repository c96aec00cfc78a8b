"""A small JSON-RPC client of `jue lsp` over pipes, and the generated sources
the language-server benchmarks (lsp_bench.py, lsp_imports_bench.py) open."""
import json, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))


def generated(lines, tmp):
    """bench/gen_large.py's file cut to about `lines` lines, at a blank line
    between forms."""
    path = os.path.join(tmp, f"gen-{lines}.jue")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_large.py"), path,
                    "--size-mb", str(max(1, lines // 25000 + 1))], check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        text = "".join(f.readlines()[:lines])
    cut = text.rfind("\n\n(")
    return text[:cut + 1] if cut > 0 else text


class Server:
    """`JUE lsp` as a child process; requests from the server are answered null."""

    def __init__(self, jue):
        self.p = subprocess.Popen([jue, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 1

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        """(message, bytes of its body)"""
        length = 0
        while True:
            line = self.p.stdout.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = self.p.stdout.read(length)
        return json.loads(body), len(body)

    def wait(self, pred):
        while True:
            m, n = self.read()
            if "method" in m and "id" in m:  # a request from the server: answer it
                self.send({"jsonrpc": "2.0", "id": m["id"], "result": None})
                continue
            if pred(m):
                return m, n

    def request(self, method, params):
        """(result, milliseconds, bytes of the answer)"""
        i = self.next_id = self.next_id + 1
        t = time.perf_counter()
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        m, n = self.wait(lambda m: m.get("id") == i and "method" not in m)
        ms = (time.perf_counter() - t) * 1000
        if "error" in m:
            raise RuntimeError(f"{method}: {m['error']}")
        return m.get("result"), ms, n

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, version, uri=None):
        """Waits for the diagnostics of `version` (of `uri`, when given)."""
        self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                  and m["params"].get("version") == version
                  and (uri is None or m["params"].get("uri") == uri))

    def rss_mib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

    def stop(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        self.p.wait(timeout=10)
