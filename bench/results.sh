#!/usr/bin/env bash
# Run every side-by-side benchmark and write bench/RESULTS.md: the suite of
# issue 19 (bench/suite/run.sh), the data peers of issue 17
# (bench/data/run.sh) and the actor peers of issue 18 (bench/actors/run.sh),
# under a header with the date, the machine, its load and the versions.
#
# Usage: bench/results.sh [--quick] [--runs N] [--out FILE] [--skip-peers]
#   --quick       smoke test: 1 run per command (numbers not worth keeping)
#   --runs N      timed runs per command in the suite (default 5)
#   --interleave  the suite alternates the runtimes run by run (suite/run.sh)
#   --out FILE    write there instead of bench/RESULTS.md
#   --skip-peers  only the suite (the peers take a few minutes, mostly Python)
# Environment: JUE=/path/to/jue (default target/release/jue, built with
#   `cargo build --release -p jue`).
# The machines are shared: the load average before and after is written down,
# and numbers taken under load are noisier (ratios less so: the runtimes of a
# workload are interleaved in one hyperfine invocation).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

OUT="$HERE/RESULTS.md"
QUICK=()
SUITE_RUNS=()
PEERS=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=(--quick) ;;
    --runs) shift; SUITE_RUNS+=(--runs "${1:?--runs needs a number}") ;;
    --interleave) SUITE_RUNS+=(--interleave) ;;
    --out) shift; OUT=${1:?--out needs a file} ;;
    --skip-peers) PEERS=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option: $1 (try --help)" ;;
  esac
  shift
done

JUE="$(jue_binary)"
load() { cut -d' ' -f1-3 /proc/loadavg; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

LOAD0="$(load)"
START=$(date +%s)
STATUS=0
"$HERE/suite/run.sh" "${QUICK[@]}" "${SUITE_RUNS[@]}" > "$TMP/suite.md" || STATUS=1
if [[ $PEERS == 1 ]]; then
  "$HERE/data/run.sh" "${QUICK[@]}" --dkjson > "$TMP/data.md" || STATUS=1
  "$HERE/actors/run.sh" "${QUICK[@]}" > "$TMP/actors.md" || STATUS=1
fi
ELAPSED=$(( $(date +%s) - START ))
LOAD1="$(load)"

commit="$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty=""
git -C "$BENCH_ROOT" diff --quiet HEAD -- engine src 2>/dev/null || dirty=" (engine or src modified)"
{
  echo "# Benchmark results"
  echo
  echo "Written by \`bench/results.sh\`${QUICK:+ with --quick (smoke test, 1 run)}. Do not edit by hand; re-run it."
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $(machine_line)"
  echo "- Load average (1, 5, 15 min) before: $LOAD0; after: $LOAD1 (the machine is shared; differences under 5–10% are noise)"
  echo "- jue: $JUE, commit $commit$dirty, built with \`cargo build --release -p jue\` (lto = \"fat\", codegen-units = 1)"
  echo "- $(lua5.4 -v 2>&1 | head -1 | cut -d' ' -f1-2) (Debian lua5.4), $(luajit -v 2>&1 | head -1 | cut -d' ' -f1-2) run as \`luajit -joff\` (interpreter only), $("$(python_exe)" --version 2>&1), $(hyperfine --version)"
  echo "- Total time of this run: $ELAPSED s"
  echo
  echo "## Issue 19: the interpreter against Lua 5.4 and LuaJIT's interpreter"
  echo
  echo "\`bench/suite/run.sh\`: each workload written as \`NAME.jue\` and \`NAME.lua\` with the same algorithm and sizes (see the comment at the top of each)."
  echo
  cat "$TMP/suite.md"
  if [[ $PEERS == 1 ]]; then
    echo
    echo "## Issue 17: dictionaries, text and JSON (peer side)"
    echo
    echo "\`bench/data/run.sh\`; the programs and how Jue joins are in \`bench/data/README.md\`."
    echo
    cat "$TMP/data.md"
    echo
    echo "## Issue 18: actors (peer side)"
    echo
    echo "\`bench/actors/run.sh\`; the programs and how Jue joins are in \`bench/actors/README.md\`."
    echo
    cat "$TMP/actors.md"
  fi
} > "$OUT"
log "wrote $OUT in $ELAPSED s"
exit $STATUS
