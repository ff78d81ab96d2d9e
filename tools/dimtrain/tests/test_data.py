import gzip
import struct

import pytest
import torch

from dimtrain import data


def test_fashion_mnist_loads_in_tanh_range_with_ten_balanced_classes():
    x, y = data.load("t10k")
    assert x.shape == (10000, 1, 28, 28)
    assert float(x.min()) == -1.0 and float(x.max()) == 1.0
    assert torch.bincount(y).tolist() == [1000] * 10


def test_a_file_with_the_wrong_magic_is_named_in_the_error(tmp_path):
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    with gzip.open(bad, "wb") as f:
        f.write(struct.pack(">I", 0x801) + b"\0" * 8)
    with pytest.raises(data.DataError, match="t10k-images-idx3-ubyte.gz: magic"):
        data.load("t10k", str(tmp_path))


def test_a_truncated_file_is_named_with_both_sizes(tmp_path):
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    with gzip.open(bad, "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 2, 28, 28) + b"\0" * 100)
    with pytest.raises(data.DataError, match="1568 bytes of data, file holds 100"):
        data.load("t10k", str(tmp_path))


def test_validation_split_is_class_balanced_disjoint_and_seeded():
    x = torch.arange(300, dtype=torch.float32).view(300, 1, 1, 1)
    y = torch.arange(3).repeat(100)
    (xt, yt), (xv, yv) = data.split_validation(x, y, per_class=10, seed=5)
    assert torch.bincount(yv).tolist() == [10, 10, 10]
    assert len(yt) == 270
    assert not set(xv.flatten().tolist()) & set(xt.flatten().tolist())
    (_, _), (xv2, _) = data.split_validation(x, y, per_class=10, seed=5)
    assert torch.equal(xv, xv2)


def test_balanced_batches_hold_every_class_equally_and_only_its_images():
    x = torch.arange(60, dtype=torch.float32).view(60, 1, 1, 1)
    y = torch.arange(3).repeat(20)
    batches = data.BalancedBatches(x, y, 3, seed=1)
    for _ in range(10):  # several epochs of the smallest class
        images, labels = batches.batch(4)
        assert torch.bincount(labels).tolist() == [4, 4, 4]
        assert torch.equal(y[images.flatten().long()], labels)
