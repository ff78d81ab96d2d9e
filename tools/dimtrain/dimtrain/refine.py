"""The skip-path recipe: fit the per-class linear-Gaussian skip path in closed form, then train the DiM network on
top of it with a spectrally normalised projection discriminator (hinge loss) and DiM's logit matching against a pool
of classifiers; the exponential moving average that validates best by DiM's protocol is exported.

    python3 -m dimtrain.refine --out out/ --seed 1 --threads 1 --budget-minutes 60
"""
import argparse
import copy
import json
import os
import sys
import time

import torch

from . import data
from .adversarial import ProjectionDiscriminator, discriminator_loss, generator_loss
from .evaluate import pool_agreement, score_generator
from .export import export_best
from .models import conditioned_noise
from .skip import SkipGenerator
from .train import CLASSES, Log, ema_update, matching_loss, train_pool


def parse(argv):
    p = argparse.ArgumentParser(prog="dimtrain.refine", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="directory for G.onnx, G.json, train-log.jsonl, best.pt, summary.json")
    p.add_argument("--data-dir", default=data.DEFAULT_DIR)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--widths", default="48,24,12", help="DiM network channels at 7x7,14x14,28x28 (paper: 196,196,196)")
    p.add_argument("--gate", type=float, default=0.1, help="initial weight of the DiM network against the skip path")
    p.add_argument("--per-class", type=int, default=10, help="images of every class in one batch")
    p.add_argument("--epochs", type=float, default=20)
    p.add_argument("--adv-weight", type=float, default=1.0, help="weight of the generator's hinge loss")
    p.add_argument("--match-weight", type=float, default=1.0, help="weight of DiM's logit matching loss")
    p.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of the DiM network and the discriminator")
    p.add_argument("--skip-lr", type=float, default=2e-5,
                   help="learning rate of the fitted skip path (class means and bases): small, so the adversarial "
                        "stage refines the fitted model instead of replacing it")
    p.add_argument("--d-width", type=int, default=32)
    p.add_argument("--pool", type=int, default=3)
    p.add_argument("--pool-epochs", default="0.2,0.4,0.8")
    p.add_argument("--subset", type=int, default=0, help="train on this many images only (tests)")
    p.add_argument("--val-per-class", type=int, default=500)
    p.add_argument("--eval-samples", type=int, default=6000)
    p.add_argument("--eval-epochs", type=int, default=3)
    p.add_argument("--eval-every", type=int, default=100, help="validate every this many steps (and at step 0)")
    p.add_argument("--budget-minutes", type=float, default=60, help="wall-clock limit; training stops and exports the best")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: none)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    log = Log(os.path.join(args.out, "train-log.jsonl"))
    log("start", recipe="skip", args=vars(args), torch=torch.__version__, threads=torch.get_num_threads())
    deadline = time.monotonic() + args.budget_minutes * 60
    widths = tuple(int(w) for w in args.widths.split(","))

    x, y = data.load("train", args.data_dir)
    (xt, yt), (xv, yv) = data.split_validation(x, y, args.val_per_class, args.seed)
    if args.subset:
        keep = torch.randperm(len(yt), generator=torch.Generator().manual_seed(args.seed))[:args.subset]
        xt, yt = xt[keep], yt[keep]
    log("data", train=len(yt), validation=len(yv))

    G = SkipGenerator(widths, CLASSES, gate=args.gate).fit(xt, yt)
    D = ProjectionDiscriminator(args.d_width, CLASSES)
    pool = train_pool(xt, yt, args.pool, [float(e) for e in args.pool_epochs.split(",")], args.seed, log)
    ema = copy.deepcopy(G)
    for p in ema.parameters():
        p.requires_grad_(False)
    log("models", g_params=sum(p.numel() for p in G.parameters()), d_params=sum(p.numel() for p in D.parameters()))
    skip = [G.mean, G.basis]
    network = [p for p in G.parameters() if all(p is not q for q in skip)]
    opt_g = torch.optim.Adam([{"params": network}, {"params": skip, "lr": args.skip_lr}], lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    batches = data.BalancedBatches(xt, yt, CLASSES, args.seed)
    g = torch.Generator().manual_seed(args.seed + 7)
    steps_per_epoch = max(1, len(yt) // (args.per_class * CLASSES))
    total = int(args.epochs * steps_per_epoch)
    best = {"accuracy": -1.0, "step": 0}
    history = []
    step = 0
    since = time.monotonic()
    while True:
        last = step >= total or time.monotonic() > deadline or (args.max_steps > 0 and step >= args.max_steps)
        if step % args.eval_every == 0 or last:
            acc, per_class = score_generator(ema, xv, yv, CLASSES, args.eval_samples, args.eval_epochs, args.seed + 99)
            agree = pool_agreement(ema, pool, CLASSES, args.seed + 98)
            history.append({"step": step, "accuracy": acc})
            log("validate", step=step, epoch=round(step / steps_per_epoch, 2), accuracy=acc, per_class=per_class,
                pool_agreement=agree, gate=float(ema.gate))
            if acc > best["accuracy"]:
                best = {"accuracy": acc, "step": step, "per_class": per_class}
                torch.save({"generator": ema.state_dict(), "widths": widths, "step": step, "recipe": "skip"},
                           os.path.join(args.out, "best.pt"))
        if last:
            log("stop", reason="steps" if step >= total or step == args.max_steps else "budget",
                minutes=args.budget_minutes, step=step, of=total)
            break
        G.train()
        real, labels = batches.batch(args.per_class)
        fake = G(conditioned_noise(labels, CLASSES, g))
        d_loss = discriminator_loss(D, real, fake, labels)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        adv = generator_loss(D, fake, labels)
        match = matching_loss(G, pool, batches, args.per_class, g)
        loss = args.adv_weight * adv + args.match_weight * match
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        ema_update(ema, G, 0.999 if step > 500 else 0.99)
        step += 1
        if step % 50 == 0:
            log("step", step=step, of=total, seconds_per_step=round((time.monotonic() - since) / 50, 3), d=float(d_loss),
                adv=float(adv), match=float(match), gate=float(G.gate))
            since = time.monotonic()

    return export_best(args.out, SkipGenerator(widths, CLASSES), best, history, log, CLASSES,
                       extra={"tool": "tools/dimtrain", "recipe": "skip", "seed": args.seed, "widths": list(widths)})


if __name__ == "__main__":
    try:
        sys.exit(main())
    except data.DataError as e:
        print(f"dimtrain: {e}", file=sys.stderr)
        sys.exit(2)
