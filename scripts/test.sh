#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: the Rust unit and server-function
# tests on SQLite and on PostgreSQL, then the Playwright tests in Chromium against the
# release build (the one operators deploy) and a real SMTP server. The whole browser
# suite runs on SQLite; on PostgreSQL the browser runs what PostgreSQL changes for it
# (two app instances on one database) and a pass over every page
# (end2end/playwright.config.ts, POSTGRES_SPECS). PostgreSQL is a throwaway cluster of
# the script's own under target/pg (scripts/postgres.sh), stopped at the end even on
# failure. At the end it prints how long each stage took.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target

# The time of each stage, printed at the end (also after a failure).
stages=()
run_start=$SECONDS
stage_start=$SECONDS
stage_name=""
begin_stage() {
  end_stage
  stage_name=$1
  stage_start=$SECONDS
  echo "== $1"
}
end_stage() {
  [ -n "$stage_name" ] && stages+=("$stage_name|$((SECONDS - stage_start))")
  stage_name=""
}
print_times() {
  end_stage
  echo "== Time by stage"
  local s
  for s in "${stages[@]}" "total|$((SECONDS - run_start))"; do
    local secs=${s##*|}
    printf '   %-40s %4d s  (%d:%02d)\n' "${s%|*}" "$secs" $((secs / 60)) $((secs % 60))
  done
}
finish() {
  local status=$?
  pg_stop 2>/dev/null || true
  print_times
  exit "$status"
}
pg_stop() { :; }
trap finish EXIT

begin_stage "set-up"
scripts/setup.sh
source scripts/env.sh
source scripts/postgres.sh
export LEPTOS_OUTPUT_NAME=latchkey
pg_start target/pg
echo "   PostgreSQL: a throwaway cluster in target/pg at $PG_URL"

# Runs the Rust tests, appending their summary lines to target/cargo-test.log.
# They build with the release profile, the flags and the LEPTOS_* variables that
# `cargo leptos build --release` gives the server build (see `to_envs` in
# cargo-leptos's config/project.rs; `always-erase-components` adds the cfg), so
# that build finds every dependency, the library and the binary already compiled
# and only builds the WebAssembly. Issue 21 measured it from a clean target:
# tests (dev profile) 338 s + release 448 s before, tests (release) 361 s +
# release 143 s after. A difference here only costs time: the server is then
# compiled twice.
rust_tests() {
  LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR=127.0.0.1:3000 \
    LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=. LEPTOS_JS_MINIFY=true \
    LEPTOS_HASH_FILES=true LEPTOS_HASH_FILE_NAME=hash.txt \
    RUSTFLAGS="--cfg erase_components" \
    cargo test --release --locked --features ssr 2>&1 | tee -a target/cargo-test.log
}
: >target/cargo-test.log
begin_stage "Rust tests on SQLite (with their build)"
rust_tests
begin_stage "Rust tests on PostgreSQL"
LATCHKEY_TEST_POSTGRES=$PG_URL rust_tests
rust_passed=$(awk '/^test result:/ {s += $4} END {print s + 0}' target/cargo-test.log)
rust_failed=$(awk '/^test result:/ {s += $6} END {print s + 0}' target/cargo-test.log)

begin_stage "release build (WebAssembly; the server is the tests')"
scripts/leptos.sh build --release --precompress --split

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
begin_stage "Playwright on SQLite (the whole suite)"
playwright sqlite
begin_stage "Playwright on PostgreSQL (instances, smoke)"
pg_new_database e2e >/dev/null
LATCHKEY_E2E_POSTGRES=$PG_URL playwright postgres
end_stage

passed=$((rust_passed + e2e_passed))
failed=$((rust_failed + e2e_failed))
echo "rust: ${rust_passed} passed, ${rust_failed} failed"
echo "e2e: ${e2e_passed} passed, ${e2e_failed} failed"
echo "${passed} passed, ${failed} failed"
[ "$e2e_status" -eq 0 ] && [ "$failed" -eq 0 ]
