"""A generator beside a format 1 dataset under budgets: the Python device beside the real dq-agent, file for file."""
import json
import math

import pytest

from conftest import DQ, frames, run
from generator import MANIFEST, NONE, WHOLE

FLEET, GEN, DATA = "tg", "gen", "fg"
QUOTA = 64 << 20               # far above every budget: serve's cap decides it
DEVICES = ("pg", "ag")         # the Python device, the real agent
NEAR, FAR = 50_000, 200_000    # the mixing rule: half synthetic near 50 kB of shards, none near 200 kB
CHUNK = 131072


@pytest.fixture(scope="module")
def generator(env):
    """A small linear generator (`dq generator fit`), labelled `dim` as publish requires, with a mixing rule that
    gives 0 beside the whole set and 0.5 beside a quarter of it."""
    out = env.dir / "gen"
    out.mkdir()
    run(DQ + ["generator", "fit", "--input", "fashion-mnist:test", "--limit", "1000", "--basis-samples", "1000",
              "--out", str(out / "G.onnx")])
    doc = json.loads((out / "G.json").read_text())
    doc["kind"] = "dim"
    doc["mixing"] = [{"shardBytes": NEAR, "ratio": 0.5}, {"shardBytes": FAR, "ratio": 0}]
    (out / "G.json").write_text(json.dumps(doc, indent=2))
    return out


def settled(env, dev, budget_version, want_gen, received):
    """Both datasets complete under the budget version with at least `received` frame bytes in (per dataset), the
    generator's folder holding exactly `want_gen`."""
    def done():
        st = env.state(FLEET, dev) or {}
        if st.get("budgetVersion", 0) < budget_version:
            return None
        for name in (GEN, DATA):
            x = env.dataset_state(FLEET, dev, name)
            if not (x and x["complete"] and x["receivedBytes"] >= received[name]):
                return None
        return st if sorted(env.held(dev, GEN)) == sorted(want_gen) else None
    return env.w.wait(done, 40, f"{dev} to settle under budget v{budget_version}")


def test_generator_whole_manifest_only_dropped_and_whole_again(env, generator):
    gsize = sum(p.stat().st_size for p in generator.iterdir())
    full = sum(p.stat().st_size for p in (env.dir / "plain").iterdir())
    # The rule's two entries meet at their geometric mean (100 kB); the dropped step is under the generator.
    assert 60_000 < math.sqrt(NEAR * FAR) < full and full * 3 // 4 < gsize
    # 60 kB beside the generator is nearest 50 kB on a log scale: share 0.5, held whole, the shards shrunk to
    # share 60 kB. The whole set beside it is nearest 200 kB: 0, so only G.json is held and the shards are
    # fetched again at full size. Under its own size the generator does not fit: dropped, G.json too, nothing
    # downloaded. Back at 60 kB beside it, it is pulled whole again.
    budgets = [gsize + 60_000, gsize + full + 1_000, full * 3 // 4, gsize + 60_000]
    modes = [WHOLE, MANIFEST, NONE, WHOLE]
    serve = env.serve(FLEET, budgets[0], log=f"serve-{FLEET}-0")
    env.py_device(FLEET, "pg", QUOTA)
    env.agent(FLEET, "ag", QUOTA)
    env.wait_applied(FLEET, DEVICES, budgets[0])
    run(env.publish_args(FLEET, GEN) + ["--generator", str(generator / "G.onnx")])
    env.publish(FLEET, DATA, env.dir / "plain")
    ms = {n: json.loads(env.w.last[f"dq/v1/{FLEET}/datasets/{n}/manifest"]) for n in (GEN, DATA)}
    gm, dm = ms[GEN]["manifest"], ms[DATA]["manifest"]
    assert gm["kind"] == "generator" and [e["name"] for e in gm["shards"]] == ["G.onnx", "G.json"]
    assert {e["size"] for e in gm["shards"]} == {p.stat().st_size for p in generator.iterdir()}
    before = {(dev, n): 0 for dev in DEVICES for n in (GEN, DATA)}
    report = []
    for i, (budget, mode) in enumerate(zip(budgets, modes)):
        if i:
            env.procs.stop(serve)
            serve = env.serve(FLEET, budget, log=f"serve-{FLEET}-{i}")
        want = {WHOLE: ["G.json", "G.onnx"], MANIFEST: ["G.json"], NONE: []}[mode]
        # What each step fetches (protocol.md §7, §8): the publish broadcasts both once; G.json alone keeps the
        # set whole, so every shrunk shard is fetched again; a drop fetches nothing; the generator held whole
        # again is pulled, both files (G.json went with it).
        expect = [{GEN: frames(gm["shards"], CHUNK, GEN), DATA: frames(dm["shards"], CHUNK, DATA)},
                  {GEN: 0, DATA: frames(dm["shards"], CHUNK, DATA)}, {GEN: 0, DATA: 0},
                  {GEN: frames(gm["shards"], CHUNK, GEN), DATA: 0}][i]
        st = {dev: settled(env, dev, i + 1, want, {n: before[dev, n] + expect[n] for n in expect}) for dev in DEVICES}
        left = budget - {WHOLE: gsize, MANIFEST: gsize - len(env.held("pg", GEN).get("G.json", b"")),
                         NONE: 0}[mode]
        for name in (GEN, DATA):
            assert env.held("pg", name) == env.held("ag", name), (i, name)
        assert st["pg"]["heldBytes"] == st["ag"]["heldBytes"] <= budget
        gen = {dev: env.dataset_state(FLEET, dev, GEN) for dev in DEVICES}
        # The same entries; their order in a report is not part of the protocol (a device lists files as they land).
        by_id = {dev: sorted(gen[dev]["shards"], key=lambda e: e["id"]) for dev in DEVICES}
        assert by_id["pg"] == by_id["ag"], (i, gen)
        for dev in DEVICES:
            for name in (GEN, DATA):
                rx = env.dataset_state(FLEET, dev, name)["receivedBytes"] - before[dev, name]
                assert rx == expect[name], (i, dev, name, rx, expect[name])
                before[dev, name] += rx
            report.append((i, budget, mode, dev, st[dev]["heldBytes"], sorted(env.held(dev, GEN)),
                           sum(map(len, env.held(dev, DATA).values())), gen[dev]["shards"]))
        shards = sum(map(len, env.held("pg", DATA).values()))
        assert shards == full if mode == MANIFEST else shards <= min(left, full)
    print("\nstep budget mode device held generator-files shard-bytes generator-state")
    for row in report:
        print(*row)
