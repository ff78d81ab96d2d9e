"""A layered dataset published in format 3, then the same files in format 4, then in format 6 (the default); a planes
set in format 5, then in format 6: the Python device beside dq-agent."""
import json

import numpy as np
import pytest

import plan
from conftest import DQ, frames, run

FLEET, NAME = "tv", "fv"
PIXELS = 1000 * 784            # conftest's SAMPLES Fashion-MNIST test images
BUDGET = int(1.5 * PIXELS / 8)  # 1.5 bpp of the set
QUOTA = 64 << 20
DEVICES = ("pv", "av")         # the Python device, the real agent
HELD = {2: 2, 3: 2, 4: 3, 5: 3, 6: 4}  # held increments version by manifest format (protocol.md §7, "Versions")


def settled(env, fleet, name, dev, version, k):
    def done():
        x = env.dataset_state(fleet, dev, name)
        return x if x and x["manifestVersion"] == version and x["complete"] and x["layers"] == k else None
    return env.w.wait(done, 40, f"{dev} to hold {k} layers of version {version}")


def expected_fetch(m, shared, k, name):
    """Frames the spec has a device holding `shared` layers fetch to reach k (§7 "Prefixes", §8): the cheapest
    prefix above what it holds, if one saves bytes, then the layers after it, each once."""
    p = plan.choose_prefix(m, shared, k, set())
    lays = plan.layers_of(m)
    files = (list(plan.prefixes_of(m)[p]) + lays[p:k]) if p else lays[shared:k]
    return frames(files, m["chunkSize"], name), p


@pytest.fixture(scope="module")
def small(env):
    """200 of the images with embedded codes: the whole set is cheap to hold."""
    x, y = np.load(env.dir / "X.npy")[:200], np.load(env.dir / "Y.npy")[:200]
    np.save(env.dir / "Xs.npy", x)
    np.save(env.dir / "Ys.npy", y)
    out = env.dir / "emb-small"
    run(DQ + ["quantize", "--input", f"npy:{env.dir / 'Xs.npy'},{env.dir / 'Ys.npy'}", "--budget", "8bpp",
              "--codes", "embedded", "--out", str(out)])
    return out


def carry(env, fleet, name, shards, budget, devices, protocols=("3", "4", None)):
    """Publishes `shards` under each `--protocol` in turn (None: the default, format 6; "3" gives format 2 when the
    coordinator serves no prefix); both devices must hold the same bytes after each, having received what the spec
    fetches. Returns the figures."""
    env.serve(fleet, budget)
    for dev in devices:
        (env.agent if dev.startswith("a") else env.py_device)(fleet, dev, QUOTA)
    env.wait_applied(fleet, devices, budget)
    steps = []
    for version, protocol in enumerate(protocols, 1):
        old = steps[-1] if steps else None
        env.publish(fleet, name, shards, ["--protocol", protocol] if protocol else [])
        m = json.loads(env.w.last[f"dq/v1/{fleet}/datasets/{name}/manifest"])["manifest"]
        lays, k = plan.layers_of(m), plan.layer_count(m, min(budget, plan.full_size(m)))
        shared = 0
        if old:
            # The layers both versions list alike are kept (§7); the rest is fetched, by the cheapest route.
            while shared < min(old["k"], len(lays)) and all(
                    old["layers"][shared][f] == lays[shared][f] for f in ("name", "sha256")):
                shared += 1
        rx, p = expected_fetch(m, shared, k, name)
        got = {dev: settled(env, fleet, name, dev, version, k) for dev in devices}
        files = env.held(devices[0], name)
        assert files == env.held(devices[1], name) and sorted(files) == [f"{name}.dqh", f"{name}.dqs"]
        # Held increments version 4 in format 6, 3 in formats 4 and 5, 2 in formats 2 and 3 (format.md §13).
        assert files[f"{name}.dqh"][4:6] == bytes([HELD[m["format"]], 0]), m["format"]
        assert sum(map(len, files.values())) == lays[k - 1]["layer"]["heldBytesAfter"]
        for dev in devices:
            assert got[dev]["receivedBytes"] == rx, (dev, got[dev]["receivedBytes"], rx)
        steps.append({"format": m["format"], "layers": lays, "k": k, "shared": shared, "prefix": p, "rx": rx,
                      "files": files})
    for st in steps:
        print(f"\n{name}: format {st['format']}: {st['shared']} layers kept, {st['k']} held, prefix {st['prefix']}, "
              f"{sum(map(len, st['files'].values()))} bytes held, received {st['rx']}")
    return steps


def test_format3_copy_carried_into_format4_then_6(env):
    """At 1.5 bpp the layer ending at the budget ends elsewhere in format 4, whose held sizes are smaller, and again
    in format 6: the layers before it are kept (their held increments rewritten), the rest fetched again."""
    steps = carry(env, FLEET, NAME, env.dir / "emb", BUDGET, DEVICES)
    assert [st["format"] for st in steps] == [3, 4, 6]
    assert 0 < steps[1]["shared"] < steps[0]["k"]
    assert 0 < steps[2]["shared"] <= steps[1]["k"]


def test_whole_set_rewrites_its_held_increments_and_fetches_nothing(env, small):
    """A budget above the set's size cuts no layer at a budget: every layer is the same file in both versions, so
    the device only rewrites its held increments (§7, "Versions": a local rewrite, nothing fetched)."""
    steps = carry(env, "tw", "sw", small, 4 << 20, ("pw", "aw"))
    for old, new in zip(steps, steps[1:]):
        assert new["shared"] == old["k"] == new["k"] == len(new["layers"])
        assert new["rx"] == 0 and new["files"]["sw.dqs"] == old["files"]["sw.dqs"]
        assert new["files"]["sw.dqh"] != old["files"]["sw.dqh"]


def test_planes_format5_copy_carried_into_format6(env, planes):
    """`--protocol 5` still publishes a planes set in format 5 (layers of version 4, held increments version 3); the
    default republish is format 6, whose layers are of version 5: no layer file is the same, so the copy is taken
    again by the cheapest route (§7, "Versions"); both devices hold the same bytes after each."""
    steps = carry(env, "t5", "q5", planes, BUDGET, ("p5", "a5"), ("5", None))
    assert [st["format"] for st in steps] == [5, 6]
    assert steps[1]["shared"] == 0 and steps[1]["rx"] > 0
