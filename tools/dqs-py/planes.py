"""Codec 2 of `.dqs` 2.0 shards: range-coded bit planes, after docs/format.md §14.

`read_index` parses and checks a planes shard's index (the caller has checked the header, the footer and the index
checksum, §8 steps 1-4); `decode_codes` range-decodes a sample's segments to its codes; `reconstruct` is §14's x̂.
Errors go through the caller's `err(field, message)`, so they name the file and the field as dqs.py's do.
"""
from __future__ import annotations

import numpy as np

CONTEXTS = 48           # x = ((same·4) + ones)·3 + left
MODEL_BYTES = 2 * 8 * CONTEXTS
MAX_VARINT_BYTES = 5


def segment_bound(P: int) -> int:
    """The most bytes one plane's segment may take: ceil(11·P/8) + 16."""
    return (11 * P + 7) // 8 + 16


def payload_bound(n: int, P: int) -> int:
    """The largest payloadLength N samples can have: 8 planes of at most segment_bound(P) bytes each."""
    return n * 8 * segment_bound(P)


def _fixed_index_bytes(n: int, L: int, K: int) -> int:
    """Labels, thresholds, step codes, planes, block checksums and the model: the index bytes before the segment lengths."""
    return (L + 2) * n + (n + 1) // 2 + 4 * ((n + K - 1) // K) + MODEL_BYTES


def index_length_bounds(n: int, L: int, K: int) -> tuple[int, int]:
    """Least and largest IL: every stored sample has 1..8 segment lengths of 1..5 bytes each."""
    fixed = _fixed_index_bytes(n, L, K)
    return fixed + n, fixed + 8 * MAX_VARINT_BYTES * n


def read_index(index: bytes, n: int, L: int, K: int, P: int, classes: int, pl: int, err) -> dict:
    """The columns of §14's index, checked in §14's order; raises err(field, message) at the first failure."""
    labels = np.frombuffer(index, "<u1" if L == 1 else "<u2", n, 0).astype(np.int64)
    thresholds = np.frombuffer(index, np.uint8, n, L * n).astype(np.int64)
    step_codes = np.frombuffer(index, np.uint8, n, (L + 1) * n).astype(np.int64)
    pb = np.frombuffer(index, np.uint8, (n + 1) // 2, (L + 2) * n)
    if n % 2 and pb[-1] >> 4:
        raise err("index.planes", "the unused high half of the last planes byte is not 0")
    planes = np.stack([pb & 15, pb >> 4], 1).ravel()[:n].astype(np.int64)
    for i in range(n):
        if labels[i] >= classes:
            raise err(f"sample[{i}].label", f"{labels[i]} not below classCount {classes}")
        if step_codes[i] > 191:
            raise err(f"sample[{i}].stepCode", f"{step_codes[i]} above 191")
        if not 1 <= planes[i] <= 8:
            raise err(f"sample[{i}].planes", f"{planes[i]} not in 1..8")
    nb = (n + K - 1) // K
    at = (L + 2) * n + (n + 1) // 2
    block_crcs = np.frombuffer(index, "<u4", nb, at).tolist()
    at += 4 * nb
    model = np.frombuffer(index, "<u2", 8 * CONTEXTS, at).astype(np.int64)
    bad = np.flatnonzero((model < 1) | (model > 2047))
    if bad.size:
        j = int(bad[0])
        raise err(f"index.model[{j}]", f"{model[j]} (plane bit {j // CONTEXTS}, context {j % CONTEXTS}) not in 1..2047")
    at += MODEL_BYTES
    # segment lengths: sample 0's k varints (most significant plane first), then sample 1's, ...
    bound, end = segment_bound(P), len(index)
    offsets, lengths, run = np.zeros(n + 1, np.int64), [], 0
    for i in range(n):
        offsets[i] = run
        own = []
        for t in range(int(planes[i])):
            fld = f"sample[{i}].segmentLength[{t}]"
            value = 0
            for m in range(MAX_VARINT_BYTES):
                if at >= end:
                    raise err(fld, f"the varint runs past the end of the index ({end} bytes)")
                byte = index[at]
                at += 1
                value |= (byte & 0x7F) << (7 * m)
                if not byte & 0x80:
                    break
            else:
                raise err(fld, f"the varint takes more than {MAX_VARINT_BYTES} bytes")
            if value > 2**32 - 1:
                raise err(fld, f"{value} does not fit in 32 bits")
            if value > bound:
                raise err(fld, f"{value} above ceil(11·P/8) + 16 = {bound}")
            own.append(value)
            run += value
        lengths.append(tuple(own))
    offsets[n] = run
    if run != pl:
        raise err("header.payloadLength", f"{pl}, the segment lengths sum to {run}")
    if at != end:
        raise err("index.segmentLengths", f"{end - at} bytes follow the last segment length")
    # o = T − 64 − q (a whole number) and d = (64 + q)/128: both exact in float32
    origins = (thresholds - 64 - step_codes).astype(np.float32)
    steps = ((64 + step_codes) / 128).astype(np.float32)
    return dict(labels=labels, thresholds=thresholds, step_codes=step_codes, origins=origins, steps=steps,
                planes=planes, block_crcs=block_crcs, model=model.reshape(8, CONTEXTS), lengths=lengths,
                offsets=offsets)


def decode_codes(segments, C: int, H: int, W: int, model: np.ndarray) -> np.ndarray:
    """A sample's 8-bit codes with the planes its segments (most significant first) give; the others are 0.

    One LZMA-style binary range decoder per plane over the pixels channel by channel, each in raster order, with
    the context of §14. Any bytes decode, in at most 4 + 2·P bytes read per plane (a bit leaves at least 2^13 of the
    range, so two shifts restore it), to some codes; the block checksum says whether they are right.
    """
    P = C * H * W
    u = [0] * P
    for n, seg in enumerate(segments):
        q = 7 - n
        probs = model[q].tolist()
        data = bytes(seg) + bytes(2 * P + 4)  # a byte past the segment's end reads as 0
        rng, code, pos = 0xFFFFFFFF, int.from_bytes(data[:4], "big"), 4
        bit, sh = 1 << q, q + 1
        for ch in range(C):
            for y in range(H):
                row = (ch * H + y) * W
                for c in range(W):
                    j = row + c
                    hi = u[j] >> sh
                    same = ones = 0
                    if y:
                        for a in range(j - W - (c > 0), j - W + 1 + (c < W - 1)):  # row y-1, columns c-1..c+1
                            ua = u[a]
                            if ua >> sh == hi:
                                same += 1
                                ones += (ua >> q) & 1
                    left = 0
                    if c:
                        ul = u[j - 1]
                        if ul >> sh == hi:
                            left = 1 + ((ul >> q) & 1)
                    bound = (rng >> 11) * probs[(same * 4 + ones) * 3 + left]
                    if code < bound:
                        rng = bound
                    else:
                        code -= bound
                        rng -= bound
                        u[j] |= bit
                    while rng < 0x1000000:
                        rng <<= 8
                        code = ((code << 8) & 0xFFFFFFFF) | data[pos]
                        pos += 1
    return np.array(u, np.uint8)


def reconstruct(codes: np.ndarray, k: int, origin: np.float32, step: np.float32) -> np.ndarray:
    """x̂ = clamp(o + d·m, 0, 255) in float32, m = (v << (8 − k)) + 2^(8−k)/2; `codes` are v << (8 − k)."""
    m = codes.astype(np.float32) + np.float32(2 ** (8 - k) / 2)
    x = np.float32(origin) + np.float32(step) * m  # exact in float32: d·m is a multiple of 1/256 below 512
    return np.clip(x, np.float32(0), np.float32(255)).astype(np.float32)
