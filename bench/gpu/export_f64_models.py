#!/usr/bin/env python3
"""Exports, in training mode with float64 weights and activations, the
architectures the benchmark does not name but the gradient check covers
(test/Training/Inputs/grads_vs_pytorch.py): ConvNeXt-T, MobileNetV3-small,
a small vision Transformer and a bidirectional GRU language model.

  export_f64_models.py OUT_DIR

Writes OUT_DIR/NAME-f64-train.onnx for NAME in convnext, mobilenet_v3, vit
and gru, for comparing their whole training steps on the CUDA backend with
the CPU backend (in float64 the backends agree to rounding).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
import export_models  # noqa: E402

MODELS = {name: (ctor, torch.zeros(2, 3, size, size), {0: "batch"})
          for name, (ctor, size) in export_models.UNNAMED_CNNS.items()}
MODELS["gru"] = (export_models.GRULM, torch.zeros(6, 2, dtype=torch.int64),
                 {0: "sequence", 1: "batch"})

for name, (ctor, x, axes) in MODELS.items():
    torch.manual_seed(0)
    model = ctor().double()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    export_models.randomize_normalization(model)
    model.train()
    if x.is_floating_point():
        x = x.double()
    torch.onnx.export(model, x, os.path.join(sys.argv[1], f"{name}-f64-train.onnx"),
                      opset_version=14, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": axes},
                      training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False)
