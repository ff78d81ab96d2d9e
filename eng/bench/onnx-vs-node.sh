#!/usr/bin/env bash
# Side-by-side throughput of the C# binding (`dq onnx bench`) and onnxruntime-node 1.30.0 (ort-node-bench.js) on the
# same models, batches and thread counts, alternating the two hosts within each configuration (two rounds each;
# the table shows the mean of the two per-round medians). Prints a Markdown table.
# Usage: eng/bench/onnx-vs-node.sh [WORKDIR]   (needs `dotnet build -c Release` and the npm package, see docs/generators.md)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
dq=(dotnet "$root/src/DatasetQuant.Cli/bin/Release/net10.0/dq.dll")
mkdir -p "$work"
[ -f "$work/dim-fm.onnx" ] || "${dq[@]}" generator dim-arch --dataset fashion-mnist --out "$work/dim-fm.onnx" >/dev/null
[ -f "$work/dim-cifar.onnx" ] || "${dq[@]}" generator dim-arch --dataset cifar10 --out "$work/dim-cifar.onnx" >/dev/null
[ -f "$work/lg-fm.onnx" ] || "${dq[@]}" generator fit --input fashion-mnist --out "$work/lg-fm.onnx" >/dev/null

csharp() { "${dq[@]}" onnx bench "$1" --batch "$2" --threads "$3" --iterations "$4" --warmup "$5"; }
node_() { node "$here/ort-node-bench.js" "$1" "$2" "$3" "$4" "$5"; }
ips() { sed -n 's/.*ms, \([0-9.]*\) images\/s.*/\1/p'; }
overhead() { sed -n 's/binding overhead \([0-9.]*\).*/\1/p'; }

echo "| model | batch | threads | C# images/s | Node images/s | C# / Node | C# binding overhead |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for model in lg-fm dim-fm dim-cifar; do
  for threads in 1 2; do
    for batch in 1 16 64; do
      if [[ $model == lg-* ]]; then iters=200; warm=10; else case $batch in 1) iters=20; warm=2;; 16) iters=5; warm=1;; *) iters=3; warm=1;; esac; fi
      c_sum=0; n_sum=0; o_sum=0
      for round in 1 2; do
        out=$(csharp "$work/$model.onnx" $batch $threads $iters $warm)
        c=$(echo "$out" | ips); o=$(echo "$out" | overhead)
        n=$(node_ "$work/$model.onnx" $batch $threads $iters $warm | ips)
        c_sum=$(echo "$c_sum + $c" | bc -l); n_sum=$(echo "$n_sum + $n" | bc -l); o_sum=$(echo "$o_sum + $o" | bc -l)
      done
      printf "| %s | %d | %d | %.1f | %.1f | %.2f | %.4f |\n" "$model" $batch $threads \
        "$(echo "$c_sum / 2" | bc -l)" "$(echo "$n_sum / 2" | bc -l)" "$(echo "$c_sum / $n_sum" | bc -l)" "$(echo "$o_sum / 2" | bc -l)"
    done
  done
done
