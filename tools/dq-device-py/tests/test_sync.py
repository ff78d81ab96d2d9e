"""The Python device against the real coordinator, side by side with the real dq-agent."""
import base64
import os
import signal
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import wire

QUOTA1 = 8 << 20   # budget 4 MiB: the format 1 set fits whole
QUOTA4 = 1 << 20   # budget 512 KiB: about 40 % of the layered set, where the coordinator serves a prefix


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def wait_log(env, dev, text, timeout=15):
    end = time.monotonic() + timeout
    while text not in env.procs.log(dev):
        assert time.monotonic() < end, f"{dev} never logged {text!r}: {env.procs.log(dev)[-2000:]}"
        time.sleep(0.1)


def sign(key_path, m):
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    r, s = decode_dss_signature(key.sign(wire.canonical(m), ec.ECDSA(hashes.SHA256())))
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


@pytest.fixture(scope="module")
def fleet1(env):
    env.serve("t1")
    env.py_device("t1", "p1-live", QUOTA1)
    env.wait_budget("t1", "p1-live")
    env.publish("t1", "plain", env.dir / "plain")
    # Late devices hear no broadcast: they take the retained manifest and pull every chunk.
    env.py_device("t1", "p1-late", QUOTA1)
    env.agent("t1", "a1-late", QUOTA1)
    return env


def test_format1_files_match_the_published_shards_and_the_agent(fleet1):
    env = fleet1
    published = files(env.dir / "plain")
    for dev in ("p1-live", "p1-late", "a1-late"):
        st = env.wait_complete("t1", dev, "plain")
        assert [s["precision"] for s in st["shards"]] == ["full"] * len(published)
        held = files(env.dir / dev / "datasets" / "plain")
        assert held == published, f"{dev} holds other bytes than the coordinator published"
        total = sum(map(len, published.values()))
        # Frame headers only: 40 bytes plus the name per chunk.
        assert total <= st["receivedBytes"] <= total + 64 * len(published), (dev, st["receivedBytes"])
        assert env.state("t1", dev)["heldBytes"] == total
    pulls = [json.loads(p) for t, p in env.w.all if t == "dq/v1/t1/devices/p1-late/pull"]
    assert pulls and all(p["device"] == "p1-late" and p["manifestVersion"] == 1 for p in pulls)
    assert not [t for t, _ in env.w.all if t == "dq/v1/t1/devices/p1-live/pull"], "the broadcast needed no pull"


def test_bad_signature_is_refused_and_holds_nothing(fleet1):
    env = fleet1
    env.wait_complete("t1", "p1-live", "plain")
    signed = json.loads(env.w.last["dq/v1/t1/datasets/plain/manifest"])
    forged = json.loads(json.dumps(signed))
    forged["manifest"]["dataset"] = "forged"
    env.w.publish("dq/v1/t1/datasets/forged/manifest", json.dumps(forged), retain=True)
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    (env.dir / "other.pem").write_bytes(pem)
    forged2 = {"schema": 1, "manifest": dict(signed["manifest"], dataset="forged2"), "keyId": "0" * 16}
    forged2["signature"] = sign(env.dir / "other.pem", forged2["manifest"])
    env.w.publish("dq/v1/t1/datasets/forged2/manifest", json.dumps(forged2), retain=True)
    shard = signed["manifest"]["shards"][0]
    data = (env.dir / "plain" / shard["name"]).read_bytes()
    for name in ("forged", "forged2"):
        env.w.publish("dq/v1/t1/devices/p1-live/chunks", wire.build_frame(name, 1, 0, 0, data, repair=True))
    wait_log(env, "p1-live", "dataset 'forged' version 1: signature does not verify")
    wait_log(env, "p1-live", "dataset 'forged2' version 1: signature does not verify")
    time.sleep(0.5)
    for name in ("forged", "forged2"):
        assert env.dataset_state("t1", "p1-live", name) is None
        assert not (env.dir / "p1-live" / "datasets" / name).exists()
    assert files(env.dir / "p1-live" / "datasets" / "plain") == files(env.dir / "plain")


def test_unknown_format_is_refused_and_nothing_held_is_lost(fleet1):
    env = fleet1
    for dev in ("p1-live", "a1-late"):
        env.wait_complete("t1", dev, "plain")
    signed = json.loads(env.w.last["dq/v1/t1/datasets/plain/manifest"])
    m = dict(signed["manifest"], version=2, format=7)
    doc = {"schema": 1, "manifest": m, "keyId": signed["keyId"], "signature": sign(env.key, m)}
    env.w.publish("dq/v1/t1/datasets/plain/manifest", json.dumps(doc), retain=True)
    # Each device names the formats it reads, as protocol.md §7 ("Versions") words it.
    line = "dataset 'plain' version 2: manifest format 7 is not supported (this device reads formats 1 to 6)"
    wait_log(env, "p1-live", line)
    wait_log(env, "a1-late", line)
    for dev in ("p1-live", "a1-late"):
        assert files(env.dir / dev / "datasets" / "plain") == files(env.dir / "plain")
        assert env.dataset_state("t1", dev, "plain")["manifestVersion"] == 1


@pytest.fixture(scope="module")
def fleet4(env):
    env.serve("t4")
    env.py_device("t4", "p4", QUOTA4)
    env.agent("t4", "a4", QUOTA4)
    for dev in ("p4", "a4"):
        env.wait_budget("t4", dev)
    # Format 4 (held increments version 3) by --protocol 4: test_layers.py takes the default, format 6.
    out = env.publish("t4", "emb", env.dir / "emb", ["--protocol", "4"])
    assert "prefix" in out
    return env


def test_format4_prefix_matches_the_agent_byte_for_byte(fleet4):
    env = fleet4
    agent = env.wait_complete("t4", "a4", "emb")
    mine = env.wait_complete("t4", "p4", "emb")
    assert mine["layers"] == agent["layers"] > 0
    held = files(env.dir / "p4" / "datasets" / "emb")
    assert sorted(held) == ["emb.dqh", "emb.dqs"]
    assert held == files(env.dir / "a4" / "datasets" / "emb")
    signed = json.loads(env.w.last["dq/v1/t4/datasets/emb/manifest"])
    m = signed["manifest"]
    assert m["format"] == 4 and held["emb.dqh"][4:6] == b"\x03\x00"  # held increments version 3
    pre = [s for s in m["shards"] if (s.get("prefix") or {}).get("layers") == mine["layers"]]
    layers_dir = env.dir / "emb" / "layers" / f"v{m['version']}"
    assert held["emb.dqs"] == (layers_dir / pre[0]["name"]).read_bytes()
    assert held["emb.dqh"] == (layers_dir / pre[1]["name"]).read_bytes()
    kept = len(held["emb.dqs"]) + len(held["emb.dqh"])
    assert env.state("t4", "p4")["heldBytes"] == kept <= 512 << 10
    assert kept <= mine["receivedBytes"] <= kept * 1.01
    n_layers = sum(1 for s in m["shards"] if s.get("prefix") is None)
    pulled = [s["id"] for t, p in env.w.all if t == "dq/v1/t4/devices/p4/pull" for s in json.loads(p)["shards"]]
    assert pulled and all(i >= n_layers for i in pulled), "a device at a prefix's budget pulls no layer"


def test_interrupted_prefix_install_is_finished_on_start_up(fleet4):
    """protocol.md §9: a cut after the prefix's shard was renamed over {name}.dqs and before its held increments
    were renamed over {name}.dqh. Made by hand on a stopped device: the renames are finished, nothing is fetched."""
    env = fleet4
    m = json.loads(env.w.last["dq/v1/t4/datasets/emb/manifest"])["manifest"]
    layers_dir = env.dir / "emb" / "layers" / f"v{m['version']}"
    for dev in ("p4", "a4"):
        st = env.wait_complete("t4", dev, "emb")
        shard, held = [s for s in m["shards"] if (s.get("prefix") or {}).get("layers") == st["layers"]]
        folder = env.dir / dev / "datasets" / "emb"
        proc = [p for name, p in env.procs.started if name == dev][-1]
        env.procs.stop(proc)
        env.w.wait(lambda: (env.state("t4", dev) or {}).get("status") == "offline", 10, f"{dev} offline")
        assert (folder / "emb.dqs").read_bytes() == (layers_dir / shard["name"]).read_bytes()
        (folder / "emb.dqh").rename(folder / held["name"])
        (env.py_device if dev == "p4" else env.agent)("t4", dev, QUOTA4)
        # A device that took the dataset again would be complete only after fetching: receivedBytes tells.
        again = env.w.wait(lambda: (env.state("t4", dev) or {}).get("status") == "online"
                           and (env.dataset_state("t4", dev, "emb") or {}).get("complete")
                           and env.dataset_state("t4", dev, "emb"), 20, f"{dev} back online")
        assert again["layers"] == st["layers"], (dev, again)
        assert again["receivedBytes"] == st["receivedBytes"], (dev, again["receivedBytes"], st["receivedBytes"])
        assert files(folder) == {"emb.dqs": (layers_dir / shard["name"]).read_bytes(),
                                 "emb.dqh": (layers_dir / held["name"]).read_bytes()}, (dev, sorted(files(folder)))
    wait_log(env, "p4", "finished installing the prefix of")


def test_resume_after_a_kill_pulls_only_what_the_journal_cannot_vouch_for(env):
    big = env.dir / "big"
    big.mkdir()
    data = next((env.dir / "emb").glob("*.dqs")).read_bytes()
    (big / "X-00000.dqs").write_bytes(data)
    # Published before any device listens and with no coordinator serving: the device gets only what we send.
    env.publish("tr", "big", big)
    dev = env.py_device("tr", "pr", QUOTA1)
    wait_log(env, "pr", "accepted manifest of dataset 'big'")
    cs = 131072
    for i in (0, 3, 5):
        frame = wire.build_frame("big", 1, 0, i * cs, data[i * cs:(i + 1) * cs], repair=True)
        env.w.publish("dq/v1/tr/devices/pr/chunks", frame)
    partial = env.dir / "pr" / "datasets" / "big" / "X-00000.dqs.partial"
    env.w.wait(lambda: partial.exists() and partial.read_bytes()[5 * cs:6 * cs] == data[5 * cs:6 * cs], 10,
               "chunk 5 on flash")
    time.sleep(0.3)
    os.killpg(dev.pid, signal.SIGKILL)
    dev.wait()
    # A claim whose bytes a power cut lost: the journal says chunk 3 is there, the partial file holds zeros.
    with open(partial, "r+b") as f:
        f.seek(3 * cs)
        f.write(bytes(cs))
    env.serve("tr")
    seen = len(env.w.all)
    env.py_device("tr", "pr", QUOTA1)
    env.wait_complete("tr", "pr", "big")
    assert files(env.dir / "pr" / "datasets" / "big") == {"X-00000.dqs": data}
    pulls = [json.loads(p) for t, p in env.w.all[seen:] if t == "dq/v1/tr/devices/pr/pull"]
    # Chunks 1, 2, 3, 4 and 6 of 7: bits 0x5e.
    assert pulls[0]["shards"] == [{"id": 0, "missing": "Xg=="}], pulls
