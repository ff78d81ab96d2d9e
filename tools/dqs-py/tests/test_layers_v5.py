"""Layer version 5 (docs/format.md §13, "Version 5 entries"): version 4's entries with their gaps, froms, plane counts
and segment lengths in a directory of Rice codes. Read from the binaries' layers, against the same increments in
version 4, and from a layer built here by hand from the page's rules."""
import shutil
import struct

import pytest

import dqs
import layers
from conftest import DQC, dq, run


def _layer_paths(d):
    return sorted(d.glob("*-L*.dql"))


def _increments(folder, version):
    """Every increment of the layers in `folder`, by (sample, to): what a device takes from its entry."""
    out, first = {}, 0
    for path in _layer_paths(folder):
        lay = layers.read_dql(path)
        assert lay.version == version and lay.first == first, path.name
        for e in lay.entries:
            assert (e.sample, e.to) not in out
            out[e.sample, e.to] = (e.frm, e.label, e.threshold, e.step_code, e.segments)
        first += len(lay.entries)
    return out


def _entries_start(lay):
    """Where a layer's entries start: after the channel table, and the model on layer 0 (versions 4 and 5)."""
    return 36 + 8 * lay.C + (768 if lay.first == 0 else 0)


def _rewrites_to_its_bytes(path):
    """The entries read back, written again by §13's rules (parameters of fewest bits, smallest on a tie), give the
    layer's own bytes: the binaries' writer chose as the page says."""
    lay = layers.read_dql(path)
    data = path.read_bytes()
    return layers.v5_entries_bytes(lay.entries, lay.class_count) == data[_entries_start(lay): len(data) - 4]


def test_published_v5_layers_hold_the_v4_increments(published_planes):
    """The default publish (layers of version 5) and `--protocol 5` (version 4) of the same shards and order carry
    the same increments: samples, froms, tos, labels, grids and segment bytes, all of the order's."""
    v5 = _increments(published_planes["layers"], 5)
    v4 = _increments(published_planes["layers_v4"], 4)
    assert v5 == v4
    _, _, order = layers.read_dqo(next(published_planes["shards"].glob("*.dqo")))
    assert sorted(v5) == sorted(order)
    assert all(_rewrites_to_its_bytes(p) for p in _layer_paths(published_planes["layers"]))


@pytest.fixture(scope="module")
def fleet_delivery_planes(inputs, broker, published, tmp_path_factory):
    """`dq experiment fleet-delivery --codes planes`: its layers (version 5) and, for the same shard and order,
    `dq-coordinator publish --protocol 5`'s (version 4)."""
    work = tmp_path_factory.mktemp("fd-planes")
    dq("experiment", "fleet-delivery", "--input", inputs["fmnist"], "--limit", "200", "--work", work,
       "--budgets", "2", "--sequence", "2,1", "--quotas", "30000", "--codes", "planes")
    again = work / "again"
    shutil.copytree(work / "coordinator", again)
    d = published["shards"].parent
    run(DQC, "publish", "--broker", broker, "--fleet", "f", "--dataset", "fdp", "--shards", again,
        "--key", d / "k.pem", "--protocol", "5")
    return {"v5": work / "layers", "v4": again / "layers" / "v1", "shards": again}


def test_fleet_delivery_v5_layers_hold_the_v4_increments(fleet_delivery_planes):
    v5 = _increments(fleet_delivery_planes["v5"], 5)
    assert v5 == _increments(fleet_delivery_planes["v4"], 4)
    _, _, order = layers.read_dqo(next(fleet_delivery_planes["shards"].glob("*.dqo")))
    assert sorted(v5) == sorted(order)
    assert all(_rewrites_to_its_bytes(p) for p in _layer_paths(fleet_delivery_planes["v5"]))


# --- a layer by hand -------------------------------------------------------------------------------------------
# C = 1, H = W = 2 (P = 4, segment bound ceil(11·4/8) + 16 = 22), classCount 10, sampleCount 5, layer 3 starting at
# increment 5 (no model), channel table mean 0 std 1. Entries, sorted by sample: sample 1 from 0 to 1, label 3, grid
# (T 100, g 7), segment AA BB; sample 4 from 2 to 4, segments [11] and [22 33 44].
ENTRIES = [layers.Entry(1, 0, 1, 3, None, None, b"", 100, 7, (b"\xAA\xBB",)),
           layers.Entry(4, 2, 4, None, None, None, b"", None, None, (b"\x11", b"\x22\x33\x44"))]

# gapParameter: gaps 1 and 3 cost 6, 5, 6 bits with r = 0, 1, 2: r = 1. lengthParameter: lengths 2, 1, 3 cost 9, 8,
# 9 bits: r = 1.
DIRECTORY_BITS = [
    0, 1,      # entry 0: gap 1 (from sample 0), r = 1: q = 0 is '0', then the low bit 1
    0, 0, 0,   # from 0 in 3 bits
    0,         # 1 plane: no one-bit, a zero bit
    1, 0, 0,   # segment length 2: q = 1 is '10', low bit 0
    1, 0, 1,   # entry 1: gap 3: q = 1, low bit 1
    0, 1, 0,   # from 2, least significant bit first
    1, 0,      # 2 planes: one one-bit, a zero bit
    0, 1,      # segment length 1: q = 0, low bit 1
    1, 0, 1,   # segment length 3: q = 1, low bit 1
]                # 22 bits: the third byte's two high bits are padding, zero
EXAMPLE = [1, 1, 0x42, 0xAA, 0x2C, 3, 100, 7, 0xAA, 0xBB, 0x11, 0x22, 0x33, 0x44]


def pack_bits(bits):
    """LSB first from the first byte, the last byte padded with zero bits."""
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        out[i // 8] |= b << (i % 8)
    return bytes(out)


def hand_layer(entry_bytes, count=2, classes=10, n=5):
    head = b"DQL5" + struct.pack("<HHHHHHIIIII", 5, 0, 1, 2, 2, 0, classes, n, 3, 5, count)
    head += struct.pack("<ff", 0.0, 1.0)
    body = head + bytes(entry_bytes)
    return body + struct.pack("<I", dqs.crc32c(body))  # resealed: each refusal below is the entries', not the CRC's


def write(tmp_path, data, name="hand.dql"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_hand_built_layer_reads_back(tmp_path):
    assert bytes([1, 1]) + pack_bits(DIRECTORY_BITS) + bytes([3, 100, 7]) + bytes.fromhex("AABB11223344") \
        == bytes(EXAMPLE)
    data = hand_layer(EXAMPLE)
    assert len(data) == 36 + 8 + len(EXAMPLE) + 4
    lay = layers.read_dql(write(tmp_path, data))
    assert (lay.version, lay.C, lay.H, lay.W, lay.class_count, lay.N, lay.index, lay.first, lay.model) == (
        5, 1, 2, 2, 10, 5, 3, 5, None)
    assert (lay.mean.tolist(), lay.std.tolist()) == ([0.0], [1.0])
    assert lay.entries == ENTRIES
    # and the writer's parameter rule gives the same bytes
    assert layers.v5_entries_bytes(ENTRIES, 10) == bytes(EXAMPLE)


def test_hand_built_layer_applies_as_version_4(tmp_path):
    """The same entries as a version 4 layer (varint gap, from << 4 | to, label and grid, varint lengths) give a
    device the same holdings: version 5 is only another encoding."""
    v4 = bytes([1, 0x01, 3, 100, 7, 2, 0xAA, 0xBB, 3, 0x24, 1, 0x11, 3, 0x22, 0x33, 0x44])
    head = b"DQL4" + struct.pack("<HHHHHHIIIII", 4, 0, 1, 2, 2, 0, 10, 5, 3, 5, 2) + struct.pack("<ff", 0.0, 1.0)
    p4 = write(tmp_path, head + v4 + struct.pack("<I", dqs.crc32c(head + v4)), "hand4.dql")
    assert layers.read_dql(p4).entries == layers.read_dql(write(tmp_path, hand_layer(EXAMPLE))).entries


def _directory(bits, tail=b"", params=(0, 0)):
    return bytes(params) + pack_bits(bits) + tail


REFUSED = {
    # a parameter above 15
    "gapParameter 16": (0, [16] + EXAMPLE[1:], "parameters"),
    "lengthParameter 16": (0, EXAMPLE[:1] + [16] + EXAMPLE[2:], "parameters"),
    # a Rice code running past the checksum: length ones (r = 0) past the directory's two bytes, below the bound
    "rice past the checksum": (1, _directory([0, 0, 0, 0, 0] + [1] * 11), "increments"),
    # a gap taking the sample to N (5): the reader stops at the fifth one-bit
    "gap to N": (1, _directory([1] * 5 + [0] * 11), "increments"),
    "second gap past N": (2, _directory([0, 0, 0, 0, 0, 0, 0, 0] + [1] * 5 + [0] * 11, b"\0" * 4, (2, 0)),
                          "increments"),
    # from 7 with two planes: to 9
    "count past 8": (1, _directory([0, 1, 1, 1, 1, 0, 0, 0]), "increments"),
    # a segment length of 23 (r = 4: q = 1, low bits 7), the bound being 22
    "length past its bound": (1, _directory([0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0], params=(0, 4)), "increments"),
    # the directory's padding (bits 22, 23) not zero
    "padding": (2, EXAMPLE[:4] + [0x2C | 0x80] + EXAMPLE[5:], "increments"),
    # the entries' bytes: one short of the last segment, one left after it
    "bytes past the checksum": (2, EXAMPLE[:-1], "increments"),
    "bytes short of the checksum": (2, EXAMPLE + [0], "length"),
    # more entries than 6 bits each could fit in the bytes
    "count": (17, EXAMPLE, "header.incrementCount"),
    # §13's refusals of every version: a step code above 191, a label past classCount
    "step code": (2, EXAMPLE[:7] + [192] + EXAMPLE[8:], "entry[0].stepCode"),
    "label": (2, EXAMPLE[:5] + [10] + EXAMPLE[6:], "entry[0].label"),
}


@pytest.mark.parametrize("what", list(REFUSED))
def test_damaged_v5_layer_is_refused(tmp_path, what):
    count, entry_bytes, field = REFUSED[what]
    p = write(tmp_path, hand_layer(entry_bytes, count))
    with pytest.raises(dqs.DqsError) as e:
        layers.read_dql(p)
    assert e.value.field == field and str(p) in str(e.value), str(e.value)

