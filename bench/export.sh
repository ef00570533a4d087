#!/usr/bin/env bash
# Benchmark of the security log's export (issue 12): one account with 100,000 events,
# exported as CSV and as JSON Lines through the release build, on SQLite and on
# PostgreSQL. Measures the time of each whole download (curl, loopback) and the
# server's memory beyond what it held before (its peak RSS during the export, reset
# just before it, minus its RSS before). Goals: under 1 s and under 50 MB extra.
# Prints one table; everything it writes goes under target/bench-export/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
source scripts/postgres.sh

EVENTS=${BENCH_EVENTS:-100000}
RUNS=3
RUN=target/bench-export
rm -rf "$RUN" && mkdir -p "$RUN"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  pg_stop
}
trap cleanup EXIT

echo "== building the release (scripts/leptos.sh build --release --precompress --split)"
scripts/leptos.sh build --release --precompress --split >"$RUN/build.log" 2>&1 || { tail -50 "$RUN/build.log"; exit 1; }

PORT=3300
BASE="http://127.0.0.1:$PORT"
PASSWORD="Granite-Kettle-42%21"

start() { # DATABASE_URL LOG
  LATCHKEY_SERVER_MODE=development \
  LATCHKEY_SERVER_LISTEN="127.0.0.1:$PORT" \
  LATCHKEY_SERVER_PUBLIC_BASE_URL="$BASE" \
  LATCHKEY_SERVER_SECRET="$(printf 'e%.0s' $(seq 64))" \
  LATCHKEY_SERVER_DATA_DIR="$RUN" \
  LATCHKEY_DATABASE_URL="$1" \
  LATCHKEY_MAIL_TRANSPORT=outbox \
  RUST_LOG=warn \
    target/release/latchkey >"$2" 2>&1 &
  server=$!
  for _ in $(seq 150); do curl -fs "$BASE/signin" >/dev/null && return 0; sleep 0.2; done
  echo "the server did not start:"; cat "$2"; exit 1
}

post() { # PATH DATA: the response headers
  curl -fs -D - -o /dev/null -X POST -H "Origin: $BASE" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data "$2" "$BASE$1"
}

# The events: the kinds of a busy account, from many addresses, one a second back in
# time, with a browser's user agent; inserted straight into the database (SQL that
# both backends run), since sign-ins at the rate the limits allow would take days.
events_sql() { # NOW
  cat <<SQL
INSERT INTO security_events (user_id, kind, at, ip, user_agent, detail)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $EVENTS)
SELECT (SELECT id FROM users WHERE email = 'exporter@example.com'),
  CASE i % 4 WHEN 0 THEN 'sign_in_succeeded' WHEN 1 THEN 'sign_in_failed'
    WHEN 2 THEN 'mfa_code_sent' ELSE 'session_revoked' END,
  $1 - i,
  '203.0.' || (i % 200) || '.' || (i % 250),
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  CASE i % 4 WHEN 1 THEN '{"reason":"wrong_password"}' WHEN 2 THEN '{"purpose":"sign-in","channel":"email"}' ELSE '{}' END
FROM n
SQL
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$server/status"; }

# measure NAME RUN_SQL: signs up, fills the log, exports; writes NAME.env.
measure() {
  local name=$1 run_sql=$2
  post /api/sign_up "email=exporter%40example.com&password=$PASSWORD&password_repeat=$PASSWORD" >/dev/null
  local cookie
  cookie=$(post /api/sign_in "email=exporter%40example.com&password=$PASSWORD" \
    | awk -F'[ ;]' 'tolower($1) == "set-cookie:" {print $2}' | tr -d '\r')
  "$run_sql" "$(events_sql "$(date +%s)")"
  for format in csv jsonl; do
    local best=999 extra=0
    for r in $(seq "$RUNS"); do
      local before t peak
      before=$(rss_kb)
      echo 5 >"/proc/$server/clear_refs" # resets the peak to the RSS now
      t=$(curl -fs -o "$RUN/$name.$format" -w '%{time_total}' -H "Cookie: $cookie" \
        "$BASE/api/security-log/export?format=$format")
      peak=$(peak_kb)
      best=$(awk -v a="$best" -v b="$t" 'BEGIN {print (b < a) ? b : a}')
      extra=$(awk -v a="$extra" -v p="$peak" -v b="$before" 'BEGIN {e = (p - b) / 1024; print (e > a) ? e : a}')
      echo "   $name $format run $r: ${t}s, RSS ${before} kB before, peak ${peak} kB"
    done
    local lines
    lines=$(wc -l <"$RUN/$name.$format")
    echo "${format}_s=$best" >>"$RUN/$name.env"
    echo "${format}_mb=$(printf '%.1f' "$extra")" >>"$RUN/$name.env"
    echo "${format}_lines=$lines" >>"$RUN/$name.env"
  done
}

echo "== SQLite"
sqlite_sql() { python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()' "$RUN/export.db" "$1"; }
start "sqlite://$RUN/export.db" "$RUN/server-sqlite.log"
measure sqlite sqlite_sql
kill "$server"; wait "$server" 2>/dev/null || true; server=""

echo "== PostgreSQL (a cluster in $RUN/pg)"
pg_start "$RUN/pg"
pg_url=$(pg_new_database export)
pg_sql() { pg_as_owner "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U latchkey -d export -q -c "$1" >/dev/null; }
start "$pg_url" "$RUN/server-pg.log"
measure postgres pg_sql

row() { printf '| %-44s | %-8s | %-9s | %-4s |\n' "$1" "$2" "$3" "$4"; }
check() { awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b) ? "pass" : "FAIL"}'; }
{
  echo
  echo "== summary: export of $EVENTS events (best of $RUNS downloads; memory: the most any run added)"
  row "figure" "target" "measured" "ok"
  row "--------------------------------------------" "--------" "---------" "----"
  for name in sqlite postgres; do
    # shellcheck disable=SC1090
    source "$RUN/$name.env"
    for format in csv jsonl; do
      s_var=${format}_s; mb_var=${format}_mb; lines_var=${format}_lines
      row "$name: $format, seconds (${!lines_var} lines)" "< 1" "${!s_var}" "$(check "${!s_var}" 1)"
      row "$name: $format, MB of RSS beyond before" "< 50" "${!mb_var}" "$(check "${!mb_var}" 50)"
    done
  done
} | tee "$RUN/summary.txt"
