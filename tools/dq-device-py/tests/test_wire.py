"""Wire formats against the worked values of docs/protocol.md."""
import pytest

import layered
import wire


def test_crc32c_check_value():
    assert wire.crc32c(b"123456789") == 0xE3069283


def test_bitmaps_of_the_spec_examples():
    assert wire.encode_bitmap(range(1, 17), 17) == "/v8B"  # fe ff 01: chunks 1..16
    assert wire.encode_bitmap(range(52), 68) == "////////Dw=="  # six ff bytes and 0f
    assert wire.encode_bitmap([], 5) == ""


def test_frame_round_trip_and_every_corruption_is_dropped():
    f = wire.build_frame("fmnist", 3, 7, 131072, b"abc" * 100, repair=True)
    g = wire.parse_frame(f)
    assert (g.dataset, g.version, g.shard, g.offset, g.payload, g.repair) == ("fmnist", 3, 7, 131072, b"abc" * 100, True)
    for i in (0, 4, 8, 20, 32, 36, 40, len(f) - 1):
        bad = bytearray(f)
        bad[i] ^= 1
        with pytest.raises(wire.Malformed):
            wire.parse_frame(bytes(bad))
    with pytest.raises(wire.Malformed):
        wire.parse_frame(f + b"x")


def test_milli_bits_round_halves_away_from_zero():
    assert wire.milli_bits(0.0125) == 13
    assert wire.milli_bits(3.219) == 3219
    assert wire.milli_bits(2) == 2000


def _manifest(*names):
    shard = {"size": 10, "sha256": "0" * 64, "bitBudget": 80, "sampleCount": 1, "bitsPerPixel": 1.0}
    return {"fleet": "f", "dataset": "d", "version": 1, "chunkSize": 1024, "createdUnixSeconds": 0,
            "shards": [dict(shard, id=i, name=n) for i, n in enumerate(names)]}


def test_shard_names_are_distinct_without_case_and_never_a_working_file():
    wire.check_manifest(_manifest("a.dqs", "b.dqs"))
    for names in (("a.dqs", "A.DQS"), ("a.dqs", "a.dqs.partial"), ("a.dqs", "a.dqs.CHUNKS"), ("x.tmp",)):
        with pytest.raises(wire.Malformed):
            wire.check_manifest(_manifest(*names))


def _layered(fmt):
    """One layer and the prefix of it (protocol.md §3): the sizes of the prefix's two files add up to its held size."""
    entry = {"sha256": "0" * 64, "bitBudget": 80, "sampleCount": 1, "bitsPerPixel": 1.0}
    layer = dict(entry, id=0, name="d-L00000.dql", size=10,
                 layer={"firstIncrement": 0, "incrementCount": 1, "heldBytesAfter": 30, "chunkCount": 1})
    shard = dict(entry, id=1, name="d-P00001.dqs", size=20, prefix={"layers": 1, "part": "shard"})
    held = dict(entry, id=2, name="d-P00001.dqh", size=10, prefix={"layers": 1, "part": "held"})
    return dict(_manifest(), format=fmt, shards=[layer, shard, held])


def test_format6_is_read_and_signed_as_format4_with_its_own_header():
    """§5: a format 6 manifest starts with dq-manifest/6 and its lines are as in format 4; §7: a device reads
    formats 1 to 6 and writes held increments version 4 for format 6."""
    assert 6 in wire.FORMATS and 7 not in wire.FORMATS
    wire.check_manifest(_layered(6))
    four, six = wire.canonical(_layered(4)).split(b"\n"), wire.canonical(_layered(6)).split(b"\n")
    assert (four[0], six[0]) == (b"dq-manifest/4", b"dq-manifest/6") and four[1:] == six[1:]
    assert six[-2] == b"shard:2:d-P00001.dqh:10:" + b"0" * 64 + b":80:1000:1:prefix:1:held"
    assert [layered.held_version(f) for f in (2, 3, 4, 5, 6)] == [2, 2, 3, 3, 4]
