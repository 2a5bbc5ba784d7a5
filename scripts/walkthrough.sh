#!/usr/bin/env bash
# The README walkthrough, as a script: CI runs it so the README cannot rot.
# Starts a fresh devnet with `npx roamchain devnet` on its own port and data directory, runs the
# README's commands, checks the settlement to the base unit, and stops the devnet.
# Environment: WALKTHROUGH_PORT (the devnet's API port; the SM-DP+ is on it + 1; default: a free
# pair), WALKTHROUGH_DATA_DIR (the devnet's data directory, which must not exist yet; default: a
# temporary one, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${WALKTHROUGH_DATA_DIR:-}" ]; then
  if [ -e "$WALKTHROUGH_DATA_DIR" ]; then
    echo "WALKTHROUGH_DATA_DIR=$WALKTHROUGH_DATA_DIR exists: the walkthrough needs a fresh chain" >&2
    exit 1
  fi
  mkdir -p "$WALKTHROUGH_DATA_DIR"
  DIR=$(cd "$WALKTHROUGH_DATA_DIR" && pwd)
else
  DIR=$(mktemp -d)
fi
# A free port pair (API and the simulated SM-DP+ on API + 1), unless one is given.
free_port() {
  node -e 'const net = require("net"); (function tryPort() { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => { const t = net.createServer().listen(p + 1, "127.0.0.1", () => t.close(() => console.log(p))); t.on("error", tryPort); }); }); })();'
}
PORT=${WALKTHROUGH_PORT:-$(free_port)}
export ROAMCHAIN_API=http://127.0.0.1:$PORT
export ROAMCHAIN_KEYSTORE=$DIR/keystore.json ROAMCHAIN_KEYSTORE_PASSPHRASE=devnet

# Its own process group, so that stopping it also stops the node process npx starts.
set -m
npx roamchain devnet --data-dir "$DIR" --port "$PORT" --no-agents > "$DIR/devnet.log" 2>&1 &
DEVNET=$!
set +m
WATCH=
cleanup() {
  if [ -n "$WATCH" ]; then kill "$WATCH" 2>/dev/null || true; fi
  kill -- "-$DEVNET" 2>/dev/null || true; wait "$DEVNET" 2>/dev/null || true
  if [ -z "${WALKTHROUGH_DATA_DIR:-}" ]; then rm -rf "$DIR"; fi
}
trap cleanup EXIT

# Wait until the devnet serves and has published its demo offers.
for _ in $(seq 1 120); do
  if ! kill -0 "$DEVNET" 2>/dev/null; then
    echo "the devnet exited:" >&2
    cat "$DIR/devnet.log" >&2
    exit 1
  fi
  if npx roamchain offer rank --country DE --json > "$DIR/rank.json" 2>/dev/null &&
    node -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1])).items.length > 0 ? 0 : 1)' "$DIR/rank.json"; then
    break
  fi
  sleep 1
done

json() { node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); const r = new Function("v", "return " + process.argv[1])(v); if (r === undefined) process.exit(1); console.log(typeof r === "object" ? JSON.stringify(r) : r);' "$1"; }
step() { printf '\n$ roamchain %s\n' "$*"; }

step status
npx roamchain status

step offer rank --country DE --volume-gb 5 --preference balanced
npx roamchain offer rank --country DE --volume-gb 5 --preference balanced
OFFER=$(npx roamchain offer rank --country DE --volume-gb 5 --preference balanced --json | json 'v.items.find((i) => i.offer.operator === "telco-de").offerId')
PRICE=$(npx roamchain offer show "$OFFER" --json | json 'v.terms.price')
ALICE0=$(npx roamchain account show alice --json | json 'v.balances.SDR')

# Identity: the devnet attested alice (telco-fr, her home operator); her wallet holds the disclosures.
WALLET=$DIR/wallet/alice.disclosures.json
EID=89049032000001000000000000004242
step identity show alice
npx roamchain identity show alice
step identity verify alice --disclosures "$WALLET" --only name,nationality
npx roamchain identity verify alice --disclosures "$WALLET" --only name,nationality

step request open --issuer telco-fr --subscriber alice --offer "$OFFER" --deposit 12 \
  --disclosures "$WALLET" --disclose name,nationality --eid "$EID"
CONTRACT=$(npx roamchain request open --issuer telco-fr --subscriber alice --offer "$OFFER" --deposit 12 \
  --disclosures "$WALLET" --disclose name,nationality --eid "$EID" --json | json 'v.contractId')
echo "contract $CONTRACT"

# Watch the contract: it decrypts what this keystore is party to (the Request payload as telco-de,
# the provisioning as the requester).
npx roamchain contract watch "$CONTRACT" --until-closed > "$DIR/watch.txt" 2>&1 &
WATCH=$!

# telco-de orders alice's eSIM profile at its SM-DP+ (the devnet's simulated one, API port + 1) for
# the EID it decrypted and verified, and provisions it: the activation code is sealed, the chain
# keeps only the ICCID's hash.
SMDP=http://127.0.0.1:$((PORT + 1))
step provision "$CONTRACT" --assignee telco-de --smdp "$SMDP" --apn internet
npx roamchain provision "$CONTRACT" --assignee telco-de --smdp "$SMDP" --apn internet
step contract provisioning "$CONTRACT"
npx roamchain contract provisioning "$CONTRACT" | tee "$DIR/prov.txt"
grep -q 'LPA:1\$127.0.0.1:'"$((PORT + 1))"'\$' "$DIR/prov.txt"
step charge "$CONTRACT" --assignee telco-de --amount 3 --mb-down 1500
npx roamchain charge "$CONTRACT" --assignee telco-de --amount 3 --mb-down 1500
npx roamchain charge "$CONTRACT" --assignee telco-de --amount 3 --mb-down 1500

step charge "$CONTRACT" --assignee telco-de --amount 100 '(must fail with SSC_OVERCHARGE)'
if npx roamchain charge "$CONTRACT" --assignee telco-de --amount 100 2> "$DIR/err.txt"; then
  echo "an over-charge was accepted" >&2
  exit 1
fi
cat "$DIR/err.txt"
grep -q 'SSC_OVERCHARGE' "$DIR/err.txt"

step refund "$CONTRACT" --by alice
npx roamchain refund "$CONTRACT" --by alice
step rate "$CONTRACT" --subscriber alice --score 5
npx roamchain rate "$CONTRACT" --subscriber alice --score 5
step contract show "$CONTRACT"
npx roamchain contract show "$CONTRACT"
step account show alice
npx roamchain account show alice

step contract watch "$CONTRACT" --until-closed '(what it printed)'
wait "$WATCH" || true
WATCH=
cat "$DIR/watch.txt"
grep -q 'decrypted request payload (as telco-de): eid='"$EID"'.*name=Alice Martin.*verified' "$DIR/watch.txt"
grep -q 'decrypted provisioning (as requester): activationCode=LPA:1\$' "$DIR/watch.txt"

# Settlement to the base unit: alice paid 6 SDR of charges plus telco-fr's 1 % fee on them.
ALICE1=$(npx roamchain account show alice --json | json 'v.balances.SDR')
EXPECTED=$((ALICE0 - 6000000 - 60000))
if [ "$ALICE1" != "$EXPECTED" ]; then
  echo "alice has $ALICE1 SDR base units, expected $EXPECTED" >&2
  exit 1
fi
STATUS=$(npx roamchain contract show "$CONTRACT" --json | json 'v.contract.status')
[ "$STATUS" = closed ] || { echo "contract is $STATUS" >&2; exit 1; }
echo
grep -q "resumes from $DIR next time" "$DIR/devnet.log" || { echo "the banner does not name $DIR" >&2; exit 1; }
echo "walkthrough: OK on port $PORT, data directory $DIR (offer price ${PRICE} base units; alice ${ALICE0} -> ${ALICE1})"
