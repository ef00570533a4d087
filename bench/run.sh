#!/usr/bin/env bash
# Benchmark of the release build, on this machine, against loopback only. Measures:
# one argon2id hash; sign-in throughput against the bound the hash sets; the
# authenticated settings page (req/s, p99); the sign-in page's first load with brotli
# (wasm + js + css); and the time until the page is hydrated in Chromium. Prints one
# table (figure, target, measured, pass/fail). Every load is bounded in time; all
# output (database, logs, wrk reports) goes under target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
dpkg -s wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

DURATION=${BENCH_DURATION:-20s}
PORT=3200
BASE="http://127.0.0.1:$PORT"
RUN=target/bench
rm -rf "$RUN" && mkdir -p "$RUN"

echo "== building the release (cargo leptos build --release --precompress --split)"
cargo leptos build --release --precompress --split >"$RUN/build.log" 2>&1 || { tail -50 "$RUN/build.log"; exit 1; }

echo "== one argon2id hash"
target/release/latchkey hash-time | tee "$RUN/hash.txt"

# Development mode: the outbox stands in for SMTP (production refuses it); the server
# listens on loopback only, which development mode requires.
LATCHKEY_SERVER_MODE=development \
LATCHKEY_SERVER_LISTEN="127.0.0.1:$PORT" \
LATCHKEY_SERVER_PUBLIC_BASE_URL="$BASE" \
LATCHKEY_SERVER_SECRET="$(printf 'b%.0s' $(seq 64))" \
LATCHKEY_SERVER_DATA_DIR="$RUN" \
LATCHKEY_DATABASE_URL="sqlite://$RUN/bench.db" \
LATCHKEY_MAIL_TRANSPORT=outbox \
RUST_LOG=warn \
  target/release/latchkey >"$RUN/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "$BASE/signin" >/dev/null && break; sleep 0.2; done

FORM="email=bench%40example.com&password=Granite-Kettle-42%21"
curl -fs -X POST -H "Origin: $BASE" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data "$FORM&password_repeat=Granite-Kettle-42%21" "$BASE/api/sign_up" >/dev/null
cookie=$(curl -fs -D - -o /dev/null -X POST -H "Origin: $BASE" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data "$FORM" "$BASE/api/sign_in" | awk -F'[ ;]' 'tolower($1) == "set-cookie:" {print $2}' | tr -d '\r')
[ -n "$cookie" ] || { echo "could not sign in"; exit 1; }

echo "== first load and hydration of /signin in Chromium (10 cold loads)"
node end2end/hydration-bench.mjs "$BASE/signin" 10 | tee "$RUN/hydration.json"

cat >"$RUN/sign_in.lua" <<LUA
wrk.method = "POST"
wrk.body = "$FORM"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "$BASE"
LUA

echo "== sign-in throughput (32 clients, $DURATION)"
wrk -t2 -c32 -d"$DURATION" --latency -s "$RUN/sign_in.lua" "$BASE/api/sign_in" | tee "$RUN/sign_in.txt"

echo "== authenticated page load: GET /settings/security (32 clients, $DURATION)"
wrk -t2 -c32 -d"$DURATION" --latency -H "Cookie: $cookie" -H 'Accept-Encoding: gzip, deflate, br, zstd' \
  "$BASE/settings/security" | tee "$RUN/page.txt"

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
# wrk prints latencies as 1.23ms / 456.78us / 1.02s: in milliseconds.
p99() { awk '/^ +99%/ {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)} else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; print v}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $4} END {}' "$1"; }
hash_ms=$(awk '{for (i = 1; i <= NF; i++) if ($i == "ms") print $(i - 1)}' "$RUN/hash.txt")
cores=$(nproc)
bound=$(awk -v c="$cores" -v h="$hash_ms" 'BEGIN {printf "%.1f", c * 1000 / h}')
hydration=$(node -e 'console.log(require("./'"$RUN"'/hydration.json").median_ms)')
first_load=$(node -e 'console.log(require("./'"$RUN"'/hydration.json").first_load_bytes)')

row() { # figure target measured pass
  printf '| %-44s | %-14s | %-14s | %-4s |\n' "$1" "$2" "$3" "$4"
}
check() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {ok = (op == ">=") ? (a >= b) : (a <= b); print ok ? "pass" : "FAIL"}'; }

page_rps=$(rps "$RUN/page.txt"); page_p99=$(p99 "$RUN/page.txt")
sign_rps=$(rps "$RUN/sign_in.txt")
sign_target=$(awk -v b="$bound" 'BEGIN {printf "%.1f", b * 0.9}')
{
  echo
  echo "== summary ($cores cores; one argon2id hash ${hash_ms} ms; wrk shares the cores with the server)"
  row "figure" "target" "measured" "ok"
  row "--------------------------------------------" "--------------" "--------------" "----"
  row "settings page, req/s (32 clients)" ">= 3000" "$page_rps" "$(check "$page_rps" ">=" 3000)"
  row "settings page, p99 ms" "< 20" "$page_p99" "$(check "$page_p99" "<=" 20)"
  row "sign-in/s (bound $bound = cores / hash)" ">= $sign_target" "$sign_rps" "$(check "$sign_rps" ">=" "$sign_target")"
  row "first load of /signin, brotli bytes" "<= 204800" "$first_load" "$(check "$first_load" "<=" 204800)"
  row "hydrated after navigation start, ms (median)" "<= 300" "$hydration" "$(check "$hydration" "<=" 300)"
  for f in page sign_in; do
    bad=$(non2xx "$RUN/$f.txt"); [ -z "$bad" ] || echo "warning: $f had $bad non-2xx answers"
  done
} | tee "$RUN/summary.txt"
