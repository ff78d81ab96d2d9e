"""A layered dataset under a budget (docs/protocol.md §7-9): prefixes, batches of layers, applying and shrinking."""
import os
import struct

import layered
import plan
import store


class Holding:
    """The layered half of the engine; expects the attributes and reports of engine.Engine."""

    def drop_copy(self, name):
        for p in layered.paths(self.ddir(name), name):
            store.remove(p)
        store.fsync_dir(self.ddir(name))

    def open_layers(self, name):
        """Layers the copy on flash stands for (its held increments are the truth, §9); a pair that does not open
        is deleted and the dataset taken again from no layers."""
        folder = self.ddir(name)
        try:
            dev = layered.open_copy(folder, name)
            return dev.layers if dev else 0
        except (layered.FormatError, OSError, ValueError) as e:
            self.log(f"dataset '{name}': the copy on flash does not open ({e}): deleted")
        for p in layered.paths(folder, name):
            store.remove(p)
        return 0

    def finish_install(self, name, d, recorded):
        """protocol.md §9: a cut between the install's renames leaves {name}.dqs standing for a prefix's shard and
        no {name}.dqh; when that prefix's held file is on flash (recorded, or matching its SHA-256), it is renamed
        into place as the install would have. Otherwise the lone shard is left to the sweep, which deletes it."""
        folder = self.ddir(name)
        shard_path, held_path = layered.paths(folder, name)
        if d.fmt < 3 or not os.path.exists(shard_path) or os.path.exists(held_path):
            return
        size, digest = os.path.getsize(shard_path), None
        for p, (shard, held) in plan.prefixes_of(d.m).items():
            if shard["size"] != size:
                continue
            digest = digest or store.sha256_file(shard_path)
            if shard["sha256"] != digest:
                continue
            # The first prefix in manifest order whose shard it is decides, whether or not its held file is there.
            path = os.path.join(folder, held["name"])
            if os.path.exists(path) and (recorded.get(held["name"]) == held["size"] or (
                    os.path.getsize(path) == held["size"] and store.sha256_file(path) == held["sha256"])):
                os.replace(path, held_path)
                store.fsync_dir(folder)
                self.log(f"dataset '{name}': finished installing the prefix of {p} layers interrupted before "
                         f"its held increments were renamed")
            return

    def _shared_layers(self, old, d):
        """How many of the layers held the new manifest lists too (same names and SHA-256, in order, §7)."""
        if d.fmt == 1:
            return 0
        a, b = plan.layers_of(old.m)[:old.layers], plan.layers_of(d.m)
        n = 0
        while n < min(len(a), len(b)) and (a[n]["name"], a[n]["sha256"]) == (b[n]["name"], b[n]["sha256"]):
            n += 1
        return n

    def keep_copy(self, name, old, d):
        """A new manifest of a layered dataset keeps the layers both versions share; its held increments are
        rewritten when the new format counts the other version of them (§7, "Versions"), nothing fetched."""
        shared = self._shared_layers(old, d)
        d.layers = 0
        if shared == 0:
            self.drop_copy(name)
            return
        folder = self.ddir(name)
        try:
            if shared < old.layers:
                layered.shrink(folder, name, shared, d.fmt)
                self.log(f"dataset '{name}' version {d.version} shares {shared} of the {old.layers} layers held: "
                         f"shrunk to them")
            elif layered.held_version(old.fmt) != layered.held_version(d.fmt):
                layered.rewrite_held(folder, name, d.fmt)
                self.log(f"dataset '{name}' version {d.version} (format {d.fmt}) counts held increments version "
                         f"{layered.held_version(d.fmt)}: rewrote {name}.dqh, {layered.size(folder, name)} bytes held")
            d.layers = shared
        except (layered.FormatError, OSError, ValueError) as e:
            self.log(f"dataset '{name}': the copy on flash does not carry over to version {d.version} ({e}): deleted")
            self.drop_copy(name)

    def _want_layered(self, name, d, target):
        d.k = plan.layer_count(d.m, target)
        if d.layers > d.k:
            self.shrink_copy(name, d)
        lays = plan.layers_of(d.m)
        d.prefix = plan.choose_prefix(d.m, d.layers, d.k, d.refused) if d.layers < d.k else None
        d.batch = []
        # Verified layer files still to apply stay, also beside a prefix: a refused prefix falls back on them (§7).
        want = {e["name"] for e in lays[d.layers:d.k] if e["name"] in d.held}
        if d.prefix:
            want |= {e["name"] for e in plan.prefixes_of(d.m)[d.prefix]}
        elif d.layers < d.k:
            d.batch = plan.batch(lays, d.layers, d.k, self.layered_bytes(d))
            want |= {e["name"] for e in d.batch}
        for fname in list(d.held):
            if fname not in want:
                store.remove(os.path.join(self.ddir(name), fname))
                del d.held[fname]
        return want

    def ready(self, d):
        """What replan should do once the files it wants are in: install a prefix, apply a batch, or nothing."""
        if d.fmt == 1:
            return None
        if d.prefix and all(e["name"] in d.held for e in plan.prefixes_of(d.m)[d.prefix]):
            return "install"
        if d.batch and all(e["name"] in d.held for e in d.batch):
            return "apply"
        return None

    def shrink_copy(self, name, d):
        folder, held = self.ddir(name), d.layers
        if d.k == 0:
            self.drop_copy(name)
            d.layers = 0
            self.log(f"dataset '{name}': the budget keeps no layer: copy of {held} layers deleted")
            return
        try:
            layered.shrink(folder, name, d.k, d.fmt)
            d.layers = d.k
            self._check_size(name, d)
            self.log(f"dataset '{name}': shrunk from {held} to {d.k} layers on the device: "
                     f"{self.layered_bytes(d)} bytes held")
        except (layered.FormatError, OSError, ValueError) as e:
            self.log(f"dataset '{name}': shrinking the copy failed ({e}): deleted, taken again from no layers")
            self.drop_copy(name)
            d.layers = 0

    def _check_size(self, name, d):
        want = plan.layers_of(d.m)[d.layers - 1]["layer"]["heldBytesAfter"]
        got = self.layered_bytes(d)
        if got != want:
            self.log(f"dataset '{name}': {d.layers} layers hold {got} bytes, the manifest says {want}")

    def apply_batch(self, name, d):
        folder, first = self.ddir(name), d.layers
        run = []
        for e in plan.layers_of(d.m)[d.layers:d.k]:
            if e["name"] not in d.held:
                break
            run.append(e)
        try:
            layered.apply(folder, name, [os.path.join(folder, e["name"]) for e in run], d.fmt)
            d.layers += len(run)
            self._check_size(name, d)
            self.log(f"applied layers {first}..{d.layers - 1} of dataset '{name}' version {d.version}: "
                     f"{self.layered_bytes(d)} bytes held")
        except (layered.FormatError, OSError, ValueError) as e:
            # A held copy damaged on flash: start again from no layers, and not from the prefix it may have come from.
            self.log(f"dataset '{name}': layers from {first} do not apply ({e}): copy deleted")
            self.drop_copy(name)
            d.layers = 0
            if first in plan.prefixes_of(d.m):
                d.refused.add(first)
        for e in run:
            d.held.pop(e["name"], None)
        self._save()
        for e in run:
            store.remove(os.path.join(folder, e["name"]))
        self.replan()
        self._save()
        self.report_state()

    def install(self, name, d, p):
        shard, held = plan.prefixes_of(d.m)[p]
        folder = self.ddir(name)
        with open(os.path.join(folder, held["name"]), "rb") as f:
            head = f.read(24)
        last = plan.layers_of(d.m)[p - 1]["layer"]
        ok = len(head) == 24 and head[:4] == b"DQH1" and struct.unpack_from("<II", head, 16) == (
            last["firstIncrement"] + last["incrementCount"], p)
        if not ok:
            self.log(f"dataset '{name}': the prefix of {p} layers does not match its manifest: refused")
            d.refused.add(p)
            for e in (shard, held):
                store.remove(os.path.join(folder, e["name"]))
                d.held.pop(e["name"], None)
        else:
            store.remove(os.path.join(folder, f"{name}.dqh"))
            store.fsync_dir(folder)
            os.replace(os.path.join(folder, shard["name"]), os.path.join(folder, f"{name}.dqs"))
            store.fsync_dir(folder)
            os.replace(os.path.join(folder, held["name"]), os.path.join(folder, f"{name}.dqh"))
            store.fsync_dir(folder)
            for e in (shard, held):
                d.held.pop(e["name"], None)
            for e in plan.layers_of(d.m)[:p]:
                if d.held.pop(e["name"], None) is not None:
                    store.remove(os.path.join(folder, e["name"]))
            d.layers = p
            self.log(f"installed the prefix of {p} layers of dataset '{name}' version {d.version}: "
                     f"{self.layered_bytes(d)} bytes held")
        self.replan()
        self._save()
        self.report_state()
