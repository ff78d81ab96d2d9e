import json

import onnx
import torch

from dimtrain import data, refine
from dimtrain.adversarial import ProjectionDiscriminator, discriminator_loss, generator_loss
from dimtrain.export import export
from dimtrain.models import NOISE, conditioned_noise
from dimtrain.skip import SkipGenerator, fit_gaussian


def _subset(n=600, seed=0):
    x, y = data.load("t10k")
    idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
    return x[idx], y[idx]


def test_the_fitted_skip_path_draws_each_class_with_its_mean_and_its_top_variances():
    x, y = _subset(2000)
    g = SkipGenerator((8, 4, 4), gate=0.0).fit(x, y).eval()
    labels = torch.arange(10).repeat_interleave(400)
    noise = conditioned_noise(labels, 10, torch.Generator().manual_seed(1))
    with torch.no_grad():
        out, linear = g(noise), g.linear(noise)
    assert out.shape == (4000, 1, 28, 28) and float(out.abs().max()) <= 1.0
    for c in (1, 6, 9):
        real = x[y == c].reshape(-1, 784)
        fake = linear[labels == c]
        assert float((fake.mean(0) - real.mean(0)).abs().mean()) < 0.05
        # Variance along the class's first principal direction: the data's, within sampling error (before the
        # clipping to the pixel range, which takes some of it away).
        _, s, v = torch.linalg.svd(real - real.mean(0), full_matrices=False)
        along = (fake - fake.mean(0)) @ v[0]
        assert 0.8 < float(along.var()) / float(s[0] ** 2 / (len(real) - 1)) < 1.2
        assert float((out[labels == c].reshape(-1, 784).mean(0) - real.mean(0)).abs().mean()) < 0.08


def test_fewer_images_of_a_class_than_directions_leave_the_rest_of_its_basis_zero():
    x, y = _subset(300)
    means, bases = fit_gaussian(x, y, 10, NOISE - 10)
    assert bases.shape == (10, 90, 784)
    c = int(torch.bincount(y, minlength=10).argmin())
    assert float(bases[c, int((y == c).sum()):].abs().max()) == 0.0


def test_the_discriminator_learns_to_tell_real_from_generated():
    torch.manual_seed(0)
    x, y = _subset(200)
    d = ProjectionDiscriminator(width=8)
    opt = torch.optim.Adam(d.parameters(), lr=2e-3, betas=(0.5, 0.999))
    fake = torch.rand(200, 1, 28, 28) * 2 - 1
    losses = []
    for _ in range(30):
        loss = discriminator_loss(d, x, fake, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    assert float(generator_loss(d, fake, y)) > float(generator_loss(d, x, y))


def test_the_skip_generator_exports_with_the_official_interface(tmp_path):
    x, y = _subset(400)
    g = SkipGenerator((8, 4, 4), gate=0.3).fit(x, y).eval()
    path = str(tmp_path / "G.onnx")
    export(g, path)
    model = onnx.load(path)
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "noise" and [d.dim_value for d in inp.type.tensor_type.shape.dim][1:] == [NOISE]
    assert out.name == "image" and [d.dim_value for d in out.type.tensor_type.shape.dim][1:] == [1, 28, 28]
    # What ONNX Runtime computes from it is checked on the C# side (ShippedGeneratorTests): onnx 1.12 has no evaluator.


def test_a_short_skip_run_validates_from_step_0_keeps_the_best_and_exports_it(tmp_path):
    code = refine.main(["--out", str(tmp_path), "--subset", "400", "--widths", "8,4,4", "--per-class", "4",
                        "--epochs", "1", "--pool", "1", "--pool-epochs", "0.5", "--d-width", "8",
                        "--val-per-class", "20", "--eval-samples", "200", "--eval-epochs", "1", "--eval-every", "5", "--seed", "3"])
    assert code == 0
    events = [json.loads(line) for line in open(tmp_path / "train-log.jsonl")]
    steps = [e["step"] for e in events if e["event"] == "validate"]
    assert steps[0] == 0 and steps[-1] == 10  # 400 images of 40 a batch: 10 steps
    summary = json.load(open(tmp_path / "summary.json"))
    assert summary["best"]["accuracy"] == max(h["accuracy"] for h in summary["history"])
    manifest = json.load(open(tmp_path / "G.json"))
    assert manifest["kind"] == "dim" and manifest["training"]["recipe"] == "skip"
    assert (tmp_path / "G.onnx").stat().st_size > 0
