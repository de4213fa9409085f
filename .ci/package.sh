#!/usr/bin/env bash
# Packaging check, called from .ci/run. Builds every artefact people download and uses each as
# its user would:
#   Linux .deb   validated (desktop entry, metainfo, MIME entry, lintian), installed with apt-get,
#                started under Xvfb and Weston, removed, proved on a minimal Debian 12
#   Linux .rpm   listed (rpm -qpl/-qpR), compared with the .deb, installed into a scratch root
#   Windows      cross-built .exe (icon, version information), NSIS installer and portable .zip;
#                the installer installed, run (a TCP exchange on 127.0.0.1 from the command line
#                and from the window, on Xvfb) and uninstalled under Wine
# Every tool comes from apt-get or `cargo install --locked` here; nothing is cached between runs.
# Each part prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

part_started=$SECONDS
part_name=""
part() {
  [ -n "$part_name" ] && echo "== packaging: $part_name took $((SECONDS - part_started)) s"
  part_name="$1"
  part_started=$SECONDS
  [ -n "$part_name" ] && echo "== packaging: $part_name"
  return 0
}
all_started=$SECONDS

part "system packages (Linux)"
$sudo_cmd apt-get update -qq
# dpkg-dev: dpkg-shlibdeps for Depends' $auto; xvfb, xdotool, x11-utils (xwininfo, xprop): the
# X11 window check; weston: the Wayland one; desktop-file-utils, appstream, shared-mime-info:
# validators, and the MIME and desktop caches the installed .deb must appear in; python3-yaml: the
# release workflow parses; rpm: the .rpm checks.
$sudo_cmd apt-get install -y -qq --no-install-recommends \
  dpkg-dev xvfb xdotool x11-utils weston desktop-file-utils appstream shared-mime-info \
  python3-yaml binutils gzip rpm >/dev/null

part "desktop entry, metainfo, MIME entry, release workflow"
desktop-file-validate packaging/linux/socketlab.desktop
appstreamcli validate --no-net packaging/linux/io.github.socketlab.socketlab.metainfo.xml
mime_dir="$(mktemp -d)"
mkdir "$mime_dir/packages"
cp packaging/linux/socketlab-mime.xml "$mime_dir/packages/socketlab.xml"
# update-mime-database rejects a malformed entry; its output must know the glob.
update-mime-database "$mime_dir" 2>/dev/null
grep -q ':application/x-socketlab-workspace:\*\.socketlab$' "$mime_dir/globs2"
rm -rf "$mime_dir"
/usr/bin/python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' .github/workflows/release.yml

part "cargo-deb"
# A no-op when this version is already installed; on a fresh machine it compiles (a few minutes).
cargo install --locked --quiet cargo-deb@3.8.0

part "build the .deb (plain cargo deb: no step before it)"
rm -rf target/debian
cargo deb --locked
debs=(target/debian/socketlab_*.deb)
[ "${#debs[@]}" -eq 1 ] || { echo "expected one .deb in target/debian, found: ${debs[*]}" >&2; exit 1; }

part "lintian (Debian's package checker; errors fail)"
$sudo_cmd apt-get install -y -qq --no-install-recommends lintian >/dev/null
# initial-upload-closes-no-bugs only concerns uploads to Debian's own archive.
lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs "${debs[0]}"

part "install the .deb, run, show the window, remove"
$sudo_cmd packaging/linux/check-installed.sh "${debs[0]}"

part "Depends on a minimal Debian 12 (debootstrap; nothing but the .deb and its Depends)"
# The machine above already has every X11/GL library (Xvfb and Weston pull them in), so it cannot
# tell a missing Depends entry; a minimal system can.
$sudo_cmd apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
$sudo_cmd packaging/linux/check-clean-system.sh "${debs[0]}"

part "cargo-generate-rpm"
cargo install --locked --quiet cargo-generate-rpm@0.21.1

part "build the .rpm and check it (rpm -qpl, -qpR, scratch-root install)"
packaging/linux/build-rpm.sh
rpms=(target/generate-rpm/socketlab-*.rpm)
[ "${#rpms[@]}" -eq 1 ] || { echo "expected one .rpm in target/generate-rpm, found: ${rpms[*]}" >&2; exit 1; }
packaging/linux/check-rpm.sh "${rpms[0]}" "${debs[0]}"

part "system packages (Windows: MinGW-w64, NSIS, Wine)"
# gcc-mingw-w64-x86-64: the linker for x86_64-pc-windows-gnu, and the compiler of the smoke
# test's bcryptprimitives.dll shim (Wine 8.0 lacks that DLL); binutils-mingw-w64-x86-64: windres
# for build.rs's resources; nsis: makensis; wine, wine64: the smoke test; xvfb, xdotool,
# imagemagick (import, identify), libgl1 and libgl1-mesa-dri (Mesa's software OpenGL, which
# Wine's opengl32 draws with) and the X libraries Wine's X11 driver loads at run time (Wine only
# recommends them, and --no-install-recommends leaves them out): the window under Wine; zip,
# unzip: the portable archive. Wine installs about 150 packages: this is the slow part of the list.
$sudo_cmd apt-get install -y -qq --no-install-recommends \
  gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 nsis wine wine64 zip unzip \
  xvfb xdotool imagemagick libgl1 libgl1-mesa-dri libxcursor1 libxi6 libxrandr2 libxrender1 \
  libxfixes3 libxinerama1 libxcomposite1 libxxf86vm1 >/dev/null
# rustup fetches the target's standard library from the Rust project's own server; CI must build
# the Windows artefacts, so a failure here fails the run.
rustup target add x86_64-pc-windows-gnu

part "the Windows-only code passes clippy (windows_subsystem, console attach, build.rs)"
cargo clippy --quiet --locked --target x86_64-pc-windows-gnu --all-targets -- -D warnings

part "build socketlab.exe, the NSIS installer and the portable .zip"
packaging/windows/build-installer.sh
version="$(cargo pkgid)"
version="${version##*[@#]}"
setup="target/windows/socketlab-$version-x86_64-setup.exe"
portable="target/windows/socketlab-$version-x86_64-portable.zip"
exe="target/x86_64-pc-windows-gnu/release/socketlab.exe"
# A GUI-subsystem (2) 64-bit PE with the icon and version information build.rs embedded. Each
# tool's output is read whole first: `grep -q` stops reading at its first match, and under
# pipefail the writer's SIGPIPE would fail the check.
headers="$(x86_64-w64-mingw32-objdump -p "$exe")"
grep -q '^Subsystem[[:space:]]*00000002' <<<"$headers" ||
  { echo "$exe is not a Windows GUI-subsystem program" >&2; exit 1; }
sections="$(x86_64-w64-mingw32-objdump -h "$exe")"
grep -q '\.rsrc' <<<"$sections" || { echo "$exe has no resources" >&2; exit 1; }
# Version strings are UTF-16 in the resource section.
iconv -f UTF-16LE -t UTF-8 -c <"$exe" >target/windows/exe-utf16-strings
for text in "Socket Lab developers" "$version"; do
  grep -qaF "$text" target/windows/exe-utf16-strings ||
    { echo "$exe's version information lacks '$text'" >&2; exit 1; }
done
unzip -Z1 "$portable" | sort >"target/windows/zip-contents"
printf '%s\n' "socketlab-$version/" "socketlab-$version/LICENSE-APACHE.txt" \
  "socketlab-$version/LICENSE-MIT.txt" "socketlab-$version/socketlab.exe" | sort |
  diff -u - target/windows/zip-contents
echo "   $portable: socketlab.exe and its licences"

part "Windows installer under Wine: silent install, --version, TCP on 127.0.0.1, the window, uninstall"
# The screenshot of the window under Wine stays in target/windows/ for a person to look at.
SCREENSHOT=target/windows/wine-window.png packaging/windows/check-wine.sh "$setup"

part ""
echo "== packaging: artefacts"
for file in "${debs[0]}" "${rpms[0]}" "$setup" "$portable"; do
  printf '   %-60s %6s KiB\n' "$file" "$(($(stat -c %s "$file") / 1024))"
done
echo "== packaging: all parts took $((SECONDS - all_started)) s"
