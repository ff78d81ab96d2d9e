#!/usr/bin/env bash
# The README's first command runs this (./build.sh --target=demo) after Bootstrap and Build.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration="${DQ_CONFIGURATION:-Release}"
dq() { dotnet "src/DatasetQuant.Cli/bin/$configuration/net10.0/dq.dll" "$@"; }

echo "== Native libraries"
dq env

# Fashion-MNIST train, quantized as range-coded bit planes at full precision (8 planes) with the adaptive allocator's
# increment order beside the shard: the coordinator publishes it as layers of plane segments (protocol version 6) and
# each device keeps the allocator's optimum for its own budget. Then what the shards hold and whether they verify.
# (--codes embedded publishes fixed-width codes the same way.)
budget="${DQ_DEMO_BUDGET:-8bpp}"
shards="${DQ_DEMO_DIR:-artifacts/demo/fashion-mnist-planes-${budget}}"
echo
echo "== Quantize Fashion-MNIST (train) at ${budget} as range-coded planes with the adaptive increment order -> ${shards}"
dq quantize --input fashion-mnist:train --budget "$budget" --allocator adaptive --codes planes --out "$shards"
echo
echo "== Inspect"
dq inspect "$shards"
echo
echo "== Verify"
dq verify "$shards"

# The generator pushed to the devices: the trained DiM generator shipped in the repository (docs/generators.md:
# how it was trained, and the mixing rule in its manifest, measured on the bytes-versus-accuracy frontier).
generator="generators/fashion-mnist-dim/G.onnx"
echo
echo "== The trained DiM generator ${generator}: 10 samples drawn through ONNX Runtime"
dq sample --generator "$generator" --count 10 --out artifacts/demo/generator-samples.npy

# A fleet on this machine: mosquitto on a free loopback port, the coordinator, two dq-agents whose flash quotas
# differ (so their budgets do), the shards pushed to both, each fine-tuning offline on what it holds.
fleet_dir="artifacts/demo/fleet"
rm -rf "$fleet_dir" && mkdir -p "$fleet_dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
broker="mqtt://127.0.0.1:$port"
coordinator_dll="src/DatasetQuant.Coordinator/bin/$configuration/net10.0/dq-coordinator.dll"
agent_dll="src/DatasetQuant.Agent/bin/$configuration/net10.0/dq-agent.dll"
coordinator() { dotnet "$coordinator_dll" "$@"; }
pids=()
# Devices first, then the coordinator, then the broker, each with SIGTERM and waited for.
stop_fleet() {
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[$i]}" 2>/dev/null || true
        wait "${pids[$i]}" 2>/dev/null || true
    done
}
trap stop_fleet EXIT

echo
echo "== Fleet: mosquitto on $broker, a coordinator, devices pi-small (quota 3 MB) and pi-large (quota 40 MB)"
mosquitto -p "$port" >"$fleet_dir/mosquitto.log" 2>&1 &
pids+=($!)
coordinator keygen --out "$fleet_dir/coordinator.pem"
# Started as dotnet itself (not through a shell function) so that $! is the process the EXIT trap stops.
dotnet "$coordinator_dll" serve --broker "$broker" --fleet demo --key "$fleet_dir/coordinator.pem" --db "$fleet_dir/fleet.db" \
    >"$fleet_dir/coordinator.log" 2>&1 &
pids+=($!)
devices=(pi-small pi-large)
quotas=(3000000 40000000)
for i in 0 1; do
    dotnet "$agent_dll" --device-config device-configs/dev-x64.json --broker "$broker" --fleet demo --device-id "${devices[$i]}" \
        --data-dir "$fleet_dir/${devices[$i]}" --coordinator-key "$fleet_dir/coordinator.pub.pem" \
        --Sync:FlashQuotaBytes "${quotas[$i]}" >"$fleet_dir/${devices[$i]}.log" 2>&1 &
    pids+=($!)
done
sleep 3

echo
echo "== Push the generator to the fleet (signed, chunked, like a dataset)"
coordinator publish --broker "$broker" --fleet demo --key "$fleet_dir/coordinator.pem" --db "$fleet_dir/fleet.db" \
    --dataset fmnist-dim --generator "$generator"
# Each device decides per file: held, or not held because it does not fit the budget or because its mixing rule
# gives it no share at the shard bytes the budget leaves beside it (docs/generators.md, "Generators on the fleet").
deadline=$((SECONDS + 120))
for device in "${devices[@]}"; do
    until python3 - "$fleet_dir/$device/sync-state.json" "$device" <<'PY' 2>/dev/null
import json, sys
state = json.load(open(sys.argv[1]))
held = {k.lower(): v for k, v in state["datasets"]["fmnist-dim"].items()}
files = {s["id"]: s["name"] for s in held["signed"]["manifest"]["shards"]}
decided = {s["id"]: s["precision"] for s in held["shards"]}
if set(decided) != set(files):
    sys.exit(1)
print(f'{sys.argv[2]:<10} generator: ' + ", ".join(f'{files[i]} {"held" if decided[i] != "dropped" else "not held"}' for i in sorted(files)))
PY
    do
        if ((SECONDS > deadline)); then echo "demo: $device did not settle the generator within 120 s" >&2; exit 1; fi
        sleep 1
    done
done

echo
echo "== Push the shards to the fleet as layers: each device pulls the prefix its budget keeps"
coordinator publish --broker "$broker" --fleet demo --key "$fleet_dir/coordinator.pem" --db "$fleet_dir/fleet.db" \
    --dataset fmnist --shards "$shards"

echo
echo "== Each device fine-tunes offline on what it holds (waiting for both reports)"
deadline=$((SECONDS + 240))
for device in "${devices[@]}"; do
    until grep -q '"completed": true' "$fleet_dir/$device/fine-tune/last-run.json" 2>/dev/null; do
        if ((SECONDS > deadline)); then
            echo "demo: $device has not fine-tuned within 240 s; its log:" >&2
            tail -20 "$fleet_dir/$device.log" >&2
            exit 1
        fi
        sleep 1
    done
done

echo
echo "== Each device's model on the Fashion-MNIST test set (10,000 images, through ONNX Runtime)"
printf '%-10s %12s %12s %12s %14s %9s %10s %10s %18s %14s\n' device quota budget "bytes kept" "bytes received" "mean bits" samples generated "held-out accuracy" "test accuracy"
for i in 0 1; do
    device=${devices[$i]}
    report="$fleet_dir/$device/fine-tune/last-run.json"
    test_accuracy=$(dq eval --model "$fleet_dir/$device/model/classifier.onnx" --input fashion-mnist:test | awk '/^accuracy:/ { print $2 }')
    python3 - "$report" "$fleet_dir/$device/sync-state.json" "$device" "${quotas[$i]}" "$test_accuracy" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
state = json.load(open(sys.argv[2]))
budget = state.get("budgetBytes") or 0
fmnist = state["datasets"]["fmnist"]
layers = fmnist.get("layersApplied", 0)
# What the device keeps of the dataset (its shard and held increments), what the broker sent it for it, and the mean
# bits per pixel over every source sample after its last layer (signed in the manifest).
kept = fmnist.get("layeredBytes", 0)
mean_bits = fmnist["signed"]["manifest"]["shards"][layers - 1]["bitsPerPixel"] if layers else 0
samples = report["trainSamples"] + report["heldOutSamples"]
print(f'{sys.argv[3]:<10} {int(sys.argv[4]):>12,} {budget:>12,} {kept:>12,} {fmnist.get("receivedBytes", 0):>14,} {mean_bits:>9.3f} {samples:>10,} '
      f'{report["generatorSamples"]:>10,} {report["heldOutAccuracy"]:>17.1%} {float(sys.argv[5]):>13.1%}')
entries = fmnist["signed"]["manifest"]["shards"]
prefixes = sorted({s["prefix"]["layers"] for s in entries if "prefix" in s})
print(f'{"":<10} {layers} of {sum("layer" in s for s in entries)} layers applied; the manifest also serves the copies at {prefixes} layers whole')
print(f'{"":<10} what the generator added: {report["generatorSamples"]:,} samples per epoch; {report["message"].split("; generator: ")[-1]}')
PY
done
echo
coordinator status --db "$fleet_dir/fleet.db" || true
