"""The DiM generator (official interface and layer order, widths as parameters), the encoder of its first
training stage, the small classifiers of the matching pool and the validation MLP."""
import torch
import torch.nn as nn
import torch.nn.functional as F

NOISE = 100
PAPER_WIDTHS = (196, 196, 196)  # DiM's gan_model.py: 196 channels throughout; a GPU's width, not two CPU cores'


class Generator(nn.Module):
    """Noise [N,100] whose first C entries are the one-hot label -> tanh image [N,1,28,28].

    DiM's generator for 28x28, layer for layer: Linear+BN+ReLU to w7 x 4 x 4, ConvTranspose k3 s2 p1 (4->7), three
    3x3 Conv+BN+ReLU, ConvTranspose k4 s2 p1 (7->14), 3x3 Conv+BN+ReLU, ConvTranspose k4 s2 p1 (14->28), 3x3 Conv
    to 1 channel, tanh. DiM uses 196 channels at every resolution (PAPER_WIDTHS); here the widths per resolution
    (7x7, 14x14, 28x28) are parameters, because the 28x28 layers cost 16x the 7x7 ones per channel pair.
    """

    def __init__(self, widths=(64, 32, 16), channels=1):
        super().__init__()
        w7, w14, w28 = widths
        self.widths = tuple(widths)
        self.fc = nn.Linear(NOISE, w7 * 4 * 4)
        self.bn0 = nn.BatchNorm1d(w7 * 4 * 4)

        def block(conv):
            return nn.Sequential(conv, nn.BatchNorm2d(conv.out_channels), nn.ReLU())

        self.body = nn.Sequential(
            block(nn.ConvTranspose2d(w7, w7, 3, 2, 1)),
            block(nn.Conv2d(w7, w7, 3, 1, 1)),
            block(nn.Conv2d(w7, w7, 3, 1, 1)),
            block(nn.Conv2d(w7, w7, 3, 1, 1)),
            block(nn.ConvTranspose2d(w7, w14, 4, 2, 1)),
            block(nn.Conv2d(w14, w14, 3, 1, 1)),
            block(nn.ConvTranspose2d(w14, w28, 4, 2, 1)),
            nn.Conv2d(w28, channels, 3, 1, 1),
            nn.Tanh(),
        )

    def forward(self, noise):
        x = F.relu(self.bn0(self.fc(noise)))
        return self.body(x.view(-1, self.widths[0], 4, 4))


def conditioned_noise(labels, classes, generator=None):
    """DiM's conditioning: standard normal noise whose first C entries are overwritten with the one-hot label."""
    z = torch.randn(len(labels), NOISE, generator=generator)
    z[:, :classes] = F.one_hot(labels, classes).float()
    return z


class Encoder(nn.Module):
    """q(z | x, y) for the noise entries after the one-hot prefix: the first stage trains the generator as the
    decoder of a conditional VAE, so that N(0, 1) noise maps onto the whole data distribution of each class."""

    def __init__(self, latent, width=32, classes=10, channels=1):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1), nn.LeakyReLU(0.2),        # 14
            nn.Conv2d(w, w * 2, 4, 2, 1), nn.LeakyReLU(0.2),           # 7
            nn.Conv2d(w * 2, w * 2, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Flatten())
        self.head = nn.Linear(w * 2 * 49 + classes, 2 * latent)
        self.classes = classes

    def forward(self, x, labels):
        h = torch.cat([self.features(x), F.one_hot(labels, self.classes).float()], 1)
        mean, logvar = self.head(h).chunk(2, dim=1)
        return mean, logvar.clamp(-8, 8)


class PoolClassifier(nn.Module):
    """A small ConvNet of the matching pool (DiM matches the logits of several classifiers)."""

    def __init__(self, width=32, classes=10, channels=1):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 3, 1, 1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, w * 2, 3, 1, 1), nn.BatchNorm2d(w * 2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w * 2, w * 2, 3, 1, 1), nn.BatchNorm2d(w * 2), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(w * 2, classes))

    def forward(self, x):
        return self.net(x)


class Mlp(nn.Module):
    """The validation classifier: the product trainer's default shape, 784-256-10."""

    def __init__(self, hidden=256, classes=10, pixels=784):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(pixels, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, x):
        return self.net(x)
