"""A format 1 shard shrunk to its target on the device (docs/protocol.md §7, "Format 1"; the records as
docs/format.md §6 "Re-quantization from codes"), read and written through tools/dqs-py."""
import os

import store
from dqs_py import dqs, dqs_device

FormatError = dqs.DqsError
TMP = ".requant.tmp"
# When samples are dropped, the index's half-byte widths and block checksums are set aside as if every stored sample
# stayed, each rounded up: one byte for the widths and one block checksum (protocol.md §7, "Format 1", A).
DROP_RESERVE = 1 + 4


def _fixed(sh):
    """Header, index checksum and footer: what a shard storing no sample takes."""
    return 64 + 8 * sh.C + 4 + 4 + 24


def _label_bytes(sh):
    return 1 if sh.class_count <= 256 else 2


def file_size(sh, widths):
    """The 2.0 file the widths make (format.md §2): 0 widths are dropped samples."""
    kept = [b for b in widths if b]
    il = dqs.expected_index_length(2, len(kept), _label_bytes(sh), sh.K)
    return _fixed(sh) + il + sum(dqs.packed_bytes(sh.P, b) for b in kept)


def plan_widths(sh, target):
    """Per stored sample its new width (0: dropped), or None when not even an empty shard fits."""
    if target < _fixed(sh):
        return None
    widths = [int(b) for b in sh.widths]
    best = None
    for cap in range(max(widths, default=1), 0, -1):
        capped = [min(b, cap) for b in widths]
        if file_size(sh, capped) <= target:
            best = cap
            break
    if best is not None:
        out = [min(b, best) for b in widths]
        size = file_size(sh, out)
        step = dqs.packed_bytes(sh.P, best + 1) - dqs.packed_bytes(sh.P, best)
        # Samples in index order keep one bit more while it still fits; with every step the same size (P a
        # multiple of 8) "stop at the first that does not fit" and "skip it" agree.
        for i, b in enumerate(widths):
            if b > best and size + step <= target:
                out[i] = best + 1
                size += step
        return out
    # Not even 1 bit each: keep n samples at 1 bit, spread evenly (sample floor(j * N / n) for j < n), n from the
    # budget less the header, footer, widths' half bytes and block checksums of every sample stored now.
    n_now = len(widths)
    rest = target - _fixed(sh) - DROP_RESERVE - (n_now + 1) // 2 - 4 * (-(-n_now // sh.K))
    if rest < 0:
        return None
    n = min(n_now, rest // (dqs.packed_bytes(sh.P, 1) + _label_bytes(sh) + 3))
    out = [0] * n_now
    for j in range(n):
        out[j * n_now // n] = 1
    return out


def shrunk_bytes(sh, widths):
    dev = dqs_device.Device(sh.C, sh.H, sh.W, sh.class_count, sh.source_count, sh.mean, sh.std)
    out = dqs_device.Device(sh.C, sh.H, sh.W, sh.class_count, sh.source_count, sh.mean, sh.std)
    for i, nb in enumerate(widths):
        if not nb:
            continue
        r = dqs_device.Record(int(sh.labels[i]), int(sh.widths[i]), sh.codes(i), float(sh.scales[i]),
                              int(sh.shifts[i]))
        codes, scale, shift = dqs_device.requantize(dev, r, nb)
        out.records[i] = dqs_device.Record(r.label, nb, codes, scale, shift)
    return dqs_device.shard_bytes(out, first_source=sh.first_source, source_count=sh.source_count,
                                  shard_index=sh.shard_index, shard_count=sh.shard_count)


def shrink(path, target):
    """Re-quantize the shard at `path` in place to at most `target` bytes; its new size, or None when it cannot
    fit (the file is then left as it is, for the caller to delete)."""
    sh = dqs.read_shard(path)
    widths = plan_widths(sh, target)
    if widths is None:
        return None
    data = shrunk_bytes(sh, widths)
    tmp = path + TMP
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    store.fsync_dir(os.path.dirname(path) or ".")
    return len(data)
