#!/usr/bin/env bash
# ONNX Runtime API overhead and speed, two builds of dq side by side: `dq onnx bench` on the DiM architecture and on the
# small linear-Gaussian generator, four variants taking turns (the order flips every round) so that a change in the
# machine's load hits all alike:
#   old            the old build (its own C-API binding) on the library it was built for (ORT_OLD, from its cache)
#   old-lib-new    the old build on the new build's libonnxruntime.so (ORT_NEW): its stopwatch around the native Run
#                  gives the time inside Run of the very library the new build uses
#   new            the new build, profiled: API overhead = wall / ONNX Runtime's own model_run time
#   new-unprofiled the new build without the profiler: its wall time per batch, the numerator against old-lib-new
# Each line is one run: round, variant, model, batch, then what `dq onnx bench` printed (median batch ms, images/s,
# allocated bytes, overhead). Summarise with the medians per variant/model/batch.
# Usage: eng/bench/onnx-api-overhead.sh OLD_DQ_DLL NEW_DQ_DLL [WORKDIR]
#   env: ORT_NEW (libonnxruntime.so of the new build), ROUNDS (5), BATCHES (1 16), ITERATIONS (400), ITERATIONS_DIM (8)
set -euo pipefail
old="$1"; new="$2"; work="${3:-$(mktemp -d)}"
rounds="${ROUNDS:-5}"
mkdir -p "$work"
[ -f "$work/dim-fm.onnx" ] || dotnet "$new" generator dim-arch --dataset fashion-mnist --out "$work/dim-fm.onnx" >/dev/null
[ -f "$work/lg-fm.onnx" ] || dotnet "$new" generator fit --input fashion-mnist --out "$work/lg-fm.onnx" >/dev/null
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); rounds $rounds"
run() { # build dll model batch iterations extra...
  local build="$1" dll="$2" model="$3" batch="$4" iterations="$5"; shift 5
  local out
  out="$(dotnet "$dll" onnx bench "$work/$model.onnx" --batch "$batch" --iterations "$iterations" --warmup 3 --threads 1 "$@")"
  local ms ips alloc ratio
  ms="$(sed -n 's/^median batch \([0-9.]*\) ms.*/\1/p' <<<"$out")"
  ips="$(sed -n 's/.* ms, \([0-9.]*\) images\/s.*/\1/p' <<<"$out")"
  alloc="$(sed -n 's/.*allocated while timing: \([0-9]*\).*/\1/p' <<<"$out")"
  ratio="$(sed -n 's/^\(binding\|API\) overhead \([0-9.]*\).*/\2/p' <<<"$out")"
  echo "$round $build $model $batch ms=$ms ips=$ips alloc=$alloc overhead=${ratio:--}"
}
for round in $(seq 1 "$rounds"); do
  for model in dim-fm lg-fm; do
    for batch in ${BATCHES:-1 16}; do
      if [[ $model == lg-* ]]; then it="${ITERATIONS:-400}"; else it="${ITERATIONS_DIM:-8}"; fi
      if (( round % 2 )); then order="old old-lib-new new new-unprofiled"; else order="new-unprofiled new old-lib-new old"; fi
      for build in $order; do
        case $build in
          old) run old "$old" "$model" "$batch" "$it" ;;
          old-lib-new) DQ_ONNXRUNTIME_PATH="$ORT_NEW" run old-lib-new "$old" "$model" "$batch" "$it" ;;
          new) run new "$new" "$model" "$batch" "$it" ;;
          new-unprofiled) run new-unprofiled "$new" "$model" "$batch" "$it" --overhead false ;;
        esac
      done
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
