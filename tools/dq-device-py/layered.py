"""A layered dataset's copy on flash (docs/format.md §13, docs/protocol.md §9): `{name}.dqs` and `{name}.dqh`,
opened, grown by layers and shrunk by re-quantization (a planes set, format 5 with layers of version 4 or format 6
with layers of version 5: grown by appending segments and shrunk by cutting them, the shard codec 2).

The format itself is read and written by tools/dqs-py (see dqs_py.py)."""
import os

import store
from dqs_py import dql, dqs, dqs_device

FormatError = dqs.DqsError


def paths(folder, name):
    return os.path.join(folder, f"{name}.dqs"), os.path.join(folder, f"{name}.dqh")


def exists(folder, name):
    return all(os.path.exists(p) for p in paths(folder, name))


def open_copy(folder, name):
    """The holdings as on start-up (format.md §13: the held increments read against the shard's widths); None
    when there is no copy. Raises FormatError when the pair does not match (a cut between the two writes)."""
    shard_path, held_path = paths(folder, name)
    if not exists(folder, name):
        return None
    shard = dqs.read_shard(shard_path)
    incs = dql.read_dqh(held_path, shard.widths)
    with open(held_path, "rb") as f:
        head = f.read(24)
    n_layers = int.from_bytes(head[20:24], "little")
    if len(incs) != shard.N:
        raise FormatError(held_path, "lists", f"{len(incs)} samples, the shard stores {shard.N}")
    for i, s in enumerate(sorted(incs)):
        if incs[s][-1][0] != int(shard.widths[i]):
            raise FormatError(held_path, "lists", f"sample {s} does not end at its width in the shard")
    return dqs_device.from_shard(shard, incs, n_layers)


def write_copy(folder, name, dev, fmt):
    """The shard first, then its held increments, each atomically (format.md §13): a cut between the two leaves a
    pair whose width sums disagree, which start-up refuses."""
    shard_path, held_path = paths(folder, name)
    store.write_atomic(shard_path, dqs_device.shard_bytes(dev))
    # The version of held increments the manifest's sizes count (protocol.md §3): 4 in format 6, 3 in formats 4
    # and 5, else 2.
    store.write_atomic(held_path, dqs_device.held_bytes(dev, held_version(fmt)))


def apply(folder, name, layer_paths, fmt):
    """Apply the verified layer files in order to the copy on flash (or to nothing) and write the result."""
    dev = open_copy(folder, name)
    for p in layer_paths:
        dev = dqs_device.apply_layer(dev, p)
    write_copy(folder, name, dev, fmt)
    return dev


def rewrite_held(folder, name, fmt):
    """Write the held increments again in the version `fmt` counts (protocol.md §7, "Versions"): the shard and
    what it stands for are unchanged, so nothing is fetched. Returns the version now on flash."""
    version = held_version(fmt)
    dev = open_copy(folder, name)
    store.write_atomic(paths(folder, name)[1], dqs_device.held_bytes(dev, version))
    return dev


def held_version(fmt):
    return 4 if fmt >= 6 else 3 if fmt >= 4 else 2


def shrink(folder, name, k, fmt):
    """Keep layers 0..k-1, nothing downloaded (protocol.md §7, "More layers held than k"): records re-quantized, or
    in a planes set each sample's planes cut."""
    dev = dqs_device.shrink(open_copy(folder, name), k)
    write_copy(folder, name, dev, fmt)
    return dev


def size(folder, name):
    return sum(os.path.getsize(p) for p in paths(folder, name))
