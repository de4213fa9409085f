#!/usr/bin/env bash
# Proves the Windows installer works as a user would use it, under Wine on Linux: in a fresh Wine
# prefix made for this run, installs silently (/S /DESKTOPSHORTCUT), checks the installed files,
# shortcuts, Apps & features entry and .socketlab file type, runs the installed socketlab.exe
# (--version, then a TCP exchange between two copies of it on 127.0.0.1), uninstalls silently and
# checks that every file and registry entry it made is gone.
#
#   packaging/windows/check-wine.sh target/windows/socketlab-0.1.0-x86_64-setup.exe
#
# Needs: wine (Debian's wine and wine64), xvfb (Wine wants a display even for silent installers).
# Touches nothing outside a temporary directory: the prefix, HOME and the X display are private.
# Every wait is bounded (WINE_TIMEOUT seconds, default 300, for each Wine command).
set -euo pipefail

installer="$(realpath "${1:?usage: check-wine.sh path/to/socketlab-<version>-x86_64-setup.exe}")"
wine_timeout="${WINE_TIMEOUT:-300}"

fail() {
  echo "check-wine.sh: FAIL: $*" >&2
  exit 1
}
step() { echo "-- $*"; }

for tool in wine wineserver Xvfb; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (apt-get install wine wine64 xvfb)"
done

work="$(mktemp -d)"
xvfb_pid=""
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
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
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
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
# Rust's standard library imports ProcessPrng from bcryptprimitives.dll (Windows 10 and later);
# Wine has it from version 9 on. Debian 12's Wine 8.0 lacks it and cannot start the program at all
# (import_dll: bcryptprimitives.dll not found), so there only the installer and uninstaller run.
if [ -e "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" ]; then
  step "installed socketlab.exe --version"
  printed="$(within wine "$exe_windows" --version 2>>"$work/wine.log")" ||
    fail "socketlab.exe --version exited with $? (124: it did not finish within ${wine_timeout} s)"
  printed="$(printf '%s' "$printed" | tr -d '\r')"
  echo "   $printed"
  [ "$printed" = "socketlab $version" ] || fail "socketlab.exe --version printed '$printed', expected 'socketlab $version'"

  step "TCP on 127.0.0.1 under Wine: tcp-listen 0 --once --echo, tcp-connect to it"
  within wine "$exe_windows" tcp-listen 0 --bind 127.0.0.1 --once --echo --output raw \
    >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  port=""
  deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ]; do
    port="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/server.err" | head -n 1)"
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "tcp-listen exited: $(tr -d '\r' <"$work/server.err")"
    sleep 0.2
  done
  [ -n "$port" ] || fail "tcp-listen did not say where it listens within 120 s: $(tr -d '\r' <"$work/server.err")"
  echo "   server: listening on 127.0.0.1:$port"
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

else
  echo "-- SKIPPED: running socketlab.exe: $(wine --version) has no bcryptprimitives.dll, which Rust's standard library needs (Wine 9 or newer has it)"
fi

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
if [ -e "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" ]; then
  echo "check-wine.sh: OK: Socket Lab $version installed silently under Wine, ran, exchanged bytes on 127.0.0.1 and uninstalled cleanly"
else
  echo "check-wine.sh: OK (program run SKIPPED, see above): Socket Lab $version installed silently under Wine and uninstalled cleanly"
fi
