"""The package is typed (py.typed + stub, `mypy --strict` clean) and the
README's example runs."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent


def test_example_runs():
    out = subprocess.run([sys.executable, str(HERE / "example.py")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "type at bad.jue:1:19" in out.stdout
    assert "stopped: step-limit" in out.stdout
    assert out.stdout.strip().endswith("example ok")


def test_installed_with_stub_and_marker():
    spec = importlib.util.find_spec("jue")
    assert spec is not None and spec.origin is not None
    pkg = Path(spec.origin).parent
    assert (pkg / "py.typed").is_file()
    assert any(p.suffix == ".pyi" for p in pkg.iterdir())


mypy = pytest.importorskip("mypy.api")


def test_mypy_strict_clean_on_the_example(tmp_path):
    stdout, stderr, status = mypy.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path), str(HERE / "example.py")])
    assert status == 0, stdout + stderr


def test_mypy_sees_the_stub(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import jue\n"
        "s = jue.Session(steps='many')\n"
        "n: int = s.steps_used\n"
        "s.register('f', len, ['String'], 'Int', tier=3)\n"
    )
    stdout, _, status = mypy.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "c"), str(bad)])
    assert status == 1
    assert "steps" in stdout and "tier" in stdout


def test_mypy_strict_clean_with_dicts_vectors_and_procedure_arguments(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(
        "import jue\n"
        "\n"
        "def twice(f: jue.Procedure, x: int) -> int:\n"
        "    return int(f(f(x)))\n"
        "\n"
        "with jue.Session() as s:\n"
        "    s.eval('(define (id x) x)')\n"
        "    v: jue.Vector = jue.Vector([1, 'two'])\n"
        "    d: dict[str, object] = s.call('id', {'a': v, 'b': [1.5, None]})\n"
        "    s.register('py:twice', twice, ['Fn', 'Int'], 'Int')\n"
        "    n: int = s.eval('(py:twice (lambda (x) (* x 2)) 3)')\n"
    )
    stdout, stderr, status = mypy.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "c"), str(good)])
    assert status == 0, stdout + stderr
