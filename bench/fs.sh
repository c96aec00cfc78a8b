#!/usr/bin/env bash
# The cost of IoPersist file calls (fs:read-file, fs:list-dir, fs:write-file)
# through the engine, against the same number of iterations of an empty loop.
#
# Usage: bench/fs.sh   (JUE=/path/to/jue overrides target/release/jue)
# Prints, per function, the best of 3 wall times and the cost per call over an
# empty loop. Writes fsync, so their figure is mostly the disk's.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
JUE="${JUE:-$ROOT/target/release/jue}"
[[ -x $JUE ]] || { echo "fs.sh: build first: cargo build --release -p jue" >&2; exit 1; }
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR/deep/a/b/c"
printf 'x' > "$DIR/deep/a/b/c/small.txt"
cat > "$DIR/loop.jue" <<'JUE'
(define (loop i acc) (if (= i 0) acc (loop (- i 1) (+ acc 1))))
(println (loop 210000 0))
JUE
best() {
  local best=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s%N)
    (cd "$DIR" && "$JUE" run --grant IoPersist "$@" >/dev/null)
    t1=$(date +%s%N)
    local ms=$(( (t1 - t0) / 1000000 ))
    if [[ -z $best || $ms -lt $best ]]; then best=$ms; fi
  done
  echo "$best"
}
# One file per function: bench/fs.jue's definitions, then one call.
for f in reads lists writes; do
  n=100000; [[ $f == writes ]] && n=10000
  { sed -n '/^(define/,/^$/p' "$HERE/fs.jue" | grep -v '^(println'; echo "(println ($f $n 0))"; } > "$DIR/$f.jue"
done
(cd "$DIR" && "$JUE" run --grant IoPersist reads.jue && "$JUE" run --grant IoPersist lists.jue \
  && "$JUE" run --grant IoPersist writes.jue) >/dev/null
loop=$(best loop.jue)
for f in reads lists writes; do
  n=100000; [[ $f == writes ]] && n=10000
  ms=$(best "$f.jue")
  echo "$f: $n calls in $ms ms ($(( (ms - loop) * 1000000 / n )) ns per call over the empty loop, $loop ms)"
done
