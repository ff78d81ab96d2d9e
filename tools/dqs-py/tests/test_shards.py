"""Shards written by dq quantize, read by this reader, against dq decode / inspect / verify."""
import json
import re
import struct
import subprocess

import numpy as np
import pytest

import device
import dqs
import planes
from conftest import DQ, dq, quantize

CASES = [  # (input, budget, extra): a refit, an embedded and a planes set each, budgets that drop samples
    ("fmnist", "2bpp", ()),
    ("fmnist", "0.25bpp", ()),
    ("fmnist", "1bpp", ("--codes", "embedded")),
    ("fmnist", "3bpp", ("--shard-size", "24KiB")),
    ("color", "3bpp", ()),
    ("color", "0.5bpp", ("--codes", "embedded")),
    ("fmnist", "1bpp", ("--codes", "planes")),
    ("color", "2bpp", ("--codes", "planes")),
    ("fmnist", "12000", ("--codes", "planes", "--shard-size", "4KiB")),  # several shards, samples dropped
]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1]}-{'-'.join(c[2]) or 'refit'}")
def case(request, inputs, tmp_path_factory):
    name, budget, extra = request.param
    d = tmp_path_factory.mktemp("q")
    files = quantize(inputs[name], d / "s", budget, *extra)
    out = {}
    for key, args in {"unit": (), "pixel": ("--normalize", "pixel"), "standard": ("--normalize", "standard"),
                      "uint8": ("--dtype", "uint8")}.items():
        dq("decode", d / "s", "--out", d / f"{key}.npy", "--labels", d / "y.npy", *args)
        out[key] = np.load(d / f"{key}.npy")
    out["labels"] = np.load(d / "y.npy")
    js = json.loads(dq("inspect", d / "s", "--json"))
    out["inspect"] = js if isinstance(js, list) else [js]
    return files, out


def test_decode_matches_dq(case):
    files, ref = case
    shards = [dqs.read_shard(f) for f in files]
    # pixel, [0,1] and uint8 outputs are bit-exact: pixel is §6's formula in float32 with (mean + t) + s*k,
    # [0,1] the affine map dq folds it into (see dqs.Shard._unit), uint8 floor(x + 0.5); codec 2 (§14): x̂ = o + d*m,
    # floats x̂*a + e, a product and a sum
    for key, kw in {"pixel": dict(normalize="pixel"), "unit": {}, "uint8": dict(dtype="uint8")}.items():
        mine = np.concatenate([s.decode(**kw) for s in shards])
        assert mine.dtype == ref[key].dtype and mine.shape == ref[key].shape
        assert np.array_equal(mine, ref[key]), key
    # standardised values: §6 lets a decoder fold the normalisation into one affine map, so they may differ in the
    # last bits; the bound is in ulps of the largest value of the range, not relative (values near 0 cancel)
    mine = np.concatenate([s.decode(normalize="standard") for s in shards])
    top = max(float(np.max(np.abs((np.array([0, 255]) - s.mean[c]) / s.std[c]))) for s in shards for c in range(s.C))
    assert np.max(np.abs(mine - ref["standard"])) <= 4 * np.spacing(np.float32(top))
    assert np.array_equal(np.concatenate([s.labels for s in shards]), ref["labels"])


def test_fields_match_inspect(case):
    files, ref = case
    for f, js in zip(files, ref["inspect"]):
        s = dqs.read_shard(f)
        assert (s.N, s.source_count, s.first_source) == (js["samples"], js["sourceSamples"], js["firstSourceIndex"])
        assert (s.shard_index, s.shard_count) == (js["shardIndex"], js["shardCount"])
        assert (s.C, s.H, s.W, s.class_count) == (js["channels"], js["height"], js["width"], js["classes"])
        assert s.codec == js["codec"]
        # inspect counts the dropped samples at width 0 (codec 2: planes 0); the file stores none of them (§3)
        assert [s.source_count - s.N] + np.bincount(s.widths, minlength=9)[1:].tolist() == js["widthHistogram"]
        assert len(s.payload) == js["payloadBytes"] and f.stat().st_size == js["bytes"]
        assert np.allclose(s.mean, js["channelMean"], rtol=1e-6) and np.allclose(s.std, js["channelStd"], rtol=1e-6)
    # §3: the shards' source ranges tile [0, total) in index order
    shards = [dqs.read_shard(f) for f in files]
    assert [s.first_source for s in shards] == list(np.cumsum([0] + [s.source_count for s in shards[:-1]]))


def test_budget_drops_samples(inputs, tmp_path):
    files = quantize(inputs["fmnist"], tmp_path / "s", "0.25bpp")
    s = dqs.read_shard(files[0])
    assert s.N < s.source_count == 400
    assert len(s.payload) * 8 <= 0.25 * 400 * 784


def _damaged(files, tmp_path, fn):
    data = bytearray(files[0].read_bytes())
    fn(data)
    p = tmp_path / "bad.dqs"
    p.write_bytes(bytes(data))
    return p


@pytest.fixture(scope="module")
def good(inputs, tmp_path_factory):
    return quantize(inputs["fmnist"], tmp_path_factory.mktemp("g") / "s", "2bpp")


@pytest.mark.parametrize("how, field", [
    (lambda d: d.__setitem__(len(d) - 100, d[len(d) - 100] ^ 0x10), "index.blockChecksum"),
    (lambda d: d.__delitem__(slice(len(d) - 7, None)), "file.length"),
    (lambda d: d.extend(b"\0"), "file.length"),
    (lambda d: d.__setitem__(1, ord("X")), "header.magic"),
    (lambda d: d.__setitem__(4, 3), "header.versionMajor"),
    (lambda d: d.__setitem__(20, 29), "header.headerChecksum"),
    (lambda d: d.__setitem__(len(d) - 10, d[len(d) - 10] ^ 1), "footer.footerChecksum"),
    (lambda d: d.__setitem__(90, d[90] ^ 1), "index.checksum"),
], ids=["payload", "truncated", "trailing", "magic", "version", "header", "footer", "index"])
def test_damage_is_refused(good, tmp_path, how, field):
    bad = _damaged(good, tmp_path, how)
    with pytest.raises(dqs.DqsError) as e:
        dqs.read_shard(bad).decode()
    assert e.value.field.startswith(field) and str(bad) in str(e.value)
    # the real reader refuses it too, so the damage is real and not an artefact of this reader
    assert subprocess.run(DQ + ["verify", str(bad)], capture_output=True).returncode != 0


def test_version_1_1_reads_as_dq_reads_it(good, tmp_path):
    """A 1.1 copy written here (§4.1 index, float32 scales) decodes in dq and here to the 2.0 original's values."""
    s = dqs.read_shard(good[0])
    dev = device.Device(s.C, s.H, s.W, s.class_count, s.source_count, s.mean, s.std)
    for i in range(s.N):
        dev.records[i] = device.Record(int(s.labels[i]), int(s.widths[i]), s.codes(i), float(s.scales[i]),
                                       int(s.shifts[i]))
    p = tmp_path / "old-00000.dqs"
    p.write_bytes(device.shard_bytes(dev, force_1x=True))
    old = dqs.read_shard(p)
    assert (old.major, old.minor) == (1, 1)
    dq("verify", p)
    dq("decode", p, "--out", tmp_path / "x.npy", "--normalize", "pixel")
    assert np.array_equal(np.load(tmp_path / "x.npy"), old.decode(normalize="pixel"))
    assert np.array_equal(old.decode(normalize="pixel"), s.decode(normalize="pixel"))


@pytest.fixture(scope="module")
def good_planes(inputs, tmp_path_factory):
    return quantize(inputs["color"], tmp_path_factory.mktemp("gp") / "s", "2bpp", "--codes", "planes")


class Planes:
    """Offsets in a planes shard of the color set (C = 3, L = 1) and its checksums recomputed after a change to the
    header or index, so that the change reaches §14's checks. IL is what the file's length leaves (§14)."""

    def __init__(self, data):
        self.n, self.kb, self.pl = struct.unpack_from("<I", data, 28)[0], data[22], struct.unpack_from("<Q", data, 56)[0]
        self.hs = 64 + 8 * 3 + 4
        self.il = len(data) - self.hs - 4 - self.pl - 24
        n = self.n
        self.at = {"thresholds": n, "stepCodes": 2 * n, "planes": 3 * n,
                   "model": 3 * n + (n + 1) // 2 + 4 * ((n + self.kb - 1) // self.kb), "end": self.il}
        self.at = {k: self.hs + v for k, v in self.at.items()}

    def reseal(self, d):
        hcrc = dqs.crc32c(d[: self.hs - 4])
        struct.pack_into("<I", d, self.hs - 4, hcrc)
        struct.pack_into("<I", d, self.hs + self.il, dqs.crc32c(d[self.hs: self.hs + self.il]))
        f = len(d) - 24
        struct.pack_into("<4sIQI", d, f, dqs.FOOTER_MAGIC, self.n, len(d), hcrc)
        struct.pack_into("<I", d, f + 20, dqs.crc32c(d[f: f + 20]))


def _u16(column, i, v):
    return lambda d, x: struct.pack_into("<H", d, x.at[column] + 2 * i, v)


def _u8(column, i, v):
    return lambda d, x: d.__setitem__(x.at[column] + i, v)


def _flip_last_segment_byte(d, x):
    d[len(d) - 25] ^= 0x40


def _varint_past_index(d, x):  # the last segment length's last byte says another byte follows
    d[x.at["end"] - 1] |= 0x80


def _planes(d, x):  # sample 2 at 9 planes (and sample 3 at 0)
    d[x.at["planes"] + 1] = 0x09


@pytest.mark.parametrize("how, reseal, field", [
    (_flip_last_segment_byte, False, r"index\.blockChecksum\[\d+\]"),
    (_varint_past_index, True, r"sample\[\d+\]\.segmentLength\[\d\]"),
    (_u16("model", 50, 0), True, r"index\.model\[50\]"),
    (_u8("stepCodes", 3, 192), True, r"sample\[3\]\.stepCode"),
    (_planes, True, r"sample\[2\]\.planes"),
    (lambda d, x: struct.pack_into("<Q", d, 56, 10**9), True, r"header\.payloadLength"),
    (lambda d, x: d.__delitem__(slice(len(d) - 7, None)), False, r"footer\.footerChecksum"),
], ids=["segment", "varint-past-index", "model", "stepCode", "planes", "payloadLength", "truncated"])
def test_planes_damage_is_refused(good_planes, tmp_path, how, reseal, field):
    data = bytearray(good_planes[0].read_bytes())
    x = Planes(data)
    how(data, x)
    if reseal:
        x.reseal(data)
    bad = tmp_path / "bad.dqs"
    bad.write_bytes(bytes(data))
    with pytest.raises(dqs.DqsError) as e:
        dqs.read_shard(bad).decode()
    assert re.fullmatch(field, e.value.field) and str(bad) in str(e.value), str(e.value)
    assert subprocess.run(DQ + ["verify", str(bad)], capture_output=True).returncode != 0


def test_planes_segments_nest(good_planes):
    """Each segment is at most ceil(11·P/8) + 16 bytes, and a sample's k planes are its codes' top k bits."""
    s = dqs.read_shard(good_planes[0])
    assert s.codec == 2 and s.scales is None
    for i in range(s.N):
        k = int(s.widths[i])
        assert len(s.segment_lengths[i]) == k and max(s.segment_lengths[i]) <= planes.segment_bound(s.P)
        assert np.all(s.codes(i) < 2 ** k)
