#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: the Rust unit and server-function
# tests, then the Playwright tests in Chromium against the release build (the one
# operators deploy), a real SMTP server and a fresh database.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
export LEPTOS_OUTPUT_NAME=latchkey

mkdir -p target
echo "== Rust tests (unit and server functions)"
# erase_components (as cargo-leptos uses for debug builds) compiles the views faster.
RUSTFLAGS="--cfg erase_components" cargo test --locked --features ssr 2>&1 | tee target/cargo-test.log
rust_passed=$(awk '/^test result:/ {s += $4} END {print s + 0}' target/cargo-test.log)
rust_failed=$(awk '/^test result:/ {s += $6} END {print s + 0}' target/cargo-test.log)

echo "== Build the release (server and WebAssembly, optimised, precompressed)"
cargo leptos build --release --precompress --split

echo "== Playwright (Chromium)"
rm -rf end2end/.run && mkdir -p end2end/.run
e2e_status=0
(cd end2end && npx playwright test) || e2e_status=$?
read -r e2e_passed e2e_failed < <(node -e '
  const r = require("./end2end/.run/results.json");
  const s = r.stats || {};
  console.log((s.expected || 0) + " " + ((s.unexpected || 0) + (s.flaky || 0)));
' 2>/dev/null || echo "0 1")

passed=$((rust_passed + e2e_passed))
failed=$((rust_failed + e2e_failed))
echo "rust: ${rust_passed} passed, ${rust_failed} failed"
echo "e2e: ${e2e_passed} passed, ${e2e_failed} failed"
echo "${passed} passed, ${failed} failed"
[ "$e2e_status" -eq 0 ] && [ "$failed" -eq 0 ]
