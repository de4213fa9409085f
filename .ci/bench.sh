#!/usr/bin/env bash
# The engine benchmarks in quick mode: small sizes under the dev profile (no release build), run
# only to prove the suite still works and that every byte and datagram is still accounted for.
# Timing is not judged here; `cargo bench --bench engine` gives the figures (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

# Item 7 starts the real window on an Xvfb display with Mesa's software OpenGL; the window's
# X11/GL libraries are loaded at run time (the same list as the .deb's Depends). readelf
# (binutils) tells whether the binary is stripped. Items 8-10 run the command line side by side
# with socat and iperf3, the programs a user would pick instead.
if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends xvfb binutils libx11-6 libx11-xcb1 \
    libxcursor1 libxi6 libxkbcommon0 libxkbcommon-x11-0 libegl1 libgl1 libgl1-mesa-dri \
    socat iperf3 >/dev/null
fi
# A missing socat or iperf3 fails the run here instead of being skipped.
export SOCKETLAB_REQUIRE_PEERS=1
cargo test --bench engine
