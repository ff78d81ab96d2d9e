"""Fashion-MNIST from Debian's dataset-fashion-mnist package (IDX files, gzip), as tensors in [-1, 1]."""
import gzip
import os
import struct

import numpy as np
import torch

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # of [0,1] pixels; what the manifest tells devices to normalise with


class DataError(Exception):
    """A dataset file that is missing or not what its header says, named with the file."""


def _open(path):
    if not os.path.exists(path):
        raise DataError(f"{path}: does not exist (install the Debian package dataset-fashion-mnist)")
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def read_idx(path, expected_magic):
    with _open(path) as f:
        head = f.read(4)
        if len(head) != 4 or struct.unpack(">I", head)[0] != expected_magic:
            raise DataError(f"{path}: magic is not 0x{expected_magic:08x}")
        dims = expected_magic & 0xFF
        shape = struct.unpack(">" + "I" * dims, f.read(4 * dims))
        data = f.read()
    count = int(np.prod(shape))
    if len(data) != count:
        raise DataError(f"{path}: header says {count} bytes of data, file holds {len(data)}")
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def load(split, directory=DEFAULT_DIR):
    """Returns (images float32 [N,1,28,28] in [-1,1], labels int64 [N]) for split 'train' or 't10k'."""
    images = read_idx(os.path.join(directory, f"{split}-images-idx3-ubyte.gz"), 0x00000803)
    labels = read_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte.gz"), 0x00000801)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{directory}/{split}: {images.shape[0]} images but {labels.shape[0]} labels")
    x = torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))


def split_validation(x, y, per_class, seed):
    """Holds out `per_class` images of every class (seeded) for choosing the generator; the rest trains it."""
    g = torch.Generator().manual_seed(seed)
    held = []
    for c in range(int(y.max()) + 1):
        idx = (y == c).nonzero().squeeze(1)
        held.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    held = torch.cat(held)
    mask = torch.ones(len(y), dtype=torch.bool)
    mask[held] = False
    return (x[mask], y[mask]), (x[held], y[held])


class BalancedBatches:
    """Batches with the same number of images of every class, drawn without replacement per class within an epoch."""

    def __init__(self, x, y, classes, seed):
        self.x, self.y, self.classes = x, y, classes
        self.by_class = [(y == c).nonzero().squeeze(1) for c in range(classes)]
        self.g = torch.Generator().manual_seed(seed)
        self.order = [torch.randperm(len(i), generator=self.g) for i in self.by_class]
        self.pos = [0] * classes

    def class_batch(self, c, n):
        if self.pos[c] + n > len(self.order[c]):
            self.order[c] = torch.randperm(len(self.by_class[c]), generator=self.g)
            self.pos[c] = 0
        picked = self.by_class[c][self.order[c][self.pos[c]:self.pos[c] + n]]
        self.pos[c] += n
        return self.x[picked]

    def batch(self, per_class):
        xs = [self.class_batch(c, per_class) for c in range(self.classes)]
        ys = torch.arange(self.classes).repeat_interleave(per_class)
        return torch.cat(xs), ys
