"""Differentiable augmentation for the matching loss: per-sample shift, scale and horizontal flip via grid_sample,
so that gradients reach the generator through the augmented images (DiM matches logits on augmented views)."""
import torch
import torch.nn.functional as F


def random_affine(x, generator=None, shift=2.0 / 28, scale=0.1):
    n = x.shape[0]
    rand = torch.rand(n, 4, generator=generator)
    s = 1.0 + (rand[:, 0] * 2 - 1) * scale
    flip = torch.where(rand[:, 1] < 0.5, -1.0, 1.0)
    tx = (rand[:, 2] * 2 - 1) * shift * 2  # grid units span [-1, 1]
    ty = (rand[:, 3] * 2 - 1) * shift * 2
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = s * flip
    theta[:, 1, 1] = s
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Background of Fashion-MNIST is black, i.e. -1 in tanh units: pad with it, not with 0 (mid-grey).
    return F.grid_sample(x + 1.0, grid, padding_mode="zeros", align_corners=False) - 1.0
