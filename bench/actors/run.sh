#!/usr/bin/env bash
# The actor benchmarks of issue 18, side by side: Lua coroutines under a
# minimal mailbox scheduler (sched.lua; lua5.4 and luajit -joff) and Python
# asyncio tasks with an asyncio.Queue each, now; Jue once it has actors (a
# NAME.jue joins when `jue check` accepts it).
#
# Usage: bench/actors/run.sh [--quick] [--runs N]
#   --quick    1 run per command, no warm-up (smoke test)
#   --runs N   timed runs per command (default 3, plus 1 warm-up)
# Environment: JUE=/path/to/jue (default target/release/jue).
# Needs: hyperfine, lua5.4, luajit, python3, GNU time (/usr/bin/time).
#
# Workloads (each program prints a checksum, checked equal across runtimes):
#   ring   1,000 actors in a ring pass a counter 1,000,000 times
#   spawn  start 100,000 actors, await each one's result
#   idle   100,000 actors waiting in receive: peak RSS per actor (not timed)
# Writes Markdown to stdout: median wall time (whole process, so start-up
# and setting up the ring are included) and per message / per spawn, against
# issue 18's targets (<= 1 us per message, <= 2 us per spawn, <= 2 KiB per
# idle actor), with the ratios jue/lua5.4.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
source "$HERE/../lib.sh"

RUNS=3
WARMUP=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) RUNS=1; WARMUP=0 ;;
    --runs) shift; [[ ${1:-} =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"; RUNS=$1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option: $1 (try --help)" ;;
  esac
  shift
done

need hyperfine hyperfine
need lua5.4 lua5.4
need luajit luajit
need python3 python3
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found: apt-get install -y time"
LUA="$(command -v lua5.4)"
LUAJIT="$(command -v luajit)"
PY="$(python_exe)"
JUE="${JUE:-$BENCH_ROOT/target/release/jue}"

declare -A EXPECT=(
  [ring]="1 1000000"
  [spawn]="100000 10000100000"
  [idle]="100000"
)

# cmds PROG [ARG]: fill CMDS with label/command pairs for the runtimes.
cmds() {
  local prog=$1 arg=${2:-}
  CMDS=()
  if jue_ready "$HERE/$prog.jue"; then
    # shellcheck disable=SC2046 # the flags are words
    CMDS+=(jue "$(printf '%q ' "$JUE" run $(jue_flags "$HERE/$prog.jue") "$HERE/$prog.jue")")
  else
    log "   ($prog.jue not accepted by \`jue check\` yet: Jue left out)"
  fi
  CMDS+=(lua5.4 "$(printf '%q ' "$LUA" "$HERE/$prog.lua" ${arg:+"$arg"})")
  CMDS+=("luajit -joff" "$(printf '%q ' "$LUAJIT" -joff "$HERE/$prog.lua" ${arg:+"$arg"})")
  CMDS+=(python3 "$(printf '%q ' "$PY" "$HERE/$prog.py" ${arg:+"$arg"})")
}

FAIL=0
ROWS="$(mktemp)"
MEM="$(mktemp)"
trap 'rm -f "$ROWS" "$MEM"' EXIT
START=$(date +%s)
for prog in ring spawn; do
  log "== $prog"
  cmds "$prog"
  compare_row "$ROWS" "$prog" "${EXPECT[$prog]}" "$RUNS" "$WARMUP" "${CMDS[@]}"
done

log "== idle (peak RSS, /usr/bin/time -v)"
# Baseline: the same program with 0 actors (Jue: an empty program).
cmds idle
for ((i = 0; i < ${#CMDS[@]}; i += 2)); do
  label=${CMDS[$i]} cmd=${CMDS[$((i + 1))]}
  out="$(eval "$cmd" 2>/dev/null)" || out="(failed)"
  if [[ $out != "${EXPECT[idle]}" ]]; then
    log "FAIL: idle under $label printed '$out', expected '${EXPECT[idle]}'"
    FAIL=1
    continue
  fi
  argv=()
  eval "argv=($cmd)"   # the %q-quoted words back into an array
  full="$(peak_rss_kb "${argv[@]}")"
  case "$label" in
    jue) base="$(peak_rss_kb "$JUE" run "$BENCH_ROOT/bench/suite/empty.jue")" ;;
    *) base="$(peak_rss_kb "${argv[@]}" 0)" ;;
  esac
  printf '%s\t%s\t%s\n' "$label" "$full" "$base" >> "$MEM"
done
ELAPSED=$(( $(date +%s) - START ))

python3 - "$ROWS" "$MEM" "$RUNS" "$WARMUP" "$ELAPSED" <<'PY'
import sys
rows, mem, runs, warmup, elapsed = sys.argv[1:6]
t, c = {}, {}
for line in open(rows):
    name, label, s, cpu = line.rstrip("\n").split("\t")
    t.setdefault(name, {})[label] = float(s)
    c.setdefault(name, {})[label] = float(cpu)
labels = ["jue", "lua5.4", "luajit -joff", "python3"]
per = {"ring": (1_000_000, "µs per message", 1.0), "spawn": (100_000, "µs per spawn", 2.0)}
print(f"Median wall time of {runs} run(s) after {warmup} warm-up, whole process "
      "(start-up and set-up included, so the per-unit figures are upper bounds); "
      "outputs checked equal.\n")
print("| workload | " + " | ".join(f"{l} s" for l in labels) + " | jue/lua5.4 | CPU jue/lua5.4 |")
print("|---|" + "---:|" * (len(labels) + 2))
for name, d in t.items():
    cells = ["–" if d.get(l) is None else f"{d[l]:.3f}" for l in labels]
    ratio = "–" if "jue" not in d or "lua5.4" not in d else f"{d['jue'] / d['lua5.4']:.2f}"
    cd = c[name]
    cratio = "–" if "jue" not in cd or "lua5.4" not in cd else f"{cd['jue'] / cd['lua5.4']:.2f}"
    print(f"| {name} | " + " | ".join(cells) + f" | {ratio} | {cratio} |")
for name, d in t.items():
    n, unit, target = per[name]
    cells = ["–" if d.get(l) is None else f"{d[l] / n * 1e6:.2f}" for l in labels]
    print(f"| {name}, {unit} (Jue target ≤ {target:g}) | " + " | ".join(cells) + " | | |")
memrows = [l.rstrip("\n").split("\t") for l in open(mem) if l.strip()]
if memrows:
    d = {lab: (int(full) - int(base)) / 100_000 for lab, full, base in memrows}
    cells = ["–" if l not in d else f"{d[l]:.2f}" for l in labels]
    print("| idle, KiB per waiting actor (Jue target ≤ 2) | " + " | ".join(cells) + " | | |")
    print("\nIdle: (peak RSS with 100,000 actors waiting in receive − peak RSS of the "
          "same program with 0 actors; Jue: an empty program) / 100,000, from "
          "`/usr/bin/time -v`. Lua: a coroutine plus its actor record and mailbox "
          "table; Python: a task plus its asyncio.Queue.")
print(f"\nActor benchmarks wall time: {elapsed} s.")
PY
[[ $FAIL == 0 ]] || { log "some programs failed or printed a wrong checksum (see above)"; exit 1; }
