"""The device's flash (docs/protocol.md §9): atomic files, partial shards and their chunk journals."""
import hashlib
import json
import os
import struct

from wire import crc32c

JOURNAL_MAGIC = b"DQJ2"
SEAL_XOR = 0xA5C35A3C
FSYNC_EVERY = 8 << 20


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path) or ".")


def save_state(data_dir, state):
    write_atomic(os.path.join(data_dir, "sync-state.json"), json.dumps(state, indent=1).encode())


def load_state(data_dir):
    try:
        with open(os.path.join(data_dir, "sync-state.json"), "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def remove(path):
    try:
        os.remove(path)
        return True
    except FileNotFoundError:
        return False


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Transfer:
    """One file being assembled: `{name}.partial` at full size plus its `{name}.chunks` journal."""

    def __init__(self, directory, entry, version, chunk_size):
        self.dir = directory
        self.name, self.size, self.sha256 = entry["name"], entry["size"], entry["sha256"]
        self.id = entry["id"]
        self.chunk_size = chunk_size
        self.count = -(-self.size // chunk_size)
        self.final = os.path.join(directory, self.name)
        self.partial = self.final + ".partial"
        self.journal = self.final + ".chunks"
        head = JOURNAL_MAGIC + struct.pack("<qqii", version, self.size, chunk_size, self.count)
        head += bytes.fromhex(self.sha256)
        self.header_crc = crc32c(head)
        self.header = head + struct.pack("<I", self.header_crc)
        self.have = bytearray(self.count)
        self.unsynced = 0
        self._open()

    def _open(self):
        os.makedirs(self.dir, exist_ok=True)
        resumed = self._resume()
        if not resumed:
            with open(self.partial, "wb") as f:
                f.truncate(self.size)
            with open(self.journal, "wb") as f:
                # Pre-sized so each record lands at a fixed offset; zeroed records claim nothing.
                f.write(self.header + bytes(8 * self.count))
        self.pf = open(self.partial, "r+b")
        self.jf = open(self.journal, "r+b")

    def _seal(self, index, crc):
        return crc32c(struct.pack("<III", self.header_crc, index, crc)) ^ SEAL_XOR

    def _resume(self):
        try:
            with open(self.journal, "rb") as f:
                j = f.read()
            if j[:64] != self.header or os.path.getsize(self.partial) != self.size:
                return False
            with open(self.partial, "rb") as pf:
                for i in range(self.count):
                    rec = j[64 + 8 * i:72 + 8 * i]
                    if len(rec) < 8:
                        break
                    crc, seal = struct.unpack("<II", rec)
                    if seal != self._seal(i, crc):
                        continue
                    pf.seek(i * self.chunk_size)
                    # A claim the page cache lost in a power cut fails here and is pulled again.
                    if crc32c(pf.read(self.chunk_len(i))) == crc:
                        self.have[i] = 1
            return True
        except OSError:
            return False

    def chunk_len(self, i):
        return min(self.chunk_size, self.size - i * self.chunk_size)

    def missing(self):
        return [i for i in range(self.count) if not self.have[i]]

    def done(self):
        return all(self.have)

    def write(self, index, payload):
        self.pf.seek(index * self.chunk_size)
        self.pf.write(payload)
        self.pf.flush()
        crc = crc32c(payload)
        self.jf.seek(64 + 8 * index)
        self.jf.write(struct.pack("<II", crc, self._seal(index, crc)))
        self.jf.flush()
        self.have[index] = 1
        self.unsynced += len(payload)
        if self.unsynced >= FSYNC_EVERY:
            os.fsync(self.pf.fileno())
            os.fsync(self.jf.fileno())
            self.unsynced = 0

    def close(self):
        for f in (self.pf, self.jf):
            if not f.closed:
                f.close()

    def discard(self):
        self.close()
        remove(self.partial)
        remove(self.journal)

    def commit(self):
        """Verify the SHA-256 and move the file into place; False (and everything discarded) on a mismatch."""
        self.pf.flush()
        os.fsync(self.pf.fileno())
        self.close()
        if sha256_file(self.partial) != self.sha256:
            self.discard()
            return False
        os.replace(self.partial, self.final)
        fsync_dir(self.dir)
        remove(self.journal)
        return True
