"""A layered dataset through a budget sequence: the Python device beside the real dq-agent, byte for byte."""
import json
import math

import plan

FLEET, NAME = "tl", "fm"
PIXELS = 1000 * 784            # conftest's SAMPLES Fashion-MNIST test images
BPP = lambda x: int(x * PIXELS / 8)  # noqa: E731  a budget of x bits per pixel of the set
QUOTA = 64 << 20               # far above every budget: serve's cap decides it
DEVICES = ("pl", "al")         # the Python device, the real agent


def held(env, dev):
    folder = env.dir / dev / "datasets" / NAME
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def frames(entries, chunk_size):
    """What pulling these files whole costs on the wire: each chunk's payload plus its 40-byte header and name."""
    return sum(e["size"] + math.ceil(e["size"] / chunk_size) * (40 + len(NAME)) for e in entries)


def wait_holding(env, dev, budget_version, k):
    def done():
        st = env.state(FLEET, dev) or {}
        x = env.dataset_state(FLEET, dev, NAME)
        return x if st.get("budgetVersion", 0) >= budget_version and x and x["complete"] and x["layers"] == k else None
    return env.w.wait(done, 40, f"{dev} to hold {k} layers under budget v{budget_version}: {env.procs.log(dev)[-3000:]}")


def test_budget_sequence_rise_beyond_the_prefix_then_drop(env):
    budgets = [BPP(1), BPP(2), BPP(0.5)]
    serve = env.serve(FLEET, budgets[0], log=f"serve-{FLEET}-0")
    env.py_device(FLEET, "pl", QUOTA)
    env.agent(FLEET, "al", QUOTA)
    for dev in DEVICES:
        env.w.wait(lambda: (env.w.json(f"dq/v1/{FLEET}/devices/{dev}/budget/reported") or {}).get("budgetBytes")
                   == budgets[0], 30, f"{dev} to apply {budgets[0]}")
    # Published once the fleet applies the first budget: the coordinator ends a layer there and serves its prefix.
    env.publish(FLEET, NAME, env.dir / "emb")
    m = json.loads(env.w.last[f"dq/v1/{FLEET}/datasets/{NAME}/manifest"])["manifest"]
    assert m["format"] == 4
    lays, prefixes = plan.layers_of(m), plan.prefixes_of(m)
    ks = [plan.layer_count(m, min(b, plan.full_size(m))) for b in budgets]
    assert list(prefixes) == [ks[0]] and ks[1] > ks[0] > ks[2] > 0, (ks, list(prefixes))
    before = {dev: 0 for dev in DEVICES}
    kept = {}
    report = []
    for i, (budget, k) in enumerate(zip(budgets, ks)):
        if i:
            env.procs.stop(serve)
            serve = env.serve(FLEET, budget, log=f"serve-{FLEET}-{i}")
        got = {dev: wait_holding(env, dev, i + 1, k) for dev in DEVICES}
        files = {dev: held(env, dev) for dev in DEVICES}
        assert sorted(files["pl"]) == [f"{NAME}.dqh", f"{NAME}.dqs"], sorted(files["pl"])
        for f in (f"{NAME}.dqs", f"{NAME}.dqh"):
            assert files["pl"][f] == files["al"][f], f"step {i}: {f} differs from the agent's"
        size = sum(map(len, files["pl"].values()))
        assert size == lays[k - 1]["layer"]["heldBytesAfter"] <= budget
        for dev in DEVICES:
            rx = got[dev]["receivedBytes"] - before[dev]
            report.append((i, budget, dev, k, size, got[dev]["receivedBytes"], rx))
            if i == 0:
                # The prefix alone, served whole (protocol.md §7, "Prefixes").
                assert rx == frames(prefixes[k], m["chunkSize"]), (dev, rx)
            elif k > ks[i - 1]:
                # Layers ks[i-1]..k-1 and nothing else: each once, with its frame headers. A layer file costs more
                # than the bytes it adds (its header, and per entry the sample, widths and pair, §7 "Prefixes":
                # about 4 % on 28x28 images) and the frame headers add 40 + len(name) bytes per chunk.
                added = size - kept[dev]
                assert rx == frames(lays[ks[i - 1]:k], m["chunkSize"]), (dev, rx)
                assert added < rx <= 1.10 * added, (dev, rx, added)
            else:
                assert rx == 0, f"{dev} downloaded {rx} bytes for a budget drop"
            before[dev], kept[dev] = got[dev]["receivedBytes"], size
    print("\nstep budget device layers held received(total) received(step)")
    for row in report:
        print(*row)
