"""A layered dataset through a budget sequence: the Python device beside the real dq-agent, byte for byte."""
import json
import shutil
import struct

import pytest

import plan
from conftest import frames
from dqs_py import dqs

FLEET, NAME = "tl", "fm"
PIXELS = 1000 * 784            # conftest's SAMPLES Fashion-MNIST test images
BPP = lambda x: int(x * PIXELS / 8)  # noqa: E731  a budget of x bits per pixel of the set
QUOTA = 64 << 20               # far above every budget: serve's cap decides it
DEVICES = ("pl", "al")         # the Python device, the real agent
SMALL = ["--device-board", "late-*=small", "--board-cap", f"small={BPP(0.75)}B"]
LATE = ("late-pn", "late-an")  # the same, joining after the publish under a smaller cap


def wait_holding(env, dev, budget_version, k, fleet=FLEET, name=NAME):
    def done():
        st = env.state(fleet, dev) or {}
        x = env.dataset_state(fleet, dev, name)
        return x if st.get("budgetVersion", 0) >= budget_version and x and x["complete"] and x["layers"] == k else None
    return env.w.wait(done, 40, f"{dev} to hold {k} layers under budget v{budget_version}: {env.procs.log(dev)[-3000:]}")


def same_copy(env, py, agent, step, name=NAME):
    """The Python device holds exactly the agent's {name}.dqs and {name}.dqh, and nothing else; returns their size."""
    mine, theirs = env.held(py, name), env.held(agent, name)
    assert sorted(mine) == [f"{name}.dqh", f"{name}.dqs"], sorted(mine)
    assert sorted(theirs) == sorted(mine), sorted(theirs)
    for f in mine:
        assert mine[f] == theirs[f], f"step {step}: {py}'s {f} differs from {agent}'s"
    return sum(map(len, mine.values()))


def test_budget_sequence_rise_beyond_the_prefix_then_drop(env):
    budgets = [BPP(1), BPP(2), BPP(0.5)]
    serve = env.serve(FLEET, budgets[0], log=f"serve-{FLEET}-0", extra=SMALL)
    env.py_device(FLEET, "pl", QUOTA)
    env.agent(FLEET, "al", QUOTA)
    env.wait_applied(FLEET, DEVICES, budgets[0])
    # Published once the fleet applies the first budget: the coordinator ends a layer there and serves its prefix.
    env.publish(FLEET, NAME, env.dir / "emb")  # no --protocol: format 6, held increments version 4
    m = json.loads(env.w.last[f"dq/v1/{FLEET}/datasets/{NAME}/manifest"])["manifest"]
    assert m["format"] == 6
    lays, prefixes = plan.layers_of(m), plan.prefixes_of(m)
    ks = [plan.layer_count(m, min(b, plan.full_size(m))) for b in budgets]
    assert list(prefixes) == [ks[0]] and ks[1] > ks[0] > ks[2] > 0, (ks, list(prefixes))
    # A pair that joins after the publish under a board cap of 0.75 bpp (dq-agent refuses a quota under 1 MiB):
    # no prefix ends at or below its target, so it takes layers from none.
    k_late = plan.layer_count(m, BPP(0.75))
    assert k_late < min(prefixes)
    env.py_device(FLEET, "late-pn", QUOTA)
    env.agent(FLEET, "late-an", QUOTA)
    before = {dev: 0 for dev in DEVICES}
    kept = {}
    report = []
    for i, (budget, k) in enumerate(zip(budgets, ks)):
        if i:
            env.procs.stop(serve)
            serve = env.serve(FLEET, budget, log=f"serve-{FLEET}-{i}", extra=SMALL)
        got = {dev: wait_holding(env, dev, i + 1, k) for dev in DEVICES}
        size = same_copy(env, "pl", "al", i)
        assert size == lays[k - 1]["layer"]["heldBytesAfter"] <= budget
        assert env.held("pl", NAME)[f"{NAME}.dqh"][4:6] == b"\x04\x00"
        for dev in DEVICES:
            rx = got[dev]["receivedBytes"] - before[dev]
            report.append((i, budget, dev, k, size, got[dev]["receivedBytes"], rx))
            if i == 0:
                # The prefix alone, served whole (protocol.md §7, "Prefixes").
                assert rx == frames(prefixes[k], m["chunkSize"], NAME), (dev, rx)
            elif k > ks[i - 1]:
                # Layers ks[i-1]..k-1 and nothing else, each once, with its frame headers (40 + len(name) bytes a
                # chunk). Beyond the planes, which the shard's payload grows by exactly (784 px x w bits is whole
                # bytes), a layer file carries its header and checksum (36 + 8C + 4 bytes) and per increment at most
                # 7 bytes (gap <= 2 below 16,384 samples, from/to 1, label 1 on a new sample, pair 3), format.md §13;
                # the shard's index and the held increments grow too, so that is an upper bound of the surplus.
                new = lays[ks[i - 1]:k]
                added = size - kept[dev]
                assert rx == frames(new, m["chunkSize"], NAME), (dev, rx)
                surplus = rx - added
                bound = sum(48 + 7 * e["layer"]["incrementCount"] for e in new) \
                    + frames(new, m["chunkSize"], NAME) \
                    - sum(e["size"] for e in new)
                assert 0 < surplus <= bound, (dev, rx, added, bound)
            else:
                assert rx == 0, f"{dev} downloaded {rx} bytes for a budget drop"
            before[dev], kept[dev] = got[dev]["receivedBytes"], size
        if i == 0:
            late = {dev: wait_holding(env, dev, 1, k_late) for dev in LATE}
            size = same_copy(env, *LATE, i)
            for dev in LATE:
                report.append((i, BPP(0.75), dev, k_late, size, late[dev]["receivedBytes"], None))
                # Its layers and nothing else: the retained manifest arrives before serve has answered the device's
                # first state with a budget, and a device that never applied one waits for it before pulling (§7),
                # rather than fetching the prefix its quota alone would keep.
                assert late[dev]["receivedBytes"] == frames(lays[:k_late], m["chunkSize"], NAME), dev
    # Start-up opens the copy from flash (its held increments are the truth, protocol.md §9) and fetches nothing.
    restart_fetches_nothing(env, FLEET, "pl", NAME, ks[-1], before["pl"])
    print("\nstep budget device layers held received(total) received(step)")
    for row in report:
        print(*row)


# A planes set as published by default (protocol version 6: layers of version 5, held increments version 4) and with
# `--protocol 5` (format 5: layers of version 4, held increments version 3): per protocol, the fleet, the dataset,
# the Python device and the real agent, the manifest's format, the layers' first bytes and the held increments'
# version.
PLANES_RUNS = {
    "6": ("tp", "pf", ("pp", "ap"), 6, b"DQL5\x05\x00", 4),
    "5": ("tp5", "pf5", ("pp5", "ap5"), 5, b"DQL4\x04\x00", 3),
}


def cut_of(held, full):
    """Every sample the copy holds is the published planes shard's, its segments cut to its planes (format.md §13,
    versions 4 and 5): same label and grid, and the first k segments byte for byte. Returns the planes held."""
    assert held.codec == full.codec == 2 and held.N <= full.N and (held.source_count, held.shard_count) == (full.N, 1)
    assert (held.model == full.model).all()
    for i in range(held.N):
        k = int(held.widths[i])
        assert (held.labels[i], held.thresholds[i], held.step_codes[i]) == (
            full.labels[i], full.thresholds[i], full.step_codes[i]), i
        assert held.segment_lengths[i] == full.segment_lengths[i][:k], i
        o, f = int(held.offsets[i]), int(full.offsets[i])
        n = sum(held.segment_lengths[i])
        assert held.payload[o: o + n] == full.payload[f: f + n], i
    return int(held.widths.sum())


@pytest.mark.parametrize("protocol", list(PLANES_RUNS))
def test_planes_budget_sequence_rise_then_drop(env, planes, protocol):
    """Format 6 (protocol.md §3, §7): a planes set published as layers of version 5; with `--protocol 5`, format 5
    and layers of version 4. The rise appends segments, the drop cuts them; at every step both devices hold the
    published shard cut to the prefix, byte for byte."""
    fleet, name, devices, fmt, magic, held_version = PLANES_RUNS[protocol]
    py, agent = devices
    shards = planes
    if protocol != "6":  # the same shards and order in a folder of their own, so each publish has its layers
        shards = env.dir / f"planes-p{protocol}"
        shutil.copytree(planes, shards, ignore=shutil.ignore_patterns("layers"))
    budgets = [BPP(1), BPP(2), BPP(0.5)]
    serve = env.serve(fleet, budgets[0], log=f"serve-{fleet}-0")
    env.py_device(fleet, py, QUOTA)
    env.agent(fleet, agent, QUOTA)
    env.wait_applied(fleet, devices, budgets[0])
    out = env.publish(fleet, name, shards, [] if protocol == "6" else ["--protocol", protocol])
    m = json.loads(env.w.last[f"dq/v1/{fleet}/datasets/{name}/manifest"])["manifest"]
    assert m["format"] == fmt, out
    lays, prefixes = plan.layers_of(m), plan.prefixes_of(m)
    layer_dir = shards / "layers" / f"v{m['version']}"
    assert all((layer_dir / e["name"]).read_bytes()[:6] == magic for e in lays)
    full = dqs.read_shard(next(shards.glob("*-00000.dqs")))
    assert full.codec == 2 and full.N == 1000
    ks = [plan.layer_count(m, min(b, plan.full_size(m))) for b in budgets]
    assert list(prefixes) == [ks[0]] and ks[1] > ks[0] > ks[2] > 0, (ks, list(prefixes))
    before, kept, report, planes_held = {dev: 0 for dev in devices}, {}, [], []
    for i, (budget, k) in enumerate(zip(budgets, ks)):
        if i:
            env.procs.stop(serve)
            serve = env.serve(fleet, budget, log=f"serve-{fleet}-{i}")
        got = {dev: wait_holding(env, dev, i + 1, k, fleet, name) for dev in devices}
        size = same_copy(env, py, agent, i, name)
        assert size == lays[k - 1]["layer"]["heldBytesAfter"] <= budget
        copy = env.held(py, name)
        held = dqs.read_shard(f"{py}/{name}.dqs", copy[f"{name}.dqs"])
        planes_held.append(cut_of(held, full))
        # held increments of the version the format counts, widths = plane counts
        assert copy[f"{name}.dqh"][4:6] == struct.pack("<H", held_version)
        if i == 0:
            shard, dqh = prefixes[k]
            assert copy[f"{name}.dqs"] == (layer_dir / shard["name"]).read_bytes()
            assert copy[f"{name}.dqh"] == (layer_dir / dqh["name"]).read_bytes()
        for dev in devices:
            rx = got[dev]["receivedBytes"] - before[dev]
            report.append((i, budget, dev, k, size, got[dev]["receivedBytes"], rx))
            if i == 0:
                assert rx == frames(prefixes[k], m["chunkSize"], name), (dev, rx)
            elif k > ks[i - 1]:
                assert rx == frames(lays[ks[i - 1]:k], m["chunkSize"], name), (dev, rx)
            else:
                assert rx == 0, f"{dev} downloaded {rx} bytes for a budget drop"
            before[dev], kept[dev] = got[dev]["receivedBytes"], size
    assert planes_held[1] > planes_held[0] > planes_held[2], planes_held
    # Start-up opens the codec 2 copy from flash and fetches nothing.
    restart_fetches_nothing(env, fleet, py, name, ks[-1], before[py])
    for proc, p in env.procs.started:
        if proc in devices or proc.startswith(f"serve-{fleet}"):
            env.procs.stop(p)
    print("\nstep budget device layers held received(total) received(step)")
    for row in report:
        print(*row)


def restart_fetches_nothing(env, fleet, dev, name, layers, received):
    """Stops the Python device `dev` and starts it again: it must come back holding the same copy of `layers` layers,
    complete, having received nothing more than `received` bytes."""
    py, last = next(p for n, p in env.procs.started if n == dev), env.held(dev, name)
    env.procs.stop(py)
    env.w.wait(lambda: (env.state(fleet, dev) or {}).get("status") == "offline", 10, f"{dev} offline")
    env.py_device(fleet, dev, QUOTA)
    again = env.w.wait(lambda: (env.state(fleet, dev) or {}).get("status") == "online"
                       and env.dataset_state(fleet, dev, name), 20, f"{dev} back online")
    assert again["complete"] and again["layers"] == layers and again["receivedBytes"] == received
    assert env.held(dev, name) == last
