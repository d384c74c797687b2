#!/bin/sh
# run.sh [SECONDS [TARGET...]]: fuzzes each target (all by default) for
# SECONDS (600 by default), one after another, and prints per target the
# executions, the time and what was found. Builds build-fuzz (clang, ASan,
# UBSan, libFuzzer) first unless $LL_FUZZ_BUILD names a build folder to use
# as it is. Inputs found go to <build>/tests/fuzz/work/<target>/ (corpus/,
# crash-*, leak-*, timeout-*, oom-*, log). Exit 0 only when nothing was found.
set -u
cd "$(dirname "$0")/../.."
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"safetensors checkpoint-meta npy idx cifar csv image-folder spec study analysis"}

build=${LL_FUZZ_BUILD:-}
if [ -z "$build" ]; then
  build=build-fuzz
  if [ ! -f $build/build.ninja ]; then
    CC=clang meson setup $build -Dfuzz=enabled -Dgui=disabled -Dcuda=disabled \
      -Dbuildtype=debugoptimized >/dev/null || exit 1
  fi
  ninja -C $build >/dev/null || exit 1
fi

status=0
printf '%-16s %12s %8s %8s %7s %6s %6s %5s\n' target executions seconds exec/s crashes leaks hangs ooms
for t in $targets; do
  work=$build/tests/fuzz/work/$t
  start=$(date +%s)
  tests/fuzz/run-target.sh $build/tests/fuzz/fuzz-$t tests/fuzz/corpus/$t "$work" "$seconds" \
    >/dev/null || status=1
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  count() { ls "$work" | grep -c "^$1-" ; }
  printf '%-16s %12s %8s %8s %7s %6s %6s %5s\n' "$t" "${execs:-?}" "$secs" \
    "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" "$(count crash)" "$(count leak)" \
    "$(count timeout)" "$(count oom)"
done
exit $status
