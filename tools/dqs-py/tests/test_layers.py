"""Layers and prefixes published by dq-coordinator, and a device's shrink as dq's fleet experiment does it."""
import copy
import shutil
import struct

import numpy as np
import pytest

import device
import dqs
import layers
from conftest import DQC, dq, run


def _layer_paths(d):
    return sorted(d.glob("*-L*.dql"))


def _prefixes(d):
    return sorted(d.glob("*-P*.dqs"))


def _apply(paths):
    dev = None
    for p in paths:
        dev = device.apply_layer(dev, p)
    return dev


def test_prefixes_were_written(published):
    assert len(_prefixes(published["layers"])) >= 3


def test_layers_follow_the_order(published):
    """§12/§13: the layers' increments, in layer order, are the .dqo order (within a layer sorted by sample)."""
    n, p, order = layers.read_dqo(next(published["shards"].glob("*.dqo")))
    pos = 0
    for path in _layer_paths(published["layers"]):
        lay = layers.read_dql(path)
        assert lay.version == 3 and lay.first == pos and (lay.N, lay.C * lay.H * lay.W) == (n, p)
        got = [(e.sample, e.to) for e in lay.entries]
        assert sorted(got) == sorted(order[pos: pos + len(got)])
        pos += len(got)
    assert pos == len(order)


def test_applying_layers_gives_the_prefix_files(published):
    """The strongest check of §13: a device's shard and held increments after layers 0..k-1, byte for byte."""
    d = published["layers"]
    for shard in _prefixes(d):
        k = int(shard.stem.rsplit("-P", 1)[1])
        dev = _apply(_layer_paths(d)[:k])
        assert device.shard_bytes(dev) == shard.read_bytes(), shard.name
        assert device.held_bytes(dev) == shard.with_suffix(".dqh").read_bytes(), shard.name
        s = dqs.read_shard(shard)
        incs = layers.read_dqh(shard.with_suffix(".dqh"), s.widths)  # version 4: read against the shard's widths
        assert incs == {i: r.incs for i, r in dev.records.items()}, shard.name


def test_prefix_is_the_published_shard_requantized(published):
    """§13: the held copy equals the full-precision shard re-quantized (§6) to the prefix's widths."""
    full = dqs.read_shard(next(published["shards"].glob("*-00000.dqs")))
    for shard in _prefixes(published["layers"]):
        s = dqs.read_shard(shard)
        incs = layers.read_dqh(shard.with_suffix(".dqh"), s.widths)
        held = device.from_shard(full, {i: [(8, 0)] for i in range(full.N)}, 1)
        for i, w in zip(sorted(incs), s.widths):
            codes, scale, shift = device.requantize(held, held.records[i], int(w))
            assert np.array_equal(codes, s.codes(list(sorted(incs)).index(i)))
            assert (np.float32(scale), shift) == (s.scales[sorted(incs).index(i)], s.shifts[sorted(incs).index(i)])


def test_shrinking_keeps_codes_and_held_increments(published):
    """Dropping layers locally (§13) gives the smaller prefix's codes, widths and held increments; the pairs are
    refitted from the values held, so they may differ from the prefix served whole."""
    d = published["layers"]
    pre = _prefixes(d)
    big = int(pre[-1].stem.rsplit("-P", 1)[1])
    dev = _apply(_layer_paths(d)[:big])
    for shard in pre[:-1]:
        k = int(shard.stem.rsplit("-P", 1)[1])
        mine = dqs.read_shard("shrunk", device.shard_bytes(device.shrink(dev, k)))
        theirs = dqs.read_shard(shard)
        assert np.array_equal(mine.widths, theirs.widths) and mine.payload == theirs.payload
        assert device.held_bytes(device.shrink(dev, k)) == shard.with_suffix(".dqh").read_bytes()


@pytest.mark.parametrize("codes", ["embedded", "planes"])
def test_shrink_matches_dq_device(inputs, tmp_path, codes):
    """dq's fleet experiment takes one device through budgets 2 bpp then 1 bpp: the shrunk copy it keeps must be
    this shrink of the copy after the 2 bpp layers, byte for byte (planes: layers of version 5, segments cut)."""
    dq("experiment", "fleet-delivery", "--input", inputs["fmnist"], "--limit", "200", "--work", tmp_path,
       "--budgets", "2", "--sequence", "2,1", "--quotas", "30000", "--codes", codes)
    seq = tmp_path / "device-sequence"
    held = seq.joinpath("data.dqh").read_bytes()
    k_small = struct.unpack_from("<I", held, 20)[0]
    shard_then = dqs.read_shard(seq / "data.dqs")
    budget = 2 * 200 * 784 // 8  # the experiment's 2 bpp budget covers the payload; find the layer count it held
    layer_paths = _layer_paths(tmp_path / "layers")
    dev, k = None, 0
    candidates = {}
    for p in layer_paths:
        dev = device.apply_layer(dev, p)
        k += 1
        candidates[k] = copy.deepcopy(dev)
        if len(device.shard_bytes(dev)) > 2 * budget:
            break
    # whichever larger holding the device had, shrinking it to k_small layers must give its files
    matches = [kb for kb, dv in candidates.items() if kb > k_small
               and device.shard_bytes(device.shrink(dv, k_small)) == (seq / "data.dqs").read_bytes()
               and device.held_bytes(device.shrink(dv, k_small)) == held]
    assert matches, f"no holding of more than {k_small} layers shrinks to the device's files"
    assert shard_then.N > 0


@pytest.mark.parametrize("offset, field", [(0, "header.magic"), (4, "header.versionMajor"), (-2, "checksum")])
def test_damaged_layer_is_refused(published, tmp_path, offset, field):
    data = bytearray(_layer_paths(published["layers"])[0].read_bytes())
    data[offset] = data[offset] ^ 0xF  # version 3 becomes 12: 4 is a layout now (planes)
    p = tmp_path / "bad.dql"
    p.write_bytes(bytes(data))
    with pytest.raises(dqs.DqsError) as e:
        layers.read_dql(p)
    assert e.value.field == field and str(p) in str(e.value)


def test_layer_out_of_turn_is_refused(published):
    paths = _layer_paths(published["layers"])
    dev = device.apply_layer(None, paths[0])
    with pytest.raises(dqs.DqsError, match="layerIndex"):
        device.apply_layer(dev, paths[2])


def test_format3_prefixes_carry_version_2_held_increments(published, broker, tmp_path):
    """A format 3 manifest counts held increments version 2 (docs/protocol.md §3): publishing the same set with
    `--protocol 3` gives prefixes whose .dqh this writer's version 2 matches byte for byte."""
    shards = tmp_path / "shards"
    shutil.copytree(published["shards"], shards, ignore=shutil.ignore_patterns("layers"))
    db = published["shards"].parent / "fleet.db"
    run(DQC, "publish", "--broker", broker, "--fleet", "f", "--dataset", "ds3", "--shards", shards,
        "--key", published["shards"].parent / "k.pem", "--db", db, "--protocol", "3")
    d = shards / "layers" / "v1"
    pre = _prefixes(d)
    assert pre
    for shard in pre:
        k = int(shard.stem.rsplit("-P", 1)[1])
        dev = _apply(_layer_paths(d)[:k])
        held = shard.with_suffix(".dqh").read_bytes()
        assert struct.unpack_from("<H", held, 4)[0] == 2
        assert device.shard_bytes(dev) == shard.read_bytes(), shard.name
        assert device.held_bytes(dev, 2) == held, shard.name


# The planes set as published by default (protocol version 6: layers of version 5, held increments version 4) and
# with `--protocol 5` (layers of version 4, held increments version 3).
PLANES_PUBLISHES = [("layers", 5, 4), ("layers_v4", 4, 3)]


@pytest.mark.parametrize("folder, version, held_version", PLANES_PUBLISHES)
def test_planes_layers_carry_the_published_segments(published_planes, folder, version, held_version):
    """§13 versions 4 and 5: layer 0 carries the model, and a sample's segments over all layers are the published
    shard's."""
    paths = _layer_paths(published_planes[folder])
    full = dqs.read_shard(next(published_planes["shards"].glob("*-00000.dqs")))
    segs, pos = {}, 0
    for path in paths:
        lay = layers.read_dql(path)
        assert lay.version == version and lay.first == pos and (lay.model is not None) == (pos == 0)
        if pos == 0:
            assert np.array_equal(lay.model, full.model)
        for e in lay.entries:
            segs.setdefault(e.sample, []).extend(e.segments)
        pos += len(lay.entries)
    for i in range(full.N):
        o = int(full.offsets[i])
        assert b"".join(segs[i]) == full.payload[o: int(full.offsets[i + 1])]


@pytest.mark.parametrize("folder, version, held_version", PLANES_PUBLISHES)
def test_applying_planes_layers_gives_the_prefix_files(published_planes, folder, version, held_version):
    """A device's codec 2 shard and held increments (widths = plane counts) after layers 0..k-1 are the prefix the
    coordinator serves, byte for byte; cutting a larger holding to k gives them too."""
    d = published_planes[folder]
    pre = _prefixes(d)
    assert pre
    paths = _layer_paths(d)
    big = _apply(paths)
    for shard in pre:
        k = int(shard.stem.rsplit("-P", 1)[1])
        dev = _apply(paths[:k])
        assert device.shard_bytes(dev) == shard.read_bytes(), shard.name
        assert device.held_bytes(dev, held_version) == shard.with_suffix(".dqh").read_bytes(), shard.name
        cut = device.shrink(big, k)
        assert device.shard_bytes(cut) == shard.read_bytes(), shard.name
        assert device.held_bytes(cut, held_version) == shard.with_suffix(".dqh").read_bytes(), shard.name
        assert struct.unpack_from("<H", shard.with_suffix(".dqh").read_bytes(), 4)[0] == held_version
        # and the copy reads back as start-up reads it, then takes the next layer
        s = dqs.read_shard(shard)
        again = device.from_shard(s, layers.read_dqh(shard.with_suffix(".dqh"), s.widths), k)
        assert device.shard_bytes(again) == shard.read_bytes()
        if k < len(paths):
            assert device.shard_bytes(device.apply_layer(again, paths[k])) == device.shard_bytes(_apply(paths[:k + 1]))
