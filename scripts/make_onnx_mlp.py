#!/usr/bin/env python3
"""Regenerates the ONNX test model of aic-serve: a small MLP (64 -> 16 -> 10, ReLU) with seeded
weights, exported by torch.onnx.export with a symbolic batch dimension, plus a seeded input batch
and torch's outputs for it, which the tests compare with tract's.

    /root/.cache/torch-venv/bin/pip install onnx
    /root/.cache/torch-venv/bin/python scripts/make_onnx_mlp.py

Writes crates/aic-serve/tests/data/onnx-mlp/{weights.onnx,expected.json}. The names and shapes
match the `classification` template of aicmodel.toml: input `features` FP32 [-1, 64], output
`logits` FP32 [-1, 10].
"""
import json
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/aic-serve/tests/data/onnx-mlp"


def main() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10)
    ).eval()
    x = torch.randn(3, 64)
    with torch.no_grad():
        y = model(x)
    OUT.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (x,),
        str(OUT / "weights.onnx"),
        input_names=["features"],
        output_names=["logits"],
        dynamic_axes={"features": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    expected = {
        "torch": torch.__version__,
        "input": {"name": "features", "shape": list(x.shape), "data": x.flatten().tolist()},
        "output": {"name": "logits", "shape": list(y.shape), "data": y.flatten().tolist()},
    }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {OUT}/weights.onnx ({(OUT / 'weights.onnx').stat().st_size} bytes)")


if __name__ == "__main__":
    main()
