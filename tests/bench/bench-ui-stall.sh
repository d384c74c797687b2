#!/bin/sh
# Main-loop stalls of the workbench window (bench-ui-stall) under Xvfb:
# the tiny CNN trains on Fashion-MNIST with the t-SNE page recomputing at
# every epoch while tabs are switched, the window resized and the plots
# hovered. Prints the largest and the 99th-percentile gap between the calls
# of a high-priority 1 ms timeout, overall and after each kind of action.
# Target: no gap over 50 ms.
#
#   tests/bench/bench-ui-stall.sh [build-dir=build] [epochs=3] [train-samples=6000]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
epochs=${2:-3}
n=${3:-6000}
export OPENBLAS_NUM_THREADS=1 GSK_RENDERER=cairo
export LAYERLAB_PRESETS_DIR="$here/../../resources/presets"
export LL_SCREENSHOT_DIR="${TMPDIR:-/tmp}"
echo "commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
     "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
exec xvfb-run -a -s '-screen 0 1920x1080x24' "$build/tests/bench-ui-stall" "$epochs" "$n"
