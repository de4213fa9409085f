#!/usr/bin/env bash
# Proves the .deb works as a user would use it: installs it with apt-get (which pulls in Depends),
# runs `socketlab --version`, validates the installed desktop entry and metainfo, starts the
# installed program under Xvfb and waits for its window, then removes the package and checks that
# every file it installed is gone.
#
#   packaging/linux/check-installed.sh target/debian/socketlab_0.1.0-1_amd64.deb
#
# Needs root (apt-get) and: xvfb, xdotool, x11-utils (xwininfo), desktop-file-utils, appstream;
# with weston installed it also starts the program on a headless Wayland compositor, and with
# shared-mime-info it checks that *.socketlab files are known and open with Socket Lab.
# Every wait is bounded; the window gets WINDOW_TIMEOUT seconds (default 60: software OpenGL on a
# busy 2-core machine is slow to start).
set -euo pipefail

deb="${1:?usage: check-installed.sh path/to/socketlab.deb}"
deb="$(realpath "$deb")"
window_timeout="${WINDOW_TIMEOUT:-60}"
export DEBIAN_FRONTEND=noninteractive

fail() {
  echo "check-installed.sh: FAIL: $*" >&2
  exit 1
}
step() { echo "-- $*"; }

package="$(dpkg-deb --field "$deb" Package)"
version="$(dpkg-deb --field "$deb" Version)"
step "package $package $version; Depends: $(dpkg-deb --field "$deb" Depends)"

if dpkg -s "$package" >/dev/null 2>&1; then
  fail "$package is already installed; remove it first so the check sees a fresh install"
fi

work="$(mktemp -d)"
xvfb_pid=""
app_pid=""
installed=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  [ -n "${weston_pid:-}" ] && kill "$weston_pid" 2>/dev/null || true
  # A failed check must not leave the package installed: the next run would refuse to start.
  [ -n "$installed" ] && apt-get remove --purge -y -qq "$package" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step "apt-get install $deb"
apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
installed=yes

step "socketlab --version"
installed_version="$(socketlab --version)"
echo "   $installed_version"
# The .deb version is <crate version>-<revision>; the program reports the crate version.
[ "$installed_version" = "socketlab ${version%-*}" ] || fail "socketlab --version said '$installed_version', package is $version"
[ "$(command -v socketlab)" = /usr/bin/socketlab ] || fail "socketlab is not /usr/bin/socketlab"

step "binary is stripped"
if readelf --section-headers /usr/bin/socketlab | grep -q '\.symtab'; then
  fail "/usr/bin/socketlab still has a symbol table (release profile should strip it)"
fi

step "desktop entry, metainfo, icons, man page"
desktop-file-validate /usr/share/applications/socketlab.desktop
appstreamcli validate --no-net /usr/share/metainfo/io.github.socketlab.socketlab.metainfo.xml >/dev/null \
  || fail "installed metainfo does not validate"
for size in 16 24 32 48 64 128 256 512; do
  [ -s "/usr/share/icons/hicolor/${size}x${size}/apps/socketlab.png" ] || fail "no ${size}px icon"
done
[ -s /usr/share/icons/hicolor/scalable/apps/socketlab.svg ] || fail "no scalable icon"
zcat /usr/share/man/man1/socketlab.1.gz | grep -q '^\.TH socketlab 1' || fail "man page is missing or not a man page"

# Workspace files: dpkg's triggers for shared-mime-info and desktop-file-utils have rebuilt the
# MIME database and the desktop entries' MIME cache by the time apt-get returns.
mime_type=application/x-socketlab-workspace
if command -v update-mime-database >/dev/null 2>&1; then
  step "workspace files: *.socketlab is $mime_type"
  grep -q ":$mime_type:\*\.socketlab\$" /usr/share/mime/globs2 || fail "the MIME database does not know *.socketlab"
  grep -q "Socket Lab workspace" "/usr/share/mime/application/x-socketlab-workspace.xml" || fail "no description of $mime_type"
fi
if command -v update-desktop-database >/dev/null 2>&1; then
  step "workspace files: $mime_type opens with socketlab.desktop"
  grep -q "^$mime_type=.*socketlab\.desktop" /usr/share/applications/mimeinfo.cache ||
    fail "mimeinfo.cache does not offer socketlab.desktop for $mime_type"
fi

step "start the installed program under Xvfb and wait for its window (up to ${window_timeout}s)"
# -displayfd lets Xvfb pick a free display number and tell us which, so parallel runs don't clash.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/display" ] && break
  sleep 0.1
done
[ -s "$work/display" ] || fail "Xvfb did not start: $(cat "$work/xvfb.log")"
export DISPLAY=":$(cat "$work/display")"
unset WAYLAND_DISPLAY

# A private HOME keeps the check from reading or writing anybody's saved settings.
HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
  /usr/bin/socketlab >"$work/app.log" 2>&1 &
app_pid=$!

window=""
deadline=$((SECONDS + window_timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
  kill -0 "$app_pid" 2>/dev/null || fail "socketlab exited before showing a window: $(cat "$work/app.log")"
  window="$(xdotool search --onlyvisible --name '^Socket Lab$' 2>/dev/null | head -n 1 || true)"
  [ -n "$window" ] && break
  sleep 0.5
done
[ -n "$window" ] || fail "no 'Socket Lab' window within ${window_timeout}s; log: $(cat "$work/app.log")"
xwininfo -id "$window" | grep -E 'xwininfo:|Width|Height|Map State' | sed 's/^/   /'
xwininfo -id "$window" | grep -q 'Map State: IsViewable' || fail "the window is not viewable"
# The window's class is the app id, which desktops match to socketlab.desktop for name and icon.
xprop -id "$window" WM_CLASS | grep -q '"socketlab"' || fail "WM_CLASS is not socketlab: $(xprop -id "$window" WM_CLASS)"
# The icon is set just after the window appears (eframe sets it once the window exists), so a busy
# machine may map the window first: wait for it, bounded.
icon_found=""
for _ in $(seq 50); do
  if xprop -id "$window" _NET_WM_ICON | grep -q 'Icon (128 x 128)'; then icon_found=1; break; fi
  sleep 0.2
done
[ -n "$icon_found" ] || fail "the window has no 128x128 icon (_NET_WM_ICON) after 10 s"
if [ -n "${SCREENSHOT:-}" ] && command -v import >/dev/null 2>&1; then
  import -window root "$SCREENSHOT"
  echo "   screenshot: $SCREENSHOT"
fi
kill "$app_pid"
wait "$app_pid" 2>/dev/null || true
app_pid=""
kill "$xvfb_pid"
wait "$xvfb_pid" 2>/dev/null || true
xvfb_pid=""

# Wayland: a headless Weston, the program with no X display at all. Wayland has no xdotool, so
# the client's own protocol log (WAYLAND_DEBUG) shows the window: its app id, then a rendered
# buffer attached to a surface, which needs libwayland-client, libwayland-egl, EGL and Mesa.
if command -v weston >/dev/null 2>&1; then
  step "start it on a headless Weston (Wayland) and wait for a rendered window (up to ${window_timeout}s)"
  export XDG_RUNTIME_DIR="$work/runtime"
  mkdir -m 700 "$XDG_RUNTIME_DIR"
  weston --backend=headless-backend.so --use-pixman --socket=socketlab-check --idle-time=0 \
    >"$work/weston.log" 2>&1 &
  weston_pid=$!
  for _ in $(seq 1 100); do
    [ -S "$XDG_RUNTIME_DIR/socketlab-check" ] && break
    sleep 0.1
  done
  [ -S "$XDG_RUNTIME_DIR/socketlab-check" ] || fail "weston did not start: $(cat "$work/weston.log")"
  env -u DISPLAY WAYLAND_DISPLAY=socketlab-check WAYLAND_DEBUG=client HOME="$work/home" \
    XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
    /usr/bin/socketlab >"$work/wayland.log" 2>&1 &
  app_pid=$!
  shown=""
  deadline=$((SECONDS + window_timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$app_pid" 2>/dev/null || { app_pid=""; fail "socketlab exited on Wayland: $(grep -v ' -> \| wl_' "$work/wayland.log" | tail -n 5)"; }
    # The window's own surface (not its decorations' sub-surfaces) must get a buffer.
    surface="$(grep -o 'get_xdg_surface(new id xdg_surface@[0-9]*, wl_surface@[0-9]*)' "$work/wayland.log" |
      head -n 1 | grep -o 'wl_surface@[0-9]*' || true)"
    if [ -n "$surface" ] && grep -q 'set_app_id("socketlab")' "$work/wayland.log" &&
      grep -q "$surface\.attach(wl_buffer" "$work/wayland.log"; then
      shown=yes
      break
    fi
    sleep 0.5
  done
  kill "$app_pid" "$weston_pid" 2>/dev/null || true
  wait "$app_pid" "$weston_pid" 2>/dev/null || true
  app_pid=""
  weston_pid=""
  [ -n "$shown" ] || fail "no rendered Wayland window with app id socketlab within ${window_timeout}s"
  echo "   xdg_toplevel app id \"socketlab\"; rendered buffers attached to its $surface"
else
  echo "-- (weston not installed: Wayland check skipped)"
fi

step "remove the package and check nothing is left behind"
dpkg -L "$package" >"$work/files"
apt-get remove --purge -y -qq "$package" >/dev/null
installed=""
dpkg -s "$package" >/dev/null 2>&1 && fail "$package is still known to dpkg after purge"
left=0
while IFS= read -r path; do
  [ "$path" = "/." ] && continue
  if [ -d "$path" ] && [ ! -L "$path" ]; then
    # A directory may stay only if another package owns it too (e.g. /usr/share/icons/hicolor).
    dpkg -S "$path" >/dev/null 2>&1 || { echo "   left behind: $path/" >&2; left=$((left + 1)); }
  elif [ -e "$path" ] || [ -L "$path" ]; then
    echo "   left behind: $path" >&2
    left=$((left + 1))
  fi
done <"$work/files"
[ "$left" -eq 0 ] || fail "$left installed paths are still there after removal"
if command -v update-mime-database >/dev/null 2>&1 && grep -q ":$mime_type:" /usr/share/mime/globs2; then
  fail "the MIME database still has $mime_type after removal"
fi
echo "check-installed.sh: OK: $package $version installed, ran, showed its window and was removed cleanly ($(wc -l <"$work/files") paths checked)"
