#!/usr/bin/env bash
# Builds target/generate-rpm/socketlab-<version>-1.x86_64.rpm with cargo-generate-rpm, from the
# files [package.metadata.generate-rpm] in Cargo.toml lists (the same as the .deb's).
# Needs: cargo-generate-rpm (cargo install cargo-generate-rpm --locked). No rpmbuild: the crate
# writes the package itself, so this runs on Debian too.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v cargo-generate-rpm >/dev/null 2>&1; then
  echo "build-rpm.sh: cargo-generate-rpm is missing; install it with: cargo install cargo-generate-rpm --locked" >&2
  exit 2
fi

# cargo generate-rpm packs what is there and builds nothing: the release binary first (stripped
# by [profile.release]).
cargo build --release --locked --bin socketlab
rm -rf target/generate-rpm
cargo generate-rpm "$@"
