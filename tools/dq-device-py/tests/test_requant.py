"""A format 1 dataset under budgets below its size: the Python device beside the real dq-agent, byte for byte."""
import gzip
import json
import struct

import numpy as np
import pytest

import plan
from conftest import DQ, FMNIST, frames, run

FLEET, NAME = "tq", "fq"
SAMPLES = 1200                  # 4 bpp in 200 KiB shards: two shards above the chunk size, one below it
QUOTA = 64 << 20                # far above every budget: serve's cap decides it
DEVICES = ("pq", "aq")          # the Python device, the real agent
SHARES = (0.45, 0.12, 0.9)      # widths capped; samples dropped; a rise that fetches the large shards again


@pytest.fixture(scope="module")
def shards(env):
    x = np.frombuffer(gzip.open(FMNIST / "t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
    y = np.frombuffer(gzip.open(FMNIST / "t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
    np.save(env.dir / "Xq.npy", x.reshape(-1, 28, 28)[:SAMPLES])
    np.save(env.dir / "Yq.npy", y[:SAMPLES])
    out = env.dir / "plain4"
    run(DQ + ["quantize", "--input", f"npy:{env.dir / 'Xq.npy'},{env.dir / 'Yq.npy'}", "--budget", "4bpp",
              "--shard-size", "200KiB", "--out", str(out)])
    return out


def wait_settled(env, dev, budget_version, received):
    """Complete under the budget version, with at least `received` frame bytes in."""
    def done():
        st = env.state(FLEET, dev) or {}
        x = env.dataset_state(FLEET, dev, NAME)
        return x if (st.get("budgetVersion", 0) >= budget_version and x and x["complete"]
                     and x["receivedBytes"] >= received) else None
    return env.w.wait(done, 40, f"{dev} to settle under budget v{budget_version}: {env.procs.log(dev)[-3000:]}")


def test_format1_shrink_drop_and_rise_match_the_agent(env, shards):
    published = {p.name: p.read_bytes() for p in shards.iterdir()}
    full = sum(map(len, published.values()))
    budgets = [int(full * s) for s in SHARES]
    serve = env.serve(FLEET, budgets[0], log=f"serve-{FLEET}-0")
    env.py_device(FLEET, "pq", QUOTA)
    env.agent(FLEET, "aq", QUOTA)
    env.wait_applied(FLEET, DEVICES, budgets[0])
    env.publish(FLEET, NAME, shards)
    m = json.loads(env.w.last[f"dq/v1/{FLEET}/datasets/{NAME}/manifest"])["manifest"]
    cs, entries = m["chunkSize"], m["shards"]
    assert (m.get("format") or 1) == 1 and len(entries) == 3
    large = [e for e in entries if e["size"] > cs]
    assert len(large) == 2
    before = {dev: 0 for dev in DEVICES}
    report, last = [], {}
    for i, budget in enumerate(budgets):
        if i:
            env.procs.stop(serve)
            serve = env.serve(FLEET, budget, log=f"serve-{FLEET}-{i}")
        targets = plan.targets({NAME: m}, budget)[NAME]
        prev = last.get("pq", {})
        # A rise fetches again, whole, the shards whose target exceeds the coarse copy by a chunk and a tenth of
        # the shard (protocol.md §7); a drop downloads nothing; the publish is a broadcast of every chunk once.
        again = [e for e in entries if e["name"] in prev and
                 targets[e["id"]] - len(prev[e["name"]]) >= max(cs, e["size"] / 10)]
        expect = frames(entries, cs, NAME) if i == 0 else frames(again, cs, NAME)
        got = {dev: wait_settled(env, dev, i + 1, before[dev] + expect) for dev in DEVICES}
        mine, theirs = env.held("pq", NAME), env.held("aq", NAME)
        assert sorted(mine) == sorted(published)
        for f in mine:
            assert mine[f] == theirs[f], f"step {i}: pq's {f} differs from aq's"
        for e in entries:
            size = len(mine[e["name"]])
            assert size <= targets[e["id"]], (i, e["name"], size, targets[e["id"]])
            precision = {s["id"]: s["precision"] for s in got["pq"]["shards"]}[e["id"]]
            assert precision == ("full" if mine[e["name"]] == published[e["name"]] else "requantized")
        kept = sum(map(len, mine.values()))
        assert kept <= budget and env.state(FLEET, "pq")["heldBytes"] == kept
        stored = [struct.unpack_from("<I", mine[e["name"]], 28)[0] for e in entries]
        for dev in DEVICES:
            rx = got[dev]["receivedBytes"] - before[dev]
            report.append((i, budget, dev, kept, stored, got[dev]["receivedBytes"], rx))
            assert rx == expect, (i, dev, rx, expect)
            before[dev] = got[dev]["receivedBytes"]
        if i == 1:
            # Below 1 bit a sample, samples are dropped evenly (protocol.md §7): the shards store fewer.
            assert all(n < struct.unpack_from("<I", published[e["name"]], 28)[0] for n, e in zip(stored, entries))
        if i == 2:
            assert len(again) == 2, "the rise fetches both large shards again"
            small = next(e for e in entries if e not in large)
            assert mine[small["name"]] == prev[small["name"]], "a shard below the chunk size stays coarse"
        last["pq"] = mine
    print("\nstep budget device held samples received(total) received(step)")
    for row in report:
        print(*row)
