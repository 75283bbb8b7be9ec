#!/usr/bin/env python3
"""Training steps of the eight training-mode exports, as the training issue
prescribes.

  check_train_steps.py MLG_OPT MODELS_DIR WORK_DIR

For the six CNNs' training exports (`M-train.onnx`, batch 128, Inception-v3
at 299x299), the LSTM (sequence 1000, batch 64) and the Transformer encoder
(batch 32, sequence 512), runs

  mlg-opt M.onnx <shape flags> --mlg-build-training-step --mlg-dead-node-elim
          --mlg-lower-pipeline --mlg-memory-report=WORK_DIR/M.json

(mlg-opt verifies the IR after every pass). Each must exit 0 with nothing on
standard error and write a report whose function is @train_step, with a
positive LOAD, an arena no smaller than LOAD, and parameters. Prints one line
per model and exits 1 if any falls short. A model's report (M.json and the
plot M.svg, up to 13 MB) is removed once checked and kept, named, if not.
"""
import json
import os
import subprocess
import sys

CNNS = ["resnet18", "resnet50", "vgg16", "mobilenet_v2", "densenet121", "inception_v3"]


def check(mlg_opt, path, flags, report):
    p = subprocess.run([mlg_opt, path, *flags, "--mlg-build-training-step",
                        "--mlg-dead-node-elim", "--mlg-lower-pipeline",
                        f"--mlg-memory-report={report}", "-o", os.devnull],
                       capture_output=True, text=True)
    if p.returncode != 0 or p.stderr:
        return None, f"exit {p.returncode}: {p.stderr.strip()[:300]}"
    with open(report) as f:
        functions = json.load(f)["functions"]
    step = [fn for fn in functions if fn["name"] == "train_step"]
    if len(functions) != 1 or not step:
        return None, f"report functions {[fn['name'] for fn in functions]}"
    fn = step[0]
    if not (fn["load_bytes"] > 0 and fn["arena_bytes"] >= fn["load_bytes"]
            and fn["parameter_bytes"] > 0):
        return None, f"implausible report {fn['load_bytes']}, {fn['arena_bytes']}"
    return fn, None


def main():
    mlg_opt, models, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    runs = [(f"{m}-train.onnx", ["--batch-size=128"]) for m in CNNS]
    runs += [("lstm.onnx", ["--input-shape=input:1000x64"]),
             ("bert_encoder.onnx", ["--input-shape=input:32x512"])]
    failed = 0
    for name, flags in runs:
        report = os.path.join(work, name.replace(".onnx", ".json"))
        fn, problem = check(mlg_opt, os.path.join(models, name), flags, report)
        if problem:
            failed += 1
            print(f"FAIL {name}: {problem} (report kept: {report})")
        else:
            print(f"ok {name} {' '.join(flags)}: {fn['steps']} steps, LOAD "
                  f"{fn['load_bytes'] / 2**20:.1f} MiB, arena / LOAD "
                  f"{fn['arena_bytes'] / fn['load_bytes']:.4f}")
            for path in (report, os.path.splitext(report)[0] + ".svg"):
                os.remove(path)
    print(f"{len(runs) - failed} of {len(runs)} training steps built")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
