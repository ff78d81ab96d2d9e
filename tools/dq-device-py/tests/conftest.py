"""Fixtures: mosquitto, a key, small datasets, and the real coordinator and agent beside the Python device."""
import gzip
import json
import math
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest

HERE = Path(__file__).resolve().parent
TOOL = HERE.parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(TOOL))
FMNIST = Path("/usr/share/datasets/fashion-mnist")
SAMPLES = 1000


def command(env, project, dll):
    if os.environ.get(env):
        return shlex.split(os.environ[env])
    return ["dotnet", str(ROOT / "src" / project / "bin/Release/net10.0" / dll)]


DQ = command("DQ", "DatasetQuant.Cli", "dq.dll")
COORD = command("DQ_COORDINATOR", "DatasetQuant.Coordinator", "dq-coordinator.dll")
AGENT = command("DQ_AGENT", "DatasetQuant.Agent", "dq-agent.dll")


def frames(entries, chunk_size, name):
    """What receiving these files whole costs on the wire: each chunk's payload plus its 40-byte header and the
    dataset's name (protocol.md §4)."""
    return sum(e["size"] + math.ceil(e["size"] / chunk_size) * (40 + len(name)) for e in entries)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """Every process a test run starts, each in its own process group so that all of it can be ended."""

    def __init__(self, folder):
        self.folder, self.started = folder, []

    def start(self, name, argv, **kw):
        log = open(self.folder / f"{name}.log", "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        self.started.append((name, p))
        return p

    def log(self, name):
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def stop(self, p):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def stop_all(self):
        for _, p in reversed(self.started):
            self.stop(p)


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    assert r.returncode == 0, f"{argv}: {r.stdout}\n{r.stderr}"
    return r.stdout


class Watcher:
    """Records everything under dq/# on the broker, so tests can wait for reports and read them."""

    def __init__(self, port):
        self.last, self.all, self.cv = {}, [], threading.Condition()
        self.c = mqtt.Client(client_id=f"watcher-{os.getpid()}", protocol=mqtt.MQTTv5)
        self.c.on_connect = lambda c, u, f, rc, p=None: c.subscribe("dq/#", 1)
        self.c.on_message = self._on
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def _on(self, c, u, msg):
        with self.cv:
            self.last[msg.topic] = bytes(msg.payload)
            self.all.append((msg.topic, bytes(msg.payload)))
            self.cv.notify_all()

    def json(self, topic):
        with self.cv:
            raw = self.last.get(topic)
        return json.loads(raw) if raw else None

    def wait(self, pred, timeout=45, what="condition"):
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                v = pred()
                if v:
                    return v
                left = end - time.monotonic()
                assert left > 0, f"timed out waiting for {what}"
                self.cv.wait(min(left, 0.5))

    def publish(self, topic, payload, retain=False):
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


@pytest.fixture(scope="session")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("dq")
    procs = Procs(d)
    try:
        port = free_port()
        (d / "mosquitto.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
        procs.start("mosquitto", ["mosquitto", "-c", str(d / "mosquitto.conf")])
        x = np.frombuffer(gzip.open(FMNIST / "t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
        y = np.frombuffer(gzip.open(FMNIST / "t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
        np.save(d / "X.npy", x.reshape(-1, 28, 28)[:SAMPLES])
        np.save(d / "Y.npy", y[:SAMPLES])
        npy = f"npy:{d / 'X.npy'},{d / 'Y.npy'}"
        run(DQ + ["quantize", "--input", npy, "--budget", "2bpp", "--shard-size", "64KiB", "--out", str(d / "plain")])
        run(DQ + ["quantize", "--input", npy, "--budget", "8bpp", "--codes", "embedded", "--out", str(d / "emb")])
        run(COORD + ["keygen", "--out", str(d / "key.pem")])
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        w = Watcher(port)
        yield Env(d, port, procs, w)
        w.close()
    finally:
        procs.stop_all()


@pytest.fixture(scope="session")
def planes(env):
    """The same images as range-coded bit planes (docs/format.md §14) at 8 bpp: a set the coordinator publishes in
    format 6, its layers of version 5 (format 5 and version 4 with `--protocol 5`, format.md §13)."""
    out = env.dir / "planes"
    run(DQ + ["quantize", "--input", f"npy:{env.dir / 'X.npy'},{env.dir / 'Y.npy'}", "--budget", "8bpp",
              "--codes", "planes", "--out", str(out)])
    return out


class Env:
    def __init__(self, d, port, procs, watcher):
        self.dir, self.port, self.procs, self.w = d, port, procs, watcher
        self.broker = f"mqtt://127.0.0.1:{port}"
        self.key, self.pub = d / "key.pem", d / "key.pub.pem"

    def serve(self, fleet, budget=None, log=None, extra=()):
        """With `budget`, every device with more flash gets exactly that many bytes: the cap of protocol.md §3
        ("How serve chooses bytes") with fraction 1, step 1 B and no hysteresis. Restarting serve with another
        figure changes the budgets of running devices."""
        plan = ["--budget-min", "4096", "--budget-step", "4096"] if budget is None else [
            "--budget-fraction", "1", "--budget-min", "1B", "--budget-step", "1B", "--budget-hysteresis", "0",
            "--budget-max", f"{budget}B"]
        return self.procs.start(log or f"serve-{fleet}", COORD + [
            "serve", "--broker", self.broker, "--fleet", fleet, "--db", str(self.dir / f"{fleet}.db"),
            "--key", str(self.key)] + plan + list(extra), cwd=self.dir)

    def publish_args(self, fleet, dataset):
        return COORD + ["publish", "--broker", self.broker, "--fleet", fleet, "--dataset", dataset,
                        "--key", str(self.key), "--db", str(self.dir / f"{fleet}.db")]

    def publish(self, fleet, dataset, shards, extra=()):
        return run(self.publish_args(fleet, dataset) + ["--shards", str(shards)] + list(extra))

    def py_device(self, fleet, dev, quota):
        return self.procs.start(dev, [sys.executable, str(TOOL / "device.py"), "--broker", self.broker, "--fleet",
                                      fleet, "--device-id", dev, "--data-dir", str(self.dir / dev),
                                      "--coordinator-key", str(self.pub), "--flash-quota", str(quota)])

    def agent(self, fleet, dev, quota):
        return self.procs.start(dev, AGENT + [
            "--broker", self.broker, "--fleet", fleet, "--device-id", dev, "--data-dir", str(self.dir / dev),
            "--coordinator-key", str(self.pub), "--Sync:FlashQuotaBytes", str(quota), "--Device:Board", "dev-x64",
            "--Device:MemoryLimitBytes", str(1 << 30), "--FineTune:OnNewData", "false"])

    def state(self, fleet, dev):
        return self.w.json(f"dq/v1/{fleet}/devices/{dev}/state")

    def dataset_state(self, fleet, dev, name):
        st = self.state(fleet, dev) or {}
        return next((x for x in st.get("datasets") or [] if x["name"] == name), None)

    def wait_complete(self, fleet, dev, name, version=1, timeout=45):
        def done():
            x = self.dataset_state(fleet, dev, name)
            return x if x and x["manifestVersion"] == version and x["complete"] else None
        return self.w.wait(done, timeout, f"{dev} to complete {name} v{version}: {self.procs.log(dev)[-3000:]}")

    def held(self, dev, name):
        """The files a device holds for a dataset, by name (none when it holds nothing)."""
        folder = self.dir / dev / "datasets" / name
        return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}

    def wait_applied(self, fleet, devices, budget):
        """Every device has reported `budget` applied (serve started with it as everyone's cap)."""
        for dev in devices:
            t = f"dq/v1/{fleet}/devices/{dev}/budget/reported"
            self.w.wait(lambda: (self.w.json(t) or {}).get("budgetBytes") == budget, 30, f"{dev} to apply {budget}")

    def wait_budget(self, fleet, dev):
        t = f"dq/v1/{fleet}/devices/{dev}/budget/reported"
        return self.w.wait(lambda: (self.w.json(t) or {}).get("version", 0) >= 1, 30, f"{dev}'s budget report")
