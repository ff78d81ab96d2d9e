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
        assert shard.with_suffix(".dqh").read_bytes()[4:6] == b"\x04\x00"  # format 6 counts version 4
        assert device.held_bytes(dev) == shard.with_suffix(".dqh").read_bytes(), shard.name
        s = dqs.read_shard(shard)
        incs = layers.read_dqh(shard.with_suffix(".dqh"), s.widths)
        assert [incs[i][-1][0] for i in sorted(incs)] == s.widths.tolist()


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


def test_shrink_matches_dq_device(inputs, tmp_path):
    """dq's fleet experiment takes one device through budgets 2 bpp then 1 bpp: the shrunk copy it keeps must be
    this shrink of the copy after the 2 bpp layers, byte for byte."""
    dq("experiment", "fleet-delivery", "--input", inputs["fmnist"], "--limit", "200", "--work", tmp_path,
       "--budgets", "2", "--sequence", "2,1", "--quotas", "30000")
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


def _republish(published, broker, tmp_path, shards_from, dataset, protocol):
    """The same shards published again as `dataset` under `--protocol`; returns its layer folder."""
    shards = tmp_path / "shards"
    shutil.copytree(shards_from, shards, ignore=shutil.ignore_patterns("layers"))
    d = published["shards"].parent
    run(DQC, "publish", "--broker", broker, "--fleet", "f", "--dataset", dataset, "--shards", shards,
        "--key", d / "k.pem", "--db", d / "fleet.db", "--protocol", protocol)
    return shards / "layers" / "v1"


@pytest.mark.parametrize("protocol, version", [("3", 2), ("4", 3)])
def test_older_formats_carry_their_held_increments(published, broker, tmp_path, protocol, version):
    """Formats 2 and 3 count held increments version 2, formats 4 and 5 version 3 (docs/protocol.md §3): publishing
    the same set with an older `--protocol` gives prefixes whose .dqh this writer's version matches byte for byte."""
    d = _republish(published, broker, tmp_path, published["shards"], f"ds{protocol}", protocol)
    pre = _prefixes(d)
    assert pre
    for shard in pre:
        k = int(shard.stem.rsplit("-P", 1)[1])
        dev = _apply(_layer_paths(d)[:k])
        held = shard.with_suffix(".dqh").read_bytes()
        assert struct.unpack_from("<H", held, 4)[0] == version
        assert device.shard_bytes(dev) == shard.read_bytes(), shard.name
        assert device.held_bytes(dev, version) == held, shard.name
        s = dqs.read_shard(shard)
        incs = layers.read_dqh(shard.with_suffix(".dqh"), s.widths)
        assert layers.write_dqh(s.source_count, s.C * s.H * s.W, k, incs, version) == held, shard.name


def test_planes_in_format5_carry_version_3_held_increments(published, published_planes, broker, tmp_path):
    """`--protocol 5` still publishes a planes set in format 5, whose prefixes hold version 3 with plane counts."""
    d = _republish(published, broker, tmp_path, published_planes["shards"], "pl5", "5")
    pre = _prefixes(d)
    assert pre
    paths = _layer_paths(d)
    for shard in pre:
        k = int(shard.stem.rsplit("-P", 1)[1])
        dev = _apply(paths[:k])
        held = shard.with_suffix(".dqh").read_bytes()
        assert held[4:6] == b"\x03\x00"
        assert device.shard_bytes(dev) == shard.read_bytes(), shard.name
        assert device.held_bytes(dev, 3) == held, shard.name


def test_planes_layers_carry_the_published_segments(published_planes):
    """§13 version 4: layer 0 carries the model, and a sample's segments over all layers are the published shard's."""
    paths = _layer_paths(published_planes["layers"])
    full = dqs.read_shard(next(published_planes["shards"].glob("*-00000.dqs")))
    segs, pos = {}, 0
    for path in paths:
        lay = layers.read_dql(path)
        assert lay.version == 4 and lay.first == pos and (lay.model is not None) == (pos == 0)
        if pos == 0:
            assert np.array_equal(lay.model, full.model)
        for e in lay.entries:
            segs.setdefault(e.sample, []).extend(e.segments)
        pos += len(lay.entries)
    for i in range(full.N):
        o = int(full.offsets[i])
        assert b"".join(segs[i]) == full.payload[o: int(full.offsets[i + 1])]


def test_applying_planes_layers_gives_the_prefix_files(published_planes):
    """A device's codec 2 shard and held increments (version 4, widths = plane counts) after layers 0..k-1 are the
    prefix the coordinator serves, byte for byte; cutting a larger holding to k gives them too."""
    d = published_planes["layers"]
    pre = _prefixes(d)
    assert pre
    paths = _layer_paths(d)
    big = _apply(paths)
    for shard in pre:
        k = int(shard.stem.rsplit("-P", 1)[1])
        dev = _apply(paths[:k])
        assert device.shard_bytes(dev) == shard.read_bytes(), shard.name
        assert device.held_bytes(dev) == shard.with_suffix(".dqh").read_bytes(), shard.name
        cut = device.shrink(big, k)
        assert device.shard_bytes(cut) == shard.read_bytes(), shard.name
        assert device.held_bytes(cut) == shard.with_suffix(".dqh").read_bytes(), shard.name
        # and the copy reads back as start-up reads it, then takes the next layer
        s = dqs.read_shard(shard)
        again = device.from_shard(s, layers.read_dqh(shard.with_suffix(".dqh"), s.widths), k)
        assert device.shard_bytes(again) == shard.read_bytes()
        if k < len(paths):
            assert device.shard_bytes(device.apply_layer(again, paths[k])) == device.shard_bytes(_apply(paths[:k + 1]))


# --- held increments version 4 (§13) ------------------------------------------------------------------------------
# Two samples over 4 layers: sample 0 raised to 1 bit in layer 0, to 2 in layer 2, to 3 in layer 3; sample 1 straight
# to 2 bits in layer 1. By hand: width sum 3 + 2 = 5; new samples per layer 1, 1, 0, 0; r1 = 0 (gap 2 costs 3 bits at
# r 0 and at r 1: the smaller wins), r2 = 0 (gap 1: 2 bits at 0 and 1), r3..r7 = 0 (no such increment). Bits, LSB
# first: sample 0 flag 0 (steps all 1), gap 2 = 1 1 0, gap 1 = 1 0; sample 1 flag 1, step 2 = 1 000 (w − 0 ≥ 2).
# 0 1 1 0 1 0 1 1 | 0 0 0 -> 0b11010110, 0x00.
HAND = {0: [(1, 0), (2, 2), (3, 3)], 1: [(2, 1)]}
HAND_LISTS = [5, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0b11010110, 0x00]


def test_held_increments_version_4_by_hand(tmp_path):
    data = layers.write_dqh(2, 4, 4, HAND, 4)
    assert data[:4] == b"DQH1" and struct.unpack_from("<HHIIII", data, 4) == (4, 0, 2, 4, 4, 4)
    assert list(data[24:-4]) == HAND_LISTS
    assert struct.unpack_from("<I", data, len(data) - 4)[0] == dqs.crc32c(data[:-4])
    p = tmp_path / "hand.dqh"
    p.write_bytes(data)
    assert layers.read_dqh(p, [3, 2]) == HAND


def test_rice_parameters_are_the_cheapest_smallest_on_a_tie():
    """§13: per increment number, the parameter 0..12 with the fewest bits over every sample's gap."""
    assert layers._rice_parameter([]) == 0
    assert layers._rice_parameter([2]) == 0        # 3 bits at r 0 and r 1
    # gaps 12, 13, 14: 18 bits at r 2, 15 at r 3 (q 1, a zero, 3 bits each) and 15 at r 4 (q 0): the smaller wins
    assert layers._rice_parameter([12, 13, 14]) == 3
    assert layers._rice_parameter([10000]) == 12   # the bound: 2 + 1 + 12 bits
    incs = {s: [(1, 0), (2, 3 + s % 5)] for s in range(40)}
    data = layers.write_dqh(40, 4, 8, incs, 4)
    assert data[25 + 8] == layers._rice_parameter([3 + s % 5 for s in range(40)])


def test_published_held_increments_version_4_read_and_rewritten(published, published_planes):
    """Every .dqh the coordinator serves (format 6: version 4, embedded and planes) reads back against its shard
    and writes again, byte for byte."""
    checked = 0
    for d in (published["layers"], published_planes["layers"]):
        for shard in _prefixes(d):
            held = shard.with_suffix(".dqh")
            data = held.read_bytes()
            assert data[4:6] == b"\x04\x00", held.name
            s = dqs.read_shard(shard)
            incs = layers.read_dqh(held, s.widths)
            assert [incs[i][-1][0] for i in sorted(incs)] == s.widths.tolist()
            layer_count = struct.unpack_from("<I", data, 20)[0]
            assert layers.write_dqh(s.source_count, s.C * s.H * s.W, layer_count, incs, 4) == data, held.name
            checked += 1
    assert checked >= 6


def _recrc(data):
    data = bytearray(data[:-4])
    return bytes(data + struct.pack("<I", dqs.crc32c(data)))


def _mutate(lists):
    head = layers.write_dqh(2, 4, 4, HAND, 4)[:24]
    return _recrc(head + bytes(lists) + b"\0\0\0\0")


@pytest.mark.parametrize("lists, widths, field", [
    (HAND_LISTS, [3, 3], "widthSum"),                               # the shard is of another change
    ([6] + HAND_LISTS[1:], [3, 2], "widthSum"),
    (HAND_LISTS[:1] + [2, 1, 0, 0] + HAND_LISTS[5:], [3, 2], "newSamples"),  # 3 new samples, the shard stores 2
    (HAND_LISTS[:5] + [13] + HAND_LISTS[6:], [3, 2], "parameters"),  # r1 above 12
    (HAND_LISTS[:13] + [0x01], [3, 2], "steps"),                    # sample 1: step 3 passes its width 2
    (HAND_LISTS[:13], [3, 2], "steps"),                             # its steps run past the checksum
    (HAND_LISTS[:12] + [0b11110110, 0x00], [3, 2], "gaps"),         # sample 0: a second gap of 2 reaches layer 4 = L
    (HAND_LISTS[:13] + [0x80], [3, 2], "gaps"),                  # a padding bit set
    (HAND_LISTS + [0x00], [3, 2], "gaps"),                       # a byte left before the checksum
])
def test_held_increments_version_4_refusals(tmp_path, lists, widths, field):
    p = tmp_path / "bad.dqh"
    p.write_bytes(_mutate(lists))
    with pytest.raises(dqs.DqsError) as e:
        layers.read_dqh(p, widths)
    assert e.value.field == field and str(p) in str(e.value)


def test_held_increments_of_another_version_are_refused(tmp_path):
    data = bytearray(layers.write_dqh(2, 4, 4, HAND, 4))
    data[4] = 5
    p = tmp_path / "v5.dqh"
    p.write_bytes(_recrc(bytes(data)))
    with pytest.raises(dqs.DqsError) as e:
        layers.read_dqh(p, [3, 2])
    assert e.value.field == "header.versionMajor" and str(p) in str(e.value)


def test_held_increments_of_an_unnumbered_set_stay_version_1():
    """§13: version 4 only for samples 0..m−1 raised from 0 bits in sample order; else version 1."""
    assert layers.write_dqh(4, 4, 4, {1: [(1, 0)], 3: [(2, 1)]}, 4)[4:6] == b"\x01\x00"
    assert layers.write_dqh(4, 4, 4, {0: [(1, 1)], 1: [(2, 0)]}, 4)[4:6] == b"\x01\x00"
