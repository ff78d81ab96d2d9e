"""Wire formats against the worked values of docs/protocol.md."""
import pytest

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
