#!/usr/bin/env bash
# The data benchmarks of issue 17, side by side: Lua 5.4 tables (lua-cjson
# for JSON) and Python 3 dicts (its json module) now, and Jue once it has
# dicts, vectors and JSON (a NAME.jue joins when `jue check` accepts it).
#
# Usage: bench/data/run.sh [--quick] [--runs N] [--dkjson]
#   --quick    1 run per command, no warm-up (smoke test)
#   --runs N   timed runs per command (default 3, plus 1 warm-up)
#   --dkjson   also time the JSON workload with the pure-Lua dkjson
# Environment: JUE=/path/to/jue (default target/release/jue);
#   BENCH_DATA_DIR=DIR where the generated inputs go (default
#   target/bench-data; they are made once, ~20 MB, never committed).
# Needs: hyperfine, lua5.4, lua-cjson, python3 (lua-dkjson for --dkjson).
#
# Workloads (each program prints a checksum, checked equal across runtimes):
#   dict      build a 1,000,000-entry dictionary with string keys, look every
#             key up, update half of them, sum the values
#   wordfreq  word-frequency count over a 10,000,000-byte text (gen_text.py)
#   jsonrt    parse and compactly stringify a 10 MB JSON document (gen_json.py)
# Writes a Markdown table to stdout (median wall time, whole process, and the
# ratios jue/lua5.4 -- issue 17's target is <= 3 -- and jue/python3).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
source "$HERE/../lib.sh"

RUNS=3
WARMUP=1
DKJSON=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) RUNS=1; WARMUP=0 ;;
    --runs) shift; [[ ${1:-} =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"; RUNS=$1 ;;
    --dkjson) DKJSON=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option: $1 (try --help)" ;;
  esac
  shift
done

need hyperfine hyperfine
need lua5.4 lua5.4
need python3 python3
lua5.4 -e 'require "cjson"' 2>/dev/null || die "lua-cjson not found: apt-get install -y lua-cjson"
if [[ $DKJSON == 1 ]]; then
  lua5.4 -e 'require "dkjson"' 2>/dev/null || die "dkjson not found: apt-get install -y lua-dkjson"
fi
LUA="$(command -v lua5.4)"
PY="$(python_exe)"
JUE="${JUE:-$BENCH_ROOT/target/release/jue}"

DATA="${BENCH_DATA_DIR:-$BENCH_ROOT/target/bench-data}"
mkdir -p "$DATA"
if [[ ! -s $DATA/words.txt ]]; then
  log "generating $DATA/words.txt (10,000,000 bytes)"
  "$PY" "$HERE/gen_text.py" "$DATA/words.txt.tmp" && mv "$DATA/words.txt.tmp" "$DATA/words.txt"
fi
if [[ ! -s $DATA/doc.json ]]; then
  log "generating $DATA/doc.json (about 10 MB)"
  "$PY" "$HERE/gen_json.py" "$DATA/doc.json.tmp" && mv "$DATA/doc.json.tmp" "$DATA/doc.json"
fi
# The programs read their input by a name relative to the current directory
# (Jue's fs: functions are scoped to it).
cd "$DATA"

declare -A EXPECT=(
  [dict]="1000000 500000500000 500001000000"
  [wordfreq]="1483791 20001 lvkjqwd 54682"
  [jsonrt]="46000 1058023000 -5525 10020715"
)
declare -A INPUT=([dict]="" [wordfreq]=words.txt [jsonrt]=doc.json)

FAIL=0
ROWS="$(mktemp)"
trap 'rm -f "$ROWS"' EXIT
START=$(date +%s)
for prog in dict wordfreq jsonrt; do
  log "== $prog"
  args=()
  if jue_ready "$HERE/$prog.jue"; then
    # shellcheck disable=SC2046 # the flags are words
    args+=(jue "$(printf '%q ' "$JUE" run $(jue_flags "$HERE/$prog.jue") "$HERE/$prog.jue")")
  else
    log "   ($prog.jue not accepted by \`jue check\` yet: Jue left out)"
  fi
  in=${INPUT[$prog]}
  args+=(lua5.4 "$(printf '%q ' "$LUA" "$HERE/$prog.lua" ${in:+"$in"})")
  args+=(python3 "$(printf '%q ' "$PY" "$HERE/$prog.py" ${in:+"$in"})")
  compare_row "$ROWS" "$prog" "${EXPECT[$prog]}" "$RUNS" "$WARMUP" "${args[@]}"
done
if [[ $DKJSON == 1 ]]; then
  log "== jsonrt with dkjson"
  compare_row "$ROWS" jsonrt "${EXPECT[jsonrt]}" "$RUNS" "$WARMUP" \
    "lua5.4+dkjson" "$(printf '%q ' env JSON_LIB=dkjson "$LUA" "$HERE/jsonrt.lua" doc.json)"
fi
ELAPSED=$(( $(date +%s) - START ))

python3 - "$ROWS" "$RUNS" "$WARMUP" "$ELAPSED" <<'PY'
import sys
rows, runs, warmup, elapsed = sys.argv[1:5]
t, c = {}, {}
for line in open(rows):
    name, label, s, cpu = line.rstrip("\n").split("\t")
    t.setdefault(name, {})[label] = float(s)
    c.setdefault(name, {})[label] = float(cpu)
print(f"Median wall time of {runs} run(s) after {warmup} warm-up, whole process "
      "(start-up and reading the input included); outputs checked equal. CPU: the "
      "ratio of mean user + system times, steadier on a loaded machine.\n")
print("| workload | jue s | lua5.4 s | python3 s | jue/lua5.4 (target ≤ 3) | jue/python3 "
      "| python3/lua5.4 | CPU jue/lua5.4 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
f = lambda x: "–" if x is None else f"{x:.3f}"
r = lambda a, b: "–" if a is None or b is None else f"{a / b:.2f}"
for name, d in t.items():
    j, l, p = d.get("jue"), d.get("lua5.4"), d.get("python3")
    cj, cl = c[name].get("jue"), c[name].get("lua5.4")
    print(f"| {name} | {f(j)} | {f(l)} | {f(p)} | {r(j, l)} | {r(j, p)} | {r(p, l)} "
          f"| {r(cj, cl)} |")
if "lua5.4+dkjson" in t.get("jsonrt", {}):
    print(f"\njsonrt with the pure-Lua dkjson instead of lua-cjson: "
          f"{t['jsonrt']['lua5.4+dkjson']:.3f} s.")
print(f"\nData benchmarks wall time: {elapsed} s.")
PY
[[ $FAIL == 0 ]] || { log "some programs failed or printed a wrong checksum (see above)"; exit 1; }
