"""Reader (and minimal writer) of `.dqs` shards, versions 2.0 and 1.x, after docs/format.md §1-§10 and §14.

Codec 1 (§5, §6) is read here, codec 2 (range-coded bit planes, §14) with planes.py. Every refusal is a DqsError
whose message starts with the file and the field, in the order of §8.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

import planes

MAGIC = b"\x89DQS"
FOOTER_MAGIC = b"DQSE"


class DqsError(ValueError):
    def __init__(self, path, fld, msg):
        super().__init__(f"{path}: {fld}: {msg}")
        self.path, self.field = str(path), fld


# --- CRC32C (§1) -------------------------------------------------------------------------------------------------
def _table():
    t = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _table()


def crc32c(data, crc=0) -> int:
    c = crc ^ 0xFFFFFFFF
    t = _T
    for b in bytes(data):
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# --- bit packing (§5) --------------------------------------------------------------------------------------------
def packed_bytes(p: int, b: int) -> int:
    return (p * b + 7) // 8


def unpack(buf, b: int, p: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(bytes(buf), np.uint8), bitorder="little")[: p * b]
    return (bits.reshape(p, b).astype(np.uint16) << np.arange(b, dtype=np.uint16)).sum(1).astype(np.uint8)


def pack(codes: np.ndarray, b: int) -> bytes:
    codes = np.asarray(codes, np.uint8)
    bits = ((codes[:, None] >> np.arange(b, dtype=np.uint8)) & 1).astype(np.uint8).ravel()
    return np.packbits(bits, bitorder="little").tobytes()


def is_f16(x: float) -> bool:
    return float(np.float32(np.float16(x))) == float(np.float32(x))


# --- shard -------------------------------------------------------------------------------------------------------
@dataclass
class Shard:
    path: str
    major: int
    minor: int
    C: int
    H: int
    W: int
    class_count: int
    shard_index: int = 0
    shard_count: int = 1
    first_source: int = 0
    source_count: int = 0
    codec: int = 1
    mean: np.ndarray = None
    std: np.ndarray = None
    labels: np.ndarray = None
    scales: np.ndarray = None   # float32 (codec 1)
    shifts: np.ndarray = None   # int (codec 1)
    widths: np.ndarray = None   # 1..8: codec 1's bits per code, codec 2's planes k
    payload: bytes = b""
    offsets: np.ndarray = None  # where each sample's codes (codec 2: segments) start in the payload, and the end
    block_crcs: list = field(default_factory=list)  # 2.0: per block; 1.x: per sample
    thresholds: np.ndarray = None  # codec 2: each sample's T and step code g as stored (§14)
    step_codes: np.ndarray = None
    origins: np.ndarray = None  # codec 2: the grid's origin o and step d, float32
    steps: np.ndarray = None
    model: np.ndarray = None    # codec 2: 8 × 48 probabilities of a 0, in 1/2048
    segment_lengths: list = None  # codec 2: per sample, its planes' segment lengths, most significant first
    _checked: set = field(default_factory=set)
    _decoded: dict = field(default_factory=dict)  # codec 2: codes already range-decoded

    @property
    def P(self):
        return self.C * self.H * self.W

    @property
    def N(self):
        return len(self.widths)

    @property
    def K(self):
        return max(1, min(64, 65536 // self.P))

    def _check_payload(self, i):
        unit = i // self.K if self.major == 2 else i
        if unit in self._checked:
            return
        lo = unit * self.K if self.major == 2 else i
        hi = min(lo + self.K, self.N) if self.major == 2 else i + 1
        data = self.payload[self.offsets[lo]: self.offsets[hi]]
        if crc32c(data) != self.block_crcs[unit]:
            what = f"index.blockChecksum[{unit}]" if self.major == 2 else f"sample[{i}].checksum"
            raise DqsError(self.path, what, "payload checksum mismatch")
        self._checked.add(unit)

    def codes(self, i: int) -> np.ndarray:
        """Sample i's codes at its width: codec 1's b-bit codes, codec 2's top k planes v = u >> (8 − k)."""
        self._check_payload(i)
        b, o = int(self.widths[i]), int(self.offsets[i])
        if self.codec == 2:
            return self._planes(i) >> (8 - b)
        return unpack(self.payload[o: o + packed_bytes(self.P, b)], b, self.P)

    def _planes(self, i: int) -> np.ndarray:
        """Codec 2: sample i's 8-bit codes with its k planes decoded and the rest 0, that is v << (8 − k)."""
        if i not in self._decoded:
            self._check_payload(i)
            o, segments = int(self.offsets[i]), []
            for n in self.segment_lengths[i]:
                segments.append(self.payload[o: o + n])
                o += n
            self._decoded[i] = planes.decode_codes(segments, self.C, self.H, self.W, self.model)
        return self._decoded[i]

    def channel_of_pixel(self):
        return np.repeat(np.arange(self.C), self.H * self.W)

    def reconstruct(self, i: int, codes=None) -> np.ndarray:
        """x̂ of §6 in float32 on the 0-255 scale; the grouping (mean + t) + s·k is what dq decode computes bit-exactly.
        Codec 2: x̂ of §14 (`codes` then are the 8-bit codes with the unknown planes 0)."""
        if self.codec == 2:
            u = self._planes(i) if codes is None else codes
            return planes.reconstruct(u, int(self.widths[i]), self.origins[i], self.steps[i])
        u = self.codes(i) if codes is None else codes
        b = int(self.widths[i])
        k = u.astype(np.float32) - np.float32(2 ** (b - 1)) + np.float32(0.5)
        centre = (self.mean.astype(np.float32) + np.float32(self.shifts[i]))[self.channel_of_pixel()]
        x = centre + np.float32(self.scales[i]) * k
        return np.clip(x, np.float32(0), np.float32(255)).astype(np.float32)

    def normalisation(self, normalize="unit"):
        """§6's per-channel multiplier a and addend e, float32: pixel (1, 0), unit (1/255, 0), standard
        a = 1/(255·std′), e = −mean′/std′ with mean′ = mean/255 and std′ = std/255."""
        f32, one = np.float32, np.ones(self.C, np.float32)
        if normalize == "pixel":
            return one, 0 * one
        if normalize == "unit":
            return one / f32(255), 0 * one
        if normalize == "standard":
            m, s = self.mean.astype(f32) / f32(255), self.std.astype(f32) / f32(255)
            return f32(1) / (f32(255) * s), -m / s
        raise ValueError(f"normalize {normalize!r} is not pixel, unit or standard")

    def decode(self, dtype="float32", normalize="unit") -> np.ndarray:
        if self.codec == 2:
            return self._decode_planes(dtype, normalize)
        out = np.empty((self.N, self.P), np.float32)
        for i in range(self.N):
            out[i] = self._unit(i) if (dtype == "float32" and normalize == "unit") else self.reconstruct(i)
        if dtype == "uint8":
            return np.floor(out + np.float32(0.5)).astype(np.uint8).reshape(self.N, self.C, self.H, self.W)
        if normalize == "standard":
            ch = self.channel_of_pixel()
            out = (out - self.mean.astype(np.float32)[ch]) / self.std.astype(np.float32)[ch]
        return out.astype(np.float32).reshape(self.N, self.C, self.H, self.W)

    def _decode_planes(self, dtype, normalize):
        """Codec 2 (§14): uint8 floor(x̂ + 0.5); float x̂·a + e, the product and the sum each rounded to float32."""
        x = np.stack([self.reconstruct(i) for i in range(self.N)]) if self.N else np.empty((0, self.P), np.float32)
        if dtype == "uint8":
            return np.floor(x + np.float32(0.5)).astype(np.uint8).reshape(self.N, self.C, self.H, self.W)
        a, e = self.normalisation(normalize)
        ch = self.channel_of_pixel()
        out = x * a[ch] + e[ch]
        return out.astype(np.float32).reshape(self.N, self.C, self.H, self.W)

    def _unit(self, i):
        """[0, 1] output as dq computes it: one fused affine map u*a + b per channel, clamped (bit-exact with dq)."""
        f32, inv = np.float32, np.float32(1) / np.float32(255)
        u, b, s = self.codes(i).astype(np.float64), int(self.widths[i]), f32(self.scales[i])
        a = f32(s * inv)
        beta = np.array([f32((f32(f32(m) + f32(self.shifts[i])) - f32(s * f32(2 ** (b - 1) - 0.5))) * inv)
                         for m in self.mean], np.float32)[self.channel_of_pixel()]
        # float64 holds the f32 product exactly, so one rounding to f32 afterwards is a fused multiply-add
        return np.clip((u * a + beta).astype(np.float32), f32(0), f32(1))


def expected_index_length(major, n, label_bytes, k):
    if major == 1:
        return 16 * n
    return n * label_bytes + 3 * n + (n + 1) // 2 + 4 * ((n + k - 1) // k)


def read_shard(path, data: bytes | None = None) -> Shard:
    path = str(path)
    if data is None:
        with open(path, "rb") as f:
            data = f.read()
    err = lambda fld, msg: DqsError(path, fld, msg)
    # §8.1
    if len(data) < 64:
        raise err("file.length", f"{len(data)} bytes, shorter than the 64-byte header")
    if data[:4] != MAGIC:
        raise err("header.magic", f"{data[:4].hex()} is not 89445153")
    major, minor = struct.unpack_from("<HH", data, 4)
    if major not in (1, 2):
        raise err("header.versionMajor", f"version {major}.{minor} is not supported")
    (hs, lb, codec, C, H, W, kb, classes, n, sidx, scount, first, srccount, flags, pl) = struct.unpack_from(
        "<IHHHHHHIIIIQIIQ", data, 8)
    if not 1 <= C <= 16:
        raise err("header.channels", f"{C} not in 1..16")
    hs_exp = 64 + 8 * C + 4
    if len(data) < hs_exp:
        raise err("file.length", f"{len(data)} bytes, shorter than the {hs_exp}-byte header")
    # §8.2
    hcrc = struct.unpack_from("<I", data, 64 + 8 * C)[0]
    if crc32c(data[: 64 + 8 * C]) != hcrc:
        raise err("header.headerChecksum", "mismatch")
    if hs != hs_exp:
        raise err("header.headerSize", f"{hs}, expected {hs_exp}")
    if codec not in (1, 2):
        raise err("header.codec", f"{codec} is not 1 or 2")
    if codec == 2 and major != 2:
        raise err("header.codec", f"codec 2 in version {major}.{minor}: only version 2 carries it")
    if flags != 0:
        raise err("header.flags", f"{flags:#x}, expected 0")
    if not 1 <= H <= 4096:
        raise err("header.height", f"{H} not in 1..4096")
    if not 1 <= W <= 4096:
        raise err("header.width", f"{W} not in 1..4096")
    if not 1 <= classes <= 65536:
        raise err("header.classCount", f"{classes} not in 1..65536")
    P = C * H * W
    if major == 2:
        if lb != (1 if classes <= 256 else 2):
            raise err("header.labelBytes", f"{lb} does not fit classCount {classes}")
        if kb != max(1, min(64, 65536 // P)):
            raise err("header.checksumBlock", f"{kb}, expected {max(1, min(64, 65536 // P))}")
    else:
        if lb != 16:
            raise err("header.recordSize", f"{lb}, expected 16")
        if kb != 0:
            raise err("header.reserved", f"{kb}, expected 0")
    if not sidx < scount:
        raise err("header.shardIndex", f"{sidx} not below shardCount {scount}")
    if not n <= srccount:
        raise err("header.sampleCount", f"{n} above sourceCount {srccount}")
    if codec == 2:  # §14: the sum of at most 8 segments of at most ceil(11·P/8) + 16 bytes per sample
        if pl > min(planes.payload_bound(n, P), 2**32 - 1):
            raise err("header.payloadLength", f"{pl} above {min(planes.payload_bound(n, P), 2**32 - 1)}, what "
                                              f"{n} samples' 8 planes can take")
    elif not (n * ((P + 7) // 8) <= pl <= n * P and pl <= 2**32 - 1):
        raise err("header.payloadLength", f"{pl} outside [{n * ((P + 7) // 8)}, {n * P}]")
    table = np.frombuffer(data, "<f4", 2 * C, 64).reshape(C, 2)
    mean, std = table[:, 0].copy(), table[:, 1].copy()
    for c in range(C):
        if not 0 <= mean[c] <= 255:
            raise err(f"header.channel[{c}].mean", f"{mean[c]} not in [0, 255]")
        if not np.float32(0.001) <= std[c] <= 255:
            raise err(f"header.channel[{c}].std", f"{std[c]} not in [0.001, 255]")
    # §8.3 (codec 2: IL is what the file's length leaves, within what N samples' index can take, §14)
    if codec == 2:
        il_lo, il_hi = planes.index_length_bounds(n, lb, kb)
        il = len(data) - (hs + 4 + pl + 24)
        if il < il_lo:
            raise err("file.length", f"truncated: {len(data)} bytes, the header implies at least {hs + il_lo + 4 + pl + 24}")
        if il > il_hi:
            raise err("file.length", f"{len(data)} bytes, more than the header allows ({hs + il_hi + 4 + pl + 24})")
    else:
        il = expected_index_length(major, n, lb, kb)
    total = hs + il + 4 + pl + 24
    if len(data) < total:
        raise err("file.length", f"truncated: {len(data)} bytes, the header implies {total}")
    if len(data) > total:
        raise err("file.length", f"{len(data) - total} trailing bytes after the footer")
    # §8.4
    ft = data[total - 24:]
    fmagic, fn, flen, fhcrc, fcrc = struct.unpack("<4sIQII", ft)
    if crc32c(ft[:20]) != fcrc:
        raise err("footer.footerChecksum", "mismatch")
    if fmagic != FOOTER_MAGIC:
        raise err("footer.magic", f"{fmagic.hex()} is not 44515345")
    if fn != n:
        raise err("footer.sampleCount", f"{fn}, header says {n}")
    if flen != len(data):
        raise err("footer.fileLength", f"{flen}, file has {len(data)}")
    if fhcrc != hcrc:
        raise err("footer.headerChecksum", "does not match the header's")
    # §8.5
    index = data[hs: hs + il]
    if crc32c(index) != struct.unpack_from("<I", data, hs + il)[0]:
        raise err("index.checksum", "mismatch")
    s = Shard(path, major, minor, C, H, W, classes, sidx, scount, first, srccount, codec, mean, std)
    s.payload = data[hs + il + 4: hs + il + 4 + pl]
    if codec == 2:  # §14's checks instead of the rest of §8.5
        ix = planes.read_index(index, n, lb, kb, P, classes, pl, err)
        s.labels, s.origins, s.steps, s.widths = ix["labels"], ix["origins"], ix["steps"], ix["planes"]
        s.thresholds, s.step_codes = ix["thresholds"], ix["step_codes"]
        s.block_crcs, s.model, s.segment_lengths, s.offsets = ix["block_crcs"], ix["model"], ix["lengths"], ix["offsets"]
        return s
    if major == 2:
        s.labels = np.frombuffer(index, "<u1" if lb == 1 else "<u2", n, 0).astype(np.int64)
        s.scales = np.frombuffer(index, "<f2", n, lb * n).astype(np.float32)
        s.shifts = np.frombuffer(index, "i1", n, (lb + 2) * n).astype(np.int64)
        wb = np.frombuffer(index, np.uint8, (n + 1) // 2, (lb + 3) * n)
        if n % 2 and wb[-1] >> 4:
            raise err("index.widths", "the unused high half of the last widths byte is not 0")
        s.widths = np.stack([wb & 15, wb >> 4], 1).ravel()[:n].astype(np.int64)
        nb = (n + kb - 1) // kb
        s.block_crcs = list(struct.unpack_from(f"<{nb}I", index, (lb + 3) * n + (n + 1) // 2))
        stored_offsets = None
    else:
        rec = np.frombuffer(index, np.dtype([("o", "<u4"), ("s", "<f4"), ("l", "<u2"), ("b", "u1"), ("t", "i1"),
                                             ("c", "<u4")]), n)
        s.labels, s.scales, s.widths = rec["l"].astype(np.int64), rec["s"].astype(np.float32), rec["b"].astype(np.int64)
        s.shifts, s.block_crcs, stored_offsets = rec["t"].astype(np.int64), [int(c) for c in rec["c"]], rec["o"]
    offsets, run = np.zeros(n + 1, np.int64), 0
    for i in range(n):
        b = int(s.widths[i])
        if not 1 <= b <= 8:
            raise err(f"sample[{i}].width", f"{b} not in 1..8")
        if s.labels[i] >= classes:
            raise err(f"sample[{i}].label", f"{s.labels[i]} not below classCount {classes}")
        sc = float(s.scales[i])
        if not 0 < sc <= 65504:
            raise err(f"sample[{i}].scale", f"{sc} not in (0, 65504]")
        if stored_offsets is not None and stored_offsets[i] != run:
            raise err(f"sample[{i}].offset", f"{stored_offsets[i]}, the running sum is {run}")
        offsets[i] = run
        run += packed_bytes(P, b)
        if run > pl:
            raise err(f"sample[{i}].width", f"the payload runs to {run}, past payloadLength {pl}")
    if run != pl:
        raise err("header.payloadLength", f"{pl}, the widths sum to {run}")
    offsets[n] = run
    s.offsets = offsets
    return s
