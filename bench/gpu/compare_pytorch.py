#!/usr/bin/env python3
"""mlg's training steps on the CUDA backend beside PyTorch's, on one GPU.

  compare_pytorch.py BUNDLE_DIR [--models a,b] [--steps 20] [--json OUT]
                     [--mlg-flags "--conv-algo=heuristic ..."] [--no-pytorch]
                     [--recompute]

Runs on the GPU machine, from a folder made by bench/gpu/bundle.sh --bench:
for each model, mlg-run runs its compiled training step (SGD with momentum
0.9; CNNs at batch 128, Inception-v3 at 299x299, the LSTM at sequence 1000
and batch 64, the Transformer at batch 32 and sequence 512) steps + 2 times
on random data from seeded weights, and reports the median step time after
two warm-up steps (the second records the CUDA graph the others replay;
device time between CUDA events around the steps, with the host's time
around each synchronized run beside it), the
memory the program states (arena + persistent), the backend's scratch, and
the device memory the driver counts in use (cudaMemGetInfo); a second run of
4 steps with --profile gives the device time by kernel, the first run left
out (profiling launches step by step, so its times are not the step time). Then
../shared/bench/pytorch_baseline.py (copied into the bundle) measures PyTorch
on the same models. Prints a markdown table and writes JSON.

With --recompute, also each model's recomputing programs (Echo's policy and
budgets of 50% and 25% of the plain plan's peak, where bundle.sh could meet
them), timed the same way, with their plans' predicted peak and overhead
beside the measured ones, and PyTorch with activation checkpointing
(pytorch_checkpoint.py: ResNet-50's stages, the LSTM in chunks of 32 time
steps, each Transformer layer) as a second table.
"""
import argparse
import json
import os
import re
import subprocess
import sys

MODELS = {  # name: (int range of random inputs and labels)
    "resnet18": 1000, "resnet50": 1000, "vgg16": 1000, "mobilenet_v2": 1000,
    "densenet121": 1000, "inception_v3": 1000, "lstm": 10000,
    "bert_encoder": 30522,
}


def variants(bundle, name):
    """The recomputing programs bundle.sh compiled for a model: M-train-TAG.mlgp."""
    prefix = f"{name}-train-"
    folder = os.path.join(bundle, "programs")
    return sorted(f[len(prefix):-len(".mlgp")] for f in os.listdir(folder)
                  if f.startswith(prefix) and f.endswith(".mlgp"))


CHECKPOINTED = {"resnet50": "resnet50_ckpt_stages", "lstm": "lstm_ckpt",
                "bert_encoder": "bert_encoder_ckpt"}
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def to_bytes(text):
    m = re.match(r"\s*([0-9.]+)\s*([KMGT]iB|B)", text or "")
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def run_mlg(bundle, name, steps, flags, variant=None, profile_kernels=True):
    suffix = f"-{variant}" if variant else ""
    prog = os.path.join(bundle, "programs", f"{name}-train{suffix}.mlgp")
    if not os.path.exists(prog):
        return {"error": "not compiled"}
    # Kept beside the JSON (in $OUT on a device machine) for the cost
    # model's profile= option.
    profile = os.path.join(os.environ.get("OUT") or "/tmp",
                           f"{name}{suffix}-profile.json")
    cmd = [os.path.join(bundle, "bin", "mlg-run"), "run", prog, "--seed=0",
           "--random-inputs=1", f"--int-range={MODELS[name]}",
           "--backend=cuda"] + flags
    r = subprocess.run(cmd + [f"--runs={steps + 2}"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return {"error": (r.stderr or r.stdout).strip()[-300:]}
    median = re.search(r"median ([0-9.]+) ms after", r.stdout)
    device = re.search(r"device time \(CUDA events\) best [0-9.]+ ms, "
                       r"median ([0-9.]+) ms", r.stdout)
    mem = re.search(r"memory: arena (.*?) \(.*\), persistent (.*?), constants", r.stdout)
    dev = re.search(r"device memory: program (.*?) \+ backend scratch (.*?) = "
                    r"(.*?); the driver counts (.*?) in use", r.stdout)
    # Device time by kernel, from a profiled run (means over its runs).
    by_kernel = {}
    p = subprocess.run(cmd + ["--runs=4", f"--profile={profile}"],
                       capture_output=True, text=True) if profile_kernels else None
    if p and p.returncode == 0 and os.path.exists(profile):
        for step in json.load(open(profile))["steps"]:
            by_kernel[step["kernel"]] = by_kernel.get(step["kernel"], 0) + step["ms"]
    # The step time is the device's (CUDA events around the steps, as the
    # baseline times PyTorch's); the host's, around a synchronized run, is
    # kept beside it.
    return {"step_ms": float(device.group(1)) if device else None,
            "host_step_ms": float(median.group(1)) if median else None,
            "arena": mem.group(1) if mem else "?",
            "persistent": mem.group(2) if mem else "?",
            "scratch": dev.group(2) if dev else "?",
            "total": dev.group(3) if dev else "?",
            "driver_in_use": dev.group(4) if dev else "?",
            "kernel_ms": dict(sorted(by_kernel.items(), key=lambda kv: -kv[1]))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json")
    ap.add_argument("--mlg-flags", default="",
                    help="more mlg-run flags, e.g. --conv-algo=heuristic")
    ap.add_argument("--no-pytorch", action="store_true")
    ap.add_argument("--recompute", action="store_true")
    args = ap.parse_args()
    names = args.models.split(",")
    results = {n: {"mlg": run_mlg(args.bundle, n, args.steps,
                                  args.mlg_flags.split())} for n in names}
    if args.recompute:
        for n in names:
            for v in variants(args.bundle, n):
                facts = os.path.join(args.bundle, "programs", f"{n}-train-{v}.plan.json")
                r = run_mlg(args.bundle, n, args.steps, args.mlg_flags.split(), v)
                r["plan"] = json.load(open(facts)) if os.path.exists(facts) else {}
                results[n]["mlg_" + v] = r
            facts = os.path.join(args.bundle, "programs", f"{n}-train.plan.json")
            if os.path.exists(facts):
                results[n]["mlg"]["plan"] = json.load(open(facts))
    baseline = os.path.join(args.bundle, "pytorch_baseline.py")
    if args.no_pytorch:
        baseline = ""
    torch_json = "/tmp/pytorch_baseline.json"
    if os.path.exists(baseline):
        r = subprocess.run([sys.executable, baseline, "--models",
                            ",".join(names), "--steps", str(args.steps),
                            "--no-bandwidth", "--json", torch_json],
                           capture_output=True, text=True)
        if r.returncode == 0 and os.path.exists(torch_json):
            data = json.load(open(torch_json))
            results["_pytorch"] = {k: data[k] for k in ("torch", "cudnn", "gpu")
                                   if k in data}
            for n in names:
                results[n]["pytorch"] = data.get(n, {"error": "missing"})
        else:
            print("pytorch_baseline.py failed:", (r.stderr or r.stdout)[-1000:])
    print(f"GPU and PyTorch: {results.get('_pytorch', 'not measured')}")
    print("| model | mlg step (ms) | mlg host-timed (ms) | PyTorch step (ms) | "
          "time ratio | mlg arena | mlg persistent | mlg scratch | mlg total | "
          "driver count | PyTorch peak (GiB) | PyTorch reserved (GiB) | "
          "PyTorch saved activations (GiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for n in names:
        m, t = results[n]["mlg"], results[n].get("pytorch", {})
        if "error" not in m and m["step_ms"] is None:
            m["error"] = "mlg-run printed no device time"
        if "error" in m:
            print(f"| {n} | error: {m['error']} | | | | | | | | | | | |")
            continue
        ms = t.get("step_ms") if isinstance(t, dict) else None
        ratio = "not measured"
        if ms and m["step_ms"]:
            ratios.append(m["step_ms"] / ms)
            ratio = f"{ratios[-1]:.2f}"
        print(f"| {n} | {m['step_ms']:.1f} | {m['host_step_ms']:.1f} | "
              f"{ms if ms else 'not measured'} | "
              f"{ratio} | {m['arena']} | {m['persistent']} | {m['scratch']} | "
              f"{m['total']} | {m['driver_in_use']} | "
              f"{t.get('peak_GiB', 'not measured')} | "
              f"{t.get('reserved_GiB', 'not measured')} | "
              f"{t.get('saved_GiB', 'not measured')} |")
    if ratios:
        geo = 1.0
        for r in ratios:
            geo *= r
        print(f"\nGeometric mean of the time ratios: "
              f"{geo ** (1 / len(ratios)):.2f} over {len(ratios)} models")
    print()
    print("Device time by kernel (ms per step, the five largest):")
    for n in names:
        k = results[n]["mlg"].get("kernel_ms", {})
        top = ", ".join(f"{name} {ms:.1f}" for name, ms in list(k.items())[:5])
        print(f"- {n}: {top} (all kernels {sum(k.values()):.1f})")
    if args.recompute:
        print_recompute(args, names, results)
    if args.json:
        json.dump(results, open(args.json, "w"), indent=1)


def print_recompute(args, names, results):
    """The recomputation table: each plan against mlg's plain plan and
    PyTorch eager, predicted beside measured; then PyTorch checkpointing."""
    ckpt_json = "/tmp/pytorch_checkpoint.json"
    script = os.path.join(args.bundle, "pytorch_checkpoint.py")
    baseline = os.path.join(args.bundle, "pytorch_baseline.py")
    wanted = [CHECKPOINTED[n] for n in names if n in CHECKPOINTED]
    ckpt = {}
    if wanted and not args.no_pytorch and os.path.exists(script):
        r = subprocess.run([sys.executable, script, baseline, "--models", ",".join(wanted),
                            "--steps", str(args.steps), "--json", ckpt_json],
                           capture_output=True, text=True)
        if r.returncode == 0 and os.path.exists(ckpt_json):
            ckpt = json.load(open(ckpt_json))
        else:
            print("pytorch_checkpoint.py failed:", (r.stderr or r.stdout)[-1000:])
    results["_pytorch_checkpoint"] = ckpt
    print()
    print("Recomputation (device time; memory = program + backend scratch, mlg's own "
          "accounting; planned = arena + persistent from the plan):")
    print("| model | plan | step (ms) | vs mlg plain | vs PyTorch eager | overhead "
          "predicted / measured | planned peak (GiB) | device memory | vs mlg plain |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in names:
        plain = results[n]["mlg"]
        eager = results[n].get("pytorch", {})
        base_ms = plain.get("step_ms")
        base_mem = to_bytes(plain.get("total"))
        for v in variants(args.bundle, n):
            m = results[n].get("mlg_" + v, {})
            plan = m.get("plan", {})
            if "error" in m or not m.get("step_ms"):
                print(f"| {n} | {v} | {m.get('error', 'no device time')} | | | | | | |")
                continue
            ms, mem = m["step_ms"], to_bytes(m.get("total"))
            vs_plain = f"{ms / base_ms:.2f}" if base_ms else "not measured"
            vs_eager = (f"{ms / eager['step_ms']:.2f}"
                        if isinstance(eager, dict) and eager.get("step_ms") else "not measured")
            predicted = plan.get("predicted_overhead")
            measured = f"{100 * (ms / base_ms - 1):.1f}%" if base_ms else "not measured"
            mem_ratio = f"{mem / base_mem:.2f}" if mem and base_mem else "?"
            peak = plan.get("peak_bytes")
            print(f"| {n} | {v} | {ms:.1f} | {vs_plain} | {vs_eager} | "
                  f"{100 * predicted:.1f}% / {measured} | "
                  f"{peak / 2**30:.2f} | {m.get('total')} | {mem_ratio} |"
                  if predicted is not None and peak else
                  f"| {n} | {v} | {ms:.1f} | {vs_plain} | {vs_eager} | ? / {measured} | ? | "
                  f"{m.get('total')} | {mem_ratio} |")
        if n in CHECKPOINTED:
            c = ckpt.get(CHECKPOINTED[n], {"error": "not measured"})
            if "error" in c:
                print(f"| {n} | PyTorch checkpointing | {c['error']} | | | | | | |")
            else:
                vs_eager = (f"{c['step_ms'] / eager['step_ms']:.2f}"
                            if isinstance(eager, dict) and eager.get("step_ms") else "not measured")
                print(f"| {n} | PyTorch checkpointing | {c['step_ms']} | | {vs_eager} | | | "
                      f"peak {c['peak_GiB']} GiB | |")


if __name__ == "__main__":
    main()
