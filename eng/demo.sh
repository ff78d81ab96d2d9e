#!/usr/bin/env bash
# The README's first command runs this (./build.sh --target=demo) after Bootstrap and Build.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration="${DQ_CONFIGURATION:-Release}"
dq() { dotnet "src/DatasetQuant.Cli/bin/$configuration/net10.0/dq.dll" "$@"; }

echo "== Native libraries"
dq env

# Fashion-MNIST train, quantized adaptively at 1 bit per pixel on average, then what the shards hold and whether they verify.
budget="${DQ_DEMO_BUDGET:-1bpp}"
shards="${DQ_DEMO_DIR:-artifacts/demo/fashion-mnist-${budget}}"
echo
echo "== Quantize Fashion-MNIST (train) at ${budget}, adaptive allocation -> ${shards}"
dq quantize --input fashion-mnist:train --budget "$budget" --allocator adaptive --out "$shards"
echo
echo "== Inspect"
dq inspect "$shards"
echo
echo "== Verify"
dq verify "$shards"
