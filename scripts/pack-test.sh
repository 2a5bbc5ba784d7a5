#!/usr/bin/env bash
# The installable CLI, as a user gets it (CI runs this after `npm run build`):
#   scripts/pack-cli.mjs packs ONE tarball (the workspace packages bundled), `npm install` of it in an
#   EMPTY folder, then `roamchain --help`, `roamchain keys new`, `roamchain node --help`, and the
#   compiled smoke test (scripts/smoke-compiled.mjs: a devnet of 2 validators, a transfer final) run
#   from the installed package under plain node. Prints how long pack and install took.
# Environment: NODE (the node binary to run the commands with; default: node on PATH).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE=${NODE:-node}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

t=$SECONDS
"$NODE" "$ROOT/scripts/pack-cli.mjs" --out "$WORK"
echo "pack: $((SECONDS - t)) s"
TGZ=$(ls "$WORK"/roamchain-cli-*.tgz)

mkdir "$WORK/app"
cd "$WORK/app"
t=$SECONDS
# No install scripts (npm 11 blocks them by default, older npm would run them): nothing tested here
# needs one (the node's native modules load prebuilt binaries). better-sqlite3, the operator agent's
# store, does: `--allow-scripts=better-sqlite3` (README, "Build, package and install").
npm install --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error "$TGZ"
echo "install: $((SECONDS - t)) s"
if [ -e node_modules/tsx ]; then
  echo "tsx was installed: the package must run without it" >&2
  exit 1
fi
BIN=$WORK/app/node_modules/@roamchain/cli/bin/roamchain.js
"$NODE" "$BIN" --help > help.txt
grep -q '^Usage: roamchain' help.txt
npx roamchain --help > /dev/null
ROAMCHAIN_KEYSTORE=$WORK/app/keystore.json ROAMCHAIN_KEYSTORE_PASSPHRASE=pack-test "$NODE" "$BIN" keys new pack-test
test -s "$WORK/app/keystore.json"
"$NODE" "$BIN" node --help > node-help.txt
grep -q -- '--config' node-help.txt
"$NODE" "$ROOT/scripts/smoke-compiled.mjs" --cli "$BIN"
echo "pack test OK"
