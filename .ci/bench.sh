#!/usr/bin/env bash
# The engine benchmarks in quick mode: small sizes under the dev profile (no release build), run
# only to prove the suite still works and that every byte and datagram is still accounted for.
# Timing is not judged here; `cargo bench --bench engine` gives the figures (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --bench engine
