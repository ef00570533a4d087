#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test, on both databases: the Rust unit
# and server-function tests on SQLite and on PostgreSQL, then the Playwright tests in
# Chromium against the release build (the one operators deploy) and a real SMTP
# server, once on SQLite and once on PostgreSQL, each time with two app instances
# sharing the database. PostgreSQL is a throwaway cluster of the script's own under
# target/pg (scripts/postgres.sh), stopped at the end even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
source scripts/postgres.sh
export LEPTOS_OUTPUT_NAME=latchkey
trap pg_stop EXIT

mkdir -p target
echo "== PostgreSQL: a throwaway cluster in target/pg"
pg_start target/pg
echo "   $PG_URL"

# Runs the Rust tests, appending their summary lines to target/cargo-test.log.
rust_tests() {
  # erase_components (as cargo-leptos uses for debug builds) compiles the views faster.
  RUSTFLAGS="--cfg erase_components" cargo test --locked --features ssr 2>&1 | tee -a target/cargo-test.log
}
: >target/cargo-test.log
echo "== Rust tests (unit and server functions) on SQLite"
rust_tests
echo "== Rust tests (unit and server functions) on PostgreSQL"
LATCHKEY_TEST_POSTGRES=$PG_URL rust_tests
rust_passed=$(awk '/^test result:/ {s += $4} END {print s + 0}' target/cargo-test.log)
rust_failed=$(awk '/^test result:/ {s += $6} END {print s + 0}' target/cargo-test.log)

echo "== Build the release (server and WebAssembly, optimised, precompressed)"
cargo leptos build --release --precompress --split

# Runs the Playwright suite; $1 names the run (its results file).
e2e_status=0
e2e_passed=0
e2e_failed=0
playwright() {
  rm -rf end2end/.run && mkdir -p end2end/.run
  local results="$PWD/target/e2e-$1.json"
  rm -f "$results"
  (cd end2end && E2E_RESULTS="$results" npx playwright test) || e2e_status=1
  read -r p f < <(node -e '
    const s = require(process.argv[1]).stats || {};
    console.log((s.expected || 0) + " " + ((s.unexpected || 0) + (s.flaky || 0)));
  ' "$results" 2>/dev/null || echo "0 1")
  echo "e2e on $1: $p passed, $f failed"
  e2e_passed=$((e2e_passed + p))
  e2e_failed=$((e2e_failed + f))
}
echo "== Playwright (Chromium) on SQLite"
playwright sqlite
echo "== Playwright (Chromium) on PostgreSQL"
for db in e2e e2e_short; do pg_new_database "$db" >/dev/null; done
LATCHKEY_E2E_POSTGRES=$PG_URL playwright postgres

passed=$((rust_passed + e2e_passed))
failed=$((rust_failed + e2e_failed))
echo "rust: ${rust_passed} passed, ${rust_failed} failed"
echo "e2e: ${e2e_passed} passed, ${e2e_failed} failed"
echo "${passed} passed, ${failed} failed"
[ "$e2e_status" -eq 0 ] && [ "$failed" -eq 0 ]
