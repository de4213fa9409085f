#!/usr/bin/env bash
# Builds target/debian/socketlab_<version>-1_<arch>.deb with cargo-deb; the same as plain
# `cargo deb`, with a sentence saying what to install when a tool is missing.
# Needs: cargo-deb (cargo install cargo-deb --locked), dpkg-dev (dpkg-shlibdeps, for Depends' $auto).
# The man pages it packs are committed in packaging/linux/man/ (cargo test fails when they no
# longer match the command line; regenerate them with
# `cargo run --example gen_manpage -- packaging/linux/man`).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v cargo-deb >/dev/null 2>&1; then
  echo "build-deb.sh: cargo-deb is missing; install it with: cargo install cargo-deb --locked" >&2
  exit 2
fi
if ! command -v dpkg-shlibdeps >/dev/null 2>&1; then
  echo "build-deb.sh: dpkg-shlibdeps is missing; install it with: sudo apt-get install dpkg-dev" >&2
  exit 2
fi

rm -rf target/debian
# cargo deb builds the release binary (stripped by [profile.release]) and packs the assets listed
# in Cargo.toml's [package.metadata.deb].
cargo deb "$@"
