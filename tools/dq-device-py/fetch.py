"""Taking manifests, assembling files from chunk frames, pulling what is missing (docs/protocol.md §7-9)."""
import os
import time

import plan
import store
import wire
from generator import is_generator

PULL_QUIET = 2.0
PULL_RETRY = 5.0
PULL_RETRY_MAX = 60.0
MAX_CHUNKS_PER_PULL = 128
MAX_QUEUED = 128
SUPPORTED = "this device reads formats 1 to 6"


class Dataset:
    def __init__(self, signed, canon):
        self.signed, self.canon = signed, canon
        self.m = signed["manifest"]
        self.fmt = self.m.get("format") or 1
        self.held = {}          # verified files by name: size (format 1 shards, or a prefix's files)
        self.layers = 0         # layered: layers the installed copy stands for
        self.refused = set()
        self.received = 0
        self.transfers = {}     # shard id -> store.Transfer
        self.deadline = None    # next pull
        self.wait = PULL_RETRY
        self.asked = set()      # (shard id, chunk) of the last pull still outstanding
        self.dropped = set()    # format 1 shard ids not held for want of budget
        self.refetch = set()    # format 1 names held coarse and fetched again at full precision
        self.unfit = {}         # format 1 name -> a target its shard could not be shrunk to, not fetched again
        self.k = 0              # layered: layers the budget keeps
        self.prefix = None      # layered: the prefix being fetched
        self.batch = []         # layered: the layer entries being fetched to apply together

    @property
    def version(self):
        return self.m["version"]

    def entry(self, shard_id):
        s = self.m["shards"]
        if self.fmt > 1:
            return s[shard_id] if 0 <= shard_id < len(s) else None
        return next((e for e in s if e["id"] == shard_id), None)



class Fetcher:
    """The transfer half of the engine; expects the attributes and reports of engine.Engine."""

    def on_manifest(self, name, payload):
        doc = self._json(payload)
        m = doc.get("manifest")
        if not isinstance(m, dict):
            raise wire.Malformed("no manifest object")
        fmt = 1 if m.get("format") is None else m.get("format")
        if fmt not in wire.FORMATS:
            # Refused before anything else is checked; what is held of the dataset stays as it is.
            self.log(f"dataset '{m.get('dataset', name)}' version {m.get('version')}: manifest format {fmt} "
                     f"is not supported ({SUPPORTED})")
            return
        wire.check_manifest(m)
        if m["fleet"] != self.fleet or m["dataset"] != name:
            raise wire.Malformed("fleet or dataset does not match the topic")
        canon = wire.canonical(m)
        if not wire.verify(self.key, canon, doc.get("signature")):
            self.log(f"dataset '{name}' version {m['version']}: signature does not verify with the pinned key: refused")
            return
        old = self.datasets.get(name)
        if old is not None and m["version"] <= old.version:
            if m["version"] < old.version or canon != old.canon:
                self.log(f"dataset '{name}' version {m['version']}: not above the held {old.version}: rejected")
            return
        self.take(name, Dataset(doc, canon), old)

    def take(self, name, d, old):
        folder = self.ddir(name)
        os.makedirs(folder, exist_ok=True)
        if old is not None:
            for t in old.transfers.values():
                t.discard()
            new = {e["name"]: e["sha256"] for e in d.m["shards"]}
            was = {e["name"]: e["sha256"] for e in old.m["shards"]}
            for fname, size in old.held.items():
                if new.get(fname) == was[fname]:
                    d.held[fname] = size
                else:
                    store.remove(os.path.join(folder, fname))
            if old.fmt > 1 and old.layers:
                self.keep_copy(name, old, d)
        self.datasets[name] = d
        self.log(f"accepted manifest of dataset '{name}' version {d.version} (format {d.fmt}): "
                 f"{len(d.m['shards'])} entries, {plan.full_size(d.m)} bytes at full precision")
        self.replan()
        self._save()
        self.report_state()

    # ---------- what to hold ----------

    def replan(self):
        quantized = {n: d.m for n, d in self.datasets.items() if not is_generator(d.m)}
        modes, b = self.plan_generators(self.budget(), sum(plan.full_size(m) for m in quantized.values()))
        tg = plan.targets(quantized, b)
        for name, d in self.datasets.items():
            if name in modes:
                want = self._want_generator(name, d, modes[name])
            else:
                want = self._want_shards(name, d, tg[name]) if d.fmt == 1 else self._want_layered(name, d, tg[name])
            for sid, t in list(d.transfers.items()):
                if t.name not in want or (t.name in d.held and t.name not in d.refetch):
                    t.discard()
                    del d.transfers[sid]
            started = False
            for e in d.m["shards"]:
                fetch = e["name"] not in d.held or e["name"] in d.refetch
                if e["name"] in want and fetch and e["id"] not in d.transfers:
                    started = True
                    t = d.transfers[e["id"]] = store.Transfer(self.ddir(name), e, d.version, d.m["chunkSize"])
                    if t.done():
                        self.commit(name, d, t)
                        return
                elif e["name"] not in want and e["name"] not in d.held:
                    for ext in (".partial", ".chunks"):
                        store.remove(os.path.join(self.ddir(name), e["name"] + ext))
            step = self.ready(d)
            if step == "install":
                self.install(name, d, d.prefix)
                return
            if step == "apply":
                self.apply_batch(name, d)
                return
            if not d.transfers:
                d.deadline = None
            elif started and d.fmt > 1:
                # New layer or prefix files (a budget change, a batch applied): nothing is broadcast, and a retry
                # wait left from the files they replace would only delay them.
                d.deadline, d.wait = time.monotonic(), PULL_RETRY
            elif d.deadline is None:
                # A layered dataset is never broadcast, so there is nothing to wait for.
                d.deadline = time.monotonic() + (0 if d.fmt > 1 else PULL_QUIET)

    # ---------- chunks and pulls ----------

    def on_chunk(self, payload, backlog):
        f = wire.parse_frame(payload)
        d = self.datasets.get(f.dataset)
        if d is None or f.version != d.version:
            return
        e = d.entry(f.shard)
        if e is None:
            raise wire.Malformed(f"shard {f.shard} is not in version {d.version} of '{f.dataset}'")
        d.received += f.size
        t = d.transfers.get(f.shard)
        if t is None:
            return
        cs = d.m["chunkSize"]
        i = f.offset // cs
        if f.offset % cs or f.offset >= e["size"] or len(f.payload) != t.chunk_len(i):
            raise wire.Malformed("chunk offset or length does not fit the shard")
        d.deadline, d.wait = time.monotonic() + PULL_QUIET, PULL_RETRY
        if t.have[i] or backlog > MAX_QUEUED:
            return
        t.write(i, f.payload)
        asked = bool(d.asked)
        d.asked.discard((f.shard, i))
        if asked and not d.asked:
            d.deadline = time.monotonic()
        if t.done():
            self.commit(f.dataset, d, t)

    def commit(self, name, d, t):
        del d.transfers[t.id]
        if t.commit():
            d.held[t.name] = t.size
            self.log(f"stored {name}/{t.name}: {t.size} bytes, SHA-256 verified")
        else:
            self.log(f"{name}/{t.name}: SHA-256 mismatch: discarded, fetching it again")
            d.failures = getattr(d, "failures", {})
            d.failures[t.name] = d.failures.get(t.name, 0) + 1
            e = d.entry(t.id)
            if e.get("prefix") and d.failures[t.name] >= 2:
                d.refused.add(e["prefix"]["layers"])
        self.replan()
        self._save()
        self.report_state()

    def send_pull(self, name, d):
        shards, asked = [], set()
        for e in d.m["shards"]:
            t = d.transfers.get(e["id"])
            miss = t.missing()[:MAX_CHUNKS_PER_PULL - len(asked)] if t else []
            if miss:
                shards.append({"id": e["id"], "missing": wire.encode_bitmap(miss, t.count)})
                asked |= {(e["id"], i) for i in miss}
            if len(asked) >= MAX_CHUNKS_PER_PULL:
                break
        if shards:
            doc = {"schema": 1, "device": self.device, "dataset": name, "manifestVersion": d.version, "shards": shards}
            self.publish(f"devices/{self.device}/pull", doc, False)
            self.log(f"pulled {len(asked)} missing chunks of '{name}' version {d.version} over {len(shards)} files")
        d.asked = asked
        d.deadline = time.monotonic() + d.wait
        d.wait = min(d.wait * 2, PULL_RETRY_MAX)
