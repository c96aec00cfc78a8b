#!/usr/bin/env bash
# Per-keystroke cost of the REPL's line-editor helper (highlighting, hints,
# validation) on short and long inputs and in a 10,000-definition session.
# Builds only the example (release). Usage: bench/repl_typing.sh [--quick] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=200
case "${1:-}" in
  --help) sed -n 2,4p "$0"; exit 0 ;;
  --quick) runs=5 ;;
  ?*) runs=$1 ;;
esac
nice -n 15 cargo run --release --quiet -p jue-repl --example typing_bench -- "$runs"
