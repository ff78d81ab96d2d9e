"""Validation by DiM's protocol: a classifier trained only on generated samples, tested on real images."""
import torch
import torch.nn.functional as F

from .data import MEAN, STD
from .models import Mlp, conditioned_noise


def normalise(x):
    return ((x + 1.0) / 2.0 - MEAN) / STD


@torch.no_grad()
def sample(generator, count, classes, seed, batch=500):
    """Class-balanced samples (labels 0..C-1 repeated) from noise drawn with `seed`: the same set every call."""
    generator.eval()
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(classes).repeat(count // classes + 1)[:count]
    out = torch.empty(count, 1, 28, 28)
    for start in range(0, count, batch):
        y = labels[start:start + batch]
        out[start:start + batch] = generator(conditioned_noise(y, classes, g))
    return out, labels


def train_mlp(x, y, epochs, seed, batch=128, lr=1e-3):
    torch.manual_seed(seed)
    model = Mlp()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xn = normalise(x)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=g)
        for start in range(0, len(y), batch):
            idx = order[start:start + batch]
            loss = F.cross_entropy(model(xn[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def accuracy(model, x, y, classes):
    pred = model(normalise(x)).argmax(1)
    per_class = [float((pred[y == c] == c).float().mean()) for c in range(classes)]
    return float((pred == y).float().mean()), per_class


def score_generator(generator, x_val, y_val, classes, samples, epochs, seed):
    """Accuracy on real validation images of an MLP trained only on `samples` generated images; per-class too."""
    xs, ys = sample(generator, samples, classes, seed)
    mlp = train_mlp(xs, ys, epochs, seed)
    return accuracy(mlp, x_val, y_val, classes)


@torch.no_grad()
def pool_agreement(generator, pool, classes, seed, count=1000):
    """Per class: the share of generated images the pool's classifiers label as the class they were asked for."""
    xs, ys = sample(generator, count, classes, seed)
    votes = torch.stack([m.eval()(normalise(xs)).softmax(1) for m in pool]).mean(0).argmax(1)
    return [float((votes[ys == c] == c).float().mean()) for c in range(classes)]
