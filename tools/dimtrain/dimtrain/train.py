"""DiM training on the cloud side: a pool of classifiers; the generator trained as the decoder of a conditional
VAE; then DiM's logit matching against the pool (with the ELBO kept as a regulariser). The generator that
validates best by DiM's protocol (an MLP trained only on its samples, tested on held-out real images) is exported
with its manifest.

    python3 -m dimtrain.train --out out/ --seed 1 --threads 1 --budget-minutes 55
"""
import argparse
import copy
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

from . import data
from .augment import random_affine
from .evaluate import normalise, pool_agreement, score_generator
from .export import export_best
from .models import NOISE, Encoder, Generator, PoolClassifier, conditioned_noise

CLASSES = 10


class Log:
    """One JSON object per line in train-log.jsonl, and a readable line on stdout, flushed as it happens."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")
        self.start = time.monotonic()

    def __call__(self, event, **fields):
        fields = {"t": round(time.monotonic() - self.start, 1), "event": event, **fields}
        self.file.write(json.dumps(fields) + "\n")
        self.file.flush()
        print(" ".join(f"{k}={_short(v)}" for k, v in fields.items()), flush=True)


def _short(v):
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, list) and v and isinstance(v[0], float):
        return "[" + ",".join(f"{x:.2f}" for x in v) + "]"
    return str(v)


def train_pool(x, y, count, epochs, seed, log, batch=128):
    """DiM's pool: classifiers at different stages of training, so matching sees more than one decision surface."""
    pool = []
    for k in range(count):
        torch.manual_seed(seed + 1000 + k)
        model = PoolClassifier(width=16)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(seed + 2000 + k)
        steps = max(1, int(len(y) * epochs[k % len(epochs)] / batch))
        order = torch.randperm(len(y), generator=g)
        model.train()
        for step in range(steps):
            start = (step * batch) % len(y)
            idx = order[start:start + batch]
            xb = random_affine(x[idx], g)
            loss = F.cross_entropy(model(normalise(xb)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        pool.append(model.eval())
        for p in model.parameters():
            p.requires_grad_(False)
        log("pool", model=k, steps=steps, loss=float(loss))
    return pool


def matching_loss(generator, pool, batches, per_class, g):
    """DiM: for every class, the distance between the mean logits a pool classifier gives on augmented real images
    and on augmented generated images of that class; one classifier drawn from the pool per step. All classes are
    generated in one batch: a single-class batch would give the generator's BatchNorm single-class statistics."""
    model = pool[int(torch.randint(len(pool), (1,), generator=g))]
    real, labels = batches.batch(per_class)
    fake = generator(conditioned_noise(labels, CLASSES, g))
    with torch.no_grad():
        real_logits = model(normalise(random_affine(real, g)))
    fake_logits = model(normalise(random_affine(fake, g)))
    loss = 0.0
    for c in range(CLASSES):
        chosen = labels == c
        loss = loss + ((fake_logits[chosen].mean(0) - real_logits[chosen].mean(0)) ** 2).sum()
    return loss / CLASSES


def vae_loss(generator, encoder, real, labels, beta, g):
    """Negative ELBO per image: Bernoulli likelihood of the [0,1] pixels under (G+1)/2, plus beta * KL to N(0, 1)."""
    mean, logvar = encoder(real, labels)
    eps = torch.randn(mean.shape, generator=g)
    z = torch.cat([F.one_hot(labels, CLASSES).float(), mean + eps * (0.5 * logvar).exp()], 1)
    p = ((generator(z) + 1) / 2).clamp(1e-6, 1 - 1e-6)
    rec = F.binary_cross_entropy(p, (real + 1) / 2, reduction="sum") / len(labels)
    kl = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum() / len(labels)
    return rec + beta * kl, rec, kl


def ema_update(ema, model, decay):
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.lerp_(p, 1.0 - decay)
        for e, b in zip(ema.buffers(), model.buffers()):
            e.copy_(b)


def parse(argv):
    p = argparse.ArgumentParser(prog="dimtrain", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="directory for G.onnx, G.json, train-log.jsonl, best.pt, summary.json")
    p.add_argument("--data-dir", default=data.DEFAULT_DIR)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads, set explicitly: on a loaded 2-core machine 1 thread ran 7x faster than 2")
    p.add_argument("--widths", default="64,32,16", help="generator channels at 7x7,14x14,28x28 (DiM's paper: 196,196,196)")
    p.add_argument("--per-class", type=int, default=10, help="images of every class in one batch (class-balanced)")
    p.add_argument("--vae-epochs", type=float, default=0.5, help="first stage: the generator as a conditional VAE decoder")
    p.add_argument("--match-epochs", type=float, default=20, help="second stage: DiM's logit matching against the pool")
    p.add_argument("--match-after", type=float, default=0.6,
                   help="start matching after this share of the time budget even if the first stage has epochs left")
    p.add_argument("--beta", type=float, default=1.0, help="KL weight of the first stage")
    p.add_argument("--match-weight", type=float, default=20.0, help="weight of the matching loss against the ELBO")
    p.add_argument("--pool", type=int, default=3)
    p.add_argument("--pool-epochs", default="0.2,0.4,0.8", help="training epochs of the pool's members")
    p.add_argument("--subset", type=int, default=0, help="train on this many images only (tests)")
    p.add_argument("--val-per-class", type=int, default=500, help="training images per class held out to choose the generator")
    p.add_argument("--eval-samples", type=int, default=6000)
    p.add_argument("--eval-epochs", type=int, default=3)
    p.add_argument("--evals-per-epoch", type=float, default=3)
    p.add_argument("--budget-minutes", type=float, default=40, help="wall-clock limit; training stops and exports the best")
    p.add_argument("--max-steps", type=int, default=0,
                   help="stop after this many steps (0: none); with the seed, repeats a run whatever the machine's speed")
    p.add_argument("--lr", type=float, default=1e-3)
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    log = Log(os.path.join(args.out, "train-log.jsonl"))
    log("start", args=vars(args), torch=torch.__version__, threads=torch.get_num_threads())
    deadline = time.monotonic() + args.budget_minutes * 60
    widths = tuple(int(w) for w in args.widths.split(","))

    x, y = data.load("train", args.data_dir)
    (xt, yt), (xv, yv) = data.split_validation(x, y, args.val_per_class, args.seed)
    if args.subset:
        keep = torch.randperm(len(yt), generator=torch.Generator().manual_seed(args.seed))[:args.subset]
        xt, yt = xt[keep], yt[keep]
    log("data", train=len(yt), validation=len(yv))

    pool = train_pool(xt, yt, args.pool, [float(e) for e in args.pool_epochs.split(",")], args.seed, log)
    G, E = Generator(widths), Encoder(NOISE - CLASSES)
    ema = copy.deepcopy(G)
    for p in ema.parameters():
        p.requires_grad_(False)
    log("models", g_params=sum(p.numel() for p in G.parameters()), e_params=sum(p.numel() for p in E.parameters()))
    opt = torch.optim.Adam(list(G.parameters()) + list(E.parameters()), lr=args.lr)
    batches = data.BalancedBatches(xt, yt, CLASSES, args.seed)
    g = torch.Generator().manual_seed(args.seed + 7)
    steps_per_epoch = max(1, len(yt) // (args.per_class * CLASSES))
    first = int(args.vae_epochs * steps_per_epoch)
    total = first + int(args.match_epochs * steps_per_epoch)
    eval_every = max(1, int(steps_per_epoch / args.evals_per_epoch))
    best = {"accuracy": -1.0, "step": 0}
    history = []
    step = 0
    matching = False
    switch_at = time.monotonic() + args.match_after * args.budget_minutes * 60
    while step < total:
        if not matching and (step >= first or time.monotonic() > switch_at):
            matching = True
            log("stage", name="match", step=step, epoch=round(step / steps_per_epoch, 2))
            total = step + int(args.match_epochs * steps_per_epoch)
        G.train()
        E.train()
        real, labels = batches.batch(args.per_class)
        loss, rec, kl = vae_loss(G, E, real, labels, args.beta, g)
        m_loss = torch.zeros(())
        if matching:
            m_loss = matching_loss(G, pool, batches, args.per_class, g)
            loss = loss + args.match_weight * m_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema_update(ema, G, 0.999 if step > 1000 else 0.0)
        step += 1
        out_of_time = time.monotonic() > deadline or step == args.max_steps
        if step % 100 == 0:
            log("step", step=step, of=total, phase="match" if matching else "vae", rec=float(rec), kl=float(kl), match=float(m_loss))
        if step % eval_every == 0 or step == total or out_of_time:
            acc, per_class = score_generator(ema, xv, yv, CLASSES, args.eval_samples, args.eval_epochs, args.seed + 99)
            agree = pool_agreement(ema, pool, CLASSES, args.seed + 98)
            history.append({"step": step, "phase": "match" if matching else "vae", "accuracy": acc})
            log("validate", step=step, epoch=round(step / steps_per_epoch, 2), phase="match" if matching else "vae",
                accuracy=acc, per_class=per_class, pool_agreement=agree)
            if acc > best["accuracy"]:
                best = {"accuracy": acc, "step": step, "per_class": per_class}
                torch.save({"generator": ema.state_dict(), "widths": widths, "step": step}, os.path.join(args.out, "best.pt"))
        if out_of_time:
            log("budget", minutes=args.budget_minutes, step=step, of=total)
            break

    return export_best(args.out, Generator(widths), best, history, log, CLASSES,
                       extra={"tool": "tools/dimtrain", "seed": args.seed, "widths": list(widths)})


if __name__ == "__main__":
    try:
        sys.exit(main())
    except data.DataError as e:
        print(f"dimtrain: {e}", file=sys.stderr)
        sys.exit(2)
