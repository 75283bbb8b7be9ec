#!/usr/bin/env python3
"""Exports ResNet-18 in training mode with float64 weights and activations.

  export_resnet18_f64.py OUT.onnx

For comparing a whole training step on the CUDA backend with the CPU
backend: in float32 (and with TF32 convolutions) a few ReLU pre-activations
lie within rounding of zero, the backends take opposite sides, and single
channels' gradients differ by percents; in float64 they agree to rounding.
"""
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))
import export_models  # noqa: E402

torch.manual_seed(0)
model = torchvision.models.resnet18().double()
export_models.randomize_normalization(model)
model.train()
x = torch.zeros(2, 3, 224, 224, dtype=torch.float64)
torch.onnx.export(model, x, sys.argv[1], opset_version=14,
                  input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}},
                  training=torch.onnx.TrainingMode.TRAINING,
                  do_constant_folding=False)
