#!/bin/sh
# t-SNE on 5,000 Fashion-MNIST test images: scikit-learn's Barnes-Hut
# against ours, same settings, same machine, one after the other.
# Prints both lines and the ratios (ours / sklearn) of wall time and CPU
# time (the CPU ratio is the steadier one on a shared machine), and the KL
# difference (ours - sklearn).
#
#   tests/bench/bench-tsne.sh [build-dir=build] [n=5000] [threads=2]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
n=${2:-5000}
threads=${3:-2}
sk=$(/usr/bin/python3 "$here/tsne-sklearn.py" "$n" "$threads")
echo "$sk"
ours=$(OPENBLAS_NUM_THREADS=$threads "$build/tests/bench-tsne" "$n" "$threads")
echo "$ours"
field() { echo "$1" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p"; }
awk -v sw="$(field "$sk" seconds)" -v sc="$(field "$sk" cpu)" -v sk="$(field "$sk" kl)" \
    -v ow="$(field "$ours" seconds)" -v oc="$(field "$ours" cpu)" -v ok="$(field "$ours" kl)" \
    'BEGIN { printf "ratio wall=%.3f cpu=%.3f kl_diff=%+.4f (target: wall <= 0.5, kl_diff <= 0.05)\n",
             ow / sw, oc / sc, ok - sk }'
