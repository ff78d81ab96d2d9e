"""ONNX export with DiM's official single-input interface, and the manifest DatasetQuant's sampler reads."""
import copy
import json
import os

import onnx
import torch

from .data import MEAN, STD
from .models import NOISE


def export(generator, onnx_path, classes=10, dataset="fashion-mnist", opset=13, extra=None):
    model = copy.deepcopy(generator).eval()
    noise = torch.zeros(2, NOISE)
    tmp = onnx_path + ".tmp"
    torch.onnx.export(model, noise, tmp, input_names=["noise"], output_names=["image"],
                      dynamic_axes={"noise": {0: "N"}, "image": {0: "N"}}, opset_version=opset,
                      do_constant_folding=True)
    _declare_output_shape(tmp, [1, 28, 28])
    _fsync_rename(tmp, onnx_path)
    manifest = {
        "format": "dq-generator/1", "kind": "dim", "dataset": dataset, "conditioning": "onehot-prefix",
        "noiseInput": "noise", "output": "image", "noiseSize": NOISE, "classCount": classes,
        "channels": 1, "height": 28, "width": 28, "layout": "NCHW", "valueRange": [-1, 1],
        "mean": [MEAN], "std": [STD],
    }
    if extra:
        manifest["training"] = extra
    json_path = os.path.splitext(onnx_path)[0] + ".json"
    write_atomic(json_path, json.dumps(manifest, indent=2).encode())
    return json_path


def export_best(out_dir, generator, best, history, log, classes=10, extra=None):
    """The end of a training run, either recipe: load the checkpoint that validated best (best.pt) into `generator`,
    export it as G.onnx + G.json, write summary.json and log "done". Returns the process exit code (0)."""
    state = torch.load(os.path.join(out_dir, "best.pt"))
    generator.load_state_dict(state["generator"])
    onnx_path = os.path.join(out_dir, "G.onnx")
    export(generator, onnx_path, classes, extra={**(extra or {}), "step": best["step"],
                                                 "validationAccuracy": round(best["accuracy"], 4)})
    write_atomic(os.path.join(out_dir, "summary.json"), json.dumps({"best": best, "history": history}, indent=2).encode())
    log("done", best_step=best["step"], accuracy=best["accuracy"], onnx=onnx_path, bytes=os.path.getsize(onnx_path))
    return 0


def _declare_output_shape(path, chw):
    """torch's exporter leaves ConvTranspose's spatial output dims symbolic; the graph computes [N,1,28,28], so the
    model says so (the device checks the declared shape against the manifest)."""
    model = onnx.load(path)
    dims = model.graph.output[0].type.tensor_type.shape.dim
    for dim, value in zip(dims[1:], chw):
        dim.ClearField("dim_param")
        dim.dim_value = value
    onnx.checker.check_model(model)
    onnx.save(model, path)


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    _fsync_rename(tmp, path)


def _fsync_rename(tmp, path):
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main(argv=None):
    """Exports a training run's best.pt (either recipe) as G.onnx + G.json, e.g. for a run stopped by hand."""
    import argparse

    import torch

    from .models import Generator
    from .skip import SkipGenerator
    p = argparse.ArgumentParser(prog="dimtrain.export", description=main.__doc__)
    p.add_argument("--checkpoint", required=True, help="best.pt written by dimtrain.train or dimtrain.refine")
    p.add_argument("--out", required=True, help="path of the G.onnx to write (G.json beside it)")
    args = p.parse_args(argv)
    state = torch.load(args.checkpoint)
    widths = tuple(state["widths"])
    recipe = state.get("recipe", "vae")
    generator = SkipGenerator(widths) if recipe == "skip" else Generator(widths)
    generator.load_state_dict(state["generator"])
    export(generator, args.out, extra={"tool": "tools/dimtrain", "recipe": recipe, "widths": list(widths), "step": state["step"]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
