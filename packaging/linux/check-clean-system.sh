#!/usr/bin/env bash
# Proves the .deb's Depends on a minimal Debian 12 that has nothing else installed: makes (once) a
# `debootstrap --variant=minbase bookworm` tree, copies it, installs only the .deb there with
# apt-get (which brings exactly its Depends), and starts the installed program inside the copy
# against an Xvfb display run outside it. Then lists the shared libraries the running program has
# loaded and the packages they come from. Needs root, debootstrap, xvfb, xdotool and network access
# to the Debian mirror; takes a few minutes. Not part of CI (the minimal system is a 150 MB download).
#
#   sudo packaging/linux/check-clean-system.sh target/debian/socketlab_0.1.0-1_amd64.deb
set -euo pipefail

deb="$(realpath "${1:?usage: check-clean-system.sh path/to/socketlab.deb}")"
base="${CLEAN_BASE:-/var/tmp/socketlab-bookworm-minbase}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
window_timeout="${WINDOW_TIMEOUT:-60}"

fail() {
  echo "check-clean-system.sh: FAIL: $*" >&2
  exit 1
}
step() { echo "-- $*"; }

if [ ! -x "$base/usr/bin/apt-get" ]; then
  step "debootstrap --variant=minbase bookworm $base (once)"
  debootstrap --variant=minbase bookworm "$base" "$mirror" >/dev/null
fi

root="$(mktemp -d /var/tmp/socketlab-clean.XXXXXX)"
xvfb_pid=""
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  for mount in dev/pts dev proc; do
    if mountpoint -q "$root/$mount"; then umount "$root/$mount" || true; fi
  done
  # --one-file-system: should an unmount have failed, never descend into the host's /dev or /proc.
  rm -rf --one-file-system "$root" || true
}
trap cleanup EXIT

step "fresh copy of the minimal system in $root"
cp -a "$base/." "$root/"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/socketlab.deb"
packages_before="$(chroot "$root" dpkg-query -W -f '${Package}\n' | wc -l)"

step "apt-get install ./socketlab.deb (and nothing else)"
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
chroot "$root" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends /tmp/socketlab.deb >/dev/null
packages_after="$(chroot "$root" dpkg-query -W -f '${Package}\n' | wc -l)"
echo "   $((packages_after - packages_before)) packages added to a minimal system of $packages_before"
chroot "$root" socketlab --version

step "start it inside the minimal system, on an Xvfb display outside it (up to ${window_timeout}s)"
display_file="$(mktemp)"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$display_file" 2>/dev/null &
xvfb_pid=$!
for _ in $(seq 1 100); do
  [ -s "$display_file" ] && break
  sleep 0.1
done
display=":$(cat "$display_file")"
rm -f "$display_file"
# X clients reach the server through the abstract socket @/tmp/.X11-unix/X<n>, which a chroot
# shares with the host (same network namespace).
chroot "$root" env -i PATH=/usr/bin:/bin HOME=/tmp DISPLAY="$display" /usr/bin/socketlab \
  >"$root/tmp/app.log" 2>&1 &
app_pid=$!
window=""
deadline=$((SECONDS + window_timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
  kill -0 "$app_pid" 2>/dev/null || fail "socketlab exited without a window: $(cat "$root/tmp/app.log")"
  window="$(DISPLAY="$display" xdotool search --onlyvisible --name '^Socket Lab$' 2>/dev/null | head -n 1 || true)"
  [ -n "$window" ] && break
  sleep 0.5
done
[ -n "$window" ] || fail "no window within ${window_timeout}s: $(cat "$root/tmp/app.log")"
echo "   window $window is up"
if [ -n "${SCREENSHOT:-}" ] && command -v import >/dev/null 2>&1; then
  DISPLAY="$display" import -window root "$SCREENSHOT"
  echo "   screenshot: $SCREENSHOT"
fi

step "shared libraries the running program loaded, by package"
socketlab_pid="$(pgrep -P "$app_pid" -x socketlab || echo "$app_pid")"
grep -o '/[^ ]*\.so[^ ]*' "/proc/$socketlab_pid/maps" | sort -u | sed "s|^$root||" | while read -r lib; do
  # Debian 12 is merged-/usr: dpkg knows libc and friends under /lib, the loader maps /usr/lib.
  owner="$(chroot "$root" dpkg -S "$lib" 2>/dev/null | cut -d: -f1 | head -n 1 || true)"
  [ -z "$owner" ] && owner="$(chroot "$root" dpkg -S "${lib#/usr}" 2>/dev/null | cut -d: -f1 | head -n 1 || true)"
  printf '   %-28s %s\n' "${owner:-?}" "$lib"
done | sort
echo "check-clean-system.sh: OK: the window opened on a minimal Debian 12 with only the .deb and its Depends"
