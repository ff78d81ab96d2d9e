#!/usr/bin/env python3
"""Writes the 300-class set of docs/results.md ("Bit budgets through the fleet, sixth round"): 900 images of 2x10x10
(uint8) and their int64 labels as x.npy and y.npy in the current folder, 300 classes (about three images each),
each image a grey level plus a class-dependent ramp and Gaussian noise. Fixed seed; no arguments.

    cd DIR && eng/data/npy-300-classes.py    # dq input: npy:DIR/x.npy,DIR/y.npy
"""
import random, struct
def npy(path, descr, shape, data):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, ", ".join(str(s) for s in shape) + ("," if len(shape)==1 else ""))
    pad = 64 - (10 + len(d) + 1) % 64
    h = d + " "*pad + "\n"
    with open(path,'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode() + data)
random.seed(3)
n=900; C=300
X=bytearray(); Y=bytearray()
for i in range(n):
    c=random.randrange(C); Y+=struct.pack('<q', c)
    base=random.uniform(20,230)
    for p in range(2*10*10):
        X.append(max(0,min(255,int(base + 40*((p*(c%7+1))%10-5)/5 + random.gauss(0,20)))))
npy('x.npy','|u1',(n,2,10,10),bytes(X)); npy('y.npy','<i8',(n,),bytes(Y))
