#!/usr/bin/env python3
"""Writes the 16x16 set of docs/results.md ("A set its reference learns poorly"): COUNT images of 1x16x16 (uint8) and
their int64 labels as PREFIX-x.npy and PREFIX-y.npy, 10 classes, each a product of a horizontal sine of 1-4 periods
and a vertical cosine of 1-3, random phases, Gaussian noise of sigma 40, and every seventh image flat at a random
grey whatever its label (every FLAT-th; 0 writes none, the set the notebook calls "without flat images").

    eng/data/grey-waves.py 8000 1 train    # dq input: npy:train-x.npy,train-y.npy
    eng/data/grey-waves.py 2000 2 test
    eng/data/grey-waves.py 8000 1 train 0  # no flat images

Usage: grey-waves.py COUNT SEED PREFIX [FLAT]
"""
import math, random, struct, sys
def npy(path, dtype, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (dtype, str(tuple(shape)))
    header += ' ' * (63 - (len(header) + 10) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode('latin1') + data)
def make(n, seed, prefix, flat_every=7, side=16):
    random.seed(seed); xs = bytearray(); ys = bytearray()
    for i in range(n):
        c = random.randrange(10); ys += struct.pack('<q', c)
        flat = flat_every > 0 and i % flat_every == 0; v0 = random.uniform(0, 255)
        f = 1 + c % 4; p = random.uniform(0, 6); q = random.uniform(0, 6)
        for yy in range(side):
            cy = math.cos((c // 4 + 1) * yy / (side - 1) * 2 + q)
            for xx in range(side):
                v = v0 if flat else 128 + 60 * math.sin(f * xx / (side - 1) * 3 + p) * cy + random.gauss(0, 40)
                xs.append(max(0, min(255, int(v))))
    npy(prefix + '-x.npy', '|u1', (n, 1, side, side), bytes(xs))
    npy(prefix + '-y.npy', '<i8', (n,), bytes(ys))
make(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 7)
