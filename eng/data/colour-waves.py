#!/usr/bin/env python3
"""Writes the colour set of docs/results.md ("Bit budgets through the fleet, sixth round"): N images of 3x32x32 in
CIFAR-10's binary format (a label byte, then 3072 pixel bytes per image), 10 classes, each class a product of
sines whose frequencies depend on the class and the channel, random phases, per-channel Gaussian noise, and every
seventh image flat at a random grey whatever its label.

    eng/data/colour-waves.py 2000 1 train.bin    # the training set measured there (dq input: cifar:train.bin)
    eng/data/colour-waves.py 500 2 test.bin      # its test set

Usage: colour-waves.py COUNT SEED OUT
"""
import math, random, sys
random.seed(int(sys.argv[2]))
n=int(sys.argv[1]); out=bytearray()
for i in range(n):
    c=random.randrange(10); out.append(c)
    flat = i%7==0
    v0=random.uniform(0,255)
    for ch in range(3):
        f=1+c%4+ch; p=random.uniform(0,6); q=random.uniform(0,6); s=8+4*ch
        for yy in range(32):
            cy=math.cos((c+1)*yy/31*2+q)
            for xx in range(32):
                v = v0 if flat else 128+60*math.sin(f*xx/31*3+p)*cy+random.gauss(0,s)
                out.append(max(0,min(255,int(v))))
open(sys.argv[3],'wb').write(out)
