#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs Latchkey at http://127.0.0.1:3000 on the embedded
# default: SQLite under ./data/, mail in the development outbox at /dev/mail. It runs the
# release build, the one operators deploy and the browser tests check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
exec scripts/leptos.sh serve --release --precompress --split
