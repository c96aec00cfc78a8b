"""The output hook: sys.stdout by default (redirect_stdout works), a callable,
or a file-like object."""

import contextlib
import io

import pytest

from jue import Session


def test_default_is_python_stdout():
    buf = io.StringIO()
    with Session() as s, contextlib.redirect_stdout(buf):
        s.eval('(println "hello" 1 (list 2 "x"))')
        s.eval('(print "no newline")')
    assert buf.getvalue() == 'hello 1 (2 "x")\nno newline'


def test_capsys(capsys):
    with Session() as s:
        s.eval('(println "to pytest")')
    assert capsys.readouterr().out == "to pytest\n"


def test_callable_hook():
    parts = []
    with Session(output=parts.append) as s:
        s.eval('(println "a") (print "b")')
    assert "".join(parts) == "a\nb"


def test_file_like_hook():
    f = io.StringIO()
    with Session(output=f) as s:
        s.eval('(println "into a file")')
    assert f.getvalue() == "into a file\n"


def test_hook_that_raises_stops_the_evaluation():
    class Full(Exception):
        pass

    def hook(text):
        raise Full(text)

    with Session(output=hook) as s:
        s.eval("(define (loop) (println 1) (loop))")
        with pytest.raises(Full):
            s.eval("(loop)")
        assert s.eval("(+ 1 1)") == 2


def test_bad_hook():
    with pytest.raises(TypeError):
        Session(output=42)  # type: ignore[arg-type]


def test_no_stdout_drops_output(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "stdout", None)
    with Session() as s:
        assert s.eval('(println "nowhere") 5') == 5
