"""Wire formats of docs/protocol.md: CRC32C, chunk frames (§4), the signed canonical form (§5), bitmaps (§6)."""
import base64
import re
import struct
from decimal import ROUND_HALF_UP, Decimal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from dqs_py import dqs

NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
MAX_CHUNK = 131072
MAX_SHARDS = 65536
MAX_SHARD_SIZE = 1 << 36
MAX_JSON = 16 << 20
FORMATS = (1, 2, 3, 4, 5, 6)


# CRC32C (Castagnoli) as the shard format defines it (docs/format.md §1): the same function frames and journals use.
crc32c = dqs.crc32c


WORKING_SUFFIXES = (".partial", ".chunks", ".tmp")


def valid_name(s):
    return isinstance(s, str) and bool(NAME_RE.match(s)) and not s.startswith(".")


class Malformed(ValueError):
    pass


# ---- chunk frames (§4) ----

HEADER = struct.Struct("<IBBBBqiiqII")  # 40 bytes
MAGIC = 0x4B435144


class Frame:
    __slots__ = ("repair", "dataset", "version", "shard", "offset", "payload", "size")


def parse_frame(data):
    if len(data) < 40:
        raise Malformed("frame shorter than 40 bytes")
    magic, ver, flags, nlen, _res, mver, shard, plen, offset, pcrc, hcrc = HEADER.unpack_from(data)
    if magic != MAGIC or ver != 1:
        raise Malformed("bad magic or frame version")
    if not 1 <= nlen <= 64 or not 0 <= plen <= MAX_CHUNK:
        raise Malformed("name or payload length out of range")
    if len(data) != 40 + nlen + plen:
        raise Malformed("frame length is not 40 + L + N")
    if crc32c(data[40:40 + nlen], crc32c(data[:36])) != hcrc:
        raise Malformed("header CRC mismatch")
    payload = bytes(data[40 + nlen:])
    if crc32c(payload) != pcrc:
        raise Malformed("payload CRC mismatch")
    if mver <= 0 or shard < 0 or offset < 0:
        raise Malformed("non-positive version or negative shard/offset")
    f = Frame()
    f.repair = bool(flags & 1)
    f.dataset = bytes(data[40:40 + nlen]).decode("ascii", "replace")
    f.version, f.shard, f.offset, f.payload, f.size = mver, shard, offset, payload, len(data)
    return f


# ---- chunk bitmaps (§6) ----

def encode_bitmap(indices, count):
    buf = bytearray((count + 7) // 8)
    for i in indices:
        buf[i >> 3] |= 1 << (i & 7)
    return base64.b64encode(bytes(buf).rstrip(b"\0")).decode("ascii")


# ---- manifests (§3, §5) ----

def milli_bits(bpp):
    return int((Decimal(repr(float(bpp))) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def canonical(m):
    fmt = m.get("format") or 1
    kind = m.get("kind") or "shards"
    lines = [f"dq-manifest/{fmt}", f"fleet:{m['fleet']}", f"dataset:{m['dataset']}"]
    if kind != "shards":
        lines.append(f"kind:{kind}")
    lines += [f"version:{m['version']}", f"chunk-size:{m['chunkSize']}",
              f"created:{m['createdUnixSeconds']}", f"shards:{len(m['shards'])}"]
    for s in m["shards"]:
        line = (f"shard:{s['id']}:{s['name']}:{s['size']}:{s['sha256']}:{s['bitBudget']}:"
                f"{milli_bits(s['bitsPerPixel'])}:{s['sampleCount']}")
        if s.get("layer") is not None and fmt >= 2:
            la = s["layer"]
            line += f":{la['firstIncrement']}:{la['incrementCount']}:{la['heldBytesAfter']}:{la['chunkCount']}"
        if s.get("prefix") is not None and fmt >= 3:
            line += f":prefix:{s['prefix']['layers']}:{s['prefix']['part']}"
        lines.append(line)
    return ("\n".join(lines) + "\n").encode("ascii")


def load_public_key(pem_bytes):
    return serialization.load_pem_public_key(pem_bytes)


def verify(pub, canon, signature_b64):
    try:
        sig = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError):
        return False
    if len(sig) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        pub.verify(der, canon, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def _int(v, lo, hi, what):
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise Malformed(f"{what} out of range: {v!r}")
    return v


def check_manifest(m):
    """Range and structure checks of §3; raises Malformed. Assumes the format is known."""
    fmt = m.get("format") or 1
    if not valid_name(m.get("fleet")) or not valid_name(m.get("dataset")):
        raise Malformed("bad fleet or dataset name")
    if (m.get("kind") or "shards") not in ("shards", "generator"):
        raise Malformed(f"unknown kind {m.get('kind')!r}")
    _int(m.get("version"), 1, 2**63 - 1, "version")
    cs = _int(m.get("chunkSize"), 1024, MAX_CHUNK, "chunkSize")
    _int(m.get("createdUnixSeconds"), 0, 2**63 - 1, "createdUnixSeconds")
    shards = m.get("shards")
    if not isinstance(shards, list) or not 1 <= len(shards) <= MAX_SHARDS:
        raise Malformed("shards must have 1..65536 entries")
    ids, names = set(), set()
    for s in shards:
        _int(s.get("id"), 0, 2**31 - 1, "shard id")
        if not valid_name(s.get("name")):
            raise Malformed(f"bad shard name {s.get('name')!r}")
        _int(s.get("size"), 1, MAX_SHARD_SIZE, "size")
        if not re.fullmatch(r"[0-9a-f]{64}", str(s.get("sha256"))):
            raise Malformed("sha256 is not 64 lower-case hex digits")
        _int(s.get("bitBudget"), 0, 2**63 - 1, "bitBudget")
        _int(s.get("sampleCount"), 0, 2**31 - 1, "sampleCount")
        if not isinstance(s.get("bitsPerPixel"), (int, float)):
            raise Malformed("bitsPerPixel is not a number")
        # Names compare without case (a memory card's FAT file system has one file for a.dqs and A.DQS), and none may
        # be a working file the device writes beside a shard (§3, §9).
        if s["id"] in ids or s["name"].lower() in names:
            raise Malformed("duplicate shard id or name")
        if s["name"].lower().endswith(WORKING_SUFFIXES):
            raise Malformed(f"shard name {s['name']!r} ends like a device's working file")
        ids.add(s["id"])
        names.add(s["name"].lower())
    if fmt == 1:
        if any(s.get("layer") is not None or s.get("prefix") is not None for s in shards):
            raise Malformed("format 1 manifest with layer or prefix objects")
        return
    _check_layered(m, fmt, shards, cs)


def _check_layered(m, fmt, shards, cs):
    layers = [s for s in shards if s.get("prefix") is None]
    prefixes = shards[len(layers):]
    if any(s.get("prefix") is None for s in prefixes) or any(s.get("layer") is None for s in layers):
        raise Malformed("layers must come first, then prefixes")
    if fmt == 2 and prefixes or fmt == 3 and not prefixes or len(prefixes) % 2 or len(prefixes) > 128:
        raise Malformed("wrong number of prefix entries for the format")
    if not layers:
        raise Malformed("no layers")
    reserved = {f"{m['dataset']}.dqs".lower(), f"{m['dataset']}.dqh".lower()}
    first, held = 0, -1
    for i, s in enumerate(shards):
        if s["id"] != i:
            raise Malformed("layered ids must be positions")
        if s["name"].lower() in reserved:
            raise Malformed("entry uses the name of the device's copy")
    for s in layers:
        la = s["layer"]
        if la.get("firstIncrement") != first or _int(la.get("incrementCount"), 1, 2**31, "incrementCount") < 1:
            raise Malformed("layer increments do not follow on")
        if _int(la.get("heldBytesAfter"), 1, 2**62, "heldBytesAfter") <= held:
            raise Malformed("heldBytesAfter not strictly increasing")
        if la.get("chunkCount") != -(-s["size"] // cs):
            raise Malformed("chunkCount disagrees with size")
        first, held = first + la["incrementCount"], la["heldBytesAfter"]
    last_k = 0
    for a, b in zip(prefixes[::2], prefixes[1::2]):
        pa, pb = a["prefix"], b["prefix"]
        k = pa.get("layers")
        if pa.get("part") != "shard" or pb.get("part") != "held" or pb.get("layers") != k:
            raise Malformed("prefix entries must be shard then held of one k")
        if not isinstance(k, int) or not last_k < k <= len(layers):
            raise Malformed("prefix layers not strictly increasing in 1..n")
        ref = layers[k - 1]
        if a["size"] + b["size"] != ref["layer"]["heldBytesAfter"]:
            raise Malformed("prefix sizes do not add up to heldBytesAfter")
        for e in (a, b):
            if (e["bitBudget"], milli_bits(e["bitsPerPixel"]), e["sampleCount"]) != (
                    ref["bitBudget"], milli_bits(ref["bitsPerPixel"]), ref["sampleCount"]):
                raise Malformed("prefix figures differ from its last layer's")
        last_k = k


def build_frame(dataset, version, shard, offset, payload, repair=False):
    name = dataset.encode("ascii")
    head = struct.pack("<IBBBBqiiqI", MAGIC, 1, 1 if repair else 0, len(name), 0, version, shard,
                       len(payload), offset, crc32c(payload))
    return head + struct.pack("<I", crc32c(name, crc32c(head))) + name + payload
