#!/usr/bin/env python3
"""Whole-model gradients of mlg's training step against PyTorch autograd.

  grads_vs_pytorch.py --bin-dir DIR --work DIR [--only NAME ...]

For the six benchmark CNNs in training mode (ResNet-18, ResNet-50, VGG-16,
MobileNetV2, DenseNet-121, Inception-v3; small inputs; see models()),
ConvNeXt-T, MobileNetV3-small and a small vision Transformer, the 2-layer
LSTM language model, a bidirectional GRU language model and the
BERT-base-sized Transformer encoder of scripts/export_models.py, all in
float64 and with dropout probability 0: builds the model in PyTorch with a
fixed seed, exports it to
ONNX in training mode, computes the cross-entropy loss of one batch and
every parameter's gradient with autograd; then compiles the ONNX model with
mlg-opt (--mlg-build-training-step="optimizer=none return-gradients=true",
--mlg-dead-node-elim, --mlg-fold-gradient-sums, --mlg-lower-pipeline),
runs the program with mlg-run (--poison) on the same weights, inputs and
labels, and compares. The error of a tensor is max|mlg - torch| /
max|torch| (the scale at least a millionth of the model's largest
gradient); the loss and every gradient
must be within 1e-4. Prints one line per model and "N of M models match".
A model's files (WORK/NAME: the ONNX export, the program, the outputs; up
to 2 GB) are removed once it matches and kept, named in its line, if not.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "scripts"))
import export_models  # noqa: E402  (the models' definitions)

TOLERANCE = 1e-4


class Enc(torch.nn.Module):
    """export_models.Enc without dropout, so both sides compute the same."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(30522, 768)
        self.enc = torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(768, 12, 3072, dropout=0.0,
                                             batch_first=True), 12)
        self.out = torch.nn.Linear(768, 30522)

    def forward(self, x):
        return self.out(self.enc(self.emb(x)))


def without_dropout(ctor):
    """`ctor` with every Dropout's probability set to 0 (in the export too)."""
    def make():
        model = ctor()
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
        return model
    return make


def cnn(name, ctor, size):
    """A torchvision CNN at batch 2 and `size` x `size`, in float64."""
    g = torch.Generator().manual_seed(7)
    return (name, without_dropout(ctor),
            torch.randn(2, 3, size, size, generator=g),
            torch.randint(0, 1000, (2,), generator=g), ["--batch-size=2"],
            torch.float64)


def models():
    """name, constructor, input, labels of the output's shape minus classes,
    mlg-opt's shape flags, the element type of weights and activations.

    Every model runs in float64: in float32 a handful of ReLU
    pre-activations (ResNet-18's, the Transformer's feed-forward layers')
    lie within float32 rounding (~1e-6) of zero, where the two sides may
    take opposite sides of the ReLU and a channel's gradient then differs
    by several percent: an accident of rounding, not of the gradient. Their inputs are small, but
    large enough that no batch norm normalizes fewer than 2 x 3 x 3 values
    (Inception-v3 at 160: at 96 its last blocks are 1 x 1, and a batch norm
    over two values amplifies rounding a million-fold); VGG-16 at 224, the
    size its classifier's adaptive pooling exports for.
    """
    tv = torchvision.models
    g = torch.Generator().manual_seed(7)
    return [
        cnn("resnet18", tv.resnet18, 64),
        cnn("resnet50", tv.resnet50, 64),
        cnn("vgg16", tv.vgg16, 224),
        cnn("mobilenet_v2", tv.mobilenet_v2, 64),
        cnn("densenet121", tv.densenet121, 64),
        cnn("inception_v3",
            lambda: tv.inception_v3(aux_logits=False, init_weights=True), 160),
        # Architectures the benchmark does not name (see export_models).
        cnn("convnext_tiny", *export_models.UNNAMED_CNNS["convnext"]),
        cnn("mobilenet_v3", *export_models.UNNAMED_CNNS["mobilenet_v3"]),
        cnn("vit", *export_models.UNNAMED_CNNS["vit"]),
        ("lstm", export_models.LM,
         torch.randint(0, 10000, (5, 2), generator=g),
         torch.randint(0, 10000, (5, 2), generator=g),
         ["--input-shape=input:5x2"], torch.float64),
        ("gru", export_models.GRULM,
         torch.randint(0, 100, (6, 2), generator=g),
         torch.randint(0, 100, (6, 2), generator=g),
         ["--input-shape=input:6x2"], torch.float64),
        ("bert_encoder", Enc,
         torch.randint(0, 30522, (2, 6), generator=g),
         torch.randint(0, 30522, (2, 6), generator=g),
         ["--input-shape=input:2x6"], torch.float64),
    ]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} exited {r.returncode}: "
                           f"{(r.stderr or r.stdout).strip()[-3000:]}")
    return r.stdout


def error(got, want, floor):
    """max|got - want| / max|want|, the scale at least `floor`."""
    scale = max(float(np.max(np.abs(want))), floor, 1e-300)
    return float(np.max(np.abs(got.astype(np.float64) - want))) / scale


def check(name, ctor, x, labels, flags, dtype, args):
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    model = ctor().to(dtype)
    if x.is_floating_point():
        x = x.to(dtype)
    export_models.randomize_normalization(model)
    model.train()
    path = os.path.join(work, "model.onnx")
    torch.onnx.export(model, x, path, opset_version=14, input_names=["input"],
                      output_names=["output"],
                      training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False)
    # The export may have run the model (updating batch-norm statistics):
    # take the weights the ONNX file holds, for both sides.
    inits = {t.name: numpy_helper.to_array(t)
             for t in onnx.load(path).graph.initializer}
    with torch.no_grad():
        for n, p in list(model.named_parameters()) + list(model.named_buffers()):
            if n in inits:
                p.copy_(torch.from_numpy(inits[n].copy()))
    model.zero_grad()
    out = model(x)
    loss = torch.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]),
                                             labels.reshape(-1))
    loss.backward()
    want = {n: p.grad.numpy() for n, p in model.named_parameters()
            if p.grad is not None}

    rt, prog = os.path.join(work, "rt.mlir"), os.path.join(work, "prog.mlgp")
    run([os.path.join(args.bin_dir, "mlg-opt"), path, *flags,
         "--mlg-build-training-step=optimizer=none return-gradients=true",
         "--mlg-dead-node-elim", "--mlg-fold-gradient-sums",
         "--mlg-lower-pipeline", "-o", rt])
    run([os.path.join(args.bin_dir, "mlg-translate"), "--mlg-to-program", rt,
         "-o", prog])
    xin, lin = os.path.join(work, "x.pb"), os.path.join(work, "labels.pb")
    onnx.save_tensor(numpy_helper.from_array(x.numpy(), "input"), xin)
    onnx.save_tensor(numpy_helper.from_array(labels.numpy().astype(np.int64),
                                             "labels"), lin)
    out_dir = os.path.join(work, "out")
    start = time.perf_counter()
    run([os.path.join(args.bin_dir, "mlg-run"), "run", prog, f"--weights={path}",
         f"--input=input={xin}", f"--input=labels={lin}",
         f"--output-dir={out_dir}", "--poison"])
    seconds = time.perf_counter() - start

    got = {}
    k = 0
    while os.path.exists(os.path.join(out_dir, f"output_{k}.pb")):
        t = onnx.load_tensor(os.path.join(out_dir, f"output_{k}.pb"))
        got[t.name] = numpy_helper.to_array(t)
        k += 1
    problems = []
    loss_err = abs(float(got["loss"]) - loss.item()) / abs(loss.item())
    if loss_err > TOLERANCE:
        problems.append(f"loss {float(got['loss'])} vs {loss.item()}")
    # Some gradients are zero in exact arithmetic and rounding noise in
    # both programs: a batch norm's bias before a convolution and another
    # training-mode batch norm (MobileNetV2's linear bottlenecks), whose
    # mean subtraction removes any per-channel constant. Errors are
    # relative to at least a millionth of the largest gradient.
    floor = 1e-6 * max(float(np.max(np.abs(g))) for g in want.values())
    worst, worst_name = 0.0, ""
    for n, g in want.items():
        mine = got.get("grad:" + n)
        if mine is None:
            problems.append(f"no gradient for {n}")
            continue
        if mine.shape != g.shape:
            problems.append(f"{n}: shape {mine.shape} vs {g.shape}")
            continue
        e = error(mine, g, floor)
        if e > worst:
            worst, worst_name = e, n
        if e > TOLERANCE:
            problems.append(f"{n}: error {e:.2e}")
    extra = sorted(k for k in got if k.startswith("grad:") and k[5:] not in want)
    if extra:
        problems.append(f"gradients PyTorch does not have: {extra[:3]}")
    summary = (f"loss error {loss_err:.1e}, {len(want)} gradients, worst "
               f"{worst:.1e} ({worst_name}), mlg-run {seconds:.1f} s")
    if os.environ.get("MLG_GRADS_VERBOSE"):
        for n, g in want.items():
            if "grad:" + n in got and got["grad:" + n].shape == g.shape:
                e = error(got["grad:" + n], g, floor)
                print(f"  {n}: {e:.2e}", file=sys.stderr)
    return not problems, summary + ("; " + "; ".join(problems[:5]) if problems else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", action="append")
    args = ap.parse_args()
    torch.set_num_threads(2)
    todo = [m for m in models() if not args.only or m[0] in args.only]
    passed = 0
    for name, ctor, x, labels, flags, dtype in todo:
        try:
            ok, what = check(name, ctor, x, labels, flags, dtype, args)
        except RuntimeError as e:
            ok, what = False, str(e)
        passed += ok
        work = os.path.join(args.work, name)
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            what += f" (files kept in {work})"
        print(f"{'ok' if ok else 'FAIL'} {name}: {what}", flush=True)
    print(f"{passed} of {len(todo)} models match")
    return 0 if passed == len(todo) else 1


if __name__ == "__main__":
    sys.exit(main())
