#!/usr/bin/env bash
# Builds target/debian/socketlab_<version>_<arch>.deb with cargo-deb.
# Needs: cargo-deb (cargo install cargo-deb --locked), dpkg-dev (dpkg-shlibdeps, for Depends' $auto).
# The man pages are generated here, from the command-line definition of the code being packed, so
# the package never ships a stale copy.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v cargo-deb >/dev/null 2>&1; then
  echo "build-deb.sh: cargo-deb is missing; install it with: cargo install cargo-deb --locked" >&2
  exit 2
fi

rm -rf target/man target/debian
cargo run --quiet --example gen_manpage -- target/man
# Debian ships man pages compressed; -n leaves out the time stamp so rebuilds are identical.
gzip -9 -n -f target/man/*.1

# cargo deb builds the release binary (stripped by [profile.release]) and packs the assets listed
# in Cargo.toml's [package.metadata.deb].
cargo deb "$@"
