#!/usr/bin/env bash
# Packaging check (issue 8), called from .ci/run: validates the desktop entry, metainfo and release
# workflow, builds the .deb with cargo-deb, installs it with apt-get, runs `socketlab --version`,
# starts the installed program under Xvfb and waits for its window, then removes the package and
# checks that nothing it installed is left (packaging/linux/check-installed.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

echo "== packaging: system packages"
$sudo_cmd apt-get update -qq
# dpkg-dev: dpkg-shlibdeps for Depends' $auto; xvfb, xdotool, x11-utils (xwininfo, xprop): the
# X11 window check; weston: the Wayland one; desktop-file-utils, appstream: validators;
# python3-yaml: the release workflow parses.
$sudo_cmd apt-get install -y -qq --no-install-recommends \
  dpkg-dev xvfb xdotool x11-utils weston desktop-file-utils appstream python3-yaml binutils gzip >/dev/null

echo "== packaging: desktop entry, metainfo, release workflow"
desktop-file-validate packaging/linux/socketlab.desktop
appstreamcli validate --no-net packaging/linux/io.github.socketlab.socketlab.metainfo.xml
/usr/bin/python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' .github/workflows/release.yml

echo "== packaging: cargo-deb"
# A no-op when this version is already installed; on a fresh machine it compiles (a few minutes).
cargo install --locked --quiet cargo-deb@3.8.0

echo "== packaging: build the .deb"
packaging/linux/build-deb.sh
debs=(target/debian/socketlab_*.deb)
[ "${#debs[@]}" -eq 1 ] || { echo "expected one .deb in target/debian, found: ${debs[*]}" >&2; exit 1; }

echo "== packaging: lintian (Debian's package checker; errors fail)"
$sudo_cmd apt-get install -y -qq --no-install-recommends lintian >/dev/null
# initial-upload-closes-no-bugs only concerns uploads to Debian's own archive.
lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs "${debs[0]}"

echo "== packaging: install, run, show the window, remove"
$sudo_cmd packaging/linux/check-installed.sh "${debs[0]}"

echo "== packaging: Depends on a minimal Debian 12 (debootstrap; nothing but the .deb and its Depends)"
# The machine above already has every X11/GL library (Xvfb and Weston pull them in), so it cannot
# tell a missing Depends entry; a minimal system can.
$sudo_cmd apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
$sudo_cmd packaging/linux/check-clean-system.sh "${debs[0]}"

echo "== packaging: the Windows-only code compiles (windows_subsystem, console attach)"
# Type-checks src/main.rs's cfg(windows) code and its dependency for Windows without a Windows
# machine. rustup fetches the target's standard library; where that download is not possible the
# step says so and is skipped (the release workflow builds on Windows in any case).
if rustup target add x86_64-pc-windows-gnu >/dev/null 2>&1; then
  cargo clippy --quiet --target x86_64-pc-windows-gnu --all-targets -- -D warnings
else
  echo "SKIPPED: rustup could not fetch the x86_64-pc-windows-gnu standard library on this machine"
fi
