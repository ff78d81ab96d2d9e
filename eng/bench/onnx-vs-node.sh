#!/usr/bin/env bash
# C# binding (`dq onnx bench --serve`) vs onnxruntime-node 1.30.0 on the same models, batches and thread counts, with
# identical session options, alternating batch by batch (eng/bench/onnx-vs-node.js). Prints a Markdown table and the
# load average before and after. Needs `dotnet build -c Release` and the npm package:
#   npm install --ignore-scripts --prefix ~/.cache/datasetquant/node onnxruntime-node@1.30.0
# Usage: eng/bench/onnx-vs-node.sh [WORKDIR]   env: ROUNDS (default 11), SPINNING (1|0, default 1), MODELS, THREADS, BATCHES
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
dll="$root/src/DatasetQuant.Cli/bin/Release/net10.0/dq.dll"
dq=(dotnet "$dll")
rounds="${ROUNDS:-11}"
spinning="${SPINNING:-1}"
mkdir -p "$work"
[ -f "$work/dim-fm.onnx" ] || "${dq[@]}" generator dim-arch --dataset fashion-mnist --out "$work/dim-fm.onnx" >/dev/null
[ -f "$work/dim-cifar.onnx" ] || "${dq[@]}" generator dim-arch --dataset cifar10 --out "$work/dim-cifar.onnx" >/dev/null
[ -f "$work/lg-fm.onnx" ] || "${dq[@]}" generator fit --input fashion-mnist --out "$work/lg-fm.onnx" >/dev/null

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); rounds $rounds; spinning $spinning"
echo
echo "| model | batch | threads | C# images/s | Node images/s | C# / Node (median of rounds) | per-round range | C# / Node by CPU time | C# binding overhead |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for model in ${MODELS:-lg-fm dim-fm dim-cifar}; do
  for threads in ${THREADS:-1 2}; do
    for batch in ${BATCHES:-1 16 64}; do
      # Batches per turn: enough that a turn lasts ~10-100 ms on the small model, one to a few batches on DiM.
      if [[ $model == lg-* ]]; then per=50; warm=20; else case $batch in 1) per=8; warm=3;; 16) per=2; warm=2;; *) per=1; warm=1;; esac; fi
      node "$here/onnx-vs-node.js" "$dll" "$work/$model.onnx" "$batch" "$threads" "$rounds" "$per" "$warm" "$spinning"
    done
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
