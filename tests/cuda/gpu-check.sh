#!/bin/sh
# gpu-check.sh: everything a first machine with an NVIDIA GPU should run, in
# one command, ending with one summary table; within 8 minutes.
#
#   tests/cuda/gpu-check.sh [BUILD_DIR]          (default: build-gpu-check)
#
# 1. builds with the CUDA backend (-Dgui=disabled -Dcuda=enabled);
# 2. runs the op table (tests/ops: every slot of the CUDA backend against the
#    reference backend) on the GPU with CUDA_LAUNCH_BLOCKING=1, so a fault
#    names its launch;
# 3. runs it again under compute-sanitizer: memcheck on every op, racecheck
#    and synccheck on the ops with shared memory, barriers or warp shuffles
#    (small shapes: the sanitizers slow kernels down 10-100x);
# 4. trains the tiny CNN and the MLP one epoch on the GPU and on the CPU
#    (`layerlab train`, same seed) and compares their losses and accuracy;
# 5. runs tests/bench/bench-cuda.sh (LayerLab against PyTorch on the GPU).
#
# BENCH_DEVICE=cpu checks the script itself on a machine without a GPU: the
# "GPU" is the CUDA kernels run on the CPU through HIP-CPU (-Dcuda-on-cpu,
# kernels/cuda-on-cpu), the sanitizer steps are skipped, training uses the
# first GPU_CHECK_LIMIT images (default 2048 there, all on a GPU), and the
# benchmark runs with BENCH_DEVICE=cpu.
# Exit status: 0 when every step that ran passed, 1 otherwise.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
self=$root/tests/cuda/gpu-check.sh
hip_cpu=$root/../shared/third_party/hip-cpu

# The steps, run by `gpu-check.sh --do STEP ARGS` under timeout; they read
# GC_BUILD, GC_OPTS and GC_SPECS from the environment.
build_all() {
  cd "$root" || return 1
  if [ -f "$GC_BUILD/build.ninja" ]; then
    meson configure "$GC_BUILD" $GC_OPTS || return 1
  else
    meson setup "$GC_BUILD" -Dbuildtype=debugoptimized $GC_OPTS || return 1
  fi
  ninja -C "$GC_BUILD"
}

compare_runs() {
  model=$1
  for dev in cpu cuda; do
    "$GC_BUILD/app/layerlab" train "$GC_SPECS/$model.json" --device $dev --out "$GC_SPECS/runs" \
      --jsonl > "$GC_SPECS/$model-$dev.jsonl" || { echo "layerlab train --device $dev failed"; return 1; }
  done
  python3 - "$GC_SPECS/$model-cpu.jsonl" "$GC_SPECS/$model-cuda.jsonl" <<'PY'
import json, sys
def last(path):
    text, dec, i, m = open(path).read(), json.JSONDecoder(), 0, {}
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return m
        e, i = dec.raw_decode(text, i)
        if e.get("event") in ("epoch", "finished"):
            m.update({k: v for k, v in e.items() if isinstance(v, (int, float))})
a, b = last(sys.argv[1]), last(sys.argv[2])
ok = True
# one epoch in float32: the summation orders differ, and the drift grows with the steps
for key, atol, rtol in (("train_loss", 2e-3, 2e-2), ("val_loss", 5e-3, 3e-2), ("test_accuracy", 0.02, 0)):
    if key not in a or key not in b:
        # absent on both (a spec without validation) is fine; on one side is not
        print(f"compare {key}: missing (cpu {a.get(key)}, device {b.get(key)})")
        ok = ok and key not in a and key not in b
        continue
    good = abs(a[key] - b[key]) <= atol + rtol * abs(a[key])
    ok = ok and good
    print(f"compare {key}: cpu {a[key]:.4f} device {b[key]:.4f} {'ok' if good else 'DIFFERS'}")
sys.exit(0 if ok else 1)
PY
}

if [ "${1:-}" = --do ]; then
  shift
  "$@"
  exit $?
fi

build=${1:-$root/build-gpu-check}
case "$build" in /*) ;; *) build=$(pwd)/$build ;; esac
on_cpu=false
[ "${BENCH_DEVICE:-cuda}" = cpu ] && on_cpu=true
limit=${GPU_CHECK_LIMIT:-}
[ -n "$limit" ] || { $on_cpu && limit=2048 || limit=0; }
start=$(date +%s)
deadline=$((start + ${GPU_CHECK_SECONDS:-470}))
log=$build/gpu-check
summary=""
failed=0
export GC_BUILD="$build" GC_SPECS="$log/specs"
if $on_cpu; then
  [ -f "$hip_cpu/include/hip/hip_runtime.h" ] || { echo "gpu-check: no HIP-CPU at $hip_cpu" >&2; exit 1; }
  export GC_OPTS="-Dgui=disabled -Dcuda=disabled -Dcuda-on-cpu=$hip_cpu"
else
  export GC_OPTS="-Dgui=disabled -Dcuda=enabled"
fi

# step NAME BUDGET_SECONDS COMMAND...: runs it (cut at the budget or at the
# overall deadline, whichever comes first), logs to $log/NAME.log, adds a row.
step() {
  name=$1 budget=$2
  shift 2
  left=$((deadline - $(date +%s)))
  [ "$budget" -gt "$left" ] && budget=$left
  if [ "$budget" -le 5 ]; then
    row "$name" "not run" 0 "out of time"
    failed=1
    return
  fi
  t0=$(date +%s)
  timeout "$budget" "$@" > "$log/$name.log" 2>&1
  rc=$?
  dt=$(($(date +%s) - t0))
  detail=$(grep -E '^# (SKIP|[0-9]+ steps|weights|train_loss|largest|[a-z-]+ \(.*cases)|^1..0 # SKIP|^FAIL|^(ok|not ok) |^(mlp|cnn|ae) +[0-9]|^compare' \
    "$log/$name.log" | grep -v '^ok ' | tail -n 3 | tr '\n' ';' | cut -c1-110)
  case $rc in
    0) row "$name" pass "$dt" "$detail" ;;
    77) row "$name" skipped "$dt" "$detail" ;;
    124) row "$name" TIMEOUT "$dt" "cut at ${budget}s; see $log/$name.log"; failed=1 ;;
    *) row "$name" FAIL "$dt" "exit $rc; see $log/$name.log"; failed=1 ;;
  esac
}

row() {
  summary="$summary$(printf '%-22s %-8s %5ss  %s' "$1" "$2" "$3" "$4")
"
}

# ---- 1. build --------------------------------------------------------------------------------
mkdir -p "$log" "$GC_SPECS"
step build 300 "$self" --do build_all

ops=$build/tests/test-ops
ops_backend=cuda
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
if $on_cpu; then
  ops_backend=cuda-on-cpu
  export LAYERLAB_TEST_BACKEND=cuda-on-cpu
  export LAYERLAB_CUDA_MODULE=$build/kernels/cuda-on-cpu/libll-cuda-on-cpu.so
fi

# ---- 2. the ops on the device, every launch synchronous ----------------------------------------
step ops 120 env CUDA_LAUNCH_BLOCKING=1 "$ops" $ops_backend

# ---- 3. compute-sanitizer on small shapes ------------------------------------------------------
# ops whose kernels use __shared__, __syncthreads or warp shuffles
shared_ops="axpy-scale-sumsq bias mean-inner batchnorm softmax cross-entropy bce-mse-l1
  argmax-rows"
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
for tool in memcheck racecheck synccheck; do
  if $on_cpu || [ -z "$sanitizer" ]; then
    row "sanitizer-$tool" skipped 0 "$($on_cpu && echo 'no GPU: CPU path' || echo 'compute-sanitizer not found')"
    continue
  fi
  # test-ops BACKEND [OP]: one op (prefix) per run; memcheck runs them all
  list=$shared_ops
  [ $tool = memcheck ] && list=""
  step "sanitizer-$tool" 90 sh -c 'tool=$1 san=$2 ops=$3; shift 3
    [ $# -gt 0 ] || set -- ""
    for op in "$@"; do "$san" --tool "$tool" --error-exitcode 1 "$ops" cuda $op || exit 1; done' \
    sh $tool "$sanitizer" "$ops" $list
done

# ---- 4. one epoch of the tiny CNN and the MLP, the device against the CPU ----------------------
python3 - "$GC_SPECS" "$limit" "$root/resources/presets/tiny-cnn.json" "$root/tests/bench/mlp.json" <<'PY'
import json, sys
out, limit, cnn, mlp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
for name, path in (("cnn", cnn), ("mlp", mlp)):
    s = json.load(open(path))
    s["training"]["epochs"] = 1
    s["training"]["early_stopping"] = {"enabled": False}
    s["training"].pop("schedule", None)
    if limit:
        s["data"]["dataset"]["limit_train"] = limit
        s["data"]["dataset"]["limit_test"] = max(limit // 4, 256)
    json.dump(s, open(f"{out}/{name}.json", "w"))
PY
step train-cnn 150 "$self" --do compare_runs cnn
step train-mlp 90 "$self" --do compare_runs mlp

# ---- 5. the benchmark against PyTorch --------------------------------------------------------
if python3 -c 'import torch' 2>/dev/null || [ -n "${PYTHON:-}" ]; then
  step bench-cuda 150 env BENCH_LIMIT=${BENCH_LIMIT:-$limit} "$root/tests/bench/bench-cuda.sh" "$build"
else
  row bench-cuda skipped 0 "no PyTorch for python3 (set PYTHON=...)"
fi

# ---- summary -----------------------------------------------------------------------------------
echo
if $on_cpu; then
  echo "gpu-check on the CPU path (BENCH_DEVICE=cpu: the CUDA kernels run through HIP-CPU; no GPU)"
else
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null |
    sed 's/^/gpu-check on /'
fi
printf '%-22s %-8s %6s  %s\n' step result time detail
printf '%s' "$summary"
echo "total $(($(date +%s) - start))s; logs in $log"
exit $failed
