"""Jue embedded in Python: a native module over the Jue engine.

Values cross natively: None, bool, int (64-bit), float, str, list (a tuple goes
in as a list), ``jue.Vector``, dict (str keys, order kept) and ``jue.Symbol``;
Jue procedures come back as ``jue.Procedure`` handles that can be called, kept
and passed back in, whether they are results or a callback's arguments.
"""

from typing import (
    Any,
    Callable,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Union,
    final,
)

from typing_extensions import TypeAlias

Value: TypeAlias = Union[
    None,
    bool,
    int,
    float,
    str,
    "Symbol",
    "Procedure",
    Sequence["Value"],
    Mapping[str, "Value"],
]
"""What crosses into Jue (a list, tuple, ``jue.Vector`` or str-keyed dict of values included)."""

Result: TypeAlias = Any
"""What comes back: None, bool, int, float, str, Symbol, Procedure, a list, a
Vector or a dict of these."""

class _Writer(Protocol):
    def write(self, text: str, /) -> object: ...

Output: TypeAlias = Union[Callable[[str], object], _Writer]

def version() -> str:
    """The engine's version, ``jue X.Y.Z``."""

@final
class Symbol:
    """A Jue symbol."""

    @property
    def name(self) -> str: ...
    def __init__(self, name: str) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Vector(list[Any]):
    """A Jue vector: a ``list`` that crosses into Jue as a vector (a plain list
    crosses as a Jue list). Jue vectors come back as ``Vector``."""

@final
class Procedure:
    """A Jue procedure held by Python (a result, or a callback's argument);
    valid until dropped. Called inside a callback of its session, it runs
    within the evaluation that called the callback (under its limits)."""

    def __call__(self, *args: Value) -> Result: ...

class JueError(Exception):
    """An error from Jue."""

    kind: str
    """``compile``, ``capability-denied``, ``step-limit``, ``host``, ``type``, ..."""
    message: str
    source: Optional[str]
    """The name of the source text where it happened, if known."""
    line: Optional[int]
    """1-based line, if known."""
    column: Optional[int]
    """1-based column, if known."""
    stack: list[str]
    """The Jue call stack, innermost first (``f at <eval>:3:5``)."""
    diagnostics: list[str]
    """Every error diagnostic of a compile error."""

class CompileError(JueError):
    """Source with error diagnostics: nothing ran."""

class CapabilityError(JueError):
    """A capability the session does not hold, or a scope that refuses the request."""

class LimitError(JueError):
    """A resource limit was reached: steps, memory, wall time or call depth."""

class Interrupted(JueError):
    """The evaluation was interrupted by ``Session.interrupt()``."""

@final
class Session:
    """A Jue session. Use it from the thread that made it."""

    def __init__(
        self,
        *,
        steps: Optional[int] = None,
        memory: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        depth: Optional[int] = None,
        output: Optional[Output] = None,
    ) -> None: ...
    def eval(
        self,
        source: str,
        name: str = "<eval>",
        *,
        steps: Optional[int] = None,
        memory: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        depth: Optional[int] = None,
    ) -> Result:
        """Checks, compiles and runs source; returns the value of its last form."""
    def call(
        self,
        name: str,
        *args: Value,
        steps: Optional[int] = None,
        memory: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        depth: Optional[int] = None,
    ) -> Result:
        """Calls a Jue global, built-in or FFI function by name; keyword
        arguments set limits for this call only. Inside one of this session's
        callbacks it runs within the running evaluation, under its limits
        (limit keywords are then a ValueError)."""
    def grant(self, capability: str, scope: Optional[str] = None) -> Optional[str]:
        """Grants a capability; returns its scope as resolved."""
    def revoke(self, capability: str) -> None:
        """Revokes every grant of a capability."""
    def register(
        self,
        name: str,
        function: Callable[..., Value],
        params: Sequence[str],
        ret: str,
        capability: Optional[str] = None,
        tier: str = "empirical",
        doc: str = "",
        blocking: bool = False,
    ) -> None:
        """Registers a Python callable as an FFI function (blocking: its calls
        beside other actors run on a worker thread, which takes the GIL)."""
    def registry(self) -> list[dict[str, Any]]:
        """The registry, one dict per function."""
    def interrupt(self) -> None:
        """Stops the running evaluation (from any thread); dropped if none runs."""
    def set_limits(
        self,
        *,
        steps: Optional[int] = None,
        memory: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        depth: Optional[int] = None,
    ) -> None:
        """Sets limits for later evaluations; None keeps a limit."""
    @property
    def limits(self) -> dict[str, Optional[int]]: ...
    @property
    def steps_used(self) -> int: ...
    def collect_garbage(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Session": ...
    def __exit__(self, *exc: object) -> bool: ...
