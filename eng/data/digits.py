#!/usr/bin/env python3
"""Writes the 8x8 digits of docs/results.md ("The issue's own 8x8 set") as IDX files: the 1,797 images of 17 grey
levels that Debian's python3-sklearn package ships (sklearn/datasets/data/digits.csv.gz: 64 levels 0..16 and a label
a row), each level v as round(v * 255 / 16). Takes the package's file without installing it.

    eng/data/digits.py OUT                # OUT/images.idx, OUT/labels.idx: all 1,797 (dq input: idx:OUT/images.idx,OUT/labels.idx)
    eng/data/digits.py OUT 1 2 3 4 5      # also OUT/train{S}-*.idx (1,297) and OUT/test{S}-*.idx (500) per seed S

Usage: digits.py OUT [SEED ...]   (needs apt-get and dpkg; root or apt's download rights)
"""
import glob, gzip, os, random, struct, subprocess, sys, tempfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with tempfile.TemporaryDirectory() as work:
    subprocess.run(["apt-get", "download", "-q", "python3-sklearn"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["dpkg", "-x", glob.glob(os.path.join(work, "python3-sklearn_*.deb"))[0], work], check=True)
    path = glob.glob(os.path.join(work, "usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"))[0]
    rows = [list(map(int, line.split(","))) for line in gzip.open(path, "rt") if line.strip()]


def write(name, ids):
    pixels = bytes(min(255, round(v * 255 / 16)) for i in ids for v in rows[i][:64])
    with open(os.path.join(out, name + "images.idx"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(ids), 8, 8) + pixels)
    with open(os.path.join(out, name + "labels.idx"), "wb") as f:
        f.write(struct.pack(">II", 0x801, len(ids)) + bytes(rows[i][64] for i in ids))


write("", list(range(len(rows))))
for seed in sys.argv[2:]:
    ids = list(range(len(rows)))
    random.Random(int(seed)).shuffle(ids)
    write(f"train{seed}-", ids[:1297])
    write(f"test{seed}-", ids[1297:])
print(f"{len(rows)} images of 8x8 in {out}")
