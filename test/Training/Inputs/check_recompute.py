#!/usr/bin/env python3
"""Recomputation never changes results: each model's training step (its loss
and the weights after a momentum update, from the model's own weights),
compiled without recomputation and
with each policy, run on the CPU backend from the same seed and inputs, must
give bit-identical outputs.

  check_recompute.py MLG_OPT MLG_TRANSLATE MLG_RUN MODELS_DIR WORK_DIR [MODEL...]

Policies: `echo`, and budgets of the persistent bytes plus 50% and 30% of
the plain plan's LOAD (a budget no plan meets must be refused with a message
naming the smallest peak, and is reported as such). Runs use --poison, so a
buffer read after the plan lets it die shows as NaNs. For every compiled
variant the recompute pass's predicted LOAD must equal the LOAD the memory
report finds after the rewrite. Prints one line per model and policy; exits
1 on any failure. A variant's files (WORK_DIR/MODEL-VARIANT.*: the programs,
the report, the outputs; up to 0.5 GB) are removed once it is checked, the
plain ones once all of the model's are; a failure keeps them and names them.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

# Small shapes: the point is the rewrite, not the size.
MODELS = {
    "fashion_cnn": ("fashion_cnn-train.onnx", ["--batch-size=4"], 10),
    "resnet18": ("resnet18-train.onnx", ["--batch-size=2"], 1000),
    "resnet50": ("resnet50-train.onnx", ["--batch-size=1"], 1000),
    "vgg16": ("vgg16-train.onnx", ["--batch-size=1"], 1000),
    "mobilenet_v2": ("mobilenet_v2-train.onnx", ["--batch-size=2"], 1000),
    "densenet121": ("densenet121-train.onnx", ["--batch-size=1"], 1000),
    "inception_v3": ("inception_v3-train.onnx", ["--batch-size=1"], 1000),
    "lstm": ("lstm.onnx", ["--input-shape=input:24x2"], 10000),
    # Its input projected 12 steps at a time (the last block 4 steps), its
    # loss over 5 blocks of rows.
    "lstm_blocks": ("lstm.onnx", ["--input-shape=input:160x16"], 10000,
                    "projection-steps=12 loss-chunks=5"),
    "bert_encoder": ("bert_encoder.onnx", ["--input-shape=input:1x32"], 1000),
}


def compile_step(tools, model, flags, recompute, out, step_options=""):
    mlg_opt, mlg_translate, _ = tools
    mlir, report = out + ".rt.mlir", out + ".json"
    cmd = [mlg_opt, model, *flags,
           f"--mlg-build-training-step=optimizer=momentum {step_options}".strip(),
           "--mlg-dead-node-elim", "--mlg-fold-gradient-sums"]
    if recompute:
        cmd.append(f"--mlg-recompute={recompute}")
    cmd += ["--mlg-plan-memory", f"--mlg-memory-report={report}", "-o", out + ".mlir"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
    with open(report) as f:
        fn = json.load(f)["functions"][0]
    p = subprocess.run([mlg_opt, out + ".mlir", "--convert-mlg-to-runtime", "-o", mlir],
                       capture_output=True, text=True)
    if p.returncode == 0:
        p = subprocess.run([mlg_translate, "--mlg-to-program", mlir, "-o", out + ".mlgp"],
                           capture_output=True, text=True)
    if p.returncode != 0:
        return None, "lowering failed: " + p.stderr.strip()[:300]
    return fn, None


def run_step(tools, program, model, int_range, out_dir):
    shutil.rmtree(out_dir, ignore_errors=True)
    p = subprocess.run([tools[2], "run", program, f"--weights={model}", "--random-inputs=3",
                        f"--int-range={int_range}", "--poison", f"--output-dir={out_dir}",
                        f"--save-weights={out_dir}/weights.onnx"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return "run failed: " + p.stderr.strip()[:300]
    return None


def remove(variant):
    """Removes a checked variant's files: VARIANT.mlir, .rt.mlir, .json,
    .svg, .mlgp and the VARIANT.out folder."""
    for path in glob.glob(glob.escape(variant) + ".*"):
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def outputs(out_dir):
    files = sorted(f for f in os.listdir(out_dir) if f.endswith((".pb", ".onnx")))
    return {f: open(os.path.join(out_dir, f), "rb").read() for f in files}


def main():
    tools = sys.argv[1:4]
    models, work = sys.argv[4:6]
    names = sys.argv[6:] or list(MODELS)
    os.makedirs(work, exist_ok=True)
    failed = 0
    for name in names:
        file, flags, int_range, *step_options = MODELS[name]
        step_options = " ".join(step_options)
        path = os.path.join(models, file)
        base = os.path.join(work, name)
        plain, problem = compile_step(tools, path, flags, None, base + "-plain",
                                      step_options)
        problem = problem or run_step(tools, base + "-plain.mlgp", path, int_range, base + "-plain.out")
        if problem:
            print(f"FAIL {name} plain: {problem} (files kept: {base}-plain.*)")
            failed += 1
            continue
        reference = outputs(base + "-plain.out")
        persistent = plain["parameter_bytes"] + plain["constant_bytes"]
        policies = [("echo", "policy=echo")]
        for frac in (50, 30):
            budget = persistent + plain["load_bytes"] * frac // 100
            policies.append((f"budget {frac}%", f"budget={budget}"))
        failed_before = failed
        for label, option in policies:
            variant = base + "-" + label.replace(" ", "").replace("%", "")
            kept = f" (files kept: {variant}.*, {base}-plain.*)"
            fn, problem = compile_step(tools, path, flags, option, variant,
                                       step_options)
            if problem:
                if "cannot be met: the smallest peak found is" in problem:
                    print(f"ok {name} {label}: refused ({problem.split('error: ')[-1]})")
                    remove(variant)
                else:
                    print(f"FAIL {name} {label}: {problem}{kept}")
                    failed += 1
                continue
            facts = fn.get("recompute") or {}
            if facts.get("predicted_load") != fn["load_bytes"]:
                print(f"FAIL {name} {label}: predicted LOAD {facts.get('predicted_load')} "
                      f"but the report finds {fn['load_bytes']}{kept}")
                failed += 1
                continue
            problem = run_step(tools, variant + ".mlgp", path, int_range, variant + ".out")
            if problem:
                print(f"FAIL {name} {label}: {problem}{kept}")
                failed += 1
                continue
            got = outputs(variant + ".out")
            differ = [f for f in reference if got.get(f) != reference[f]]
            if differ or set(got) != set(reference):
                print(f"FAIL {name} {label}: {', '.join(differ)} differ{kept}")
                failed += 1
                continue
            print(f"ok {name} {label}: loss and updated weights bit-identical, "
                  f"{facts.get('cloned', 0)} ops recomputed, LOAD "
                  f"{plain['load_bytes'] / 2**20:.1f} -> {fn['load_bytes'] / 2**20:.1f} MiB")
            remove(variant)
        if failed == failed_before:
            remove(base + "-plain")
    print(f"{len(names)} models checked, {failed} failures")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
