# Sourced by the other scripts: picks the Rust toolchain that can build the
# WebAssembly half of the app, the same one for every build so target/ stays valid.
export PATH="$HOME/.cargo/bin:$PATH"
# binaryen's wasm-opt from npm (scripts/setup.sh), ahead of any older system copy.
export PATH="$PWD/scripts/wasm-opt/node_modules/.bin:$PATH"
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  unset RUSTC
elif [ -x /usr/bin/rustc ] && ls /usr/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib >/dev/null 2>&1; then
  # Debian's rustc-web with a wasm32 std built by scripts/setup.sh (see ../shared/TOOLCHAIN.md).
  export RUSTC=/usr/bin/rustc
fi
# Lets stable Rust take the unstable flags of the browser build (scripts/leptos.sh:
# -Zbuild-std, -Cpanic=immediate-abort). Set for every build, not only that one: some
# build scripts (proc-macro2's) re-run when it changes, and the tests and the release
# build share one compiled server only if their environments match.
export RUSTC_BOOTSTRAP=1
# Whether the toolchain has the standard library's sources, which the browser build's own
# std is built from (scripts/leptos.sh; scripts/setup.sh installs them).
have_std_sources() { [ -d "$(${RUSTC:-rustc} --print sysroot)/lib/rustlib/src/rust/library/std" ]; }
