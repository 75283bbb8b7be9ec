#!/usr/bin/env python3
"""Recomputation on random graphs: for seeded random forward functions (a
DAG of products, batch norms in training form, dropouts, activations,
residual adds and products of two activations over [N, C] tensors, then a
classifier), the training step compiled without recomputation and with
Echo's policy and two budgets must give a bit-identical loss and
gradients on the CPU backend (buffers poisoned when their intervals end), and
the planner's predicted LOAD must be the memory report's.

  random_recompute.py MLG_OPT MLG_TRANSLATE MLG_RUN WORK_DIR [GRAPHS] [SEED]

Prints one line per failure and a summary; exits 1 on any failure. A
graph's files (WORK_DIR/gG.mlir, gG-VARIANT.* and the gG-VARIANT folders)
are removed once all its plans are checked; a failure keeps them.
"""
import glob
import json
import os
import random
import shutil
import subprocess
import sys

N, C, K = 64, 32, 8


def forward(rng):
    """MLIR text of a random @forward and its globals."""
    globals_, body = [], []
    vals = ["%x"]
    t = f"tensor<{N}x{C}xf32>"

    def param(name, shape, role=""):
        globals_.append(f"ml_program.global private mutable @{name}(#ml_program.extern : "
                        f"tensor<{shape}xf32>) : tensor<{shape}xf32>{role}")
        body.append(f"  %{name} = ml_program.global_load @{name} : tensor<{shape}xf32>")
        return f"%{name}"

    for i in range(rng.randint(4, 12)):
        a = vals[-1] if rng.random() < 0.7 else rng.choice(vals)
        out = f"%v{i}"
        kind = rng.choice(["gemm", "gemm", "bn", "relu", "tanh", "sigmoid", "add", "mul",
                           "dropout"])
        if kind == "gemm":
            w = param(f"w{i}", f"{C}x{C}")
            body.append(f"  {out} = mlg.gemm {a}, {w} {{alpha = 1.0 : f64, beta = 1.0 : f64, "
                        f"trans_a = false, trans_b = true}} : ({t}, tensor<{C}x{C}xf32>) -> {t}")
        elif kind == "bn":
            s, b = param(f"s{i}", f"{C}"), param(f"b{i}", f"{C}")
            m = param(f"m{i}", f"{C}", ' {mlg.role = "state", mlg.init = "zeros"}')
            v = param(f"q{i}", f"{C}", ' {mlg.role = "state", mlg.init = "ones"}')
            c = f"tensor<{C}xf32>"
            body.append(f"  {out}, %rm{i}, %rv{i} = mlg.batch_norm {a}, {s}, {b}, {m}, {v} "
                        f"{{epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, training = true}} : "
                        f"({t}, {c}, {c}, {c}, {c}) -> ({t}, {c}, {c})")
        elif kind in ("relu", "tanh", "sigmoid"):
            body.append(f"  {out} = mlg.{kind} {a} : {t}")
        elif kind in ("add", "mul"):
            b = rng.choice(vals)
            body.append(f"  {out} = mlg.{kind} {a}, {b} : ({t}, {t}) -> {t}")
        else:
            body.append(f"  {out}, %mask{i} = mlg.dropout {a} {{ratio = 0.25 : f64, "
                        f"seed = {rng.randint(1, 999)} : i64, training = true}} : "
                        f"({t}) -> ({t}, tensor<{N}x{C}xi1>)")
        vals.append(out)
    w = param("wout", f"{K}x{C}")
    body.append(f"  %out = mlg.gemm {vals[-1]}, {w} {{alpha = 1.0 : f64, beta = 1.0 : f64, "
                f"trans_a = false, trans_b = true}} : ({t}, tensor<{K}x{C}xf32>) -> "
                f"tensor<{N}x{K}xf32>")
    return "\n".join(globals_) + f"\nfunc.func @forward(%x: {t}) -> tensor<{N}x{K}xf32> {{\n" + \
        "\n".join(body) + f"\n  return %out : tensor<{N}x{K}xf32>\n}}\n"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, (p.stderr or p.stdout).strip()


def compile_and_run(tools, src, recompute, out):
    opt, translate, mlg_run = tools
    cmd = [opt, src, "--mlg-build-training-step=optimizer=momentum return-gradients=true",
           "--mlg-dead-node-elim"]
    if recompute:
        cmd.append(f"--mlg-recompute={recompute}")
    cmd += [f"--mlg-lower-pipeline=memory-report={out}.json", "-o", out + ".rt.mlir"]
    rc, err = run(cmd)
    if rc != 0:
        return None, err
    rc, err = run([translate, "--mlg-to-program", out + ".rt.mlir", "-o", out + ".mlgp"])
    if rc != 0:
        return None, err
    shutil.rmtree(out, ignore_errors=True)
    rc, err = run([mlg_run, "run", out + ".mlgp", "--seed=11", "--random-inputs=4",
                   f"--int-range={K}", "--poison", f"--output-dir={out}"])
    if rc != 0:
        return None, err
    with open(out + ".json") as f:
        fn = json.load(f)["functions"][0]
    return fn, None


def remove(out):
    """Removes a checked plan's files: OUT.rt.mlir, .json, .svg, .mlgp and
    the OUT folder."""
    shutil.rmtree(out, ignore_errors=True)
    for path in glob.glob(glob.escape(out) + ".*"):
        os.remove(path)


def outputs(folder):
    return {f: open(os.path.join(folder, f), "rb").read()
            for f in sorted(os.listdir(folder)) if f.endswith(".pb")}


def main():
    tools, work = sys.argv[1:4], sys.argv[4]
    graphs = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    rng = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    os.makedirs(work, exist_ok=True)
    failures = compared = refused = recomputed = 0
    for g in range(graphs):
        src = os.path.join(work, f"g{g}.mlir")
        with open(src, "w") as f:
            f.write(forward(rng))
        base = os.path.join(work, f"g{g}")
        plain, err = compile_and_run(tools, src, None, base + "-plain")
        if err:
            print(f"FAIL graph {g} plain: {err[:300]} (files kept: {src}, {base}-plain*)")
            failures += 1
            continue
        ref = outputs(base + "-plain")
        persistent = plain["parameter_bytes"] + plain["constant_bytes"]
        options = ["policy=echo"] + [f"budget={persistent + plain['load_bytes'] * f // 100}"
                                     for f in (90, 75)]
        failed_before = failures
        for k, option in enumerate(options):
            out = f"{base}-r{k}"
            kept = f" (files kept: {src}, {base}-plain*, {out}*)"
            fn, err = compile_and_run(tools, src, option, out)
            if err:
                if "cannot be met: the smallest peak found is" in err:
                    refused += 1
                else:
                    print(f"FAIL graph {g} {option}: {err[:300]}{kept}")
                    failures += 1
                continue
            r = fn.get("recompute", {})
            got = outputs(out)
            if r.get("predicted_load") != fn["load_bytes"]:
                print(f"FAIL graph {g} {option}: predicted LOAD {r.get('predicted_load')}, "
                      f"report {fn['load_bytes']}{kept}")
                failures += 1
            elif got != ref:
                print(f"FAIL graph {g} {option}: the loss or a gradient differs{kept}")
                failures += 1
            else:
                compared += 1
                recomputed += r.get("cloned", 0) > 0
        if failures == failed_before:
            for out in [base + "-plain"] + [f"{base}-r{k}" for k in range(len(options))]:
                remove(out)
            os.remove(src)
    print(f"{graphs} graphs, {compared} plans bit-identical ({recomputed} recomputing), "
          f"{refused} budgets refused, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
