#!/usr/bin/env python3
"""Memory plans of the benchmark models: LOAD, arena, and their ratio.

  bench/plan_models.py [--build build] [--models-dir models] [--out DIR]
                       [--train] [--only NAME ...]

For the eight models (eval exports; CNNs at --batch-size=128, Inception-v3
at 299x299, the LSTM at --input-shape=input:1000x64, the Transformer at
input:32x512), runs
  mlg-opt M.onnx ... --mlg-lower-pipeline --mlg-memory-report=OUT/M.json
  mlg-translate --mlg-to-program -o OUT/M.mlgp
and prints a table from the reports: steps, LOAD, arena, arena / LOAD,
parameters, the op at the peak, the program's size and the compile time.

With --train, the training-mode exports (M-train.onnx for the CNNs) go
through --mlg-train-pipeline="optimizer=momentum" (SGD with momentum 0.9,
the PyTorch baseline's optimizer) instead, and the table adds the
persistent bytes (parameters, batch-norm statistics, velocities) that
mlg-run info reports for the program.
"""
import argparse
import json
import os
import subprocess
import sys
import time

MODELS = [
    ("resnet18", ["--batch-size=128"]),
    ("resnet50", ["--batch-size=128"]),
    ("vgg16", ["--batch-size=128"]),
    ("mobilenet_v2", ["--batch-size=128"]),
    ("densenet121", ["--batch-size=128"]),
    ("inception_v3", ["--batch-size=128"]),
    ("lstm", ["--input-shape=input:1000x64"]),
    ("bert_encoder", ["--input-shape=input:32x512"]),
]


def mib(b):
    return f"{b / 2**20:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--out", default="build/plans")
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--only", action="append")
    a = ap.parse_args()
    run_tool = os.path.join(a.build, "bin", "mlg-run")
    os.makedirs(a.out, exist_ok=True)
    opt = os.path.join(a.build, "bin", "mlg-opt")
    translate = os.path.join(a.build, "bin", "mlg-translate")
    print(f"{'model':<14} {'steps':>6} {'LOAD MiB':>10} {'arena MiB':>10} {'arena/LOAD':>10} "
          f"{'params MiB':>10} {'program KiB':>11} {'time s':>7}  peak at")
    worst = 0
    for name, flags in MODELS:
        if a.only and name not in a.only:
            continue
        file = name + ("-train" if a.train and "batch-size" in flags[0] else "")
        onnx = os.path.join(a.models_dir, file + ".onnx")
        if not os.path.exists(onnx):
            sys.exit(f"{onnx} not found: run scripts/export_models.py {a.models_dir}")
        report = os.path.join(a.out, name + ".json")
        lowered = os.path.join(a.out, name + ".rt.mlir")
        program = os.path.join(a.out, name + ".mlgp")
        start = time.perf_counter()
        pipeline = ("--mlg-train-pipeline=optimizer=momentum" if a.train
                    else "--mlg-lower-pipeline")
        subprocess.run([opt, onnx, *flags, pipeline,
                        f"--mlg-memory-report={report}", "-o", lowered], check=True)
        subprocess.run([translate, "--mlg-to-program", lowered, "-o", program], check=True)
        seconds = time.perf_counter() - start
        f = json.load(open(report))["functions"][0]
        ratio = f["arena_bytes"] / f["load_bytes"]
        worst = max(worst, ratio)
        print(f"{name:<14} {f['steps']:>6} {mib(f['load_bytes']):>10} {mib(f['arena_bytes']):>10} "
              f"{ratio:>10.4f} {mib(f['parameter_bytes']):>10} "
              f"{os.path.getsize(program) / 1024:>11.1f} {seconds:>7.2f}  {f['peak_op']}")
        if a.train:
            info = subprocess.run([run_tool, "info", program], check=True,
                                  capture_output=True, text=True).stdout
            print(f"{'':<14} {info.strip().splitlines()[-1]}")
    print(f"largest arena / LOAD: {worst:.4f} (target 1.05)")


if __name__ == "__main__":
    main()
