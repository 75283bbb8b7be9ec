#!/usr/bin/env python3
"""Import every ONNX backend node test with mlg-opt and report what happened.

  node_import.py --mlg-opt PATH [--data DIR] [--passing LIST] [--report FILE] [--jobs N]

For each test folder (model.onnx + test_data_set_0/input_*.pb), runs
`mlg-opt model.onnx -o /dev/null`. When the importer says an operand must be
known at compile time and names the graph input to bind (--bind-input=NAME=FILE),
the input is bound to the test's own input_K.pb and the import retried, as
the node tests feed shape operands from inputs.

Every test ends in one of three states:
  imported     exit 0: the model imported into verified IR
  rejected     exit 1 with an "error:" diagnostic: a clear error
  crashed      anything else (a signal, another exit code, a timeout, or
               exit 1 without a diagnostic)

Checks, each a failure (exit 1) when it does not hold:
  - no test crashes;
  - every test in --passing imports (the list can only grow);
  - every test whose operators are all ones mlg supports imports, unless it
    uses a data type mlg does not have (string, optional, sequence): then it
    must be rejected with a message naming that type.
Prints a summary, and with --report writes one line per test.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

import onnx

UNSUPPORTED_TYPE = re.compile(
    r"(STRING|sequence type|optional type|map type|COMPLEX|element type \S+, which mlg does not support)")


def graph_inputs(model):
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def run_one(mlg_opt, test_dir):
    model_path = os.path.join(test_dir, "model.onnx")
    model = onnx.load(model_path, load_external_data=False)
    ops = sorted({n.op_type for n in model.graph.node})
    inputs = [i.name for i in graph_inputs(model)]
    data = os.path.join(test_dir, "test_data_set_0")
    binds = {}
    for _ in range(len(inputs) + 1):
        cmd = [mlg_opt, model_path, "-o", "/dev/null"]
        cmd += [f"--bind-input={n}={f}" for n, f in binds.items()]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120)
        except subprocess.TimeoutExpired:
            return ops, "crashed", "timeout", binds
        if p.returncode == 0:
            return ops, "imported", "", binds
        errors = [l for l in p.stderr.splitlines() if "error:" in l]
        if p.returncode != 1 or not errors:
            return ops, "crashed", f"exit {p.returncode}: {p.stderr.strip()[-300:]}", binds
        wanted = [n for n in re.findall(r"--bind-input=(\S+?)=FILE", p.stderr)
                  if n in inputs and n not in binds]
        if not wanted:
            return ops, "rejected", errors[0], binds
        for n in wanted:
            binds[n] = os.path.join(data, f"input_{inputs.index(n)}.pb")
    return ops, "rejected", errors[0], binds


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mlg-opt", required=True)
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    ap.add_argument("--passing", help="tests that must import, one per line")
    ap.add_argument("--report", help="write one line per test here")
    ap.add_argument("--write-passing", help="write the imported tests here")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()

    if not os.path.isdir(a.data):
        sys.exit(f"node tests not found at {a.data} (Debian package libonnx-testdata)")
    supported = set(subprocess.run([a.mlg_opt, "--list-onnx-ops"], capture_output=True,
                                   text=True, check=True).stdout.split())
    tests = sorted(d for d in os.listdir(a.data)
                   if os.path.isfile(os.path.join(a.data, d, "model.onnx")))
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        results = dict(zip(tests, pool.map(lambda t: run_one(a.mlg_opt, os.path.join(a.data, t)),
                                           tests)))

    failures = []
    counts = {"imported": 0, "rejected": 0, "crashed": 0}
    covered = 0
    for t, (ops, state, why, _) in results.items():
        counts[state] += 1
        if state == "crashed":
            failures.append(f"{t}: crashed: {why}")
        if set(ops) <= supported:
            covered += 1
            if state == "rejected" and not UNSUPPORTED_TYPE.search(why):
                failures.append(f"{t}: uses only supported operators but was rejected: {why}")
    if a.passing:
        with open(a.passing) as f:
            must = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        for t in must:
            if t not in results:
                failures.append(f"{t}: listed as passing but missing from {a.data}")
            elif results[t][1] != "imported":
                failures.append(f"{t}: listed as passing but {results[t][1]}: {results[t][2]}")
        new = sorted(t for t, r in results.items() if r[1] == "imported" and t not in must)
        if new:
            print(f"{len(new)} tests import that {a.passing} does not list yet: "
                  + " ".join(new))

    if a.report:
        with open(a.report, "w") as f:
            for t, (ops, state, why, binds) in results.items():
                bound = ",".join(binds) or "-"
                f.write(f"{t}\t{state}\t{' '.join(ops)}\tbound:{bound}\t{why}\n")
    if a.write_passing:
        with open(a.write_passing, "w") as f:
            f.write("# ONNX node tests that import into verified IR (test/conformance/node_import.py).\n")
            f.write("# This list may only grow.\n")
            for t, r in results.items():
                if r[1] == "imported":
                    f.write(t + "\n")

    print(f"node tests: {len(tests)}; imported {counts['imported']}, "
          f"rejected with a clear error {counts['rejected']}, crashed {counts['crashed']}; "
          f"{covered} use only supported operators")
    for line in failures:
        print("FAIL " + line)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
