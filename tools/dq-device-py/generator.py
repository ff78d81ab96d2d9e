"""Generators (`kind: generator`, docs/protocol.md §3, §7; docs/generators.md "Generators on the fleet"): held
whole or dropped, never re-quantized, and only their G.json where its own mixing rule gives a share of 0 at the
shard bytes the budget leaves beside them."""
import json
import math
import os

import store

WHOLE, MANIFEST, NONE = "whole", "manifest", "none"


def is_generator(m):
    return (m.get("kind") or "shards") == "generator"


def manifest_entry(m):
    """The G.json entry: id 1 as the coordinator writes it, else the entry named *.json."""
    by_name = [e for e in m["shards"] if e["name"].lower().endswith(".json")]
    return by_name[0] if by_name else next((e for e in m["shards"] if e["id"] == 1), m["shards"][-1])


def mixing_share(rule, shard_bytes):
    """The ratio of the rule's entry nearest `shard_bytes` on a log scale; None without a usable rule."""
    try:
        points = [(float(r["shardBytes"]), float(r["ratio"])) for r in rule]
    except (TypeError, KeyError, ValueError):
        return None
    points = [(b, r) for b, r in points if b > 0]
    if not points:
        return None
    # No shard bytes at all is nearest the smallest entry: its logarithm is below every entry's.
    x = math.log(shard_bytes) if shard_bytes > 0 else -math.inf
    return min(points, key=lambda p: abs(math.log(p[0]) - x))[1]


class Generators:
    """The generator half of the engine; expects the attributes and reports of engine.Engine."""

    def _mixing_rule(self, name, d):
        e = manifest_entry(d.m)
        if e["name"] not in d.held:
            return None
        try:
            with open(os.path.join(self.ddir(name), e["name"]), "rb") as f:
                return json.loads(f.read()).get("mixing")
        except (OSError, ValueError, AttributeError):
            return None

    def plan_generators(self, b, full):
        """Per generator: WHOLE, MANIFEST (its G.json alone) or NONE; and the budget the quantized datasets share.
        Generators are placed in the order the device took them, each before the shards (protocol.md §7)."""
        modes = {}
        for name, d in self.datasets.items():
            if not is_generator(d.m):
                continue
            size = sum(e["size"] for e in d.m["shards"])
            if b is not None and size > b:
                modes[name] = NONE
                continue
            left = full if b is None else min(b - size, full)
            share = mixing_share(self._mixing_rule(name, d), left)
            if share is not None and share <= 0:
                modes[name] = MANIFEST
                if b is not None:
                    b -= manifest_entry(d.m)["size"]
            else:
                modes[name] = WHOLE
                if b is not None:
                    b -= size
            if getattr(d, "mode", None) != modes[name]:
                self._log_mode(name, d, modes[name], left, share)
                d.mode = modes[name]
        return modes, b

    def _log_mode(self, name, d, mode, left, share):
        if mode == MANIFEST:
            self.log(f"generator '{name}' version {d.version}: its mixing rule gives a share of 0 at {left} shard "
                     f"bytes: only its manifest is held")
        elif mode == WHOLE:
            self.log(f"generator '{name}' version {d.version}: held whole (share {share} at {left} shard bytes)")

    def _want_generator(self, name, d, mode):
        """The names to hold or fetch; deletes the files the mode no longer keeps and sets d.dropped."""
        json_name = manifest_entry(d.m)["name"]
        want = {e["name"] for e in d.m["shards"]} if mode == WHOLE else {json_name} if mode == MANIFEST else set()
        d.dropped, d.refetch = {e["id"] for e in d.m["shards"] if e["name"] not in want}, set()
        for fname in [f for f in d.held if f not in want]:
            store.remove(os.path.join(self.ddir(name), fname))
            del d.held[fname]
            self.log(f"generator '{name}': {fname} is not kept under the budget: deleted")
        return want
