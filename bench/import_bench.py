#!/usr/bin/env python3
"""Import time and peak memory of mlg-opt on the exported models.

  bench/import_bench.py [--mlg-opt build/bin/mlg-opt] [--models-dir models]
                        [--models resnet50,vgg16] [--repeat 3]

Export the models first (scripts/install-deps.sh, then
/usr/bin/python3 scripts/export_models.py models). For each model, imports
with --batch-size=128 (Inception-v3 likewise at 299x299; the LSTM at
--input-shape=input:1000x64, the Transformer at input:32x512):
  - without weights, printing text IR (parameters are extern references);
  - with --import-weights, writing bytecode (every weight as a blob).
Prints a table: median wall time over --repeat runs, peak resident set
(ru_maxrss of the mlg-opt process), its ratio to the model file's size, and
the same ratio for the part above the empty-module row.
The first row is mlg-opt on an empty module: the memory the tool and its
shared libraries take before reading any model.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

SHAPES = {
    "lstm": ["--input-shape=input:1000x64"],
    "bert_encoder": ["--input-shape=input:32x512"],
}


def run(cmd):
    """Runs cmd; returns (seconds, peak RSS bytes)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - start
    err = p.stderr.read().decode()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return seconds, usage.ru_maxrss * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mlg-opt", default="build/bin/mlg-opt")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--models", default="resnet50,vgg16")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="mlg-bench-")
    empty = os.path.join(tmp, "empty.mlir")
    open(empty, "w").write("module {}\n")
    _, base_rss = run([a.mlg_opt, empty, "-o", os.devnull])

    print(f"mlg-opt import benchmark ({os.uname().nodename}, {os.cpu_count()} cores)")
    print(f"{'model':<16} {'file MiB':>9} {'mode':<26} {'time s':>7} {'peak RSS MiB':>13} "
          f"{'RSS/file':>9} {'(RSS-empty)/file':>17} {'output MiB':>11}")
    print(f"{'(empty module)':<16} {'':>9} {'':<26} {'':>7} {base_rss / 2**20:>13.1f}")
    for name in a.models.split(","):
        path = os.path.join(a.models_dir, name + ".onnx")
        if not os.path.exists(path):
            sys.exit(f"{path} not found: run scripts/export_models.py {a.models_dir}")
        size = os.path.getsize(path)
        shape = SHAPES.get(name, ["--batch-size=128"])
        modes = [("no weights, text IR", [], "out.mlir"),
                 ("--import-weights, bytecode", ["--import-weights", "--emit-bytecode"],
                  "out.mlirbc")]
        for label, flags, out in modes:
            out = os.path.join(tmp, out)
            samples = [run([a.mlg_opt, path, *shape, *flags, "-o", out])
                       for _ in range(a.repeat)]
            secs = statistics.median(s for s, _ in samples)
            rss = max(r for _, r in samples)
            print(f"{name:<16} {size / 2**20:>9.1f} {label:<26} {secs:>7.2f} "
                  f"{rss / 2**20:>13.1f} {rss / size:>9.2f} {(rss - base_rss) / size:>17.2f} "
                  f"{os.path.getsize(out) / 2**20:>11.1f}")
    for f in os.listdir(tmp):
        os.remove(os.path.join(tmp, f))
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
