"""Device logic of docs/protocol.md without the MQTT client: messages in, publishes out."""
import json
import os
import time

import plan
import store
import wire
from fetch import Dataset, Fetcher
from generator import Generators
from holding import Holding
from whole import Whole

STATE_INTERVAL = 60.0
FIRST_BUDGET_WAIT = 5.0  # seconds; dq-agent's Sync:FirstBudgetWait


def now_utc():
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


class Engine(Fetcher, Holding, Whole, Generators):
    def __init__(self, data_dir, fleet, device, pubkey, quota, publish, log):
        self.dir, self.fleet, self.device, self.key = data_dir, fleet, device, pubkey
        self.quota, self.publish, self.log = quota, publish, log
        self.prefix = f"dq/v1/{fleet}/"
        self.budget_version, self.budget_bytes = 0, None
        self.datasets = {}
        self.applying = False
        self.next_state = 0.0
        self.first_budget_deadline = 0.0
        os.makedirs(os.path.join(data_dir, "datasets"), exist_ok=True)
        self._load()

    # ---------- persistence ----------

    def ddir(self, name):
        return os.path.join(self.dir, "datasets", name)

    def _save(self):
        state = {"budgetVersion": self.budget_version, "budgetBytes": self.budget_bytes, "datasets": {
            n: {"manifest": d.signed, "held": d.held, "layersApplied": d.layers,
                "layeredBytes": self.layered_bytes(d) if d.fmt > 1 else None,
                "refusedPrefixes": sorted(d.refused), "receivedBytes": d.received}
            for n, d in self.datasets.items()}}
        store.save_state(self.dir, state)

    def _load(self):
        st = store.load_state(self.dir) or {}
        self.budget_version = st.get("budgetVersion", 0)
        self.budget_bytes = st.get("budgetBytes")
        for name, rec in st.get("datasets", {}).items():
            signed = rec["manifest"]
            canon = wire.canonical(signed["manifest"])
            if not wire.verify(self.key, canon, signed.get("signature", "")):
                self.log(f"stored manifest of '{name}' does not verify with the pinned key: dropped")
                continue
            d = Dataset(signed, canon)
            d.refused, d.received = set(rec.get("refusedPrefixes", [])), rec.get("receivedBytes", 0)
            if d.fmt > 1:
                self.finish_install(name, d, rec.get("held", {}))
            d.layers = self.open_layers(name) if d.fmt > 1 else 0
            names = {e["name"]: e for e in d.m["shards"]}
            # Layer files below the layers applied were applied before the cut: the sweep deletes them.
            for e in plan.layers_of(d.m)[:d.layers] if d.fmt > 1 else []:
                names.pop(e["name"], None)
            for fname in os.listdir(self.ddir(name)) if os.path.isdir(self.ddir(name)) else []:
                path, e = os.path.join(self.ddir(name), fname), names.get(fname)
                # A file that matches its entry is held, recorded or not (a rename may have beaten the state write).
                recorded = rec.get("held", {}).get(fname)
                if e and d.fmt == 1 and recorded is not None:
                    # Taken at its size on flash: a re-quantization's rename may have beaten the state write.
                    d.held[fname] = os.path.getsize(path)
                elif e and (recorded == e["size"] or (
                        os.path.getsize(path) == e["size"] and store.sha256_file(path) == e["sha256"])):
                    d.held[fname] = e["size"]
            self.datasets[name] = d
        for name, d in self.datasets.items():
            self._sweep(name, d)
        # Transfers resume from their journals before the first report, so that it tells what is missing.
        self.replan()

    def _sweep(self, name, d):
        """Delete every file of the dataset folder that is neither held nor a transfer that may resume."""
        keep = set(d.held)
        if d.fmt > 1 and d.layers:
            keep |= {f"{name}.dqs", f"{name}.dqh"}
        sizes = {e["name"]: e["size"] for e in d.m["shards"]}
        for fname in os.listdir(self.ddir(name)) if os.path.isdir(self.ddir(name)) else []:
            base = fname.rsplit(".", 1)[0]
            # A coarse format 1 copy is not held in full: the transfer of its fine one may resume beside it.
            resumable = fname.endswith((".partial", ".chunks")) and base in sizes and d.held.get(base) != sizes[base]
            if fname not in keep and not resumable:
                store.remove(os.path.join(self.ddir(name), fname))

    # ---------- budget ----------

    def budget(self):
        return plan.budget(self.budget_bytes, self.quota)

    def layered_bytes(self, d):
        if not d.layers:
            return 0
        return sum(os.path.getsize(os.path.join(self.ddir(d.m["dataset"]), f"{d.m['dataset']}.{x}"))
                   for x in ("dqs", "dqh"))

    def held_bytes(self):
        return sum(sum(d.held.values()) + (self.layered_bytes(d) if d.fmt > 1 else 0) for d in self.datasets.values())

    def fetching(self):
        return any(d.transfers for d in self.datasets.values())

    # ---------- messages ----------

    def on_message(self, topic, payload, backlog=0):
        if not topic.startswith(self.prefix) or not payload:
            return
        rest = topic[len(self.prefix):].split("/")
        try:
            if len(rest) == 3 and rest[0] == "datasets" and rest[2] == "manifest":
                self.on_manifest(rest[1], payload)
            elif len(rest) == 3 and rest[0] == "datasets" and rest[2] == "chunks":
                self.on_chunk(payload, backlog)
            elif rest == ["devices", self.device, "chunks"]:
                self.on_chunk(payload, backlog)
            elif rest == ["devices", self.device, "budget", "desired"]:
                self.on_budget(payload)
        except wire.Malformed as e:
            self.log(f"{topic}: dropped: {e}")

    def _json(self, payload):
        if len(payload) > wire.MAX_JSON:
            raise wire.Malformed("message over 16 MiB")
        try:
            doc = json.loads(payload)
        except ValueError as e:
            raise wire.Malformed(f"not JSON: {e}")
        if not isinstance(doc, dict) or doc.get("schema") != 1:
            raise wire.Malformed("unknown schema")
        return doc

    def on_budget(self, payload):
        doc = self._json(payload)
        v, b = doc.get("version"), doc.get("bytes")
        if not isinstance(v, int) or v < 1 or not isinstance(b, int) or b < 0:
            raise wire.Malformed("bad version or bytes")
        if not wire.valid_name(doc.get("device")):
            raise wire.Malformed("budget without a valid device")
        if doc["device"] != self.device:
            raise wire.Malformed("budget for another device")
        if v <= self.budget_version:
            if v < self.budget_version:
                self.log(f"budget version {v} is below the applied {self.budget_version}: ignored")
            return
        self.budget_version, self.budget_bytes = v, b
        self.log(f"budget version {v}: {b} bytes (in force {self.budget()})")
        self.replan()
        self._save()
        self.report_budget()
        self.report_state()

    # ---------- reports ----------

    def report_budget(self):
        self.applying = self.fetching()
        doc = {"schema": 1, "device": self.device, "version": self.budget_version, "budgetBytes": self.budget(),
               "heldBytes": self.held_bytes(), "status": "applying" if self.applying else "applied",
               "updatedUtc": now_utc()}
        self.publish(f"devices/{self.device}/budget/reported", doc, True)

    def report_state(self, status="online"):
        held = self.held_bytes()
        doc = {"schema": 1, "device": self.device, "status": status, "heldBytes": held}
        try:
            sv = os.statvfs(self.dir)
            free = sv.f_bavail * sv.f_frsize
            doc["freeFlashBytes"] = free if self.quota is None else max(0, min(free, self.quota - held))
        except OSError:
            pass
        if self.budget() is not None:
            doc["budgetBytes"] = self.budget()
        doc["budgetVersion"] = self.budget_version
        doc["datasets"] = [self._dataset_state(n, d) for n, d in self.datasets.items()]
        doc["updatedUtc"] = now_utc()
        self.publish(f"devices/{self.device}/state", doc, True)
        self.next_state = time.monotonic() + STATE_INTERVAL

    def _dataset_state(self, name, d):
        ent = {"name": name, "manifestVersion": d.version, "complete": not d.transfers, "shards": []}
        if d.fmt == 1:
            for e in d.m["shards"]:
                if e["name"] in d.held:
                    ent["shards"].append({"id": e["id"], "bytes": d.held[e["name"]],
                                          "precision": self.shard_precision(d, e)})
                elif e["id"] in d.dropped:
                    ent["shards"].append({"id": e["id"], "bytes": 0, "precision": "dropped"})
        else:
            ent["complete"] = d.layers == getattr(d, "k", d.layers) and not d.transfers
            ent["layers"] = d.layers
            for i in range(d.layers):
                last = i == d.layers - 1
                ent["shards"].append({"id": i, "bytes": self.layered_bytes(d) if last else 0, "precision": "applied"})
            for e in d.m["shards"]:
                if e["name"] in d.held:
                    ent["shards"].append({"id": e["id"], "bytes": e["size"], "precision": "full"})
        ent["receivedBytes"] = d.received
        return ent

    def connected(self):
        """§7: a device that never applied a budget sends no pull for FIRST_BUDGET_WAIT after connecting, unless
        one arrives: the coordinator plans it from the state report sent now."""
        self.first_budget_deadline = time.monotonic() + FIRST_BUDGET_WAIT
        self.report_state()
        if self.budget_version > 0:
            self.report_budget()

    def tick(self):
        t = time.monotonic()
        waiting = self.budget_version == 0 and t < self.first_budget_deadline
        for name, d in self.datasets.items():
            if d.transfers and d.deadline is not None and t >= d.deadline and not waiting:
                self.send_pull(name, d)
        if self.applying and not self.fetching():
            self.report_budget()
        if t >= self.next_state:
            self.report_state()

