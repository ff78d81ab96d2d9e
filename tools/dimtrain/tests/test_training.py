import json
import os

import onnx
import torch

from dimtrain import data, train
from dimtrain.export import export
from dimtrain.models import NOISE, Encoder, Generator, PoolClassifier, conditioned_noise


def _subset(n=200, seed=0):
    x, y = data.load("t10k")
    idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
    return x[idx], y[idx]


def test_generator_has_dims_interface_one_hot_prefix_and_tanh_range():
    g = Generator((16, 8, 4)).eval()
    z = conditioned_noise(torch.tensor([3, 7]), 10, torch.Generator().manual_seed(0))
    assert z.shape == (2, NOISE)
    assert z[0, :10].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    out = g(z)
    assert out.shape == (2, 1, 28, 28)
    assert float(out.abs().max()) <= 1.0


def test_elbo_falls_over_a_few_steps_on_a_small_subset():
    torch.manual_seed(0)
    x, y = _subset()
    g, e = Generator((16, 8, 4)), Encoder(NOISE - 10, width=8)
    opt = torch.optim.Adam(list(g.parameters()) + list(e.parameters()), lr=2e-3)
    rng = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(25):
        loss, _, _ = train.vae_loss(g, e, x[:100], y[:100], 1.0, rng)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5


def test_logit_matching_loss_falls_when_the_generator_follows_it():
    torch.manual_seed(0)
    x, y = _subset(300)
    pool = [PoolClassifier(width=8).eval()]
    for p in pool[0].parameters():
        p.requires_grad_(False)
    g = Generator((16, 8, 4))
    opt = torch.optim.Adam(g.parameters(), lr=2e-3)
    batches = data.BalancedBatches(x, y, 10, seed=2)
    rng = torch.Generator().manual_seed(3)
    losses = []
    for _ in range(30):
        loss = train.matching_loss(g, pool, batches, 4, rng)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5


def test_export_writes_an_onnx_model_with_the_official_interface_and_a_dim_manifest(tmp_path):
    g = Generator((16, 8, 4)).eval()
    path = str(tmp_path / "G.onnx")
    manifest_path = export(g, path, extra={"seed": 1})
    model = onnx.load(path)
    onnx.checker.check_model(model)
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "noise" and [d.dim_value for d in inp.type.tensor_type.shape.dim][1:] == [NOISE]
    assert out.name == "image" and [d.dim_value for d in out.type.tensor_type.shape.dim][1:] == [1, 28, 28]
    manifest = json.load(open(manifest_path))
    assert manifest["kind"] == "dim" and manifest["conditioning"] == "onehot-prefix"
    assert manifest["noiseSize"] == NOISE and manifest["valueRange"] == [-1, 1]
    assert not any(f.endswith(".tmp") for f in os.listdir(tmp_path))


def test_a_short_run_trains_both_stages_keeps_the_best_and_exports_it(tmp_path):
    code = train.main(["--out", str(tmp_path), "--subset", "400", "--widths", "16,8,4", "--per-class", "4",
                       "--vae-epochs", "1", "--match-epochs", "1", "--pool", "1", "--pool-epochs", "0.5",
                       "--val-per-class", "20", "--eval-samples", "200", "--eval-epochs", "1", "--seed", "3"])
    assert code == 0
    events = [json.loads(line) for line in open(tmp_path / "train-log.jsonl")]
    phases = {e["phase"] for e in events if e["event"] == "validate"}
    assert phases == {"vae", "match"}
    summary = json.load(open(tmp_path / "summary.json"))
    assert summary["best"]["accuracy"] == max(h["accuracy"] for h in summary["history"])
    assert (tmp_path / "G.onnx").stat().st_size > 0 and (tmp_path / "G.json").exists()


def test_the_sample_grid_is_a_valid_png_with_a_row_per_class(tmp_path):
    import zlib
    from dimtrain.grid import grid, write_png
    canvas = grid(Generator((16, 8, 4)).eval(), 10, 3, seed=1)
    path = tmp_path / "g.png"
    write_png(str(path), canvas)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (height, width) == tuple(canvas.shape) == (10 * 58 + 2, 3 * 58 + 2)
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4:idat], "big")
    assert len(zlib.decompress(data[idat + 4:idat + 4 + length])) == height * (width + 1)
