#!/usr/bin/env bash
# Builds, tests and packages the VS Code extension; exits non-zero on any failure.
#   editors/vscode/build.sh            (from anywhere)
# Steps: npm ci (skipped when node_modules matches package-lock.json), `npm test`
# (bundle, grammar tests, protocol tests against `jue lsp`), `npm run package`
# (typecheck and bundle through vscode:prepublish, then jue.vsix).
# After `npm ci` nothing here uses the network.
# The protocol tests use $JUE_BIN if set (it must then run), else the newer of
# target/debug/jue and target/release/jue, else `jue` on PATH; they print SKIP (and
# pass) only when no jue is found or that jue has no `lsp` command.
set -euo pipefail
# A relative $JUE_BIN means relative to where this script was started.
if [ -n "${JUE_BIN:-}" ] && [[ "$JUE_BIN" == */* ]]; then
    JUE_BIN=$(realpath -m -- "$JUE_BIN")
    export JUE_BIN
fi
cd "$(dirname "$0")"

step() { printf '\n== vscode: %s\n' "$*"; }

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "editors/vscode/build.sh: '$tool' not found: install Node.js 20 or newer with npm" >&2
        exit 1
    fi
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "editors/vscode/build.sh: Node.js $(node --version) is too old: @vscode/vsce 3 needs Node.js 20 or newer" >&2
    exit 1
fi

# npm ci, unless node_modules was installed from this very package-lock.json.
stamp=node_modules/.jue-installed-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    step "node_modules is up to date (npm ci skipped)"
else
    step "npm ci"
    npm ci --no-audit --no-fund
    echo "$want" > "$stamp"
fi

# `npm test` bundles, then runs the grammar and protocol tests; `npm run package`
# typechecks and bundles again through `vscode:prepublish` before packaging, so
# the .vsix never holds a stale bundle.
step "npm test (bundle, grammar tests, protocol tests against jue lsp)"
npm test

step "package (vscode:prepublish: typecheck and bundle; vsce → jue.vsix)"
rm -f jue.vsix
npm run -s package </dev/null
test -s jue.vsix
echo "editors/vscode: built $(pwd)/jue.vsix"
