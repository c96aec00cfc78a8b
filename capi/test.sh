#!/usr/bin/env bash
# Tests of the C ABI and the Python package:
#   1. builds libjue (debug, target/debug/libjue.so) with the same targets, hence
#      the same unified features, as test.sh's `cargo test --workspace --exclude
#      jue-python`: after it this only checks fingerprints. (`cargo build -p
#      jue-capi` alone resolves features for jue-capi only and rebuilds the engine
#      and ~100 crates under other features.)
#   2. makes a venv (target/pyenv) with pytest, idempotently, and runs the ctypes
#      tests of the C ABI (capi/ctypes/tests) with JUE_LIB pointing at the library
#      just built (so a stale target/release/libjue.so is never picked up);
#   3. makes a FRESH venv (target/pyenv-jue), installs the native package with
#      `pip install ./capi/python` (maturin + PyO3; cargo profile `wheel`, so its
#      build is kept in target/wheel and reused by later runs) plus pytest and mypy,
#      and runs capi/python/tests against the installed package;
#   4. builds and runs the C embedding example (capi/examples/embed.c);
#   5. runs the valgrind leak check (capi/valgrind.sh).
# A pytest exit status other than 0 (5 = no tests collected included) fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
python="${PYTHON:-python3}"

run_pytest() { # venv dir, test dir
    set +e
    (cd "$2/.." && "$1/bin/python" -m pytest -q -p no:cacheprovider tests)
    local status=$?
    set -e
    case "$status" in
        0) ;;
        5) echo "capi/test.sh: pytest collected no tests in $2 (exit 5): failing" >&2; exit 1 ;;
        *) echo "capi/test.sh: pytest failed in $2 (exit $status)" >&2; exit 1 ;;
    esac
}

cargo build --workspace --exclude jue-python --lib --bins --tests --examples
export JUE_LIB="$target/debug/libjue.so"
[ -f "$JUE_LIB" ] || { echo "capi/test.sh: $JUE_LIB was not built" >&2; exit 1; }

venv="$target/pyenv"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import pytest" >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pytest
fi
run_pytest "$venv" "$here/ctypes/tests"

# The native package, installed the way a user installs it.
jvenv="$target/pyenv-jue"
rm -rf "$jvenv"
"$python" -m venv "$jvenv"
"$jvenv/bin/python" -m pip install --quiet --disable-pip-version-check ./capi/python pytest mypy
run_pytest "$jvenv" "$here/python/tests"

# The C embedding example: calls with flat memory, a thread's interrupt, a
# callback's error (exit 1 if RSS grew by 20 MB or more).
cc -std=c99 -Wall -Wextra -Werror -I "$here/include" "$here/examples/embed.c" \
    -L "$target/debug" -ljue -lpthread -Wl,-rpath,"$target/debug" -o "$target/capi-embed"
"$target/capi-embed" "${JUE_EMBED_CALLS:-30000}"

"$here/valgrind.sh" "${JUE_LEAK_ITERATIONS:-20}"
echo "capi/test.sh: ok"
