#!/usr/bin/env python3
"""Compares two mlg-run output directories (output_K.pb TensorProtos).

  compare_outputs.py REFERENCE_DIR OTHER_DIR TOLERANCE

The error of a tensor is max|other - reference| / max|reference| (the scale
at least 1e-6 of the largest reference magnitude over all outputs, so that
gradients that are zero up to rounding do not count). Prints the number of
outputs, the worst error and its name, then "match" (every error within
TOLERANCE) or "MISMATCH"; exits 1 on a mismatch.
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def load(directory):
    out, k = {}, 0
    while os.path.exists(os.path.join(directory, f"output_{k}.pb")):
        t = onnx.load_tensor(os.path.join(directory, f"output_{k}.pb"))
        out[t.name] = numpy_helper.to_array(t).astype(np.float64)
        k += 1
    return out


def main():
    ref, other, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
    if not ref or set(ref) != set(other):
        print(f"MISMATCH: outputs {sorted(ref)[:5]} vs {sorted(other)[:5]}")
        sys.exit(1)
    floor = 1e-6 * max(float(np.max(np.abs(a))) if a.size else 0.0
                       for a in ref.values())
    worst, worst_name = 0.0, ""
    for name, a in ref.items():
        if a.size == 0:
            continue
        scale = max(float(np.max(np.abs(a))), floor, 1e-300)
        e = float(np.max(np.abs(other[name] - a))) / scale
        if not e <= worst:
            worst, worst_name = e, name
    print(f"{len(ref)} outputs, worst error {worst:.1e} ({worst_name})")
    print("match" if worst <= tol else "MISMATCH")
    sys.exit(0 if worst <= tol else 1)


if __name__ == "__main__":
    main()
