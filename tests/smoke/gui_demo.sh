#!/usr/bin/env bash
# Smoke test of the real binary in a real X window: starts the workbench under Xvfb on the
# bundled model and demo set with `gui --tour`, so the app drives itself through the demo flow
# (data table, embedding map, SS8 probe, contact probe, homology) and saves a screenshot of each
# view from its own framebuffer; then a mouse click from outside (xdotool) checks that the window
# answers real input. Look at the screenshots afterwards.
#
#   tests/smoke/gui_demo.sh [BINARY] [OUT_DIR]
#
# Needs xvfb (and xdotool + imagemagick for the outside checks: `apt-get install xvfb xdotool
# imagemagick`). The probes run on the bundled kit's disjoint splits (datasets/kit); the homology
# view shows its hint, as no ASTRAL file is bundled. About a minute in a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-target/release/esm-workbench}
OUT=${2:-target/smoke}
rm -rf "$OUT"
mkdir -p "$OUT"
command -v Xvfb >/dev/null || { echo "gui_demo.sh: Xvfb is not installed" >&2; exit 2; }
DISPLAY_NUMBER=${SMOKE_DISPLAY:-:77}
Xvfb "$DISPLAY_NUMBER" -screen 0 1280x800x24 >/dev/null 2>&1 &
XVFB=$!
trap 'kill $XVFB 2>/dev/null || true' EXIT
export DISPLAY=$DISPLAY_NUMBER
sleep 1

# 1. The demo tour: every view, one screenshot each, then the app closes itself.
timeout "${SMOKE_TOUR_SECONDS:-1800}" "$BIN" gui --tour "$OUT/tour" 2>&1 | tee "$OUT/tour.log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo "gui_demo.sh: the tour failed (exit $status); see $OUT/tour.log and $OUT/tour/" >&2
    exit 1
fi
ls "$OUT/tour"/*.png

# 2. Real input from outside: open the app again and click the "Embedding map" tab.
if command -v xdotool >/dev/null && command -v import >/dev/null; then
    "$BIN" >"$OUT/app.log" 2>&1 &
    APP=$!
    trap 'kill $APP $XVFB 2>/dev/null || true' EXIT
    sleep "${SMOKE_START_SECONDS:-5}"
    import -window root "$OUT/outside_01_opened.png"
    WINDOW=$(xdotool search --name "ESM Workbench" | head -1)
    xdotool mousemove --window "$WINDOW" 474 44 click 1
    sleep 1
    import -window root "$OUT/outside_02_map_tab.png"
    kill -0 "$APP" 2>/dev/null || { echo "the app exited; see $OUT/app.log" >&2; exit 1; }
    echo "saved $OUT/outside_01_opened.png and $OUT/outside_02_map_tab.png"
fi
echo "all steps ran; look at the screenshots in $OUT"
