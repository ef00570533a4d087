#!/usr/bin/env bash
# Benchmark: starts the release build and measures, with wrk at 32 concurrent clients,
# sign-in throughput and the latency of an authenticated page load; prints the time
# of one argon2id hash on this machine. Bounded: each load runs 20 s against loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
dpkg -s wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

DURATION=${BENCH_DURATION:-20s}
PORT=3200
BASE="http://127.0.0.1:$PORT"
RUN=bench/.run
rm -rf "$RUN" && mkdir -p "$RUN"

echo "== building the release (cargo leptos build --release)"
cargo leptos build --release >"$RUN/build.log" 2>&1 || { tail -50 "$RUN/build.log"; exit 1; }

echo "== one argon2id hash"
target/release/latchkey hash-time

LATCHKEY_SERVER_MODE=production \
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

EMAIL=bench@example.com
PASSWORD='Granite-Kettle-42!'
FORM="email=bench%40example.com&password=Granite-Kettle-42%21"
curl -fs -X POST -H "Origin: $BASE" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data "$FORM&password_repeat=Granite-Kettle-42%21" "$BASE/api/sign_up" >/dev/null
cookie=$(curl -fs -D - -o /dev/null -X POST -H "Origin: $BASE" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data "$FORM" "$BASE/api/sign_in" | awk -F'[ ;]' 'tolower($1) == "set-cookie:" {print $2}' | tr -d '\r')
[ -n "$cookie" ] || { echo "could not sign in"; exit 1; }

cat >"$RUN/sign_in.lua" <<LUA
wrk.method = "POST"
wrk.body = "$FORM"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "$BASE"
LUA

echo "== sign-in throughput (32 clients, $DURATION)"
wrk -t2 -c32 -d"$DURATION" --latency -s "$RUN/sign_in.lua" "$BASE/api/sign_in" | tee "$RUN/sign_in.txt"

echo "== authenticated page load: GET /settings/security (32 clients, $DURATION)"
wrk -t2 -c32 -d"$DURATION" --latency -H "Cookie: $cookie" "$BASE/settings/security" | tee "$RUN/page.txt"

summary() { # file label
  awk -v label="$2" '
    /Requests\/sec/ {rps = $2}
    /^ +50%/ {p50 = $2}
    /^ +99%/ {p99 = $2}
    /Non-2xx/ {bad = $4}
    END {printf "%s: %s req/s, p50 %s, p99 %s%s\n", label, rps, p50, p99, (bad ? ", non-2xx " bad : "")}' "$1"
}
echo "== summary"
summary "$RUN/sign_in.txt" "sign-in"
summary "$RUN/page.txt" "authenticated page"
