#!/usr/bin/env python3
"""Recomputation on the benchmark models' training steps: planned peak,
predicted overhead and compile time, per policy.

  bench/recompute_models.py [--build build] [--models-dir models]
                            [--out DIR] [--only NAME ...] [--profile F.json]
                            [--json FILE] [--no-scaling]

For the eight training steps (the shapes of the PyTorch baseline: CNNs at
batch 128, Inception-v3 at 299x299, the LSTM at sequence 1000 and batch 64,
the Transformer at batch 32 and sequence 512; SGD with momentum 0.9), runs

  mlg-opt M.onnx ... --mlg-train-pipeline="optimizer=momentum recompute=R
          memory-report=OUT/M-R.json"

for R = none (the plain plan), echo (Echo's policy), and budgets of 50% and
25% of the plain plan's peak, and prints one row per model and policy: the
planned peak (arena plus parameters, optimizer state and constants) and its
ratio to the plain plan's, what recomputation saved at the peak, the
recomputed ops, the extra FLOPs, the predicted overhead (extra seconds over
the step's predicted seconds, on the cost model's H200 defaults or the
--profile file) and, under a budget, the overhead no plan goes below (the
report's time_lower_bound), the recurrent layers' activations stored across the
forward-backward gap (LSTM cells' results live at the loss), and the compile
time. A budget no plan meets is shown with the smallest peak found.

Then, unless --no-scaling, compile time against graph size: the LSTM's
training step at sequence lengths 125 to 2000 (plain and with a 50% budget)
and BERT-base's, each with its op count. Writes everything as JSON too.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

MODELS = [
    ("resnet18", "resnet18-train.onnx", ["--batch-size=128"]),
    ("resnet50", "resnet50-train.onnx", ["--batch-size=128"]),
    ("vgg16", "vgg16-train.onnx", ["--batch-size=128"]),
    ("mobilenet_v2", "mobilenet_v2-train.onnx", ["--batch-size=128"]),
    ("densenet121", "densenet121-train.onnx", ["--batch-size=128"]),
    ("inception_v3", "inception_v3-train.onnx", ["--batch-size=128"]),
    ("lstm", "lstm.onnx", ["--input-shape=input:1000x64"]),
    ("bert_encoder", "bert_encoder.onnx", ["--input-shape=input:32x512"]),
]
POLICIES = ["none", "echo", "50%", "25%"]


def gib(b):
    return f"{b / 2**30:.2f}"


def compile_step(opt, model, flags, recompute, report, profile):
    options = f"optimizer=momentum recompute={recompute} memory-report={report}"
    if profile:
        options += f" profile={profile}"
    start = time.time()
    p = subprocess.run([opt, model, *flags, f"--mlg-train-pipeline={options}",
                        "-o", os.devnull], capture_output=True, text=True)
    seconds = time.time() - start
    if p.returncode != 0:
        return None, seconds, p.stderr.strip().splitlines()[0] if p.stderr.strip() else "failed"
    with open(report) as f:
        return json.load(f)["functions"][0], seconds, None


def recurrent_stored(fn):
    """Bytes of LSTM cells' results live at the loss (stored for the
    backward), from the report's tensors and buffers."""
    loss = [t for t in fn["tensors"] if t["name"] == "mlg.softmax_cross_entropy"]
    if not loss:
        return None
    step = loss[0]["start"]
    buffers = fn["buffers"]
    seen, total = set(), 0
    for t in fn["tensors"]:
        if not t["name"].startswith("mlg.lstm_cell ") or "buffer" not in t:
            continue
        b = t["buffer"]
        if b in seen:
            continue
        buf = buffers[b]
        if buf["start"] <= step <= buf["end"]:
            seen.add(b)
            total += buf["bytes"]
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--out", default="build/recompute")
    ap.add_argument("--only", action="append")
    ap.add_argument("--profile")
    ap.add_argument("--json")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--policies", help="comma-separated policies instead of "
                    "none, echo, 50%% and 25%% (e.g. none,2.57GiB,2GiB)")
    a = ap.parse_args()
    opt = os.path.join(a.build, "bin", "mlg-opt")
    os.makedirs(a.out, exist_ok=True)
    rows = []
    print("| model | policy | peak | vs plain | saved at peak | recomputed ops | extra GFLOP "
          "| predicted overhead | no plan below | recurrent stored | compile |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, file, flags in MODELS:
        if a.only and name not in a.only:
            continue
        model = os.path.join(a.models_dir, file)
        plain_peak = None
        for policy in (a.policies.split(",") if a.policies else POLICIES):
            tag = policy.replace("%", "pct")
            report = os.path.join(a.out, f"{name}-{tag}.json")
            fn, seconds, error = compile_step(opt, model, flags, policy, report, a.profile)
            row = {"model": name, "policy": policy, "compile_seconds": round(seconds, 2)}
            if error:
                m = re.search(r"smallest peak found is ([0-9.]+ \w+)", error)
                row["error"] = error
                print(f"| {name} | {policy} | not met (smallest peak {m.group(1) if m else '?'}) "
                      f"| | | | | | | | {seconds:.2f} s |")
                rows.append(row)
                continue
            peak = fn["arena_bytes"] + fn["parameter_bytes"] + fn["constant_bytes"]
            if policy == "none":
                plain_peak = peak
            r = fn.get("recompute", {})
            stored = recurrent_stored(fn) if name == "lstm" else None
            row.update({"peak_bytes": peak, "load_bytes": fn["load_bytes"],
                        "steps": fn["steps"], "recomputed": r.get("cloned", 0),
                        "saved_bytes": r.get("saved_bytes", 0),
                        "extra_flops": r.get("extra_flops", 0),
                        "predicted_overhead": r.get("predicted_overhead", 0),
                        "time_lower_bound": r.get("time_lower_bound"),
                        "recurrent_stored_bytes": stored})
            rows.append(row)
            ratio = f"{peak / plain_peak:.2f}x" if plain_peak else ""
            # The overhead no plan for the budget goes below (the report's
            # time_lower_bound over the step's predicted seconds).
            bound = ""
            if r.get("time_lower_bound") is not None and r.get("step_seconds"):
                bound = f"{100 * r['time_lower_bound'] / r['step_seconds']:.1f}%"
            print(f"| {name} | {policy} | {gib(peak)} GiB | {ratio} | "
                  f"{gib(r.get('saved_bytes', 0))} GiB | {r.get('cloned', 0)} | "
                  f"{r.get('extra_flops', 0) / 1e9:.0f} | "
                  f"{100 * r.get('predicted_overhead', 0):.1f}% | {bound} | "
                  f"{gib(stored) + ' GiB' if stored is not None else ''} | {seconds:.2f} s |")
    scaling = []
    if not a.no_scaling:
        print()
        print("| training step | ops | plain compile | 50% budget compile |")
        print("| --- | --- | --- | --- |")
        cases = [(f"lstm seq {s}", "lstm.onnx", [f"--input-shape=input:{s}x64"])
                 for s in (125, 250, 500, 1000, 2000)]
        cases.append(("bert_encoder seq 512", "bert_encoder.onnx", ["--input-shape=input:32x512"]))
        for label, file, flags in cases:
            model = os.path.join(a.models_dir, file)
            times = []
            steps = None
            for policy in ("none", "50%"):
                report = os.path.join(a.out, "scaling.json")
                fn, seconds, error = compile_step(opt, model, flags, policy, report, a.profile)
                times.append(f"{seconds:.2f} s" + (" (budget not met)" if error else ""))
                if fn and steps is None:
                    steps = fn["steps"]
            scaling.append({"case": label, "steps": steps, "plain": times[0], "budget50": times[1]})
            print(f"| {label} | {steps} | {times[0]} | {times[1]} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "scaling": scaling}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
