#!/usr/bin/env bash
# `cargo leptos ARGS...` with the browser build's size settings (issue 28): a release's
# WebAssembly half is built with panics that abort at once (`-Cpanic=immediate-abort`),
# which needs its own standard library built from source (`-Zbuild-std`, the rust-src
# component that scripts/setup.sh installs). No panic message, location or formatting
# code goes to the browser; a panic there stops the app as before (the page still
# works as the server rendered it). The server build is untouched: its panics unwind
# and are caught. Without the std sources the browser build keeps the standard panics
# (larger; the release test's size guard will say so).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
case " $* " in *" --release "*) ;; *) exec cargo leptos "$@" ;; esac # debug builds: as they are
if have_std_sources; then
  # -Zfmt-debug=none: `{:?}` prints nothing (no Debug code; the browser code never shows
  # Debug output to anyone); -Zlocation-detail=none: no source paths in the binary;
  # optimize_for_size: std's smaller variants of its algorithms.
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none"
  exec cargo leptos "$@" --lib-cargo-args=-Zbuild-std=std,panic_abort --lib-cargo-args=-Zbuild-std-features=optimize_for_size
fi
echo "[leptos] no Rust standard library sources (rustup component add rust-src):" \
  "the WebAssembly keeps the standard panic machinery" >&2
exec cargo leptos "$@"
