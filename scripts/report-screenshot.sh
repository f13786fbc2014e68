#!/usr/bin/env bash
# Opens a fit-heads report in a real browser (headless Chromium) and checks what a person would
# see: the page is well-formed and self-contained (no reference leaves the file), Chromium's DOM
# holds every section and plot, and the screenshot is not blank and shows the wheel's hue
# sectors, the heat map's darkest cell and both loss-curve colours.
#
#   scripts/report-screenshot.sh [REPORT.html] [SHOT.png]     (defaults: demo-out/report.html,
#                                                              the report's name with .png)
# Installs Debian's chromium if it is missing. Exits 1 when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
report="${1:-demo-out/report.html}"
shot="${2:-${report%.html}.png}"
[ -f "$report" ] || { echo "no report at $report (scripts/demo.sh writes demo-out/report.html)"; exit 1; }
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
python3 scripts/report_check.py static "$report"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
# No network at all: anything the page tried to fetch would simply be missing from the picture.
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions
  --user-data-dir="$profile" --host-resolver-rules="MAP * ~NOTFOUND")
chromium "${flags[@]}" --dump-dom "$url" >"$profile/dom.html" 2>"$profile/chromium.log" \
  || { tail -n 5 "$profile/chromium.log"; exit 1; }
python3 scripts/report_check.py dom "$report" "$profile/dom.html"
# Tall enough for the whole page at 1280 px: about 950 px per head plus the header.
heads=$(grep -o '<section class="head"' "$report" | wc -l)
height=$((700 + 950 * heads))
[ "$height" -le 16000 ] || height=16000
chromium "${flags[@]}" --window-size=1280,"$height" --screenshot="$shot" "$url" 2>"$profile/chromium.log" \
  || { tail -n 5 "$profile/chromium.log"; exit 1; }
python3 scripts/report_check.py pixels "$report" "$shot"
echo "report renders in Chromium: screenshot -> $shot"
