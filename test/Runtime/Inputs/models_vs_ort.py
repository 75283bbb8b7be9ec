#!/usr/bin/env python3
"""Runs the eight benchmark models on the CPU backend and compares with
onnxruntime on the same random input.

  models_vs_ort.py --bin-dir DIR --models DIR --work DIR [--poison] [--only NAME]

For each model (eval export): mlg-opt plans and lowers it at a small shape,
mlg-translate writes the program, mlg-run runs it with the model's own
weights (--weights) on an input this script draws with NumPy, and
onnxruntime runs the original model on the same input. The error is
max|mlg - ort| / max|ort| over the output; it must be at most 1e-4.
Prints one line a model and a last line "N of 8 models match". A model's
files (WORK/NAME: the program, the input, the output) are removed once it
matches and kept, named in its line, if not.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

# name, mlg-opt shape flags, input shape, input kind (None: N(0,1) floats,
# int: token ids below that bound).
MODELS = [
    ("resnet18", ["--batch-size=2"], (2, 3, 224, 224), None),
    ("resnet50", ["--batch-size=1"], (1, 3, 224, 224), None),
    ("vgg16", ["--batch-size=1"], (1, 3, 224, 224), None),
    ("mobilenet_v2", ["--batch-size=2"], (2, 3, 224, 224), None),
    ("densenet121", ["--batch-size=1"], (1, 3, 224, 224), None),
    ("inception_v3", ["--batch-size=1"], (1, 3, 299, 299), None),
    ("lstm", ["--input-shape=input:12x2"], (12, 2), 10000),
    ("bert_encoder", ["--input-shape=input:1x16"], (1, 16), 30522),
]
TOLERANCE = 1e-4


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: "
                           f"{(r.stderr or r.stdout).strip()[-2000:]}")
    return r.stdout


def check(name, flags, shape, ids, args):
    model = os.path.join(args.models, name + ".onnx")
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    rt, prog = os.path.join(work, "rt.mlir"), os.path.join(work, "prog.mlgp")
    run([os.path.join(args.bin_dir, "mlg-opt"), model, *flags,
         "--mlg-lower-pipeline", "-o", rt])
    run([os.path.join(args.bin_dir, "mlg-translate"), "--mlg-to-program", rt,
         "-o", prog])

    rng = np.random.default_rng(1234)
    if ids is None:
        x = rng.standard_normal(shape).astype(np.float32)
    else:
        x = rng.integers(0, ids, size=shape, dtype=np.int64)
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    out_name = sess.get_outputs()[0].name
    inp = os.path.join(work, "input.pb")
    with open(inp, "wb") as f:
        f.write(numpy_helper.from_array(x, in_name).SerializeToString())
    ref = sess.run([out_name], {in_name: x})[0]

    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir, exist_ok=True)
    cmd = [os.path.join(args.bin_dir, "mlg-run"), "run", prog, f"--weights={model}",
           f"--input={in_name}={inp}", f"--output-dir={out_dir}"]
    if args.poison:
        cmd.append("--poison")
    start = time.perf_counter()
    run(cmd)
    seconds = time.perf_counter() - start
    t = onnx.TensorProto()
    with open(os.path.join(out_dir, "output_0.pb"), "rb") as f:
        t.ParseFromString(f.read())
    got = numpy_helper.to_array(t)
    if got.shape != ref.shape:
        return False, f"shape {got.shape}, onnxruntime {ref.shape}"
    if not np.all(np.isfinite(got)):
        return False, "non-finite values"
    err = float(np.max(np.abs(got.astype(np.float64) - ref)) / max(np.max(np.abs(ref)), 1e-30))
    ok = err <= TOLERANCE
    return ok, f"output {list(ref.shape)} error {err:.2e}, mlg-run {seconds:.1f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--poison", action="store_true")
    ap.add_argument("--only", action="append")
    args = ap.parse_args()
    passed = 0
    todo = [m for m in MODELS if not args.only or m[0] in args.only]
    for name, flags, shape, ids in todo:
        try:
            ok, what = check(name, flags, shape, ids, args)
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
