import gzip
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))

DQ = shlex.split(os.environ.get("DQ") or f"dotnet {ROOT}/src/DatasetQuant.Cli/bin/Release/net10.0/dq.dll")
DQC = shlex.split(os.environ.get("DQ_COORDINATOR")
                  or f"dotnet {ROOT}/src/DatasetQuant.Coordinator/bin/Release/net10.0/dq-coordinator.dll")
FMNIST = Path("/usr/share/datasets/fashion-mnist")


def run(cmd, *args, cwd=None):
    p = subprocess.run(cmd + [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"{cmd + list(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout


def dq(*args, cwd=None):
    return run(DQ, *args, cwd=cwd)


@pytest.fixture(scope="session")
def inputs(tmp_path_factory):
    """A 400-sample Fashion-MNIST test subset (28x28 grey) and a small 3-channel set, as .npy for dq quantize."""
    d = tmp_path_factory.mktemp("inputs")
    x = np.frombuffer(gzip.open(FMNIST / "t10k-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 1, 28, 28)
    y = np.frombuffer(gzip.open(FMNIST / "t10k-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    np.save(d / "fx.npy", x[:400])
    np.save(d / "fy.npy", y[:400].astype(np.int64))
    rng = np.random.default_rng(7)
    # a smooth colour gradient plus noise, so widths and shifts vary between samples and channels
    base = np.linspace(0, 255, 10 * 12)[None, None].reshape(1, 1, 10, 12)
    xc = np.clip(base * rng.uniform(0.2, 1, (60, 3, 1, 1)) + rng.normal(0, 25, (60, 3, 10, 12)), 0, 255)
    np.save(d / "cx.npy", xc.astype(np.uint8))
    np.save(d / "cy.npy", rng.integers(0, 4, 60).astype(np.int64))
    return {"fmnist": f"npy:{d / 'fx.npy'},{d / 'fy.npy'}", "color": f"npy:{d / 'cx.npy'},{d / 'cy.npy'}"}


def quantize(inp, out, budget, *extra):
    dq("quantize", "--input", inp, "--budget", budget, "--out", out, *extra)
    return sorted(Path(out).glob("*.dqs"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def broker():
    port = free_port()
    p = subprocess.Popen(["mosquitto", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"mqtt://127.0.0.1:{port}"
    p.kill()
    p.wait()


def announce_devices(broker, fleet, free_bytes, db):
    """Devices whose budgets the coordinator knows, made through the protocol (docs/protocol.md §3): each announces
    its free flash, takes the budget `serve` plans for it and reports it applied, as a device does. `serve` runs
    with the whole free flash as the budget (fraction 1, step 1 B), so the budgets are `free_bytes`."""
    host, port = broker.removeprefix("mqtt://").split(":")
    topic = f"dq/v1/{fleet}/devices"
    serve = subprocess.Popen(DQC + ["serve", "--broker", broker, "--fleet", fleet, "--db", db, "--key", db.parent / "k.pem",
                                    "--budget-fraction", "1", "--budget-min", "1B", "--budget-step", "1B",
                                    "--budget-hysteresis", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        desired = subprocess.Popen(["mosquitto_sub", "-h", host, "-p", port, "-V", "mqttv5", "-t", f"{topic}/+/budget/desired",
                                    "-C", str(len(free_bytes)), "-W", "60"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)  # the subscription first, so no budget goes by unseen
        for i, free in enumerate(free_bytes):
            state = {"schema": 1, "device": f"dev{i}", "status": "online", "freeFlashBytes": free, "heldBytes": 0}
            mosquitto_pub(host, port, f"{topic}/dev{i}/state", state)
        out, _ = desired.communicate(timeout=70)
        budgets = [json.loads(line) for line in out.splitlines()]
        assert sorted(b["bytes"] for b in budgets) == sorted(free_bytes), out
        for b in budgets:
            reported = {"schema": 1, "device": b["device"], "version": b["version"], "budgetBytes": b["bytes"],
                        "heldBytes": 0, "status": "applied"}
            mosquitto_pub(host, port, f"{topic}/{b['device']}/budget/reported", reported)
        for _ in range(100):  # until the fleet database has every reported budget (status's last column, "SIZE vN")
            if len(re.findall(r" v\d+$", run(DQC, "status", "--db", db), re.MULTILINE)) >= len(free_bytes):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("serve did not record the budgets the devices reported")
    finally:
        serve.terminate()
        serve.wait(30)


def mosquitto_pub(host, port, topic, message):
    subprocess.run(["mosquitto_pub", "-h", host, "-p", port, "-V", "mqttv5", "-q", "1", "-r", "-t", topic,
                    "-m", json.dumps(message)], check=True, timeout=30)


@pytest.fixture(scope="session")
def published(tmp_path_factory, inputs, broker):
    """An embedded 8 bpp set published with budgets known to the fleet: layers and the prefixes at those budgets."""
    d = tmp_path_factory.mktemp("pub")
    shards = d / "shards"
    quantize(inputs["fmnist"], shards, "8bpp", "--codes", "embedded")
    run(DQC, "keygen", "--out", d / "k.pem")
    db = d / "fleet.db"
    announce_devices(broker, "f", [24000, 50000, 110000, 200000], db)
    run(DQC, "publish", "--broker", broker, "--fleet", "f", "--dataset", "ds", "--shards", shards,
        "--key", d / "k.pem", "--db", db)
    layer_dir = shards / "layers" / "v1"
    return {"shards": shards, "layers": layer_dir, "prefix": "x"}


@pytest.fixture(scope="session")
def published_planes(tmp_path_factory, inputs, broker, published):
    """The same 400 images as range-coded bit planes at 8 bpp, published to the fleet of `published`, whose budgets
    end layers and serve prefixes: by default (protocol version 6, layers of version 5, held increments version 4)
    and, from a copy of the same shards and order, with `--protocol 5` (layers of version 4, held increments
    version 3)."""
    d = published["shards"].parent
    shards = d / "planes"
    quantize(inputs["fmnist"], shards, "8bpp", "--codes", "planes")
    older = d / "planes-p5"
    shutil.copytree(shards, older)
    for dataset, folder, extra in (("pl", shards, []), ("pl5", older, ["--protocol", "5"])):
        run(DQC, "publish", "--broker", broker, "--fleet", "f", "--dataset", dataset, "--shards", folder,
            "--key", d / "k.pem", "--db", d / "fleet.db", *extra)
    return {"shards": shards, "layers": shards / "layers" / "v1", "layers_v4": older / "layers" / "v1"}
