#!/usr/bin/env python3
"""A whole training step on the CUDA backend against the CPU backend.

  cuda_vs_cpu.py MLG_RUN PROGRAM.mlgp MODEL.onnx WORK_DIR [STEPS]

Trains the program for STEPS (default 3) steps on the same synthetic data
from the model's weights, once with --backend=cpu and once with
--backend=cuda, saving the trained weights each time; then compares the
printed losses and every saved initializer. The error of a tensor is
max|gpu - cpu| / max|cpu|; with TF32 convolutions on the GPU, losses must
agree to 1e-3 and weights to 1e-3. Prints one line per checked quantity and
"match" or "MISMATCH".
"""
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def train(mlg_run, program, model, out, backend, steps):
    cmd = [mlg_run, "train", program, f"--weights={model}", "--data=synthetic",
           f"--steps={steps}", "--log-every=1", f"--save={out}",
           f"--backend={backend}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {backend}: exit {r.returncode}: {r.stderr.strip()[-2000:]}")
        sys.exit(1)
    losses = [float(m) for m in re.findall(r"step \d+/\d+: loss ([0-9.eE+-]+)",
                                           r.stdout)]
    device = re.search(r"device: (.*)", r.stdout)
    return losses, device.group(1) if device else "CPU"


def main():
    mlg_run, program, model, work = sys.argv[1:5]
    steps = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    os.makedirs(work, exist_ok=True)
    cpu_out, gpu_out = os.path.join(work, "cpu.onnx"), os.path.join(work, "gpu.onnx")
    cpu_losses, _ = train(mlg_run, program, model, cpu_out, "cpu", steps)
    gpu_losses, device = train(mlg_run, program, model, gpu_out, "cuda", steps)
    print(f"device: {device}")
    ok = len(cpu_losses) == len(gpu_losses) == steps
    for i, (a, b) in enumerate(zip(cpu_losses, gpu_losses)):
        e = abs(a - b) / max(abs(a), 1e-30)
        ok &= e <= 1e-3
        print(f"step {i + 1}: loss cpu {a:.6f} gpu {b:.6f} error {e:.1e}")
    cpu = {t.name: numpy_helper.to_array(t) for t in onnx.load(cpu_out).graph.initializer}
    gpu = {t.name: numpy_helper.to_array(t) for t in onnx.load(gpu_out).graph.initializer}
    worst, worst_name = 0.0, ""
    for name, a in cpu.items():
        b = gpu[name]
        if not np.issubdtype(a.dtype, np.floating):
            continue
        e = float(np.max(np.abs(b.astype(np.float64) - a))) / max(float(np.max(np.abs(a))), 1e-30) if a.size else 0.0
        if e > worst:
            worst, worst_name = e, name
    ok &= worst <= 1e-3
    print(f"weights after {steps} steps: worst error {worst:.1e} ({worst_name})")
    print("match" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
