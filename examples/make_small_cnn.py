#!/usr/bin/env python3
"""Writes examples/small_cnn.onnx, the model the quick start imports.

  /usr/bin/python3 examples/make_small_cnn.py [OUT]

A small residual CNN for 32x32 images (Fashion-MNIST-sized after padding or
CIFAR-sized): convolutions, batch normalization, ReLU, max pooling, a residual
addition, dropout, global average pooling and a linear classifier. Exported
with Debian's python3-torch (TorchScript exporter, opset 14, one input named
`input` with a symbolic batch), random weights from seed 0.
"""
import sys

import torch


class SmallCNN(torch.nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, padding=1, bias=False), torch.nn.BatchNorm2d(16),
            torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.block = torch.nn.Sequential(
            torch.nn.Conv2d(16, 16, 3, padding=1, bias=False), torch.nn.BatchNorm2d(16),
            torch.nn.ReLU(), torch.nn.Conv2d(16, 16, 3, padding=1, bias=False),
            torch.nn.BatchNorm2d(16))
        self.head = torch.nn.Sequential(
            torch.nn.Conv2d(16, 32, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Dropout(0.1),
            torch.nn.Linear(32, classes))

    def forward(self, x):
        x = self.stem(x)
        x = torch.relu(x + self.block(x))
        return self.head(x)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "examples/small_cnn.onnx"
    torch.manual_seed(0)
    model = SmallCNN().train()  # training mode keeps BatchNormalization and Dropout
    torch.onnx.export(model, torch.randn(2, 3, 32, 32), out, opset_version=14,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
