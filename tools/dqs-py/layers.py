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
    planes: bytes        # v1-3: the packed low `to − from` bits of the codes; v4, v5: b"" (see segments)
    threshold: int | None = None  # v4, v5, on a new sample: the grid's T and step code g (§14)
    step_code: int | None = None
    segments: tuple = ()  # v4, v5: the segments of planes from+1 … to, most significant first


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
    model: np.ndarray | None = None  # v4, v5 with firstIncrement 0: the set's 8 × 48 model (§14)

    @property
    def of_planes(self):
        """Versions 4 and 5 carry a planes set (§13, §14): the same entries, encoded two ways."""
        return self.version in (4, 5)


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
    if major not in (1, 2, 3, 4, 5):
        raise DqsError(path, "header.versionMajor", f"version {major} is not supported")
    if crc32c(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise DqsError(path, "checksum", "mismatch")
    table = np.frombuffer(data, "<f4", 2 * C, 36).reshape(C, 2)
    P, pos, end = C * H * W, 36 + 8 * C, len(data) - 4
    model = None
    if major in (4, 5) and first == 0:  # the set's model, which a device takes into its shard (§13, §14)
        if pos + codec2.MODEL_BYTES > end:
            raise DqsError(path, "model", "runs past the checksum")
        model = np.frombuffer(data, "<u2", 8 * codec2.CONTEXTS, pos).astype(np.int64)
        bad = np.flatnonzero((model < 1) | (model > 2047))
        if bad.size:
            raise DqsError(path, f"model[{int(bad[0])}]", f"{model[int(bad[0])]} not in 1..2047")
        model = model.reshape(8, codec2.CONTEXTS)
        pos += codec2.MODEL_BYTES
    if major == 5:
        entries = _v5_entries(path, data, pos, end, count, classes, n, P)
        return Layer(major, C, H, W, flags, classes, n, idx, first, table[:, 0].copy(), table[:, 1].copy(), entries,
                     model)
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


# --- .dql version 5: version 4's entries with a directory of Rice codes (§13, "Version 5 entries") ----------------
V5_PARAMETER_MAX = 15


class _BoundedBits:
    """Bits read LSB first from `pos` (a layer's directory, held increments version 4's lists); a bit at or past
    `end` (the checksum) is refused naming `fld`, so a run of one-bits in damaged bytes stops there."""

    def __init__(self, path, data, pos, end, fld="increments"):
        self.path, self.data, self.bit, self.end_bit, self.fld = path, data, 8 * pos, 8 * end, fld

    def take(self, k=1):
        if self.bit + k > self.end_bit:
            raise DqsError(self.path, self.fld, "the bits run past the checksum")
        v = 0
        for i in range(k):
            v |= (self.data[self.bit >> 3] >> (self.bit & 7) & 1) << i
            self.bit += 1
        return v

    def rice(self, r, most, what):
        """A Rice code of parameter r whose value may not exceed `most`: counting one-bits stops as soon as the
        quotient alone passes it, so no run of ones is read further than the refusal needs."""
        q = 0
        while self.take():
            q += 1
            if q << r > most:
                raise DqsError(self.path, self.fld, f"{what} above {most}")
        v = q << r | self.take(r)
        if v > most:
            raise DqsError(self.path, self.fld, f"{what} {v} above {most}")
        return v

    def next_byte(self):
        """Where the bytes after the bits start: the last byte's padding must be zero bits (a writer leaves them so)."""
        pad = -self.bit % 8
        if pad and self.take(pad):
            raise DqsError(self.path, self.fld, "the padding bits are not zero")
        return self.bit >> 3


def _v5_entries(path, data, pos, end, count, classes, n, P) -> list:
    """The entries of a version 5 layer, as version 4's would read (the same Entry objects)."""
    if pos + 2 > end:
        raise DqsError(path, "parameters", "run past the checksum")
    gap_r, len_r = data[pos], data[pos + 1]
    if gap_r > V5_PARAMETER_MAX or len_r > V5_PARAMETER_MAX:
        raise DqsError(path, "parameters", f"gap {gap_r}, length {len_r}: each at most {V5_PARAMETER_MAX}")
    pos += 2
    # every entry takes at least 6 bits of directory (§13), so a count the bytes cannot hold allocates nothing
    if count > 8 * (end - pos) // 6:
        raise DqsError(path, "header.incrementCount", f"{count} entries cannot fit {end - pos} bytes")
    bits, bound, sample, heads = _BoundedBits(path, data, pos, end), codec2.segment_bound(P), 0, []
    for j in range(count):
        # the first entry's gap counts from sample 0; the sample must stay below N
        sample += bits.rice(gap_r, n - 1 - sample, f"entry {j}'s gap")
        frm = bits.take(3)
        planes = 1
        while bits.take():
            planes += 1
            if frm + planes > 8:
                raise DqsError(path, "increments", f"entry {j}: from {frm} with {planes} planes passes 8")
        lengths = [bits.rice(len_r, bound, f"entry {j}'s segment length") for _ in range(planes)]
        heads.append((sample, frm, frm + planes, lengths))
    pos = bits.next_byte()
    label_fmt = "<B" if classes <= 256 else "<H"
    entries = []
    for j, (sample, frm, to, lengths) in enumerate(heads):
        label = thr = step = None
        if frm == 0:
            need = struct.calcsize(label_fmt) + 2
            if pos + need > end:
                raise DqsError(path, "increments", f"entry {j}'s label and grid run past the checksum")
            (label,) = struct.unpack_from(label_fmt, data, pos)
            thr, step = data[pos + need - 2], data[pos + need - 1]
            pos += need
            if label >= classes:
                raise DqsError(path, f"entry[{j}].label", f"{label} not below classCount {classes}")
            if step > 191:
                raise DqsError(path, f"entry[{j}].stepCode", f"{step} above 191")
        if pos + sum(lengths) > end:
            raise DqsError(path, "increments", f"entry {j}'s segments run past the checksum")
        segs = []
        for ln in lengths:
            segs.append(data[pos: pos + ln])
            pos += ln
        entries.append(Entry(sample, frm, to, label, None, None, b"", thr, step, tuple(segs)))
    if pos != end:
        raise DqsError(path, "length", f"{end - pos} bytes left after the last entry")
    return entries


def v5_entries_bytes(entries, class_count) -> bytes:
    """What a version 5 layer holds from its parameters to its checksum, for entries as read_dql returns them
    (sorted by sample): each parameter the one of 0..15 giving the fewest bits, the smallest on a tie (§13), so two
    writers of the same entries write the same bytes."""
    gaps, last = [], 0
    for e in entries:
        gaps.append(e.sample - last)
        last = e.sample
    lengths = [len(s) for e in entries for s in e.segments]
    gap_r, len_r = best_rice_parameter(gaps, V5_PARAMETER_MAX), best_rice_parameter(lengths, V5_PARAMETER_MAX)
    bits = _Bits()
    for e, gap in zip(entries, gaps):
        put_rice(bits, gap, gap_r)
        bits.put(e.frm, 3)
        bits.put((1 << (e.to - e.frm - 1)) - 1, e.to - e.frm)  # the count less one in unary, then its zero bit
        for s in e.segments:
            put_rice(bits, len(s), len_r)
    out = bytearray([gap_r, len_r]) + bits.out
    for e in entries:
        if e.frm == 0:
            out += struct.pack("<B" if class_count <= 256 else "<H", e.label) + bytes([e.threshold, e.step_code])
        out += b"".join(e.segments)
    return bytes(out)


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


# Rice codes (§13, held increments version 4 and layer version 5): q = v >> r one-bits, a zero bit, then the low r
# bits of v, least significant first.
def rice_bits(v, r):
    return (v >> r) + 1 + r


def put_rice(bits, v, r):
    q = v >> r
    bits.put((1 << q) - 1, q)
    bits.put(0, 1)
    bits.put(v & ((1 << r) - 1), r)


def best_rice_parameter(values, top):
    """The parameter of 0..top giving the fewest bits over `values`, the smallest on a tie (0 for no values)."""
    return min(range(top + 1), key=lambda r: (sum(rice_bits(v, r) for v in values), r))


HELD_V4_PARAMETERS, HELD_V4_PARAMETER_MAX = 7, 12


def _held_v4_lists(out: bytearray, held, incs):
    """Held increments version 4's lists after the width sum and list 1: the 7 Rice parameters, then per sample its
    steps (none below 2 bits; a flag, then the steps unless all are 1) and its later increments' layer gaps."""
    gaps = [[] for _ in range(HELD_V4_PARAMETERS)]  # gaps[n - 1]: the gaps of every sample's increment n
    for s in held:
        for n, ((_, a), (_, b)) in enumerate(zip(incs[s], incs[s][1:])):
            gaps[n].append(b - a)
    params = [best_rice_parameter(g, HELD_V4_PARAMETER_MAX) for g in gaps]
    out += bytes(params)
    bits = _Bits()
    for s in held:
        widths = [w for w, _ in incs[s]]
        w, steps = widths[-1], [b - a for a, b in zip([0] + widths, widths)]
        if w >= 2:
            if all(st == 1 for st in steps):
                bits.put(0, 1)
            else:
                bits.put(1, 1)
                reached = 0
                for st in steps:
                    if w - reached >= 2:  # one bit below w the step can only be 1: it is left out
                        _put_step(bits, st)
                    reached += st
        for n, ((_, a), (_, b)) in enumerate(zip(incs[s], incs[s][1:])):
            put_rice(bits, b - a, params[n])
    out += bits.out


def write_dqh(n, p, layers, incs: dict, numbered=4) -> bytes:
    """incs: sample -> [(width, layer), ...] in order, for every held sample. Chooses version `numbered` (4 where a
    manifest of format 6 counts it, 3 for formats 4 and 5, 2 for formats 2 and 3) or 1 as §13 says."""
    held = sorted(incs)
    k = sum(len(v) for v in incs.values())
    m = len(held)
    firsts = [incs[s][0][1] for s in held]
    # versions 2-4 need samples 0..m-1 whose first increments came in sample order (layer order is the only
    # ordering a device still knows, so non-decreasing first layers are the test)
    v3 = held == list(range(m)) and all(a <= b for a, b in zip(firsts, firsts[1:]))
    out = bytearray(b"DQH1" + struct.pack("<HHIIII", numbered if v3 else 1, 0, n, p, k, layers))
    last_steps = numbered == 2  # versions 3, 4 leave out each sample's last step: the shard's width implies it
    if not v3:
        bitmap = bytearray((n + 7) // 8)
        for s in held:
            bitmap[s // 8] |= 1 << (s % 8)
        out += bitmap
        for s in held:
            for w, layer in incs[s]:
                out += struct.pack("<H", w << 12 | layer)
    else:
        if not last_steps:
            _put_varint(out, sum(incs[s][-1][0] for s in held))
        for layer in range(layers):
            _put_varint(out, sum(1 for f in firsts if f == layer))
        if numbered == 4:
            _held_v4_lists(out, held, incs)
            out += struct.pack("<I", crc32c(out))
            return bytes(out)
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
    out += struct.pack("<I", crc32c(out))
    return bytes(out)


def read_dqh(path, shard_widths=None) -> dict:
    """Returns sample -> [(width, layer)]. Versions 3 and 4 need the shard's widths (sample order): 3 for the last
    steps, 4 for every sample's steps."""
    data = open(path, "rb").read()
    _checked_body(path, data, b"DQH1", "held increments (DQH1)")
    ver, _minor, n, p, k, layers = struct.unpack_from("<HHIIII", data, 4)
    if ver not in (1, 2, 3, 4):
        raise DqsError(path, "header.versionMajor", f"version {ver} is not supported")
    body, pos, end = data, 24, len(data) - 4
    incs = {}
    if ver == 1:
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
    width_sum = None
    if ver in (3, 4):
        width_sum, pos = _varint(path, body, pos, end)
    if ver == 4:
        incs = _read_held_v4(path, body, pos, end, layers, shard_widths)
        if width_sum != int(np.sum(shard_widths)):
            raise DqsError(path, "widthSum", f"{width_sum}, the shard's widths sum to {int(np.sum(shard_widths))}")
        if sum(map(len, incs.values())) != k:
            raise DqsError(path, "header.incrementCount", f"{k}, the lists hold {sum(map(len, incs.values()))}")
        return incs
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


def _read_held_v4(path, data, pos, end, layers, shard_widths) -> dict:
    """Held increments version 4 after the width sum (§13): list 1, the Rice parameters, then each sample's steps
    (which need its width in the shard) and its later increments' layer gaps."""
    if shard_widths is None:
        raise DqsError(path, "steps", "version 4 needs the shard's widths")
    first_layer = []
    for layer in range(layers):
        c, pos = _varint(path, data, pos, end, "newSamples")
        first_layer += [layer] * c
    m = len(first_layer)
    if m != len(shard_widths):
        raise DqsError(path, "newSamples", f"{m} samples, the shard stores {len(shard_widths)}")
    if pos + HELD_V4_PARAMETERS > end:
        raise DqsError(path, "parameters", "run past the checksum")
    params = list(data[pos: pos + HELD_V4_PARAMETERS])
    if max(params) > HELD_V4_PARAMETER_MAX:
        raise DqsError(path, "parameters", f"{params}: each at most {HELD_V4_PARAMETER_MAX}")
    bits = _BoundedBits(path, data, pos + HELD_V4_PARAMETERS, end, "gaps")
    incs = {}
    for s in range(m):
        w = int(shard_widths[s])
        steps = _held_v4_steps(path, bits, w, s)
        layer, out, reached = first_layer[s], [], 0
        for n, st in enumerate(steps):
            if n:  # a later increment: its layer's gap from the one before, which stays below L
                layer += bits.rice(params[n - 1], layers - 1 - layer, f"sample {s}'s layer gap")
            reached += st
            out.append((reached, layer))
        incs[s] = out
    if bits.next_byte() != end:
        raise DqsError(path, "gaps", f"{end - (bits.bit >> 3)} bytes left before the checksum")
    return incs


def _held_v4_steps(path, bits, w, s) -> list:
    """A sample's steps (its bits, when they run out, are refused as `steps`; the gaps after them as `gaps`)."""
    bits.fld = "steps"
    try:
        return _held_v4_step_list(path, bits, w, s)
    finally:
        bits.fld = "gaps"


def _held_v4_step_list(path, bits, w, s) -> list:
    if not 1 <= w <= 8:
        raise DqsError(path, "steps", f"sample {s}: width {w} in the shard")
    if w < 2 or bits.take() == 0:  # one step to 1 bit, or w steps of 1
        return [1] * w
    steps, reached = [], 0
    while reached < w:
        st = 1
        if w - reached >= 2:
            st = 1 if bits.take() == 0 else bits.take(3) + 2
            if reached + st > w:
                raise DqsError(path, "steps", f"sample {s}: a step of {st} from {reached} passes {w}")
        steps.append(st)
        reached += st
    return steps
