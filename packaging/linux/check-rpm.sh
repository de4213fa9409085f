#!/usr/bin/env bash
# Proves the .rpm holds what it should, without an RPM-based system: prints its header, file list
# and requirements (rpm -qpi / -qpl / -qpR), compares the file list with the .deb's when one is
# given, installs the package into an empty scratch root (rpm --root … -i --nodeps: the root has
# none of the libraries it requires), verifies every installed file against the package's digests,
# runs the installed binary, and erases the package again, checking nothing is left.
#
#   packaging/linux/check-rpm.sh target/generate-rpm/socketlab-0.1.0-1.x86_64.rpm [target/debian/socketlab_0.1.0-1_amd64.deb]
#
# Needs: rpm (Debian's `rpm` package); dpkg-deb for the comparison. No root needed.
set -euo pipefail

rpm_file="$(realpath "${1:?usage: check-rpm.sh path/to/socketlab.rpm [path/to/socketlab.deb]}")"
deb_file="${2:-}"

fail() {
  echo "check-rpm.sh: FAIL: $*" >&2
  exit 1
}
step() { echo "-- $*"; }

command -v rpm >/dev/null 2>&1 || fail "rpm is missing (apt-get install rpm)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "rpm -qpi $(basename "$rpm_file")"
rpm -qpi "$rpm_file" | grep -E '^(Name|Version|Release|Architecture|License|Size|Summary) ' | sed 's/^/   /'
name="$(rpm -qp --queryformat '%{NAME}' "$rpm_file")"
version="$(rpm -qp --queryformat '%{VERSION}' "$rpm_file")"
[ "$name" = socketlab ] || fail "package name is $name"
[ "$(rpm -qp --queryformat '%{ARCH}' "$rpm_file")" = x86_64 ] || fail "not an x86_64 package"

step "rpm -qpl (files)"
rpm -qpl "$rpm_file" | sort >"$work/rpm-files"
sed 's/^/   /' "$work/rpm-files"
for wanted in /usr/bin/socketlab /usr/share/applications/socketlab.desktop \
  /usr/share/metainfo/io.github.socketlab.socketlab.metainfo.xml \
  /usr/share/mime/packages/socketlab.xml /usr/share/icons/hicolor/scalable/apps/socketlab.svg \
  /usr/share/icons/hicolor/512x512/apps/socketlab.png /usr/share/man/man1/socketlab.1 \
  /usr/share/licenses/socketlab/LICENSE-MIT /usr/share/licenses/socketlab/LICENSE-APACHE; do
  grep -qx "$wanted" "$work/rpm-files" || fail "the rpm lacks $wanted"
done

step "rpm -qpR (requirements)"
rpm -qpR "$rpm_file" | sort -u >"$work/requires"
sed 's/^/   /' "$work/requires"
for wanted in 'libc.so.6()(64bit)' 'libX11.so.6()(64bit)' 'libxkbcommon-x11.so.0()(64bit)' \
  'libwayland-client.so.0()(64bit)' 'libEGL.so.1()(64bit)' 'libGL.so.1()(64bit)'; do
  grep -qxF "$wanted" "$work/requires" || fail "the rpm does not require $wanted"
done

if [ -n "$deb_file" ]; then
  step "same files as $(basename "$deb_file")"
  # The .deb gzips its man pages and carries its licence in the copyright file cargo-deb writes;
  # RPM distributions keep the licence texts in /usr/share/licenses/. Otherwise: the same list.
  dpkg-deb --fsys-tarfile "$deb_file" | tar -t | sed 's|^\./|/|' | grep -v '/$' |
    sed 's|\(/usr/share/man/man1/.*\)\.gz$|\1|' | grep -vx '/usr/share/doc/socketlab/\(copyright\|changelog.Debian.gz\)' |
    sort >"$work/deb-files"
  grep -v '^/usr/share/licenses/' "$work/rpm-files" >"$work/rpm-files-compared"
  diff -u "$work/deb-files" "$work/rpm-files-compared" >"$work/files.diff" ||
    fail "the .rpm and the .deb hold different files: $(cat "$work/files.diff")"
  echo "   $(wc -l <"$work/deb-files") files, the same in both"
fi

root="$work/root"
step "rpm --root $root -i --nodeps (a scratch root with nothing in it)"
mkdir -p "$root"
rpm --root "$root" --initdb
rpm --root "$root" -i --nodeps --nosignature "$rpm_file"
rpm --root "$root" -q "$name" >/dev/null || fail "rpm does not know $name as installed"
while IFS= read -r path; do
  [ -f "$root$path" ] || fail "$path is not in the scratch root after installing"
done <"$work/rpm-files"
[ -x "$root/usr/bin/socketlab" ] || fail "/usr/bin/socketlab is not executable"
# rpm -V checks every file's digest, size and mode against the package header; --nodeps because
# the scratch root has none of the libraries (the install was --nodeps too).
rpm --root "$root" -V --nodeps "$name" || fail "rpm -V found installed files that differ from the package"
echo "   $(wc -l <"$work/rpm-files") files installed and verified"
printed="$("$root/usr/bin/socketlab" --version)"
echo "   $root/usr/bin/socketlab --version: $printed"
[ "$printed" = "socketlab $version" ] || fail "the installed binary says '$printed', the package is $version"

step "rpm --root $root -e $name"
rpm --root "$root" -e --nodeps "$name"
left="$(cd "$root" && find usr -type f 2>/dev/null || true)"
[ -z "$left" ] || fail "files left after erasing: $left"
echo "check-rpm.sh: OK: $name $version lists, requires and installs what it should, and erases cleanly"
