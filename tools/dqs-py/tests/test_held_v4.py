"""Held increments version 4 (docs/format.md §13): by hand, the writer's parameter rule, every published .dqh read and
written again, and each refusal."""
import struct

import pytest

import dqs
import layers


def _prefixes(d):
    return sorted(d.glob("*-P*.dqs"))


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
    assert layers.best_rice_parameter([], layers.HELD_V4_PARAMETER_MAX) == 0
    assert layers.best_rice_parameter([2], layers.HELD_V4_PARAMETER_MAX) == 0        # 3 bits at r 0 and r 1
    # gaps 12, 13, 14: 18 bits at r 2, 15 at r 3 (q 1, a zero, 3 bits each) and 15 at r 4 (q 0): the smaller wins
    assert layers.best_rice_parameter([12, 13, 14], layers.HELD_V4_PARAMETER_MAX) == 3
    assert layers.best_rice_parameter([10000], layers.HELD_V4_PARAMETER_MAX) == 12   # the bound: 2 + 1 + 12 bits
    incs = {s: [(1, 0), (2, 3 + s % 5)] for s in range(40)}
    data = layers.write_dqh(40, 4, 8, incs, 4)
    assert data[25 + 8] == layers.best_rice_parameter([3 + s % 5 for s in range(40)], layers.HELD_V4_PARAMETER_MAX)


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
