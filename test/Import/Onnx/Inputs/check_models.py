#!/usr/bin/env python3
"""Imports the exported benchmark models as the foundation issue prescribes.

  check_models.py MLG_OPT MODELS_DIR

Runs `mlg-opt M.onnx --batch-size=128` for the six CNNs in both export modes
(Inception-v3 at 299x299), `mlg-opt lstm.onnx --input-shape=input:1000x64`
and `mlg-opt bert_encoder.onnx --input-shape=input:32x512`. Each must exit 0,
print nothing on standard error, and print IR in which every tensor type is
static. Prints one line per model with its op count, and exits 1 if any
import falls short.
"""
import os
import re
import subprocess
import sys

CNNS = ["resnet18", "resnet50", "vgg16", "mobilenet_v2", "densenet121", "inception_v3"]


def main():
    mlg_opt, models = sys.argv[1], sys.argv[2]
    runs = [(f"{m}{v}.onnx", ["--batch-size=128"]) for m in CNNS for v in ("", "-train")]
    runs += [("lstm.onnx", ["--input-shape=input:1000x64"]),
             ("bert_encoder.onnx", ["--input-shape=input:32x512"])]
    failed = 0
    for name, flags in runs:
        path = os.path.join(models, name)
        p = subprocess.run([mlg_opt, path, *flags], capture_output=True, text=True)
        problems = []
        if p.returncode != 0:
            problems.append(f"exit {p.returncode}")
        if p.stderr:
            problems.append(f"stderr: {p.stderr.strip()[:300]}")
        if "func.func @forward" not in p.stdout:
            problems.append("no @forward in the output")
        if re.search(r"tensor<[^>]*\?", p.stdout):
            problems.append("a dynamic dimension remains")
        ops = len(re.findall(r"= mlg\.(?!constant)", p.stdout))
        if problems:
            failed += 1
            print(f"FAIL {name}: {'; '.join(problems)}")
        else:
            print(f"ok {name} {' '.join(flags)}: {ops} ops")
    print(f"{len(runs) - failed} of {len(runs)} models imported")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
