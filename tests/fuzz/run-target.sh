#!/bin/sh
# run-target.sh EXE SEED_DIR WORK_DIR [SECONDS]: fuzzes one target for SECONDS
# ($LL_FUZZ_SECONDS, 30 by default) from its seeds. New inputs go to
# WORK_DIR/corpus (the seeds stay as committed), a crash, leak or timeout
# input to WORK_DIR/crash-*, leak-*, timeout-*; the last lines of libFuzzer's
# output (executions, coverage) are printed. Exit 0 only when nothing was
# found.
set -u
exe=$1 seeds=$2 work=$3
seconds=${4:-${LL_FUZZ_SECONDS:-30}}
mkdir -p "$work/corpus"
# GLib's slice allocator keeps freed blocks in caches: LeakSanitizer would
# miss leaks of slice-allocated objects (JSON nodes, lists, hash tables), and
# libFuzzer would scan for leaks after nearly every input.
export G_SLICE=always-malloc
# -timeout: an input that takes 10 s is a hang; -rss_limit_mb: 2 GiB is
# more than any of our parsers should need on inputs of these sizes.
"$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds" >"$work/log" 2>&1
rc=$?
tail -n 40 "$work/log"
# libFuzzer exits 77 on a crash, which meson would count as skipped
[ $rc -eq 0 ] || exit 1
