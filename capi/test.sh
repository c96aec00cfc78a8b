#!/usr/bin/env bash
# Tests of the C ABI and the Python module:
#   1. builds libjue (debug, target/debug/libjue.so) with the same targets, hence
#      the same unified features, as `cargo test --workspace`: after test.sh's
#      `cargo test --workspace` this only checks fingerprints. (`cargo build -p
#      jue-capi` alone resolves features for jue-capi only and rebuilds the engine
#      and ~100 crates under other features.)
#   2. makes a venv (target/pyenv) with pytest, idempotently;
#   3. runs pytest on capi/python/tests with JUE_LIB pointing at the library just
#      built (so a stale target/release/libjue.so is never picked up); exit status
#      0 passes, anything else (5 = no tests collected included) fails;
#   4. runs the valgrind leak check (capi/valgrind.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

cargo build --workspace --lib --bins --tests --examples
export JUE_LIB="$target/debug/libjue.so"
[ -f "$JUE_LIB" ] || { echo "capi/test.sh: $JUE_LIB was not built" >&2; exit 1; }

venv="$target/pyenv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import pytest" >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pytest
fi

set +e
(cd "$here/python" && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests)
status=$?
set -e
case "$status" in
    0) ;;
    5) echo "capi/test.sh: pytest collected no tests (exit 5): failing" >&2; exit 1 ;;
    *) echo "capi/test.sh: pytest failed (exit $status)" >&2; exit 1 ;;
esac

"$here/valgrind.sh" "${JUE_LEAK_ITERATIONS:-20}"
echo "capi/test.sh: ok"
