#!/usr/bin/env python3
"""Writes the noisy-label sets of docs/results.md ("A reference's prices where it cannot fit a sample"): the first
COUNT Fashion-MNIST training images (Debian's dataset-fashion-mnist, or $DQ_FASHION_MNIST_DIR) with each label, with
probability NOISE, replaced by one drawn uniformly from the 10 classes (so about 0.9 * NOISE of them change), as
PREFIX-x.npy (uint8, COUNT x 1 x 28 x 28) and PREFIX-y.npy (int64).

    eng/data/noisy-labels.py 10000 0.2 5 n20    # dq input: npy:n20-x.npy,n20-y.npy; test on fashion-mnist:test
    eng/data/noisy-labels.py 10000 0.4 5 n40

Usage: noisy-labels.py COUNT NOISE SEED PREFIX
"""
import gzip, os, random, struct, sys
def npy(path, dtype, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (dtype, str(tuple(shape)))
    header += ' ' * (63 - (len(header) + 10) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode('latin1') + data)
count, noise, seed, prefix = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
root = os.environ.get('DQ_FASHION_MNIST_DIR') or '/usr/share/datasets/fashion-mnist'
with gzip.open(os.path.join(root, 'train-images-idx3-ubyte.gz')) as f:
    images = f.read()[16:16 + count * 784]
with gzip.open(os.path.join(root, 'train-labels-idx1-ubyte.gz')) as f:
    labels = list(f.read()[8:8 + count])
random.seed(seed)
for i in range(count):
    if random.random() < noise:
        labels[i] = random.randrange(10)
npy(prefix + '-x.npy', '|u1', (count, 1, 28, 28), images)
npy(prefix + '-y.npy', '<i8', (count,), b''.join(struct.pack('<q', v) for v in labels))
