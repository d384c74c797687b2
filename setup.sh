#!/bin/sh
# setup.sh: installs what a fresh Debian 12 machine lacks, builds LayerLab,
# and runs it (`./setup.sh`) or its whole test suite (`./setup.sh test`).
# Idempotent: run it again after a pull.
set -eu
cd "$(dirname "$0")"

mode=${1:-run}
case "$mode" in
  run|test) ;;
  *) echo "usage: ./setup.sh [run|test]" >&2; exit 2 ;;
esac

packages="gcc meson ninja-build pkg-config libglib2.0-dev libjson-glib-dev libopenblas-dev
  libsqlite3-dev zlib1g-dev libpng-dev libjpeg-dev libgtk-4-dev libepoxy-dev libcairo2-dev
  dataset-fashion-mnist desktop-file-utils appstream
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev"
# tests: a virtual display for the window; clang and its libFuzzer runtime
# for .ci/run's fuzz targets; g++ and TBB (C++17 parallel algorithms) build
# the CUDA kernels for the CPU through HIP-CPU (the cuda-on-cpu suite);
# python3-onnx, python3-torch and node check and run exported models (the
# interop suite)
[ "$mode" = test ] && packages="$packages xvfb xauth clang libclang-rt-dev g++ libtbb-dev
  python3-numpy python3-onnx python3-torch"
# node and npm may come from elsewhere than Debian (NodeSource bundles npm)
[ "$mode" = test ] && ! command -v node >/dev/null && packages="$packages nodejs"
[ "$mode" = test ] && ! command -v npm >/dev/null && packages="$packages npm"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
  else
    echo "setup: these Debian packages are missing; install them as root, then run this again:"
    echo "  sudo apt-get install$missing"
    exit 1
  fi
fi

# The tests also run the CUDA kernels on the CPU when HIP-CPU sits in the
# shared folder beside the checkout (relative to this folder, as meson reads it).
hip_cpu=../shared/third_party/hip-cpu
coc=""
[ "$mode" = test ] && [ -f "$hip_cpu/include/hip/hip_runtime.h" ] && coc="$hip_cpu"
if [ ! -f build/build.ninja ]; then
  meson setup build -Dbuildtype=debugoptimized ${coc:+-Dcuda-on-cpu=$coc}
elif [ -n "$coc" ]; then
  current=$(meson introspect --buildoptions build | python3 -c \
    'import json, sys; print(next((o["value"] for o in json.load(sys.stdin) if o["name"] == "cuda-on-cpu"), ""))')
  [ "$current" = "$coc" ] || meson configure build -Dcuda-on-cpu="$coc"
fi
ninja -C build

# ONNX Runtime for the interop tests, from npm into the build folder. Its
# install script would fetch GPU add-ons from outside the registry; the CPU
# runtime is in the package itself.
if [ "$mode" = test ] && [ ! -d build/interop-node/node_modules/onnxruntime-node ]; then
  mkdir -p build/interop-node
  npm install --prefix build/interop-node --ignore-scripts --no-audit --no-fund \
    onnxruntime-node@1.31.1 || echo "setup: npm could not install onnxruntime-node; the interop tests will skip"
fi

if [ "$mode" = test ]; then
  exec meson test -C build --print-errorlogs --num-processes 2
fi

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x build/app/layerlab ]; then
  exec build/app/layerlab
fi
cat <<MSG
LayerLab is built. This machine has no display, so the window cannot open.
Headless, the same engine runs from the command line:
  build/app/layerlab train resources/presets/fmnist-ann.json
  build/app/layerlab summary resources/presets/tiny-cnn.json
  build/app/layerlab help
or open the window on a virtual display: xvfb-run -a build/app/layerlab
MSG
