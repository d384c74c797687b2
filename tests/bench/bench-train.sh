#!/bin/sh
# bench-train.sh [options]: training and inference throughput of LayerLab
# against PyTorch on the three reference models, in one run (see
# bench-train.py for the options; build first: ninja -C build).
#   tests/bench/bench-train.sh --repeat 3 --markdown tests/bench/RESULTS.md
exec /usr/bin/python3 "$(dirname "$0")/bench-train.py" "$@"
