#!/usr/bin/env bash
# Leak check of the C ABI: builds tests/leak_check.c against libjue and runs it
# under valgrind. Fails on any definite (or indirect) leak or memory error.
# Usage: capi/valgrind.sh [ITERATIONS]   (JUE_LIB picks the library; default:
# target/debug/libjue.so, built by `cargo build -p jue-capi`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
iterations="${1:-20}"

if ! command -v valgrind >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y valgrind >/dev/null || { apt-get update >/dev/null && apt-get install -y valgrind >/dev/null; }
    else
        echo "valgrind.sh: valgrind is not installed" >&2
        exit 1
    fi
fi

lib="${JUE_LIB:-$root/target/debug/libjue.so}"
if [ ! -f "$lib" ]; then
    (cd "$root" && cargo build -p jue-capi)
fi
libdir="$(cd "$(dirname "$lib")" && pwd)"
out="$root/target/capi-leak"
mkdir -p "$out"
# Link against exactly this file (copied under its soname-less name).
cp "$lib" "$out/libjue.so"
cc -std=c99 -Wall -Wextra -Werror -I "$here/include" "$here/tests/leak_check.c" \
    -L "$out" -ljue -lpthread -Wl,-rpath,"$out" -o "$out/leak_check"

log="$out/valgrind.log"
set +e
valgrind --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    --log-file="$log" "$out/leak_check" "$iterations"
rc=$?
set -e
grep -E "definitely lost|indirectly lost|possibly lost|still reachable|ERROR SUMMARY|All heap blocks" "$log" | sed 's/^==[0-9]*== /valgrind: /'
if [ "$rc" -ne 0 ]; then
    echo "valgrind.sh: FAILED (exit $rc); see $log" >&2
    exit 1
fi
echo "valgrind.sh: no leaks, no memory errors ($iterations iterations; lib $libdir)"
