#!/usr/bin/env bash
# Smoke test of the real binary in a real X window: starts the workbench under Xvfb on the
# bundled model and demo set, drives the demo flow with xdotool and saves a screenshot of each
# step, for a person to look at.
#
#   tests/smoke/gui_demo.sh [BINARY] [OUT_DIR]
#
# Needs xvfb, xdotool and imagemagick (`apt-get install xvfb xdotool imagemagick`). Clicks are
# at fixed positions of the 1280x800 layout; if the layout changes, update them here.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-target/release/esm-workbench}
OUT=${2:-target/smoke}
mkdir -p "$OUT"
for tool in Xvfb xdotool import; do
    command -v "$tool" >/dev/null || { echo "gui_demo.sh: $tool is not installed" >&2; exit 2; }
done
DISPLAY_NUMBER=${SMOKE_DISPLAY:-:77}
Xvfb "$DISPLAY_NUMBER" -screen 0 1280x800x24 >/dev/null 2>&1 &
XVFB=$!
trap 'kill $APP $XVFB 2>/dev/null || true' EXIT
export DISPLAY=$DISPLAY_NUMBER
sleep 1
"$BIN" >"$OUT/app.log" 2>&1 &
APP=$!

shot() { sleep "${2:-1}"; import -window root "$OUT/$1.png"; echo "saved $OUT/$1.png"; }
alive() { kill -0 "$APP" 2>/dev/null || { echo "the app exited; see $OUT/app.log" >&2; exit 1; }; }

shot 01_opened 6; alive
xdotool mousemove 474 44 click 1          # "Embedding map" tab
shot 02_map_tab; alive
xdotool mousemove 1203 76 click 1         # "Compute map" (t-SNE of 5,000 residues, layer 4)
shot 03_computing 2; alive
# Wait for the map: SMOKE_MAP_SECONDS (default 60; a debug build needs about 90).
sleep "${SMOKE_MAP_SECONDS:-60}"
shot 04_map 1; alive
xdotool mousemove 750 167; sleep 0.5; xdotool mousemove 750 168   # hover a point (the topmost one)
shot 05_hover 1; alive
xdotool click 1                           # select it
shot 06_selected 1; alive
xdotool mousemove 389 44 click 1          # back to the data table
shot 07_data 1; alive
echo "all steps ran; look at the screenshots in $OUT"
