"""What a device holds under its budget (docs/protocol.md §7): targets, layer counts and prefix choice."""


def budget(desired, quota):
    """B: the coordinator's bytes capped by the device's own quota; None when neither exists."""
    vals = [v for v in (desired, quota) if v is not None]
    return min(vals) if vals else None


def full_size(m):
    if (m.get("format") or 1) == 1:
        return sum(s["size"] for s in m["shards"])
    return layers_of(m)[-1]["layer"]["heldBytesAfter"]


def share(size, b, total):
    if b is None or b >= total:
        return size
    return size * b // total


def layers_of(m):
    return [s for s in m["shards"] if s.get("prefix") is None]


def prefixes_of(m):
    """{k: (shard entry, held entry)} of a format 3-6 manifest."""
    out = {}
    entries = [s for s in m["shards"] if s.get("prefix") is not None]
    for a, b in zip(entries[::2], entries[1::2]):
        out[a["prefix"]["layers"]] = (a, b)
    return out


def layer_count(m, target):
    """The largest k with layer k-1's heldBytesAfter <= target."""
    k = 0
    for i, s in enumerate(layers_of(m)):
        if s["layer"]["heldBytesAfter"] <= target:
            k = i + 1
    return k


def choose_prefix(m, held, k, refused):
    """The prefix p, held < p <= k, that saves most over its layers (shortest on a tie), or None."""
    layers = layers_of(m)
    best, best_gain = None, 0
    for p, (a, b) in sorted(prefixes_of(m).items()):
        if not held < p <= k or p in refused:
            continue
        gain = sum(s["size"] for s in layers[held:p]) - (a["size"] + b["size"])
        if gain > best_gain:
            best, best_gain = p, gain
    return best


def batch(layers, held, k, held_bytes):
    """The layers fetched together (§8): from layer `held`, as many as fit an eighth of the held bytes, at least
    one, up to k."""
    out, total = [], 0
    for e in layers[held:k]:
        if out and total + e["size"] > held_bytes // 8:
            break
        out.append(e)
        total += e["size"]
    return out


def targets(manifests, b):
    """Per dataset name: its target bytes (format 1: per shard id) under budget b."""
    total = sum(full_size(m) for m in manifests.values())
    out = {}
    for name, m in manifests.items():
        if (m.get("format") or 1) == 1:
            out[name] = {s["id"]: share(s["size"], b, total) for s in m["shards"]}
        else:
            out[name] = share(full_size(m), b, total)
    return out
