"""Jue from Python: a ctypes wrapper of libjue (capi/include/jue.h).

Standard library only. The library is found through the environment variable
``JUE_LIB`` (a path to the shared library), else ``target/release`` then
``target/debug`` of the Cargo workspace this file sits in.

    import jue_ctypes as jue
    with jue.Session() as s:
        s.eval("(define (sq x) (* x x))")
        assert s.call("sq", 7) == 49
        s.register("py:upper", lambda t: t.upper(), ["String"], "String")
        assert s.eval('(py:upper "hi")') == "HI"

Values: int, float, bool, str, None, list (tuples too) and dict (str keys, in
order) cross both ways; ``Symbol("name")`` is a Jue symbol; a Jue procedure
comes back as a callable ``Handle`` (JSON ``{"handle": n}``), freed when the
object goes. Booleans are checked before integers
(``True`` is a Bool, never an Int). Failures raise ``JueError`` with ``.kind``
and ``.message``. Program output (``print``) goes to the process's stdout.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

__all__ = ["Handle", "JueError", "Session", "Symbol", "load_library", "version"]


class JueError(Exception):
    """A failure reported by Jue: ``kind`` (e.g. ``capability-denied``) and ``message``."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Symbol:
    """A Jue symbol (JSON ``{"symbol": name}``)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise TypeError("a symbol's name is a non-empty str")
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Symbol) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("jue.Symbol", self.name))

    def __repr__(self) -> str:
        return f"Symbol({self.name!r})"


class Handle:
    """A Jue procedure held through the C ABI (``{"handle": n}``): call it, pass it
    back in; ``free()`` (or dropping the object) gives the handle back."""

    def __init__(self, session: "Session", number: int):
        self.session = session
        self.number = number

    def __call__(self, *args: Any) -> Any:
        s = self.session
        payload = _dumps([_to_json(a) for a in args])
        return s._finish(s._lib.jue_handle_call(s._handle(), self.number, payload))

    def free(self) -> None:
        """Frees the handle (idempotent; nothing once the session is closed)."""
        n, self.number = self.number, 0
        s = self.session
        if n and s._ptr:
            s._lib.jue_handle_free(s._ptr, n)

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"Handle({self.number})"


# ---------------------------------------------------------------- values


def _to_json(v: Any, depth: int = 0) -> Any:
    """A Python value as the JSON the ABI expects."""
    if depth > 1000:
        raise JueError("type", "data nested too deeply to cross into Jue")
    if v is None:
        return None
    if isinstance(v, bool):  # before int: bool is a subclass of int
        return v
    if isinstance(v, int):
        if not -(2**63) <= v < 2**63:
            raise JueError("type", f"the integer {v} does not fit in a Jue Int (64-bit)")
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise JueError("type", f"the float {v} is not finite")
        return v
    if isinstance(v, str):
        return v
    if isinstance(v, Symbol):
        return {"symbol": v.name}
    if isinstance(v, Handle):
        return {"handle": v.number}
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            raise JueError("type", "only dicts with str keys cross into Jue")
        out = {k: _to_json(x, depth + 1) for k, x in v.items()}
        return {"dict": out} if len(out) == 1 and next(iter(out)) in _TAGS else out
    if isinstance(v, (list, tuple)):
        return [_to_json(x, depth + 1) for x in v]
    raise JueError("type", f"a Python {type(v).__name__} cannot cross into Jue")


_TAGS = ("symbol", "vector", "dict", "handle")


def _from_json(v: Any, session: Optional["Session"] = None) -> Any:
    """JSON from the ABI as a Python value (handles need their session)."""
    if isinstance(v, list):
        return [_from_json(x, session) for x in v]
    if isinstance(v, dict):
        if set(v) == {"symbol"} and isinstance(v["symbol"], str):
            return Symbol(v["symbol"])
        if set(v) == {"handle"} and isinstance(v["handle"], int) and session is not None:
            return Handle(session, v["handle"])
        if set(v) == {"dict"} and isinstance(v["dict"], dict):
            return {k: _from_json(x, session) for k, x in v["dict"].items()}
        return {k: _from_json(x, session) for k, x in v.items()}
    return v


def _dumps(v: Any) -> bytes:
    return json.dumps(v, allow_nan=False, ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------- library

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)


def _lib_name() -> str:
    if sys.platform == "darwin":
        return "libjue.dylib"
    if sys.platform.startswith(("win", "cygwin")):
        return "jue.dll"
    return "libjue.so"


def _find_library() -> Path:
    env = os.environ.get("JUE_LIB")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for d in [here, *here.parents]:
        toml = d / "Cargo.toml"
        try:
            is_workspace = toml.is_file() and "[workspace]" in toml.read_text(encoding="utf-8")
        except OSError:
            is_workspace = False
        if is_workspace:
            for profile in ("release", "debug"):
                p = d / "target" / profile / _lib_name()
                if p.is_file():
                    return p
            raise JueError(
                "argument",
                f"{_lib_name()} is in neither {d / 'target/release'} nor {d / 'target/debug'}; "
                "build it with `cargo build -p jue-capi` or set JUE_LIB",
            )
    raise JueError("argument", "no Cargo workspace above jue_ctypes.py; set JUE_LIB")


_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()


def load_library() -> ctypes.CDLL:
    """Loads libjue once and declares every function's types."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        lib = ctypes.CDLL(str(_find_library()))
        sp, cp, vp = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p
        # Returned strings are taken as raw pointers (c_void_p) so they can be freed.
        decl = {
            "jue_version": (cp, []),
            "jue_session_new": (sp, []),
            "jue_session_free": (None, [sp]),
            "jue_string_free": (None, [vp]),
            "jue_grant": (vp, [sp, cp]),
            "jue_revoke": (vp, [sp, cp]),
            "jue_eval": (vp, [sp, cp]),
            "jue_call": (vp, [sp, cp, cp]),
            "jue_register": (vp, [sp, cp, _CALLBACK, vp]),
            "jue_registry": (vp, [sp]),
            "jue_interrupt": (ctypes.c_int, [sp]),
            "jue_handle_call": (vp, [sp, ctypes.c_uint64, cp]),
            "jue_handle_free": (ctypes.c_int, [sp, ctypes.c_uint64]),
            "jue_handle_count": (ctypes.c_int64, [sp]),
        }
        for name, (res, args) in decl.items():
            fn = getattr(lib, name)
            fn.restype = res
            fn.argtypes = args
        _lib = lib
        return lib


def version() -> str:
    """The library's version string."""
    return load_library().jue_version().decode("utf-8")


def _take(lib: ctypes.CDLL, ptr: Optional[int], session: Optional["Session"] = None) -> Any:
    """Reads and frees an envelope; returns its result or raises JueError."""
    if not ptr:
        raise JueError("panic", "the library returned no envelope")
    try:
        text = ctypes.string_at(ptr)
    finally:
        lib.jue_string_free(ptr)
    env = json.loads(text.decode("utf-8"))
    if env.get("status") == "success":
        return _from_json(env.get("result"), session)
    err = env.get("error") or {}
    raise JueError(str(err.get("kind", "unknown")), str(err.get("message", "")))


def _c(s: str, what: str) -> bytes:
    if not isinstance(s, str):
        raise JueError("argument", f"{what} must be a str, not {type(s).__name__}")
    b = s.encode("utf-8")
    if b"\0" in b:
        raise JueError("argument", f"{what} contains a NUL character")
    return b


class _Callback:
    """A registered Python function: the ctypes trampoline and the reply it keeps alive."""

    def __init__(self, name: str, fn: Callable[..., Any], session: "Session"):
        self.name = name
        self.fn = fn
        self.session = session
        self.reply: Optional[ctypes.Array] = None  # the last reply, alive until the next call
        self.c_fn = _CALLBACK(self._call)

    def _call(self, _user_data: Optional[int], args_json: Optional[bytes]) -> Optional[int]:
        try:
            args = json.loads((args_json or b"[]").decode("utf-8"))
            result = self.fn(*[_from_json(a, self.session) for a in args])
            text = _dumps({"status": "success", "result": _to_json(result)})
        except BaseException as e:  # the Jue program sees a `host` error
            # Never let an exception escape into ctypes: it would return garbage.
            # KeyboardInterrupt, SystemExit and the like also stop the evaluation and
            # are raised again when eval/call returns.
            msg = f"{type(e).__name__}: {e}"
            text = _dumps({"status": "error", "error": {"kind": "host", "message": msg}})
            if not isinstance(e, Exception):
                self.session._pending = e
                if self.session._ptr:
                    self.session._lib.jue_interrupt(self.session._ptr)
        # The library copies the reply as soon as this returns; keep it alive until then
        # (and past it: it is replaced on the next call and freed with the session).
        self.reply = ctypes.create_string_buffer(text)
        return ctypes.addressof(self.reply)


class Session:
    """A Jue session: no capabilities until granted; freed by close() or ``with``."""

    def __init__(self) -> None:
        self._lib = load_library()
        self._callbacks: list[_Callback] = []
        self._lock = threading.RLock()
        ptr = self._lib.jue_session_new()
        if not ptr:
            raise JueError("panic", "could not create a session")
        self._ptr: Optional[int] = ptr
        self._pending: Optional[BaseException] = None

    # -- lifetime
    def close(self) -> None:
        """Frees the session (idempotent). Called from one of its own callbacks, the
        library frees it when the running call returns. The callback objects stay
        referenced by this object (never freed while one may be running) and go
        with it."""
        with self._lock:
            if self._ptr:
                ptr, self._ptr = self._ptr, None
                self._lib.jue_session_free(ptr)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _handle(self) -> int:
        if not self._ptr:
            raise JueError("argument", "the session is closed")
        return self._ptr

    def _finish(self, ptr: Optional[int]) -> Any:
        """Takes an envelope; a BaseException a callback raised comes out first."""
        pending, self._pending = self._pending, None
        if pending is not None:
            if ptr:
                self._lib.jue_string_free(ptr)
            raise pending
        return _take(self._lib, ptr, self)

    # -- API
    def eval(self, source: str) -> Any:
        """Checks, compiles and runs source; returns the value of the last form."""
        self._pending = None
        return self._finish(self._lib.jue_eval(self._handle(), _c(source, "source")))

    def call(self, name: str, *args: Any) -> Any:
        """Calls a Jue or FFI function by name with positional arguments."""
        payload = _dumps([_to_json(a) for a in args])
        self._pending = None
        return self._finish(self._lib.jue_call(self._handle(), _c(name, "name"), payload))

    def grant(self, cap: str, scope: Optional[str] = None) -> Any:
        """Grants a capability (``--grant`` syntax); ``scope`` adds ``=SCOPE``."""
        spec = cap if scope is None else f"{cap}={scope}"
        return _take(self._lib, self._lib.jue_grant(self._handle(), _c(spec, "grant")))

    def revoke(self, cap: str) -> None:
        """Revokes every grant of a capability."""
        _take(self._lib, self._lib.jue_revoke(self._handle(), _c(cap, "capability")))

    def register(
        self,
        name: str,
        fn: Callable[..., Any],
        params: Iterable[str],
        returns: str,
        capability: Optional[str] = None,
        tier: str = "empirical",
        doc: str = "",
    ) -> dict:
        """Registers ``fn`` as the FFI function ``name``; returns its registry entry.

        An exception raised by ``fn`` becomes a Jue run-time error of kind ``host``.
        A function with a capability runs only while the session holds it.
        """
        if not callable(fn):
            raise JueError("argument", "fn must be callable")
        spec = {
            "name": name,
            "parameter_types": list(params),
            "return_type": returns,
            "required_capability": capability,
            "tier": tier,
            "documentation": doc,
        }
        cb = _Callback(name, fn, self)
        with self._lock:
            out = _take(
                self._lib,
                self._lib.jue_register(self._handle(), _dumps(spec), cb.c_fn, None),
            )
            self._callbacks.append(cb)  # alive as long as the session
        return out

    def registry(self) -> dict:
        """The registry, ``{"functions": [...]}`` as ``jue registry --json``."""
        return _take(self._lib, self._lib.jue_registry(self._handle()))
