"""A layered dataset through a budget sequence: the Python device beside the real dq-agent, byte for byte."""
import json

import plan
from conftest import frames

FLEET, NAME = "tl", "fm"
PIXELS = 1000 * 784            # conftest's SAMPLES Fashion-MNIST test images
BPP = lambda x: int(x * PIXELS / 8)  # noqa: E731  a budget of x bits per pixel of the set
QUOTA = 64 << 20               # far above every budget: serve's cap decides it
DEVICES = ("pl", "al")         # the Python device, the real agent
SMALL = ["--device-board", "late-*=small", "--board-cap", f"small={BPP(0.75)}B"]
LATE = ("late-pn", "late-an")  # the same, joining after the publish under a smaller cap


def wait_holding(env, dev, budget_version, k):
    def done():
        st = env.state(FLEET, dev) or {}
        x = env.dataset_state(FLEET, dev, NAME)
        return x if st.get("budgetVersion", 0) >= budget_version and x and x["complete"] and x["layers"] == k else None
    return env.w.wait(done, 40, f"{dev} to hold {k} layers under budget v{budget_version}: {env.procs.log(dev)[-3000:]}")


def same_copy(env, py, agent, step):
    """The Python device holds exactly the agent's {name}.dqs and {name}.dqh, and nothing else; returns their size."""
    mine, theirs = env.held(py, NAME), env.held(agent, NAME)
    assert sorted(mine) == [f"{NAME}.dqh", f"{NAME}.dqs"], sorted(mine)
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
    env.publish(FLEET, NAME, env.dir / "emb")
    m = json.loads(env.w.last[f"dq/v1/{FLEET}/datasets/{NAME}/manifest"])["manifest"]
    assert m["format"] == 4
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
    py, last = next(p for name, p in env.procs.started if name == "pl"), env.held("pl", NAME)
    env.procs.stop(py)
    env.w.wait(lambda: (env.state(FLEET, "pl") or {}).get("status") == "offline", 10, "pl offline")
    env.py_device(FLEET, "pl", QUOTA)
    again = env.w.wait(lambda: (env.state(FLEET, "pl") or {}).get("status") == "online"
                       and env.dataset_state(FLEET, "pl", NAME), 20, "pl back online")
    assert again["complete"] and again["layers"] == ks[-1] and again["receivedBytes"] == before["pl"]
    assert env.held("pl", NAME) == last
    print("\nstep budget device layers held received(total) received(step)")
    for row in report:
        print(*row)
