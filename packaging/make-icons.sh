#!/usr/bin/env bash
# Regenerates every icon in resources/icons/ from the one source drawing, resources/icons/socketlab.svg.
# Tools (Debian): rsvg-convert (librsvg2-bin), convert (imagemagick), png2icns (icnsutils).
#   sudo apt-get install librsvg2-bin imagemagick icnsutils
# The generated files are committed: they are resources the build embeds and the installers ship,
# and not every machine that builds Socket Lab has these tools.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in rsvg-convert convert png2icns; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -ne 0 ]; then
  echo "make-icons.sh: missing ${missing[*]}; install them with:" >&2
  echo "  sudo apt-get install librsvg2-bin imagemagick icnsutils" >&2
  exit 2
fi

source_svg=resources/icons/socketlab.svg
out=resources/icons
mkdir -p "$out/png"

# Every size a desktop asks for: hicolor uses 16–512, Windows' .ico 16–256, macOS' .icns 16–512.
sizes=(16 24 32 48 64 128 256 512)
for size in "${sizes[@]}"; do
  rsvg-convert --width "$size" --height "$size" --format png "$source_svg" \
    --output "$out/png/socketlab-$size.png"
done

# Windows: one .ico holding the sizes Explorer and the taskbar pick from. -strip keeps ImageMagick
# from writing timestamps, so regenerating an unchanged drawing gives identical files.
convert -strip \
  "$out/png/socketlab-16.png" "$out/png/socketlab-24.png" "$out/png/socketlab-32.png" \
  "$out/png/socketlab-48.png" "$out/png/socketlab-64.png" "$out/png/socketlab-128.png" \
  "$out/png/socketlab-256.png" \
  "$out/socketlab.ico"

# macOS: png2icns picks the icon type from each PNG's size (16, 32, 48, 128, 256, 512 are valid).
png2icns "$out/socketlab.icns" \
  "$out/png/socketlab-16.png" "$out/png/socketlab-32.png" "$out/png/socketlab-48.png" \
  "$out/png/socketlab-128.png" "$out/png/socketlab-256.png" "$out/png/socketlab-512.png" >/dev/null

echo "make-icons.sh: wrote $out/png/socketlab-{${sizes[*]// /,}}.png, $out/socketlab.ico, $out/socketlab.icns"
