#!/usr/bin/env bash
# The README's first command runs this (./build.sh --target=demo) after Bootstrap and Build.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration="${DQ_CONFIGURATION:-Release}"
dq() { dotnet "src/DatasetQuant.Cli/bin/$configuration/net10.0/dq.dll" "$@"; }

echo "== Native libraries"
dq env
