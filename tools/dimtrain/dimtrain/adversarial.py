"""The adversarial stage: a small spectrally normalised projection discriminator (Miyato & Koyama 2018, the
conditional GAN family DiM's first stage belongs to) and the hinge losses."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm


class ProjectionDiscriminator(nn.Module):
    def __init__(self, width=32, classes=10, channels=1):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            spectral_norm(nn.Conv2d(channels, w, 4, 2, 1)), nn.LeakyReLU(0.2),      # 14
            spectral_norm(nn.Conv2d(w, w * 2, 4, 2, 1)), nn.LeakyReLU(0.2),         # 7
            spectral_norm(nn.Conv2d(w * 2, w * 4, 3, 2, 1)), nn.LeakyReLU(0.2))     # 4
        self.out = spectral_norm(nn.Linear(w * 4, 1))
        self.embed = spectral_norm(nn.Embedding(classes, w * 4))

    def forward(self, x, labels):
        h = self.features(x).sum(dim=(2, 3))
        return self.out(h).squeeze(1) + (self.embed(labels) * h).sum(1)


def discriminator_loss(d, real, fake, labels):
    return F.relu(1.0 - d(real, labels)).mean() + F.relu(1.0 + d(fake.detach(), labels)).mean()


def generator_loss(d, fake, labels):
    return -d(fake, labels).mean()
