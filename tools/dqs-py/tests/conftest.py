import gzip
import os
import shlex
import socket
import sqlite3
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


def seed_budgets(db, fleet, budgets):
    """No command sets a device's budget: a coordinator learns it from devices (docs/protocol.md §7). The publish
    reads the devices' reported budgets from the fleet database, so the test writes those rows as a device would
    have caused them."""
    c = sqlite3.connect(db)
    now = int(time.time() * 1000)
    for i, b in enumerate(budgets):
        c.execute("insert into devices(fleet, device_id, online, last_seen_ms, free_flash_bytes, bytes_held, "
                  "reported_budget_version, reported_budget_bytes) values (?, ?, 1, ?, ?, 0, 1, ?)",
                  (fleet, f"dev{i}", now, 10**9, b))
        c.execute("insert into desired_budgets(fleet, device_id, version, bytes, updated_ms, published_version) "
                  "values (?, ?, 1, ?, ?, 1)", (fleet, f"dev{i}", b, now))
    c.commit()
    c.close()


@pytest.fixture(scope="session")
def published(tmp_path_factory, inputs, broker):
    """An embedded 8 bpp set published with budgets known to the fleet: layers and the prefixes at those budgets."""
    d = tmp_path_factory.mktemp("pub")
    shards = d / "shards"
    quantize(inputs["fmnist"], shards, "8bpp", "--codes", "embedded")
    run(DQC, "keygen", "--out", d / "k.pem")
    db = d / "fleet.db"
    # a first publish creates the database's schema; the second cuts at the budgets
    run(DQC, "publish", "--broker", broker, "--fleet", "f", "--dataset", "ds", "--shards", shards,
        "--key", d / "k.pem", "--db", db)
    seed_budgets(db, "f", [24000, 50000, 110000, 200000])
    run(DQC, "publish", "--broker", broker, "--fleet", "f", "--dataset", "ds", "--shards", shards,
        "--key", d / "k.pem", "--db", db)
    layer_dir = shards / "layers" / "v2"
    return {"shards": shards, "layers": layer_dir, "prefix": "x"}
