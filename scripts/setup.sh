#!/usr/bin/env bash
# Installs whatever is missing to build, run and test Latchkey on a Debian machine.
# Quick (a few seconds) when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup] $*" >&2; }
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

apt_updated=""
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then log "apt-get update"; $SUDO apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. System packages: TLS for mail, the browser and the real clients the tests drive.
apt_install pkg-config libssl-dev chromium oathtool zbar-tools sqlite3
# libfaketime moves the clock of one test instance (a token that expires, tokens.spec.ts).
apt_install libfaketime
# PostgreSQL: scripts/test.sh and bench/run.sh run a throwaway cluster of their own with its
# initdb and pg_ctl (no system service is used).
apt_install postgresql
# Node.js runs the browser tests, the test SMTP server and binaryen's wasm-opt.
command -v npm >/dev/null 2>&1 || apt_install nodejs npm

# 2. A Rust toolchain that can build wasm32-unknown-unknown.
source scripts/env.sh
have_wasm_std() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown && return 0
  [ -x /usr/bin/rustc ] && ls /usr/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib >/dev/null 2>&1
}
if ! have_wasm_std; then
  log "adding the wasm32 target through rustup (60 s at most)"
  if [ -z "${LATCHKEY_SKIP_RUSTUP:-}" ] && timeout 60 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
    log "rustup added wasm32-unknown-unknown"
  else
    log "rustup cannot download; using Debian's rustc-web and building the wasm32 std from source"
    apt_install rustc-web rust-web-src rust-web-llvm lld-22
    tmp=$(mktemp -d)
    mkdir -p "$tmp/src"
    cat >"$tmp/Cargo.toml" <<'TOML'
[package]
name = "wasmstd"
version = "0.0.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"
[workspace]
TOML
    echo "" >"$tmp/src/lib.rs"
    (cd "$tmp" && RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$tmp/target" \
      cargo build --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort >&2)
    dest=/usr/lib/rustlib/wasm32-unknown-unknown/lib
    $SUDO mkdir -p "$dest"
    for f in "$tmp"/target/wasm32-unknown-unknown/release/deps/lib*.rlib; do
      case "$(basename "$f")" in libwasmstd*) ;; *) $SUDO cp "$f" "$dest/" ;; esac
    done
    rm -rf "$tmp"
  fi
  source scripts/env.sh
fi
have_wasm_std || { log "no wasm32 standard library could be installed"; exit 1; }
# The standard library's sources: scripts/leptos.sh builds the browser's std from them
# with panics that abort at once (issue 28). rustup's component, or Debian's
# rust-web-src under the rustc-web sysroot; without them the build still works, larger.
if ! have_std_sources; then
  if [ -z "${RUSTC:-}" ]; then
    timeout 120 rustup component add rust-src >/dev/null 2>&1 || log "rustup could not add rust-src"
  else
    apt_install rust-web-src
  fi
fi

# 3. cargo-leptos 0.3.11, told never to download tools (it finds wasm-bindgen and wasm-opt on
# PATH), built from its published source with one dependency moved: its lock file pins
# wasm_split_cli_support 0.2.3, whose splitter puts the whole .rodata segment into the main
# module whenever the relocated layout comes out a few bytes longer than the linker's (its
# warning "Overlong segment 0"): 60-110 KB more in the first load, depending on the build.
# 0.2.4 lays the data out by alignment and has no such padding (it needs rayon 1.12). The marker in cargo's
# install record tells this build from a plain `cargo install cargo-leptos`.
# cargo-leptos 0.3 needs rustc 1.96; where the default rustc is older, Debian's rustc-web builds it.
CARGO_LEPTOS_VERSION=0.3.11
CARGO_LEPTOS_SHA256=2d8cab2c1d4397b3275fd234757d6467c3db7b2fde13377ef9d543a5e80b0be0
CARGO_LEPTOS_SRC="${CARGO_HOME:-$HOME/.cargo}/latchkey-src/cargo-leptos-$CARGO_LEPTOS_VERSION-wsplit024"
if ! grep -qs "cargo-leptos $CARGO_LEPTOS_VERSION (path+file://$CARGO_LEPTOS_SRC)" "${CARGO_HOME:-$HOME/.cargo}/.crates.toml" \
  || ! cargo leptos --version >/dev/null 2>&1; then
  log "building cargo-leptos $CARGO_LEPTOS_VERSION with wasm_split_cli_support 0.2.4 (about 20 minutes on 2 cores, once)"
  rm -rf "$CARGO_LEPTOS_SRC" && mkdir -p "$CARGO_LEPTOS_SRC"
  crate="$CARGO_LEPTOS_SRC.crate"
  curl -fsSL -o "$crate" "https://static.crates.io/crates/cargo-leptos/cargo-leptos-$CARGO_LEPTOS_VERSION.crate"
  echo "$CARGO_LEPTOS_SHA256  $crate" | sha256sum -c --quiet - || { log "cargo-leptos source: checksum mismatch"; exit 1; }
  tar -xzf "$crate" -C "$CARGO_LEPTOS_SRC" --strip-components=1 && rm -f "$crate"
  rustc_minor=$(rustc --version | awk '{split($2, v, "."); print v[2]}')
  leptos_rustc=""
  if [ "${rustc_minor:-0}" -lt 96 ]; then apt_install rustc-web; leptos_rustc=/usr/bin/rustc; fi
  (cd "$CARGO_LEPTOS_SRC" \
    && RUSTC="${leptos_rustc:-${RUSTC:-rustc}}" cargo update -q -p rayon --precise 1.12.0 \
    && RUSTC="${leptos_rustc:-${RUSTC:-rustc}}" cargo update -q -p wasm_split_cli_support --precise 0.2.4 \
    && RUSTC="${leptos_rustc:-${RUSTC:-rustc}}" cargo install --path . --locked --force --features no_downloads >&2)
fi

# 4. wasm-bindgen-cli at exactly the version in Cargo.lock.
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  log "installing wasm-bindgen-cli $wb_version (about 4 minutes, once)"
  cargo install wasm-bindgen-cli --version "$wb_version" --force >&2
fi

# 5. wasm-opt for release builds: binaryen from npm at the exact version in
# scripts/wasm-opt/package.json. Debian's binaryen 108 is too old for the wasm current
# Rust emits (the optimised bundle then never hydrates); scripts/env.sh puts this one
# first on the PATH that cargo-leptos searches.
npm_ci() { # folder
  if [ ! -f "$1/node_modules/.package-lock.json" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    log "installing npm packages in $1"
    (cd "$1" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
  fi
}
npm_ci scripts/wasm-opt
source scripts/env.sh
want=$(node -p 'require("./scripts/wasm-opt/package.json").devDependencies.binaryen.split(".")[0]')
got=$(wasm-opt --version 2>/dev/null | awk '{print $3}')
[ "$got" = "$want" ] || { log "wasm-opt on PATH is version '${got:-none}', not $want ($(command -v wasm-opt || echo missing))"; exit 1; }

# 6. The country-level IP database that places addresses out of the box (geoip.database
# defaults to it when it is there), at the exact version in scripts/geoip/package.json.
npm_ci scripts/geoip

# 7. The end-to-end tests' npm packages (no browser download: Debian's chromium is used).
npm_ci end2end

# 8. schemathesis (PyPI, the version in scripts/schemathesis-requirements.txt), in a
# virtual environment under target/: it fuzzes the live REST API from its OpenAPI
# description (end2end/tests/api-fuzz.spec.ts). Needs Python 3.11 or newer.
venv=target/schemathesis
want_st=$(sed -n 's/^schemathesis==//p' scripts/schemathesis-requirements.txt)
if [ "$("$venv/bin/st" --version 2>/dev/null | awk '{print $NF}')" != "$want_st" ]; then
  log "installing schemathesis $want_st into $venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/schemathesis-requirements.txt >&2
fi
log "ready"
