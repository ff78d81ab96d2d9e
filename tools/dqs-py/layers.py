"""Increment orders (`.dqo`, §12), layers (`.dql`, §13) and held increments (`.dqh`, §13) of docs/format.md."""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

import planes as codec2
from dqs import DqsError, crc32c, packed_bytes


def _checked_body(path, data, magic, what):
    if len(data) < 12:
        raise DqsError(path, "file.length", f"{len(data)} bytes is too short for a {what}")
    if data[: len(magic)] != magic:
        raise DqsError(path, "header.magic", f"{data[:4]!r} is not {what}")
    if crc32c(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise DqsError(path, "checksum", "mismatch")


# --- .dqo --------------------------------------------------------------------------------------------------------
def read_dqo(path):
    data = open(path, "rb").read()
    _checked_body(path, data, b"DQO1", "an increment order (DQO1)")
    major, _minor, n, p, k = struct.unpack_from("<HHIII", data, 4)
    if major != 1:
        raise DqsError(path, "header.versionMajor", f"version {major} is not supported")
    if k > 8 * n or len(data) != 24 + 5 * k:
        raise DqsError(path, "header.incrementCount", f"{k} does not fit {len(data)} bytes / {n} samples")
    incs, width = [], {}
    for j in range(k):
        s, w = struct.unpack_from("<IB", data, 20 + 5 * j)
        if s >= n or w > 8 or w <= width.get(s, 0):
            raise DqsError(path, f"increment[{j}]", f"sample {s} to width {w} is not a rise")
        width[s] = w
        incs.append((s, w))
    return n, p, incs


# --- .dql --------------------------------------------------------------------------------------------------------
@dataclass
class Entry:
    sample: int
    frm: int
    to: int
    label: int | None
    scale: float | None  # v1/2: s8 on a new sample; v3: the pair's a at `to`
    shift: int | None
    planes: bytes        # v1-3: the packed low `to − from` bits of the codes; v4: b"" (see segments)
    threshold: int | None = None  # v4, on a new sample: the grid's T and step code g (§14)
    step_code: int | None = None
    segments: tuple = ()  # v4: the segments of planes from+1 … to, most significant first


@dataclass
class Layer:
    version: int
    C: int
    H: int
    W: int
    flags: int
    class_count: int
    N: int
    index: int
    first: int
    mean: np.ndarray
    std: np.ndarray
    entries: list
    model: np.ndarray | None = None  # v4 with firstIncrement 0: the set's 8 × 48 model (§14)


def _varint(path, data, pos, end, fld="entry.gap"):
    v = 0
    for n in range(5):
        if pos >= end:
            raise DqsError(path, fld, "varint runs past the entries' end")
        b = data[pos]
        pos += 1
        v |= (b & 0x7F) << (7 * n)
        if not b & 0x80:
            if v >> 32:
                raise DqsError(path, fld, "varint exceeds 32 bits")
            return v, pos
    raise DqsError(path, fld, "varint takes more than 5 bytes")


def read_dql(path) -> Layer:
    data = open(path, "rb").read()
    if len(data) < 40 or data[:3] != b"DQL":
        raise DqsError(path, "header.magic", "not a layer (DQL)")
    major, _minor, C, H, W, flags, classes, n, idx, first, count = struct.unpack_from("<HHHHHHIIIII", data, 4)
    if major not in (1, 2, 3, 4):
        raise DqsError(path, "header.versionMajor", f"version {major} is not supported")
    if crc32c(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise DqsError(path, "checksum", "mismatch")
    table = np.frombuffer(data, "<f4", 2 * C, 36).reshape(C, 2)
    P, pos, end = C * H * W, 36 + 8 * C, len(data) - 4
    model = None
    if major == 4 and first == 0:  # the set's model, which a device takes into its shard (§13, §14)
        if pos + codec2.MODEL_BYTES > end:
            raise DqsError(path, "model", "runs past the checksum")
        model = np.frombuffer(data, "<u2", 8 * codec2.CONTEXTS, pos).astype(np.int64)
        bad = np.flatnonzero((model < 1) | (model > 2047))
        if bad.size:
            raise DqsError(path, f"model[{int(bad[0])}]", f"{model[int(bad[0])]} not in 1..2047")
        model = model.reshape(8, codec2.CONTEXTS)
        pos += codec2.MODEL_BYTES
    if count > (end - pos) // 3:
        raise DqsError(path, "header.incrementCount", f"{count} entries cannot fit {end - pos} bytes")
    entries, sample = [], 0

    def take(fmt):
        nonlocal pos
        sz = struct.calcsize(fmt)
        if pos + sz > end:
            raise DqsError(path, f"entry[{len(entries)}]", "runs past the checksum")
        v = struct.unpack_from(fmt, data, pos)
        pos += sz
        return v

    for j in range(count):
        if major == 1:
            sample, frm, to = take("<IBB")
        else:
            gap, pos = _varint(path, data, pos, end)
            sample += gap
            (ft,) = take("<B")
            frm, to = ft >> 4, ft & 15
        if sample >= n:
            raise DqsError(path, f"entry[{j}].sample", f"{sample} not below sampleCount {n}")
        if frm >= to or to > 8:
            raise DqsError(path, f"entry[{j}].widths", f"from {frm} to {to}")
        label = scale = shift = None
        if major == 4:
            thr = step = None
            if frm == 0:
                (label,) = take("<B" if classes <= 256 else "<H")
                thr, step = take("<BB")
                if step > 191:
                    raise DqsError(path, f"entry[{j}].stepCode", f"{step} above 191")
            if label is not None and label >= classes:
                raise DqsError(path, f"entry[{j}].label", f"{label} not below classCount {classes}")
            segs, bound = [], codec2.segment_bound(P)
            for q in range(frm + 1, to + 1):
                fld = f"entry[{j}].segmentLength[{q}]"
                n_seg, pos = _varint(path, data, pos, end, fld)
                if n_seg > bound:
                    raise DqsError(path, fld, f"{n_seg} above ceil(11·P/8) + 16 = {bound}")
                if pos + n_seg > end:
                    raise DqsError(path, f"entry[{j}].segment[{q}]", "runs past the checksum")
                segs.append(data[pos: pos + n_seg])
                pos += n_seg
            entries.append(Entry(sample, frm, to, label, None, None, b"", thr, step, tuple(segs)))
            continue
        if frm == 0:
            if major == 1:
                label, scale, shift = take("<Hfb")
            else:
                (label,) = take("<B" if classes <= 256 else "<H")
        if major == 2 and frm == 0 or major == 3:
            (scale,) = take("<e" if flags & 1 else "<f")
            (shift,) = take("<b")
        if label is not None and label >= classes:
            raise DqsError(path, f"entry[{j}].label", f"{label} not below classCount {classes}")
        # The record's scale at `to` bits is a shard's (at most 65504): v3 stores it, v1/v2 s8, which it multiplies by 2^(8-to).
        if scale is not None and not (scale > 0 and (scale if major == 3 else float(scale) * 2 ** (8 - to)) <= 65504):
            raise DqsError(path, f"entry[{j}].scale", f"{scale} is not > 0 with the record's scale at {to} bits at most 65504")
        nb = packed_bytes(P, to - frm)
        if pos + nb > end:
            raise DqsError(path, f"entry[{j}].planes", "run past the checksum")
        entries.append(Entry(sample, frm, to, label, scale, shift, data[pos: pos + nb]))
        pos += nb
    if pos != end:
        raise DqsError(path, "entries", f"{end - pos} bytes left after the last entry")
    return Layer(major, C, H, W, flags, classes, n, idx, first, table[:, 0].copy(), table[:, 1].copy(), entries, model)


# --- .dqh --------------------------------------------------------------------------------------------------------
def _put_varint(out: bytearray, v: int):
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return


class _Bits:
    def __init__(self, data=b""):
        self.data, self.pos, self.out, self.n = data, 0, bytearray(), 0

    def put(self, v, k):
        for i in range(k):
            if self.n % 8 == 0:
                self.out.append(0)
            self.out[-1] |= ((v >> i) & 1) << (self.n % 8)
            self.n += 1

    def get(self, k):
        v = 0
        for i in range(k):
            byte = self.data[self.pos // 8]
            v |= ((byte >> (self.pos % 8)) & 1) << i
            self.pos += 1
        return v


def _put_step(bits, step):
    if step == 1:
        bits.put(0, 1)
    else:
        bits.put(1, 1)
        bits.put(step - 2, 3)


def write_dqh(n, p, layers, incs: dict, numbered=4) -> bytes:
    """incs: sample -> [(width, layer), ...] in order, for every held sample. Chooses version `numbered` (4, or 3 or
    2 where a manifest of formats 4 and 5 or 2 and 3 counts it) or 1 as §13 says."""
    held = sorted(incs)
    k = sum(len(v) for v in incs.values())
    m = len(held)
    firsts = [incs[s][0][1] for s in held]
    # versions 2-4 need samples 0..m-1 whose first increments came in sample order (layer order is the only
    # ordering a device still knows, so non-decreasing first layers are the test)
    in_order = held == list(range(m)) and all(a <= b for a, b in zip(firsts, firsts[1:]))
    version = numbered if in_order else 1
    out = bytearray(b"DQH1" + struct.pack("<HHIIII", version, 0, n, p, k, layers))
    if version == 1:
        _put_v1_lists(out, n, incs, held)
    elif version == 4:
        _put_v4_lists(out, layers, incs, held, firsts)
    else:
        _put_v23_lists(out, layers, incs, held, firsts, last_steps=version == 2)
    out += struct.pack("<I", crc32c(out))
    return bytes(out)


def _put_v1_lists(out, n, incs, held):
    bitmap = bytearray((n + 7) // 8)
    for s in held:
        bitmap[s // 8] |= 1 << (s % 8)
    out += bitmap
    for s in held:
        for w, layer in incs[s]:
            out += struct.pack("<H", w << 12 | layer)


def _put_first_counts(out, layers, firsts):
    """Version 2's list 1: per layer, how many samples it raised from 0 bits."""
    for layer in range(layers):
        _put_varint(out, sum(1 for f in firsts if f == layer))


def _put_v23_lists(out, layers, incs, held, firsts, last_steps):
    """`last_steps` False (version 3): the width sum first, and each sample's last step left out (the shard's width
    implies it)."""
    if not last_steps:
        _put_varint(out, sum(incs[s][-1][0] for s in held))
    _put_first_counts(out, layers, firsts)
    later = [[] for _ in range(layers)]  # per layer: (sample, from, to)
    for s in held:
        prev = incs[s][0][0]
        for w, layer in incs[s][1:]:
            later[layer].append((s, prev, w))
            prev = w
    for layer in range(layers):
        _put_varint(out, len(later[layer]))
    for layer in range(layers):
        last = 0
        for s, _, _ in later[layer]:
            _put_varint(out, s - last)
            last = s
    bits = _Bits()
    for s in held:
        if len(incs[s]) > 1 or last_steps:
            _put_step(bits, incs[s][0][0])
    for layer in range(layers):
        for s, frm, to in later[layer]:
            if to != incs[s][-1][0] or last_steps:
                _put_step(bits, to - frm)
    out += bits.out


RICE_MAX = 12  # the largest Rice parameter of held increments version 4
LATER_MAX = 7  # increments after a sample's first: widths rise by at least 1 up to 8


def _rice_bits(gap, r):
    return (gap >> r) + 1 + r


def _rice_parameter(gaps):
    """The parameter 0..12 with the fewest bits over `gaps`, the smallest on a tie (so two writers agree); 0 for
    none, as min() keeps the first of equal totals."""
    return min(range(RICE_MAX + 1), key=lambda r: sum(_rice_bits(g, r) for g in gaps))


def _layer_gaps(incs_of_sample):
    return [b[1] - a[1] for a, b in zip(incs_of_sample, incs_of_sample[1:])]


def _put_v4_lists(out, layers, incs, held, firsts):
    _put_varint(out, sum(incs[s][-1][0] for s in held))
    _put_first_counts(out, layers, firsts)
    gaps = {s: _layer_gaps(incs[s]) for s in held}
    params = [_rice_parameter([gaps[s][n] for s in held if len(gaps[s]) > n]) for n in range(LATER_MAX)]
    out += bytes(params)
    bits = _Bits()
    for s in held:
        _put_v4_steps(bits, [w for w, _ in incs[s]])
        for n, gap in enumerate(gaps[s]):
            r = params[n]
            bits.put((1 << (gap >> r)) - 1, gap >> r)  # q one-bits, then a zero
            bits.put(0, 1)
            bits.put(gap, r)
    out += bits.out


def _put_v4_steps(bits, widths):
    """A sample's steps (version 4): nothing below 2 bits; else a flag, and when a step is not 1 every step that
    the width left to reach does not imply (a step with 1 bit left is 1)."""
    w = widths[-1]
    if w < 2:
        return
    steps = [b - a for a, b in zip([0] + widths, widths)]
    if all(st == 1 for st in steps):
        bits.put(0, 1)
        return
    bits.put(1, 1)
    reached = 0
    for st in steps:
        if w - reached >= 2:
            _put_step(bits, st)
        reached += st


def read_dqh(path, shard_widths=None) -> dict:
    """Returns sample -> [(width, layer)]. Versions 3 and 4 need the shard's widths (sample order): version 3 for
    the last steps, version 4 for every sample's steps."""
    data = open(path, "rb").read()
    _checked_body(path, data, b"DQH1", "held increments (DQH1)")
    ver, _minor, n, p, k, layers = struct.unpack_from("<HHIIII", data, 4)
    if ver not in (1, 2, 3, 4):
        raise DqsError(path, "header.versionMajor", f"version {ver} is not supported")
    if ver == 1:
        return _read_v1(data, n, k, shard_widths)
    if ver == 4:
        return _read_v4(path, data, n, k, layers, shard_widths)
    return _read_v23(path, data, ver, layers, shard_widths)


def _read_v1(body, n, k, shard_widths):
    pos = 24
    incs = {}
    bitmap = body[pos: pos + (n + 7) // 8]
    pos += (n + 7) // 8
    held = [s for s in range(n) if bitmap[s // 8] >> (s % 8) & 1]
    words = struct.unpack_from(f"<{k}H", body, pos)
    widths = list(shard_widths) if shard_widths is not None else None
    j = 0
    for i, s in enumerate(held):
        incs[s] = []
        while True:
            w, layer = words[j] >> 12, words[j] & 0xFFF
            incs[s].append((w, layer))
            j += 1
            if widths is not None and w == widths[i] or widths is None and (j == k or words[j] >> 12 <= w):
                break
    return incs


def _read_v23(path, body, ver, layers, shard_widths):
    pos, end = 24, len(body) - 4
    incs = {}
    width_sum = None
    if ver == 3:
        width_sum, pos = _varint(path, body, pos, end)
    first_counts, later_counts = [], []
    for dst in (first_counts, later_counts):
        for _ in range(layers):
            v, pos = _varint(path, body, pos, end)
            dst.append(v)
    m = sum(first_counts)
    first_layer = [layer for layer, c in enumerate(first_counts) for _ in range(c)]
    later = []
    for layer in range(layers):
        s = 0
        for _ in range(later_counts[layer]):
            g, pos = _varint(path, body, pos, end)
            s += g
            if s >= m:
                raise DqsError(path, "lists.later", f"sample {s} not below {m}")
            later.append((s, layer))
    last_of = {s: ("first", s) for s in range(m)}
    for j, (s, _) in enumerate(later):
        last_of[s] = ("later", j)
    bits = _Bits(body[pos:end])
    step = lambda: 1 if bits.get(1) == 0 else bits.get(3) + 2
    need_last = ver == 3
    firsts = [None if need_last and last_of[s] == ("first", s) else step() for s in range(m)]
    laters = [None if need_last and last_of[s] == ("later", j) else step() for j, (s, _) in enumerate(later)]
    for s in range(m):
        incs[s] = [(firsts[s], first_layer[s])]
    for j, (s, layer) in enumerate(later):
        incs[s].append((laters[j], layer))
    for s in range(m):  # steps -> widths; a missing (last) step is what the shard's width leaves
        w, out = 0, []
        for i, (st, layer) in enumerate(incs[s]):
            if st is None:
                if shard_widths is None:
                    raise DqsError(path, "lists.steps", "version 3 needs the shard's widths")
                st = int(shard_widths[s]) - w
            w += st
            out.append((w, layer))
        incs[s] = out
    if width_sum is not None and shard_widths is not None and width_sum != int(np.sum(shard_widths)):
        raise DqsError(path, "widthSum", f"{width_sum}, the shard's widths sum to {int(np.sum(shard_widths))}")
    return incs


class _BitReader:
    """Bits LSB first from data[pos:end]; running out is refused, naming the list being read."""

    def __init__(self, path, data, pos, end):
        self.path, self.data, self.pos, self.end = path, data, pos * 8, end * 8

    def get(self, k, fld):
        if self.pos + k > self.end:
            raise DqsError(self.path, fld, "bits run past the checksum")
        v = 0
        for i in range(k):
            v |= ((self.data[self.pos >> 3] >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return v


def _read_v4(path, data, n, k, layers, shard_widths):
    pos, end = 24, len(data) - 4
    width_sum, pos = _varint(path, data, pos, end, "widthSum")
    if shard_widths is None:
        raise DqsError(path, "steps", "version 4 needs the shard's widths")
    widths = [int(w) for w in shard_widths]
    if width_sum != sum(widths):
        raise DqsError(path, "widthSum", f"{width_sum}, the shard's widths sum to {sum(widths)}")
    first_layer = []
    for layer in range(layers):
        c, pos = _varint(path, data, pos, end, "newSamples")
        if len(first_layer) + c > len(widths):  # checked before allocating: the shard bounds the samples
            raise DqsError(path, "newSamples", f"more than the {len(widths)} samples the shard stores")
        first_layer += [layer] * c
    if len(first_layer) != len(widths) or len(widths) > n:
        raise DqsError(path, "newSamples", f"{len(first_layer)} samples, the shard stores {len(widths)} of {n}")
    if pos + LATER_MAX > end:
        raise DqsError(path, "parameters", "run past the checksum")
    params = list(data[pos: pos + LATER_MAX])
    if max(params) > RICE_MAX:
        raise DqsError(path, "parameters", f"{params} has one above {RICE_MAX}")
    bits = _BitReader(path, data, pos + LATER_MAX, end)
    incs, total = {}, 0
    for s, w in enumerate(widths):
        steps = _read_v4_steps(path, bits, w, s)
        layer = first_layer[s]
        out, reached = [], 0
        for n_inc, st in enumerate(steps):
            if n_inc:
                layer += _read_rice(path, bits, params[n_inc - 1], layers - layer, s)
            reached += st
            out.append((reached, layer))
        incs[s] = out
        total += len(out)
    _check_v4_end(path, bits)
    if total != k:
        raise DqsError(path, "header.incrementCount", f"{k}, the lists hold {total} increments")
    return incs


def _read_v4_steps(path, bits, w, s):
    if not 1 <= w <= 8:
        raise DqsError(path, "steps", f"sample {s}: width {w} in the shard is not 1..8")
    if w == 1 or bits.get(1, "steps") == 0:
        return [1] * w  # a sample at 1 bit was raised once; flag 0: every step is 1
    steps, reached = [], 0
    while reached < w:
        st = 1
        if w - reached >= 2:
            st = 1 if bits.get(1, "steps") == 0 else bits.get(3, "steps") + 2
        if reached + st > w:
            raise DqsError(path, "steps", f"sample {s}: a step of {st} from {reached} passes its width {w}")
        steps.append(st)
        reached += st
    return steps


def _read_rice(path, bits, r, room, s):
    """A gap of `room` or more would take the layer to L or past it: refused as soon as the one-bits say so."""
    q = 0
    while bits.get(1, "gaps"):
        q += 1
        if q << r >= room:
            raise DqsError(path, "gaps", f"sample {s}: a gap of at least {q << r} passes the last layer")
    gap = q << r | bits.get(r, "gaps")
    if gap >= room:
        raise DqsError(path, "gaps", f"sample {s}: a gap of {gap} passes the last layer")
    return gap


def _check_v4_end(path, bits):
    """The bits end in the last byte before the checksum, padded with zero bits."""
    left = (bits.end - bits.pos) // 8
    if left:
        raise DqsError(path, "gaps", f"{left} byte{'s' if left > 1 else ''} left after the bits")
    if bits.pos < bits.end and bits.get(bits.end - bits.pos, "gaps"):
        raise DqsError(path, "gaps", "the last byte's padding bits are not zero")
