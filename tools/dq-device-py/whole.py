"""A format 1 dataset under its budget (docs/protocol.md §7 "Format 1", §10): each shard kept whole, re-quantized
in place to its target, or fetched again at full precision when its target rises well above what is held."""
import os

import requant
import store

# No shard fits below an empty one (header, index checksum, footer: 104 bytes at one channel); fetching it to
# find that out would cost its full size.
SMALLEST_SHARD = 104


class Whole:
    """The format 1 half of the engine; expects the attributes and reports of engine.Engine."""

    def _want_shards(self, name, d, targets):
        """The names to hold or fetch; re-quantizes and drops held shards on the way, and sets d.refetch."""
        want, d.dropped, d.refetch = set(), set(), set()
        for e in d.m["shards"]:
            fname, target = e["name"], targets[e["id"]]
            held = d.held.get(fname)
            if target < SMALLEST_SHARD or target <= d.unfit.get(fname, -1):
                self._drop_shard(name, d, e, target)
                continue
            if held is not None and held > target:
                held = self._shrink_shard(name, d, e, target)
                if held is None:
                    continue
            want.add(fname)
            # A coarse copy is fetched again only for a gain worth a transfer: at least a chunk, and a tenth of
            # the shard (so shards smaller than the chunk size are never fetched again).
            if held is not None and held < e["size"] and (target >= e["size"]
                                                         or target - held >= max(d.m["chunkSize"], e["size"] / 10)):
                d.refetch.add(fname)
        return want

    def _drop_shard(self, name, d, e, target):
        d.dropped.add(e["id"])
        if d.held.pop(e["name"], None) is not None:
            store.remove(os.path.join(self.ddir(name), e["name"]))
            self.log(f"dataset '{name}': shard {e['name']} does not fit its target {target}: deleted")

    def _shrink_shard(self, name, d, e, target):
        path = os.path.join(self.ddir(name), e["name"])
        was = d.held[e["name"]]
        try:
            size = requant.shrink(path, target)
        except (requant.FormatError, OSError, ValueError) as err:
            # A held copy that no longer reads (damaged on flash): forget it, it is fetched again.
            self.log(f"dataset '{name}': shard {e['name']} does not re-quantize ({err}): deleted")
            d.held.pop(e["name"])
            store.remove(path)
            return None
        if size is None:
            d.unfit[e["name"]] = target
            self._drop_shard(name, d, e, target)
            return None
        d.held[e["name"]] = size
        self.log(f"re-quantized shard {name}/{e['name']} in place: {was} -> {size} bytes (target {target})")
        return size

    def shard_precision(self, d, e):
        return "full" if d.held[e["name"]] == e["size"] else "requantized"
