#!/usr/bin/env bash
# A CJK font for tests/gui_fonts.rs (issue 5): the window draws CJK text with a system font found
# through fontconfig, and the test proves it draws real glyphs. WenQuanYi Micro Hei is small
# (1.6 MB download); the .deb recommends fonts-noto-cjk for users.
set -euo pipefail
if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq --no-install-recommends fontconfig fonts-wqy-microhei >/dev/null
fi
