#!/usr/bin/env python3
"""The seed's §3 steps over libjue, done safely.

1. A bridge class loads the library through ctypes (``jue.load_library``: the
   ``JUE_LIB`` variable, else ``target/release`` then ``target/debug``).
2. It calls a Jue function with JSON-serialised arguments: ``math:add`` [10, 20].
3. It registers a Python function as an FFI function that requires a capability
   (``host:safe-read``, like ``fs:safe-read``, needing IoPersist) and shows that a
   Jue program may call it only once the session holds the grant — a
   ``capability`` field in the request grants nothing.

Run: ``python3 capi/ctypes/example.py`` (after ``cargo build -p jue-capi``).
"""

from __future__ import annotations

import ctypes
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jue_ctypes as jue  # noqa: E402


class JueBridge:
    """The seed's bridge: the raw C ABI with JSON in and out (see jue.h)."""

    def __init__(self) -> None:
        self.lib = jue.load_library()  # ctypes.CDLL with restype/argtypes declared
        self.session = self.lib.jue_session_new()

    def _envelope(self, ptr: int) -> dict:
        try:
            return json.loads(ctypes.string_at(ptr).decode("utf-8"))
        finally:
            self.lib.jue_string_free(ptr)  # every returned string is freed once

    def call(self, name: str, args: list) -> dict:
        payload = json.dumps(args).encode("utf-8")  # serde_json on the other side
        return self._envelope(self.lib.jue_call(self.session, name.encode("utf-8"), payload))

    def raw_call(self, name: str, request: dict) -> dict:
        payload = json.dumps(request).encode("utf-8")
        return self._envelope(self.lib.jue_call(self.session, name.encode("utf-8"), payload))

    def close(self) -> None:
        if self.session:
            self.lib.jue_session_free(self.session)
            self.session = None


def main() -> int:
    print(jue.version())

    # Steps 1 and 2: the raw bridge, JSON in and out.
    bridge = JueBridge()
    reply = bridge.call("math:add", [10, 20])
    print("math:add [10, 20] ->", json.dumps(reply))
    assert reply == {"status": "success", "result": 30}, reply
    # A request claiming a capability grants nothing.
    reply = bridge.raw_call("fs:read-file", {"args": ["/etc/hostname"], "capability": "IoPersist"})
    print("fs:read-file with a self-asserted capability ->", reply["error"]["kind"])
    assert reply["status"] == "error" and reply["error"]["kind"] == "capability-denied", reply
    bridge.close()

    # Step 3: the Python module, registering a Python callback with a capability.
    with tempfile.TemporaryDirectory() as tmp, jue.Session() as s:
        base = Path(tmp)
        (base / "greeting.txt").write_text("hello from Python", encoding="utf-8")

        def safe_read(path: str):
            p = (base / path).resolve()
            if base.resolve() not in p.parents:
                raise PermissionError(f"{path} is outside {base}")
            return p.read_text(encoding="utf-8") if p.is_file() else None

        s.register(
            "host:safe-read",
            safe_read,
            params=["String"],
            returns="String?",
            capability="IoPersist",
            doc="Reads a file under the example's directory; nil when missing.",
        )
        entry = next(f for f in s.registry()["functions"] if f["name"] == "host:safe-read")
        print("registered:", json.dumps(entry, sort_keys=True))

        program = '(host:safe-read "greeting.txt")'
        try:
            s.eval(program)
            raise AssertionError("the call ran without IoPersist")
        except jue.JueError as e:
            print("without IoPersist ->", e.kind)
            assert e.kind == "capability-denied", e

        s.grant("IoPersist", tmp)
        text = s.eval(program)
        print("with IoPersist ->", json.dumps(text))
        assert text == "hello from Python"
        assert s.eval('(host:safe-read "missing.txt")') is None

        try:
            s.eval('(host:safe-read "../../etc/passwd")')
            raise AssertionError("escaped the directory")
        except jue.JueError as e:
            print("outside the directory ->", e.kind, "|", e.message)
            assert e.kind == "host", e

        s.revoke("IoPersist")
        try:
            s.call("host:safe-read", "greeting.txt")
            raise AssertionError("revoke did not take effect")
        except jue.JueError as e:
            print("after revoke ->", e.kind)
            assert e.kind == "capability-denied"

    print("example ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
