#!/bin/sh
# bench-cuda.sh: one training epoch of the reference MLP, CNN and autoencoder
# on the GPU, LayerLab (`layerlab train --device cuda`) against PyTorch on the
# same GPU (tests/bench/torch_cuda_reference.py, which reuses the models of
# shared/bench/torch_reference.py), and the ratio of images per second.
#
#   tests/bench/bench-cuda.sh [BUILD_DIR]
#
# Needs an NVIDIA GPU, a build with the CUDA backend, Fashion-MNIST, and a
# Python with a CUDA build of PyTorch (PYTHON=..., default python3).
# BENCH_DEVICE=cpu runs the same comparison on the CPU and BENCH_LIMIT=N
# trains on the first N images only (a quick check of the script itself).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
layerlab=$build/app/layerlab
python=${PYTHON:-python3}
device=${BENCH_DEVICE:-cuda}
limit=${BENCH_LIMIT:-0}
[ -x "$layerlab" ] || { echo "bench-cuda: no $layerlab; build first" >&2; exit 1; }
if [ "$device" != cpu ] && ! "$layerlab" devices | grep -q '^cuda:'; then
  echo "bench-cuda: no usable GPU:" >&2
  "$layerlab" devices >&2
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The reference models as LayerLab specs: the MLP is torch_reference.py's
# (784-256-128-10, SGD momentum 0.9, lr 0.05), the CNN and the autoencoder
# are the tiny-cnn and ae-pretrain presets (the same architectures). Each is
# rewritten for one epoch, no early stopping, and the optional limit.
cat > "$tmp/mlp.json" <<'JSON'
{"format": "layerlab-spec", "version": 1, "name": "bench-mlp",
 "graph": {"blocks": [
  {"name": "image", "type": "Input", "props": {"shape": [1, 28, 28]}},
  {"name": "flat", "type": "Flatten", "inputs": ["image"]},
  {"name": "fc1", "type": "Linear", "inputs": ["flat"], "props": {"out_features": 256}},
  {"name": "relu1", "type": "ReLU", "inputs": ["fc1"]},
  {"name": "fc2", "type": "Linear", "inputs": ["relu1"], "props": {"out_features": 128}},
  {"name": "relu2", "type": "ReLU", "inputs": ["fc2"]},
  {"name": "logits", "type": "Linear", "inputs": ["relu2"], "props": {"out_features": 10}}]},
 "data": {"dataset": {"kind": "idx-dir", "path": "/usr/share/datasets/fashion-mnist"},
          "validation_split": 0.1, "normalize": "zero-one"},
 "losses": [{"output": "logits", "target": "label", "type": "cross_entropy"}],
 "training": {"epochs": 1, "batch_size": 128, "seed": 1,
              "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9}}}
JSON
"$python" - "$tmp" "$limit" "$root/resources/presets/tiny-cnn.json" \
  "$root/resources/presets/ae-pretrain.json" <<'PY'
import json, sys
tmp, limit, cnn, ae = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
for name, path in (("mlp", tmp + "/mlp.json"), ("cnn", cnn), ("ae", ae)):
    s = json.load(open(path))
    s["training"]["epochs"] = 1
    s["training"]["early_stopping"] = {"enabled": False}
    s["training"].pop("schedule", None)
    if limit:
        s["data"]["dataset"]["limit_train"] = limit
    json.dump(s, open(f"{tmp}/{name}.json", "w"))
PY

# LayerLab: images per second of the epoch event (training only)
for m in mlp cnn ae; do
  "$layerlab" train "$tmp/$m.json" --device "$device" --out "$tmp/runs" --jsonl > "$tmp/$m.jsonl" \
    || { echo "bench-cuda: layerlab train failed for $m" >&2; exit 1; }
done

# PyTorch on the same device
torch_dev=$device
[ "$device" = cuda ] && torch_dev=cuda:0
"$python" "$root/tests/bench/torch_cuda_reference.py" --device "$torch_dev" \
  --models mlp,cnn,ae --limit "$limit" > "$tmp/torch.txt"

"$python" - "$tmp" "$device" <<'PY'
import json, re, sys
tmp, device = sys.argv[1], sys.argv[2]

def events(path):
    # --jsonl output: a stream of JSON objects (one per line, or pretty-printed)
    text, dec, i = open(path).read(), json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        e, i = dec.raw_decode(text, i)
        yield e

torch = {}
for line in open(f"{tmp}/torch.txt"):
    print("#", line.strip())
    m = re.search(r"model=(\w+).*train_img_per_s=(\d+)", line)
    if m:
        torch[m.group(1)] = float(m.group(2))
print(f"{'model':6} {'layerlab img/s':>15} {'torch img/s':>12} {'ratio':>7}   ({device})")
for name in ("mlp", "cnn", "ae"):
    ips = None
    for e in events(f"{tmp}/{name}.jsonl"):
        if e.get("event") == "epoch":
            ips = e["images_per_second"]
        if e.get("event") == "started":
            print("#", e.get("message", ""))
    t = torch.get(name)
    ratio = f"{ips / t:7.2f}" if ips and t else "      ?"
    print(f"{name:6} {ips or 0:15.0f} {t or 0:12.0f} {ratio}   (LayerLab / PyTorch)")
PY
