#!/usr/bin/env bash
# REPL start-up and Enter-to-result latency, Jue against python3 in the same run.
# Builds the release binary first. Usage: bench/repl_startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
python3 -c 'import pexpect' 2>/dev/null || pip install --quiet pexpect
exec python3 bench/repl_startup.py target/release/jue "${1:-20}"
