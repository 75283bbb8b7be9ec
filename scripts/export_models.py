#!/usr/bin/env python3
"""Export the models mlg is measured on to ONNX, with random weights.

  /usr/bin/python3 scripts/export_models.py OUT_DIR [--models resnet18,lstm,...] [--seed 0]

Uses Debian's python3-torch 1.13 and python3-torchvision 0.14 (the TorchScript exporter,
opset 14). Every model has one input named `input`:
  CNNs           [batch, 3, H, W] float, batch symbolic (H = W = 224; 299 for Inception-v3)
  fashion_cnn    [batch, 1, 28, 28] float, batch symbolic; 10 classes (Fashion-MNIST)
  lstm           [sequence, batch] int64 token ids, both symbolic
  bert_encoder   [batch, sequence] int64 token ids, both symbolic
Each CNN is written twice: `NAME.onnx` (eval mode) and `NAME-train.onnx` (training mode,
no constant folding, so BatchNormalization and Dropout stay in the graph). The two sequence
models are written in eval mode only. The model definitions are those of
shared/bench/pytorch_baseline.py, so the compiled models and the PyTorch baseline are the same
networks, except fashion_cnn: a small CNN to train end to end with `mlg-run train` (PyTorch's
own initialization, not randomized; about 90% test accuracy after 3 epochs of Adam at lr 1e-3,
batch 64; see bench/train_fashion_mnist.sh).
"""
import argparse
import os
import sys

import torch
import torchvision


class LM(torch.nn.Module):  # 2-layer LSTM language model
    def __init__(s):
        super().__init__()
        s.emb = torch.nn.Embedding(10000, 512)
        s.rnn = torch.nn.LSTM(512, 1024, num_layers=2)
        s.out = torch.nn.Linear(1024, 10000)

    def forward(s, x):
        h, _ = s.rnn(s.emb(x))
        return s.out(h)


class Enc(torch.nn.Module):  # BERT-base-sized Transformer encoder
    def __init__(s):
        super().__init__()
        s.emb = torch.nn.Embedding(30522, 768)
        s.enc = torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(768, 12, 3072, batch_first=True), 12)
        s.out = torch.nn.Linear(768, 30522)

    def forward(s, x):
        return s.out(s.enc(s.emb(x)))


# torch.onnx merges initializers with equal values when exporting in eval mode. The
# TransformerEncoder's 12 layers are deep copies, so that would tie all their weights (and every
# LayerNorm's ones and zeros) into one parameter: a different model to train. Keep the
# data-pointer merge only (what training-mode export does), so every parameter stays its own.
_dedup = torch._C._jit_pass_onnx_deduplicate_initializers
torch._C._jit_pass_onnx_deduplicate_initializers = lambda g, params, _training: _dedup(g, params, True)

class FashionCNN(torch.nn.Module):  # Fashion-MNIST classifier, 1x28x28 -> 10
    def __init__(s):
        super().__init__()
        s.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.BatchNorm2d(64), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2))
        s.classifier = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(64 * 7 * 7, 128), torch.nn.ReLU(),
            torch.nn.Dropout(0.25), torch.nn.Linear(128, 10))

    def forward(s, x):
        return s.classifier(s.features(x))


tv = torchvision.models
CNNS = {
    "resnet18": (tv.resnet18, 224),
    "resnet50": (tv.resnet50, 224),
    "vgg16": (tv.vgg16, 224),
    "mobilenet_v2": (tv.mobilenet_v2, 224),
    "densenet121": (tv.densenet121, 224),
    "inception_v3": (lambda: tv.inception_v3(aux_logits=False, init_weights=True), 299),
}
# Small models trained end to end, with PyTorch's initialization (trainable as exported).
SMALL = {
    "fashion_cnn": (FashionCNN, (1, 28, 28)),
}
SEQ = {
    "lstm": (LM, torch.zeros(7, 2, dtype=torch.int64), {0: "sequence", 1: "batch"}),
    "bert_encoder": (Enc, torch.zeros(2, 7, dtype=torch.int64), {0: "batch", 1: "sequence"}),
}


class GRULM(torch.nn.Module):
    """A small bidirectional 2-layer GRU language model (ONNX GRU with
    linear_before_reset, as PyTorch exports it)."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(100, 16)
        self.rnn = torch.nn.GRU(16, 24, num_layers=2, bidirectional=True)
        self.out = torch.nn.Linear(48, 100)

    def forward(self, x):
        return self.out(self.rnn(self.emb(x))[0])


# Architectures the benchmark does not name, checked against PyTorch's
# gradients (test/Training/Inputs/grads_vs_pytorch.py) and on the GPU
# (bench/gpu/export_f64_models.py), with the image size they run at:
# ConvNeXt-T (depthwise convolutions, LayerNorm and GELU as exported ops,
# Linear layers as MatMul by a transposed weight), MobileNetV3-small
# (HardSwish, squeeze-and-excitation gates) and a small vision Transformer
# (attention over patches). Not exported by main().
UNNAMED_CNNS = {
    "convnext": (lambda: tv.convnext_tiny(stochastic_depth_prob=0.0), 32),
    "mobilenet_v3": (tv.mobilenet_v3_small, 64),
    "vit": (lambda: tv.VisionTransformer(image_size=32, patch_size=8, num_layers=2,
                                         num_heads=4, hidden_dim=64, mlp_dim=128), 32),
}


def randomize_normalization(model):
    """Give every normalization layer random statistics and affine parameters.

    Fresh layers all hold ones and zeros, so after eval-mode export folds
    BatchNorm into the convolutions, the JIT's constant pooling would merge
    equal biases into one tensor shared by many layers: a model with tied
    parameters. Random values keep every layer's tensors its own.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
                if getattr(m, "weight", None) is not None:
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0.0, 0.1)
                if getattr(m, "running_mean", None) is not None:
                    m.running_mean.normal_(0.0, 0.1)
                    m.running_var.uniform_(0.5, 1.5)


def export(model, x, path, axes, training):
    tmp = path + ".tmp"
    mode = torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.EVAL
    model.train(training)
    torch.onnx.export(model, x, tmp, opset_version=14, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": axes, "output": {0: axes[0]}},
                      training=mode, do_constant_folding=not training)
    os.replace(tmp, path)
    print(f"wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--models", default=",".join(list(CNNS) + list(SEQ) + list(SMALL)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="re-export models that already exist")
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    for name in a.models.split(","):
        torch.manual_seed(a.seed)
        if name in CNNS:
            ctor, size = CNNS[name]
            model = ctor()
            randomize_normalization(model)
            x = torch.randn(2, 3, size, size)
            for training in (False, True):
                path = os.path.join(a.out_dir, name + ("-train" if training else "") + ".onnx")
                if a.force or not os.path.exists(path):
                    export(model, x, path, {0: "batch"}, training)
        elif name in SMALL:
            ctor, chw = SMALL[name]
            model = ctor()
            x = torch.randn(2, *chw)
            for training in (False, True):
                path = os.path.join(a.out_dir, name + ("-train" if training else "") + ".onnx")
                if a.force or not os.path.exists(path):
                    export(model, x, path, {0: "batch"}, training)
        elif name in SEQ:
            ctor, x, axes = SEQ[name]
            path = os.path.join(a.out_dir, name + ".onnx")
            if a.force or not os.path.exists(path):
                model = ctor()
                randomize_normalization(model)
                export(model, x, path, axes, False)
        else:
            known = list(CNNS) + list(SEQ) + list(SMALL)
            sys.exit(f"unknown model '{name}'; known: {', '.join(known)}")


if __name__ == "__main__":
    main()
