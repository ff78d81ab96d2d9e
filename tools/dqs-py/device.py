"""What a device holds after layers 0..k-1 (§13): applying layers, writing its shard and held increments, and
shrinking by re-quantization (§6) without downloading anything.

A planes set (layers of version 4 or 5, §13 and §14) is held as segments: a layer appends each raised sample's new
segments, a shrink cuts them, and the shard written is codec 2."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from dqs import FOOTER_MAGIC, MAGIC, DqsError, crc32c, is_f16, pack, unpack
import planes as codec2
from layers import _put_varint, read_dql, write_dqh

f32, f64 = np.float32, np.float64


@dataclass
class Record:
    label: int
    width: int
    codes: np.ndarray
    scale: float  # float32 value
    shift: int
    incs: list = field(default_factory=list)  # [(width, layer)]


@dataclass
class PlaneRecord:
    """A sample of a planes set (§14): its grid and the segments of its top `width` planes, most significant first."""
    label: int
    width: int  # planes held, k
    threshold: int
    step_code: int
    segments: list
    incs: list = field(default_factory=list)  # [(planes, layer)]


@dataclass
class Device:
    C: int
    H: int
    W: int
    class_count: int
    N: int
    mean: np.ndarray
    std: np.ndarray
    records: dict = field(default_factory=dict)  # sample -> Record
    layers: int = 0
    increments: int = 0
    codec: int = 1              # 2: a planes set, records are PlaneRecords
    model: np.ndarray = None    # codec 2: the set's 8 × 48 model, from layer 0 or the shard

    @property
    def P(self):
        return self.C * self.H * self.W

    def chan(self):
        return np.repeat(np.arange(self.C), self.H * self.W)


def apply_layer(dev: Device | None, path) -> Device:
    lay = read_dql(path)
    of_planes = lay.of_planes
    if dev is None:
        dev = Device(lay.C, lay.H, lay.W, lay.class_count, lay.N, lay.mean, lay.std, codec=2 if of_planes else 1,
                     model=lay.model)
    if lay.index != dev.layers or lay.first != dev.increments:
        raise DqsError(path, "header.layerIndex", f"layer {lay.index} at increment {lay.first} does not start where "
                                                  f"the holdings end ({dev.layers} layers, {dev.increments} increments)")
    if of_planes != (dev.codec == 2):
        raise DqsError(path, "header.versionMajor", f"a layer of version {lay.version} does not apply to holdings "
                                                    f"of codec {dev.codec}")
    if (lay.C, lay.H, lay.W, lay.class_count, lay.N) != (dev.C, dev.H, dev.W, dev.class_count, dev.N):
        raise DqsError(path, "header", "shape, classCount or sampleCount differ from the holdings'")
    if of_planes:
        return _apply_planes(dev, lay, path)
    for j, e in enumerate(lay.entries):
        planes = unpack(e.planes, e.to - e.frm, dev.P)
        r = dev.records.get(e.sample)
        if e.frm == 0:
            if r is not None:
                raise DqsError(path, f"entry[{j}].from", f"sample {e.sample} is already held")
            r = dev.records[e.sample] = Record(e.label, 0, planes, 0.0, 0)
            s8, t8 = e.scale, e.shift
            r.s8, r.t8 = s8, t8
        else:
            if r is None or r.width != e.frm:
                raise DqsError(path, f"entry[{j}].from", f"sample {e.sample} is not held at {e.frm} bits")
            r.codes = ((r.codes.astype(np.uint16) << (e.to - e.frm)) | planes).astype(np.uint8)
        r.width = e.to
        if lay.version == 3:
            r.scale, r.shift = float(f32(e.scale)), e.shift
        else:  # versions 1 and 2 reconstruct every width from the 8-bit grid
            r.scale, r.shift = float(f32(r.s8) * f32(2.0 ** (8 - e.to))), r.t8
        r.incs.append((e.to, lay.index))
    dev.layers += 1
    dev.increments += len(lay.entries)
    return dev


def _apply_planes(dev: Device, lay, path) -> Device:
    """Layer versions 4 and 5 (the same entries, encoded two ways): each entry's segments are appended to its
    sample's (a new sample brings label and grid)."""
    for j, e in enumerate(lay.entries):
        r = dev.records.get(e.sample)
        if e.frm == 0:
            if r is not None:
                raise DqsError(path, f"entry[{j}].from", f"sample {e.sample} is already held")
            r = dev.records[e.sample] = PlaneRecord(e.label, 0, e.threshold, e.step_code, [])
        elif r is None or r.width != e.frm:
            raise DqsError(path, f"entry[{j}].from", f"sample {e.sample} is not held at {e.frm} planes")
        r.segments.extend(e.segments)
        r.width = e.to
        r.incs.append((e.to, lay.index))
    dev.layers += 1
    dev.increments += len(lay.entries)
    return dev


def reconstruct(dev: Device, codes, width, scale, shift) -> np.ndarray:
    k = codes.astype(f32) - f32(2 ** (width - 1)) + f32(0.5)
    centre = (dev.mean.astype(f32) + f32(shift))[dev.chan()]
    return np.clip(centre + f32(scale) * k, f32(0), f32(255)).astype(f32)


def requantize(dev: Device, r: Record, nb: int):
    """§6 "Re-quantization from codes": (codes, scale, shift) of `r` at nb < r.width bits."""
    b = r.width
    if nb == b:
        return r.codes, r.scale, r.shift
    xh = reconstruct(dev, r.codes, b, r.scale, r.shift)
    u = (r.codes >> (b - nb)).astype(np.uint8)
    k = u.astype(f32) - f32(2 ** (nb - 1)) + f32(0.5)
    rr = (xh - dev.mean.astype(f32)[dev.chan()]).astype(f32)
    n = float(len(k))
    sk, skk = float(np.sum(k, dtype=f64)), float(np.sum((k * k).astype(f32), dtype=f64))
    sr, skr = float(np.sum(rr, dtype=f64)), float(np.sum((k * rr).astype(f32), dtype=f64))
    merged = (float(f32(r.scale) * f32(2.0 ** (b - nb))), r.shift)

    def err(s, t):
        d = (reconstruct(dev, u, nb, s, t) - xh).astype(f32)
        return float(np.sum((d * d).astype(f32), dtype=f64))

    den = n * skk - sk * sk
    cand = None
    if den > 1e-9 * n * skk:  # §6: below that the codes barely spread and the fit has no scale
        s_ls = (n * skr - sk * sr) / den
        t = int(np.clip(np.round((sr - s_ls * sk) / n), -128, 127))  # np.round is half to even
        s = (skr - t * sk) / skk
        # float32 first, then binary16 (§6): straight from float64 a tie in float32 is no tie any more
        s16 = float(np.float32(np.float16(np.float32(s)))) if np.isfinite(s) else float("inf")
        if 2.0 ** -10 <= s16 <= 65504.0:
            cand = (s16, t)
    if cand is None or err(*merged) <= err(*cand):
        return u, merged[0], merged[1]
    return u, cand[0], cand[1]


def shrink(dev: Device, k: int) -> Device:
    """Keep layers 0..k-1: each record re-quantized from its held values to the width its first k layers reach
    (a planes set: each sample's segments cut to the planes its first k layers reach, nothing refitted)."""
    out = Device(dev.C, dev.H, dev.W, dev.class_count, dev.N, dev.mean, dev.std, layers=k, codec=dev.codec,
                 model=dev.model)
    for s, r in dev.records.items():
        kept = [(w, layer) for w, layer in r.incs if layer < k]
        if not kept:
            continue
        if dev.codec == 2:
            w = kept[-1][0]
            out.records[s] = PlaneRecord(r.label, w, r.threshold, r.step_code, list(r.segments[:w]), kept)
            out.increments += len(kept)
            continue
        codes, scale, shift = requantize(dev, r, kept[-1][0])
        out.records[s] = Record(r.label, kept[-1][0], codes, scale, shift, kept)
        out.increments += len(kept)
    return out


def shard_bytes(dev: Device, *, first_source=0, source_count=None, shard_index=0, shard_count=1,
                force_1x=False) -> bytes:
    """The device's single shard (§13): every held sample in sample order; 2.0 unless a scale needs float32 (§10);
    codec 2 (§14) for a planes set."""
    held = sorted(dev.records)
    recs = [dev.records[s] for s in held]
    planes = dev.codec == 2
    v2 = planes or not force_1x and all(is_f16(r.scale) for r in recs)
    C, P, n = dev.C, dev.P, len(recs)
    lb = (1 if dev.class_count <= 256 else 2) if v2 else 16
    kb = max(1, min(64, 65536 // P)) if v2 else 0
    payloads = [b"".join(r.segments) for r in recs] if planes else [pack(r.codes, r.width) for r in recs]
    pl = sum(len(p) for p in payloads)
    hdr = MAGIC + struct.pack("<HHIHHHHHHIIIIQIIQ", 2 if v2 else 1, 0 if v2 else 1, 64 + 8 * C + 4, lb,
                              2 if planes else 1, C, dev.H, dev.W, kb, dev.class_count, n, shard_index, shard_count,
                              first_source, dev.N if source_count is None else source_count, 0, pl)
    hdr += np.stack([dev.mean, dev.std], 1).astype("<f4").tobytes()
    hcrc = crc32c(hdr)
    hdr += struct.pack("<I", hcrc)
    if planes:  # §14's index: labels, thresholds, step codes, plane counts, block checksums, model, segment lengths
        idx = bytearray(np.array([r.label for r in recs], "<u1" if lb == 1 else "<u2").tobytes())
        idx += bytes(r.threshold for r in recs) + bytes(r.step_code for r in recs)
        w = [r.width for r in recs] + [0]
        idx += bytes(w[i] | w[i + 1] << 4 for i in range(0, n, 2))
        for i in range(0, n, kb):
            idx += struct.pack("<I", crc32c(b"".join(payloads[i: i + kb])))
        idx += np.asarray(dev.model, "<u2").reshape(8 * codec2.CONTEXTS).tobytes()
        for r in recs:
            for seg in r.segments:
                _put_varint(idx, len(seg))
        idx = bytes(idx)
    elif v2:
        idx = np.array([r.label for r in recs], "<u1" if lb == 1 else "<u2").tobytes()
        idx += np.array([r.scale for r in recs], "<f2").tobytes()
        idx += np.array([r.shift for r in recs], "i1").tobytes()
        w = [r.width for r in recs] + [0]
        idx += bytes(w[i] | w[i + 1] << 4 for i in range(0, n, 2))
        for i in range(0, n, kb):
            idx += struct.pack("<I", crc32c(b"".join(payloads[i: i + kb])))
    else:
        idx, off = b"", 0
        for r, p in zip(recs, payloads):
            idx += struct.pack("<IfHBbI", off, r.scale, r.label, r.width, r.shift, crc32c(p))
            off += len(p)
    body = hdr + idx + struct.pack("<I", crc32c(idx)) + b"".join(payloads)
    foot = FOOTER_MAGIC + struct.pack("<IQI", n, len(body) + 24, hcrc)
    return body + foot + struct.pack("<I", crc32c(foot))


def held_bytes(dev: Device, numbered=4) -> bytes:
    """`numbered`: the version written for a set numbered as §12 says, 4 (format 6 manifests, what a coordinator
    publishes by default), 3 (formats 4 and 5) or 2 (formats 2, 3)."""
    return write_dqh(dev.N, dev.P, dev.layers, {s: r.incs for s, r in dev.records.items()}, numbered)


def from_shard(shard, incs: dict, layers: int, class_count=None) -> Device:
    """A device's holdings from its shard and held increments (as read by dqs.read_shard / layers.read_dqh)."""
    dev = Device(shard.C, shard.H, shard.W, shard.class_count, shard.source_count, shard.mean, shard.std,
                 layers=layers, codec=shard.codec, model=shard.model)
    if shard.codec == 2:  # a planes set: every sample's segments, its block checksum checked first
        for i, s in enumerate(sorted(incs)):
            shard._check_payload(i)
            o, segs = int(shard.offsets[i]), []
            for n in shard.segment_lengths[i]:
                segs.append(shard.payload[o: o + n])
                o += n
            dev.records[s] = PlaneRecord(int(shard.labels[i]), int(shard.widths[i]), int(shard.thresholds[i]),
                                         int(shard.step_codes[i]), segs, list(incs[s]))
            dev.increments += len(incs[s])
        return dev
    for i, s in enumerate(sorted(incs)):
        dev.records[s] = Record(int(shard.labels[i]), int(shard.widths[i]), shard.codes(i), float(shard.scales[i]),
                                int(shard.shifts[i]), list(incs[s]))
        dev.increments += len(incs[s])
    return dev
