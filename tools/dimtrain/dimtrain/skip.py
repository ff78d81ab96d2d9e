"""A DiM generator with a linear-Gaussian skip path: image = clip(mu_y + B_y z + gate * G_dim(noise), -1, 1).

mu_y and B_y (the class mean and its top principal directions scaled by their standard deviations) are fitted in
closed form from the training images of class y, so before any gradient step the generator already draws every
class with the data's own within-class variance: an MLP trained only on such samples reached 0.827 on held-out
real images, against 0.748 for the VAE-and-matching generator, whose decoder means were too smooth and too alike.
The DiM network (official layer order, tanh) then adds what a linear model cannot, trained adversarially and by
DiM's logit matching; its gate starts small so that training starts from the fitted model, not from noise.
The noise entries after the one-hot prefix feed both the DiM network and the skip path, so the interface stays
DiM's: noise [N,100] with a one-hot prefix in, [N,1,28,28] in [-1,1] out.
"""
import torch
import torch.nn as nn

from .models import NOISE, Generator


def fit_gaussian(x, y, classes, directions, max_per_class=6000):
    """Per class: the mean image and the top `directions` principal directions times their standard deviations,
    both flattened ([C, P] and [C, K, P]), from images in [-1, 1]."""
    flat = x.reshape(len(y), -1)
    means, bases = [], []
    for c in range(classes):
        own = flat[y == c][:max_per_class]
        mean = own.mean(0)
        _, s, v = torch.linalg.svd(own - mean, full_matrices=False)
        std = s[:directions] / max(1, len(own) - 1) ** 0.5
        basis = torch.zeros(directions, flat.shape[1])
        basis[:len(std)] = v[:directions] * std[:, None]  # fewer images than directions: the rest stay 0
        means.append(mean)
        bases.append(basis)
    return torch.stack(means), torch.stack(bases)


class SkipGenerator(nn.Module):
    def __init__(self, widths=(48, 24, 12), classes=10, pixels=784, gate=0.1):
        super().__init__()
        self.classes = classes
        self.directions = NOISE - classes
        self.mean = nn.Parameter(torch.zeros(classes, pixels))
        self.basis = nn.Parameter(torch.zeros(classes * self.directions, pixels))
        self.body = Generator(widths)
        self.gate = nn.Parameter(torch.tensor(float(gate)))
        self.widths = tuple(widths)

    @torch.no_grad()
    def fit(self, x, y):
        means, bases = fit_gaussian(x, y, self.classes, self.directions)
        self.mean.copy_(means)
        self.basis.copy_(bases.reshape(-1, bases.shape[-1]))
        return self

    def linear(self, noise):
        """The skip path before clipping: mu_y + B_y z, flattened [N, P]."""
        onehot = noise[:, :self.classes]
        z = noise[:, self.classes:]
        # (onehot outer z) selects the label's own basis with one MatMul: [N, C*K] @ [C*K, P].
        picked = (onehot.unsqueeze(2) * z.unsqueeze(1)).reshape(noise.shape[0], -1)
        return onehot @ self.mean + picked @ self.basis

    def forward(self, noise):
        image = self.linear(noise).reshape(-1, 1, 28, 28) + self.gate * self.body(noise)
        return image.clamp(-1.0, 1.0)
