#!/usr/bin/env bash
# Builds Socket Lab for 64-bit Windows on Linux, into target/windows/:
#   socketlab-<version>-x86_64-setup.exe     the NSIS installer (per user, no administrator rights)
#   socketlab-<version>-x86_64-portable.zip  socketlab.exe and its licences, nothing to install
#
#   packaging/windows/build-installer.sh
#
# Needs (Debian): rustup's x86_64-pc-windows-gnu target, gcc-mingw-w64-x86-64 (the linker),
# binutils-mingw-w64-x86-64 (windres: icon and version information, see build.rs), nsis (makensis)
# and zip. packaging/windows/check-wine.sh installs and runs the result under Wine.
set -euo pipefail
cd "$(dirname "$0")/../.."

target=x86_64-pc-windows-gnu
out=target/windows

missing=()
for tool in x86_64-w64-mingw32-gcc x86_64-w64-mingw32-windres makensis zip; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -ne 0 ]; then
  echo "build-installer.sh: missing ${missing[*]}; install them with:" >&2
  echo "  sudo apt-get install gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 nsis zip" >&2
  exit 2
fi
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$target"; then
  echo "build-installer.sh: the Rust standard library for $target is missing; add it with:" >&2
  echo "  rustup target add $target" >&2
  exit 2
fi

# `cargo pkgid` ends in the version: path+file:///…/socketlab#socketlab@0.1.0
version="$(cargo pkgid)"
version="${version##*[@#]}"
# Windows' version numbers are four numbers; a pre-release suffix (-beta.1) has no place there.
numeric="${version%%[-+]*}"
IFS=. read -r major minor patch <<<"$numeric"
quad="$major.$minor.$patch.0"

echo "== build-installer.sh: cargo build --release --target $target"
cargo build --release --locked --target "$target" --bin socketlab
exe="target/$target/release/socketlab.exe"

rm -rf "$out"
mkdir -p "$out/stage"
stage="$(realpath "$out/stage")"
cp "$exe" "$stage/socketlab.exe"
# Notepad and the installer's licence page both read CRLF text.
crlf() { sed 's/\r$//; s/$/\r/' "$1"; }
crlf packaging/licenses/LICENSE-MIT >"$stage/LICENSE-MIT.txt"
crlf packaging/licenses/LICENSE-APACHE >"$stage/LICENSE-APACHE.txt"
{
  printf 'Socket Lab is free software: you may use it under the terms of the MIT licence or of the\n'
  printf 'Apache License 2.0, at your option. Both texts follow.\n\n'
  cat packaging/licenses/LICENSE-MIT
  printf '\n\n'
  cat packaging/licenses/LICENSE-APACHE
} | sed 's/\r$//; s/$/\r/' >"$out/licence-page.txt"

setup="socketlab-$version-x86_64-setup.exe"
echo "== build-installer.sh: makensis → $out/$setup"
makensis -V2 -NOCD \
  -DVERSION="$version" -DVERSION_QUAD="$quad" -DSTAGE="$stage" \
  -DICON="$(realpath resources/icons/socketlab.ico)" \
  -DLICENSE_PAGE="$(realpath "$out/licence-page.txt")" \
  -DOUTFILE="$(realpath "$out")/$setup" \
  packaging/windows/socketlab.nsi

portable="socketlab-$version-x86_64-portable.zip"
echo "== build-installer.sh: zip → $out/$portable"
# One folder inside, so unpacking into Downloads does not scatter three files there.
folder="socketlab-$version"
mkdir "$out/$folder"
cp "$stage/socketlab.exe" "$stage/LICENSE-MIT.txt" "$stage/LICENSE-APACHE.txt" "$out/$folder/"
(cd "$out" && zip -q -X -9 -r "$portable" "$folder")
rm -rf "${out:?}/$folder"

echo "build-installer.sh: built"
for file in "$out/$setup" "$out/$portable" "$stage/socketlab.exe"; do
  printf '  %-58s %6s KiB\n' "$file" "$(($(stat -c %s "$file") / 1024))"
done
