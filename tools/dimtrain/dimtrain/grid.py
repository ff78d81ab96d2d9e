"""A PNG grid of generated samples, one row per class, drawn from a training run's best.pt (either recipe) through
torch: python3 -m dimtrain.grid --checkpoint out/best.pt --out samples.png [--per-class 12] [--seed 5]."""
import argparse
import struct
import zlib

import torch

from .evaluate import sample
from .models import Generator
from .skip import SkipGenerator


def write_png(path, pixels):
    """8-bit greyscale PNG from a uint8 [H, W] tensor (zlib from the standard library; no imaging package needed)."""
    height, width = pixels.shape
    raw = b"".join(b"\x00" + bytes(pixels[row].tolist()) for row in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def grid(generator, classes, per_class, seed, scale=2, gap=2):
    x, y = sample(generator, classes * per_class, classes, seed)
    size = 28 * scale + gap
    canvas = torch.full((classes * size + gap, per_class * size + gap), 255, dtype=torch.uint8)
    counts = [0] * classes
    for image, label in zip(x, y.tolist()):
        col = counts[label]
        counts[label] += 1
        tile = ((image[0] + 1) * 127.5).clamp(0, 255).round().to(torch.uint8)
        tile = tile.repeat_interleave(scale, 0).repeat_interleave(scale, 1)
        top, left = gap + label * size, gap + col * size
        canvas[top:top + 28 * scale, left:left + 28 * scale] = tile
    return canvas


def main(argv=None):
    p = argparse.ArgumentParser(prog="dimtrain.grid", description=__doc__)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--per-class", type=int, default=12)
    p.add_argument("--seed", type=int, default=5)
    args = p.parse_args(argv)
    state = torch.load(args.checkpoint)
    widths = tuple(state["widths"])
    generator = SkipGenerator(widths) if state.get("recipe") == "skip" else Generator(widths)
    generator.load_state_dict(state["generator"])
    write_png(args.out, grid(generator, 10, args.per_class, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
