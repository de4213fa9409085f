#!/usr/bin/env bash
# Proves the Windows installer works as a user would use it, under Wine on Linux: in a fresh Wine
# prefix made for this run, installs silently (/S /DESKTOPSHORTCUT), checks the installed files,
# shortcuts, Apps & features entry and .socketlab file type, runs the installed socketlab.exe
# (--version, then a TCP exchange between two copies of it on 127.0.0.1), opens its window on a
# private Xvfb display and connects from the window to a listener on 127.0.0.1 by typing into it,
# uninstalls silently and checks that every file and registry entry it made is gone.
#
#   packaging/windows/check-wine.sh target/windows/socketlab-0.1.0-x86_64-setup.exe
#   SCREENSHOT=target/windows/wine-window.png packaging/windows/check-wine.sh …   (keeps a picture)
#
# Needs: wine (Debian's wine and wine64), xvfb (Wine wants a display even for silent installers),
# xdotool (finds the window, types into it), imagemagick (reads the window's pixels), Mesa's
# OpenGL (libgl1-mesa-dri: Wine's opengl32 draws through the host's GL), and on a Wine older than
# 9.0 (Debian 12 has 8.0) gcc-mingw-w64-x86-64 to build the test-only bcryptprimitives.dll of
# packaging/windows/wine-shim/ for the prefix (see there why).
# Touches nothing outside a temporary directory: the prefix, HOME and the X display are private.
# Every wait is bounded (WINE_TIMEOUT seconds, default 300, for each Wine command; WINDOW_TIMEOUT,
# default 120, for the window to appear and to draw).
set -euo pipefail

installer="$(realpath "${1:?usage: check-wine.sh path/to/socketlab-<version>-x86_64-setup.exe}")"
wine_timeout="${WINE_TIMEOUT:-300}"
window_timeout="${WINDOW_TIMEOUT:-120}"
shim_dir="$(realpath "$(dirname "$0")/wine-shim")"
screenshot="${SCREENSHOT:+$(realpath -m "$SCREENSHOT")}"

fail() {
  echo "check-wine.sh: FAIL: $*" >&2
  exit 1
}
step() { echo "-- $*"; }

for tool in wine wineserver Xvfb xdotool import identify; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "$tool is missing (apt-get install wine wine64 xvfb xdotool imagemagick libgl1-mesa-dri)"
done

work="$(mktemp -d)"
xvfb_pid=""
server_pid=""
app_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  # Ends every process of this prefix, and only of this prefix.
  WINEPREFIX="$work/prefix" wineserver -k 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export WINEPREFIX="$work/prefix" WINEARCH=win64 WINEDEBUG=-all HOME="$work/home"
# No Mono or Gecko download prompts (nothing here needs .NET or the HTML engine), and no menu
# entries in the host's desktop for the installer's shortcuts.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
mkdir -p "$HOME"

# Runs a Wine command with a time limit; Wine's own chatter goes to the log, not the terminal.
within() { timeout --kill-after=10 "$wine_timeout" "$@"; }
# Windows' paths as the prefix resolves them, turned into Linux paths.
winvar() { within wine cmd /c "echo %$1%" 2>>"$work/wine.log" | tr -d '\r\n'; }
unixpath() { within winepath -u "$1" 2>>"$work/wine.log" | tr -d '\r\n'; }
regvalue() {
  # `reg query KEY /v NAME` (or /ve) prints "    NAME    REG_SZ    value"; keep the value.
  within wine reg query "$1" "${@:2}" 2>>"$work/wine.log" | tr -d '\r' |
    sed -n 's/^ \{4\}[^ ].*  *REG_[A-Z_]*  *//p' | head -n 1
}
regkey_exists() { within wine reg query "$1" >/dev/null 2>&1; }

step "Xvfb for Wine"
# Tall enough for the whole 1200x800 window below the top edge where Wine places it.
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/display" ] && break
  sleep 0.1
done
[ -s "$work/display" ] || fail "Xvfb did not start: $(cat "$work/xvfb.log")"
export DISPLAY=":$(cat "$work/display")"

step "fresh Wine prefix ($(wine --version))"
started=$SECONDS
within wineboot --init >>"$work/wine.log" 2>&1 || fail "wineboot could not make a prefix: $(tail -n 5 "$work/wine.log")"
within wineserver -w
echo "   made in $((SECONDS - started)) s"

system32="$WINEPREFIX/drive_c/windows/system32"
# Rust's standard library imports ProcessPrng from bcryptprimitives.dll (Windows 10 and later);
# Wine has it from version 9 on, and wineboot puts its stub in system32 then. Debian 12's Wine
# 8.0 lacks it and cannot start the program at all ("import_dll: Library bcryptprimitives.dll ...
# not found"), so this prefix, and only this prefix, gets the test-only stand-in.
if [ -e "$system32/bcryptprimitives.dll" ]; then
  step "bcryptprimitives.dll: Wine's own"
else
  step "bcryptprimitives.dll: $(wine --version) has none; the test-only shim from packaging/windows/wine-shim/ goes into this prefix"
  command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 ||
    fail "x86_64-w64-mingw32-gcc is missing (apt-get install gcc-mingw-w64-x86-64): it builds the bcryptprimitives.dll this Wine lacks"
  x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -s -o "$work/bcryptprimitives.dll" \
    "$shim_dir/bcryptprimitives.c" "$shim_dir/bcryptprimitives.def" -ladvapi32 ||
    fail "could not build the bcryptprimitives.dll shim"
  cp "$work/bcryptprimitives.dll" "$system32/"
  # n: load the native (here: the shim) DLL; Wine has no builtin one to prefer anyway.
  export WINEDLLOVERRIDES="$WINEDLLOVERRIDES;bcryptprimitives=n"
  echo "   $system32/bcryptprimitives.dll ($(stat -c %s "$work/bcryptprimitives.dll") bytes, exports ProcessPrng)"
fi

step "silent install: $(basename "$installer") /S /DESKTOPSHORTCUT"
within wine "$installer" /S /DESKTOPSHORTCUT >>"$work/wine.log" 2>&1 || fail "the installer exited with $?"
within wineserver -w

local_appdata="$(unixpath "$(winvar LOCALAPPDATA)")"
start_menu="$(unixpath "$(winvar APPDATA)\\Microsoft\\Windows\\Start Menu\\Programs")"
desktop="$(unixpath "$(winvar USERPROFILE)\\Desktop")"
instdir="$local_appdata/Programs/Socket Lab"
[ -d "$instdir" ] || fail "nothing installed in $instdir (per-user default)"
installed_files=(socketlab.exe LICENSE-MIT.txt LICENSE-APACHE.txt Uninstall.exe)
for file in "${installed_files[@]}"; do
  [ -s "$instdir/$file" ] || fail "$file is not in $instdir"
done
extra="$(cd "$instdir" && ls -A | grep -vxF -f <(printf '%s\n' "${installed_files[@]}") || true)"
[ -z "$extra" ] || fail "unexpected files in $instdir: $extra"
echo "   $instdir: ${installed_files[*]}"
[ -s "$start_menu/Socket Lab.lnk" ] || fail "no Start menu shortcut in $start_menu"
[ -s "$desktop/Socket Lab.lnk" ] || fail "no desktop shortcut in $desktop (/DESKTOPSHORTCUT)"
echo "   shortcuts: Start menu, desktop"

step "Apps & features entry and the .socketlab file type"
uninstall_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\SocketLab'
version="$(basename "$installer" | sed -n 's/^socketlab-\(.*\)-x86_64-setup\.exe$/\1/p')"
[ -n "$version" ] || fail "cannot read the version from the installer's name $(basename "$installer")"
[ "$(regvalue "$uninstall_key" /v DisplayName)" = "Socket Lab" ] || fail "DisplayName is not Socket Lab"
[ "$(regvalue "$uninstall_key" /v DisplayVersion)" = "$version" ] || fail "DisplayVersion is not $version"
[ "$(regvalue "$uninstall_key" /v Publisher)" = "Socket Lab developers" ] || fail "no Publisher"
icon="$(regvalue "$uninstall_key" /v DisplayIcon)"
case "$icon" in *'\socketlab.exe,0') ;; *) fail "DisplayIcon is '$icon'" ;; esac
uninstall_string="$(regvalue "$uninstall_key" /v UninstallString)"
echo "   DisplayName Socket Lab, DisplayVersion $version, Publisher Socket Lab developers"
echo "   UninstallString $uninstall_string"
[ "$(regvalue 'HKCU\Software\Classes\.socketlab' /ve)" = "SocketLab.Workspace" ] ||
  fail ".socketlab is not registered as SocketLab.Workspace"
open_command="$(regvalue 'HKCU\Software\Classes\SocketLab.Workspace\shell\open\command' /ve)"
case "$open_command" in
  *'\socketlab.exe" "%1"') ;;
  *) fail "SocketLab.Workspace opens with '$open_command', not socketlab.exe \"%1\"" ;;
esac
echo "   .socketlab → SocketLab.Workspace → $open_command"

exe_windows="$(within winepath -w "$instdir/socketlab.exe" 2>>"$work/wine.log" | tr -d '\r\n')"
# Starts the installed program as an echo server for one client on 127.0.0.1, port 0, under Wine:
# its received bytes go to $work/NAME.out, its reports to $work/NAME.err. Sets server_pid and port.
start_listener() {
  local name="$1" deadline
  # The files exist before the listener starts: the background job opens its redirections only
  # once it runs, and the loop below may read before that.
  : >"$work/$name.out"
  : >"$work/$name.err"
  within wine "$exe_windows" tcp-listen 0 --bind 127.0.0.1 --once --echo --output raw \
    >>"$work/$name.out" 2>>"$work/$name.err" &
  server_pid=$!
  port=""
  deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ]; do
    port="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/$name.err" | head -n 1)"
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "tcp-listen exited: $(tr -d '\r' <"$work/$name.err")"
    sleep 0.2
  done
  [ -n "$port" ] || fail "tcp-listen did not say where it listens within 120 s: $(tr -d '\r' <"$work/$name.err")"
  echo "   server: listening on 127.0.0.1:$port"
}
# Waits (bounded) until FILE contains the fixed string TEXT; a listener that exits first fails.
wait_for_text() {
  local file="$1" text="$2" what="$3" deadline=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$deadline" ]; do
    grep -qaF -- "$text" "$file" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "$what: the listener exited: $(tr -d '\r' <"$work/window-server.err")"
    sleep 0.2
  done
  snap
  fail "$what within 60 s (screenshot: ${screenshot:-none, set SCREENSHOT}; listener: $(tr -d '\r' <"$work/window-server.err"))"
}
# Saves a picture of the whole screen to $SCREENSHOT, when one was asked for.
snap() {
  [ -n "$screenshot" ] || return 0
  mkdir -p "$(dirname "$screenshot")"
  import -window root "$screenshot" && echo "   screenshot: $screenshot"
}

step "installed socketlab.exe --version"
printed="$(within wine "$exe_windows" --version 2>>"$work/wine.log")" ||
  fail "socketlab.exe --version exited with $? (124: it did not finish within ${wine_timeout} s)"
printed="$(printf '%s' "$printed" | tr -d '\r')"
echo "   $printed"
[ "$printed" = "socketlab $version" ] || fail "socketlab.exe --version printed '$printed', expected 'socketlab $version'"

step "TCP on 127.0.0.1 under Wine: tcp-listen 0 --once --echo, tcp-connect to it"
start_listener server
within wine "$exe_windows" tcp-connect 127.0.0.1 "$port" --send "hello from Wine " \
  --hex "00 ff 0d 0a" --shutdown --output raw >"$work/client.out" 2>"$work/client.err" ||
  fail "tcp-connect failed: $(tr -d '\r' <"$work/client.err")"
wait "$server_pid" || fail "tcp-listen --once exited with $?: $(tr -d '\r' <"$work/server.err")"
server_pid=""
printf 'hello from Wine \000\377\r\n' >"$work/expected"
cmp "$work/expected" "$work/server.out" || fail "the server received other bytes: $(od -c "$work/server.out")"
cmp "$work/expected" "$work/client.out" || fail "the client got other bytes back: $(od -c "$work/client.out")"
echo "   $(wc -c <"$work/expected") bytes sent, received by the server and echoed back unchanged"
sed 's/\r$//; s/^/   server: /' "$work/server.err" | tail -n 3

step "the window under Wine on Xvfb (Mesa's OpenGL): appears, draws, connects from typed input, closes"
start_listener window-server
# The window keeps its settings in %APPDATA%\socketlab of this throwaway prefix: user data, which
# the uninstaller leaves alone as Windows programs do.
wine "$exe_windows" >"$work/window.log" 2>&1 &
app_pid=$!
started=$SECONDS
deadline=$((SECONDS + window_timeout))
window=""
while [ "$SECONDS" -lt "$deadline" ]; do
  kill -0 "$app_pid" 2>/dev/null || fail "socketlab.exe exited before showing a window: $(tail -n 5 "$work/window.log")"
  window="$(xdotool search --onlyvisible --name '^Socket Lab$' 2>/dev/null | head -n 1 || true)"
  [ -n "$window" ] && break
  sleep 0.5
done
[ -n "$window" ] || fail "no 'Socket Lab' window within ${window_timeout} s: $(tail -n 5 "$work/window.log")"
# A window that is mapped but not yet drawn has one or two colours; eframe's first frames paint
# the menu bar, the tabs and the text, hundreds of colours with anti-aliasing.
colours=0
while [ "$SECONDS" -lt "$deadline" ]; do
  colours="$(import -window "$window" png:- 2>/dev/null | identify -format '%k' - 2>/dev/null || true)"
  [ "${colours:-0}" -ge 100 ] && break
  sleep 0.5
done
[ "${colours:-0}" -ge 100 ] || fail "the window did not draw within ${window_timeout} s (${colours:-0} colours); log: $(tail -n 5 "$work/window.log")"
geometry="$(xdotool getwindowgeometry "$window" | sed -n 's/^ *Geometry: //p')"
echo "   window $window, $geometry, drawn with OpenGL ($colours colours) $((SECONDS - started)) s after the start"

# A fresh prefix opens the default layout, a TCP client tab in front. Its Port field is the one
# thing found by position: window pixel 298,67, the middle of the field right of "Port" on the
# row under the tabs, measured on the screenshot. If the layout moves it, this fails at
# "connected" below; the screenshot shows where the field went.
# Enter in a field does what the tab's main button does (Connect); once connected, the message
# field has the focus, and Enter sends.
# The pauses are a person's pace, not a wait for an outcome: xdotool's keys arrive at machine
# speed, and under Wine an Enter pressed the instant after the last digit can be handled before
# that digit's character (measured: the window connected to port 4515 with 45155 in the field).
timeout 10 xdotool windowfocus --sync "$window" || fail "cannot give the window the keyboard focus"
xdotool mousemove --window "$window" 298 67 click 1
xdotool key ctrl+a
xdotool type --delay 50 "$port"
sleep 0.5
xdotool key Return
wait_for_text "$work/window-server.err" "client 1 connected from 127.0.0.1:" "the window did not connect to 127.0.0.1:$port (was its Port field still at 298,67?)"
echo "   typed port $port and Enter: $(tr -d '\r' <"$work/window-server.err" | grep -F 'client 1 connected')"
message="hello from the Wine window"
# The listener has accepted; the window moves the focus to the message field when it handles its
# own Connected event, a frame or two later.
sleep 1
xdotool type --delay 50 "$message"
sleep 0.5
xdotool key Return
wait_for_text "$work/window-server.out" "$message" "the listener did not receive the typed message"
printf '%s' "$message" | cmp - "$work/window-server.out" ||
  fail "the listener received other bytes from the window: $(od -c "$work/window-server.out")"
echo "   typed '$message' and Enter: the listener received those ${#message} bytes and echoed them"
if [ -n "$screenshot" ]; then
  # The echo is shown on the next frame; no event says when it was drawn, so give it a moment.
  sleep 1
  snap
fi

# taskkill without /F posts WM_CLOSE, as the window's close button does: the program must save,
# close its connection and exit by itself.
within wine taskkill /im socketlab.exe >>"$work/wine.log" 2>&1 || fail "taskkill could not ask the window to close"
deadline=$((SECONDS + 60))
while kill -0 "$app_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
kill -0 "$app_pid" 2>/dev/null && fail "the window did not close within 60 s of WM_CLOSE"
status=0
wait "$app_pid" || status=$?
app_pid=""
[ "$status" -eq 0 ] || fail "the window exited with $status after WM_CLOSE: $(tail -n 5 "$work/window.log")"
wait "$server_pid" || fail "the listener exited with $? after the window closed: $(tr -d '\r' <"$work/window-server.err")"
server_pid=""
grep -qF "disconnected" "$work/window-server.err" || fail "the listener saw no disconnect: $(tr -d '\r' <"$work/window-server.err")"
echo "   WM_CLOSE: the window exited with 0 and closed its connection; the listener finished"

step "silent uninstall: Uninstall.exe /S"
# The uninstaller copies itself to %TEMP% and runs from there so it can delete itself:
# wineserver -w waits for that copy too.
within wine "$instdir/Uninstall.exe" /S >>"$work/wine.log" 2>&1 || fail "the uninstaller exited with $?"
within wineserver -w
left=()
[ -e "$instdir" ] && left+=("$instdir ($(ls -A "$instdir" | tr '\n' ' '))")
[ -e "$start_menu/Socket Lab.lnk" ] && left+=("Start menu shortcut")
[ -e "$desktop/Socket Lab.lnk" ] && left+=("desktop shortcut")
regkey_exists "$uninstall_key" && left+=("$uninstall_key")
regkey_exists 'HKCU\Software\Classes\SocketLab.Workspace' && left+=('HKCU\Software\Classes\SocketLab.Workspace')
regkey_exists 'HKCU\Software\Classes\.socketlab' && left+=('HKCU\Software\Classes\.socketlab')
regkey_exists 'HKCU\Software\Microsoft\Windows\CurrentVersion\App Paths\socketlab.exe' && left+=('App Paths\socketlab.exe')
[ "${#left[@]}" -eq 0 ] || fail "left behind after uninstalling: ${left[*]}"
echo "   program folder, shortcuts, Apps & features entry, file type and App Paths entry are gone"
echo "check-wine.sh: OK: Socket Lab $version installed silently under $(wine --version), ran, exchanged bytes on 127.0.0.1 from the command line and from its window, and uninstalled cleanly"
