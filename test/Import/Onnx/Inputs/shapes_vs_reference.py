#!/usr/bin/env python3
"""Checks mlg's shape inference against PyTorch and NumPy.

  shapes_vs_reference.py MLG_OPT WORK_DIR

Builds one ONNX model holding a few hundred independent single-node cases
(convolutions and pools over random windows, ceil mode, dilations and
groups; broadcasting; MatMul; Gemm; Slice with negative steps and
out-of-range bounds; Gather; reductions; Split; Tile; Expand; ...), imports
it with mlg-opt, and compares every output's static shape with the shape of
the same computation in PyTorch (torch.nn.functional) or NumPy. Prints the
mismatches and exits 1 if there are any.
"""
import os
import random
import re
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

rng = random.Random(7)
cases = []  # (onnx nodes, inputs {name: shape}, initializers, output name, expected shape)


def add(op, shapes, expected, attrs=None, consts=None, n_out=1):
    k = len(cases)
    ins = [f"c{k}_in{i}" for i in range(len(shapes))]
    inits = []
    for i, value in (consts or {}).items():
        name = f"c{k}_const{i}"
        while len(ins) <= i:
            ins.append("")
        ins[i] = name
        inits.append(numpy_helper.from_array(np.asarray(value), name))
    outs = [f"c{k}_out{j}" for j in range(n_out)]
    node = helper.make_node(op, ins, outs, name=f"case{k}_{op}", **(attrs or {}))
    inputs = {ins[i]: s for i, s in enumerate(shapes)}
    exp = expected if n_out > 1 else [expected]
    cases.append((node, inputs, inits, list(zip(outs, [tuple(e) for e in exp]))))


def conv_cases():
    for _ in range(60):
        nd = rng.choice([1, 2, 2, 3])
        n, groups = rng.randint(1, 3), rng.choice([1, 1, 2])
        cin, cout = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        k = [rng.randint(1, 4) for _ in range(nd)]
        s = [rng.randint(1, 3) for _ in range(nd)]
        d = [rng.randint(1, 2) for _ in range(nd)]
        pb = [rng.randint(0, 2) for _ in range(nd)]
        pe = [rng.randint(0, 2) for _ in range(nd)]
        size = [rng.randint((k[i] - 1) * d[i] + 1, 12) for i in range(nd)]
        x = torch.zeros([n, cin] + size)
        pad = []
        for i in reversed(range(nd)):
            pad += [pb[i], pe[i]]
        conv = [F.conv1d, F.conv2d, F.conv3d][nd - 1]
        y = conv(F.pad(x, pad), torch.zeros([cout, cin // groups] + k), stride=s, dilation=d,
                 groups=groups)
        w = np.zeros([cout, cin // groups] + k, np.float32)
        add("Conv", [list(x.shape)], list(y.shape),
            dict(strides=s, dilations=d, pads=pb + pe, group=groups), consts={1: w})


def pool_cases():
    for _ in range(60):
        nd = rng.choice([1, 2, 2, 3])
        k = [rng.randint(1, 4) for _ in range(nd)]
        s = [rng.randint(1, 3) for _ in range(nd)]
        p = [rng.randint(0, k[i] // 2) for i in range(nd)]
        ceil = rng.choice([0, 1])
        is_max = rng.choice([True, False])
        d = [rng.randint(1, 2) for _ in range(nd)] if is_max else [1] * nd
        size = [rng.randint((k[i] - 1) * d[i] + 1, 11) for i in range(nd)]
        x = torch.zeros([2, 3] + size)
        if is_max:
            pool = [F.max_pool1d, F.max_pool2d, F.max_pool3d][nd - 1]
            y = pool(x, k, s, p, d, ceil_mode=bool(ceil))
            add("MaxPool", [list(x.shape)], list(y.shape),
                dict(kernel_shape=k, strides=s, pads=p + p, dilations=d, ceil_mode=ceil))
        else:
            pool = [F.avg_pool1d, F.avg_pool2d, F.avg_pool3d][nd - 1]
            y = pool(x, k, s, p, ceil_mode=bool(ceil))
            add("AveragePool", [list(x.shape)], list(y.shape),
                dict(kernel_shape=k, strides=s, pads=p + p, ceil_mode=ceil))


def shape(rank, lo=1, hi=4):
    return [rng.randint(lo, hi) for _ in range(rank)]


def broadcast_cases():
    for op in ["Add", "Mul", "Sub", "Div", "Pow", "Max", "Equal", "Less"]:
        for _ in range(8):
            a = shape(rng.randint(0, 4))
            b = list(a[rng.randint(0, len(a)):]) if a else []
            b = [1 if rng.random() < 0.3 else v for v in b]
            if rng.random() < 0.5:
                a, b = b, a
            y = torch.zeros(a) + torch.zeros(b)
            add(op, [a, b], list(y.shape))


def matmul_cases():
    for _ in range(30):
        m, k, n = rng.randint(1, 4), rng.randint(1, 4), rng.randint(1, 4)
        batch = shape(rng.randint(0, 2))
        a = (batch if rng.random() < 0.7 else []) + [m, k]
        b = ([1] + batch[1:] if batch and rng.random() < 0.3 else batch) + [k, n]
        if rng.random() < 0.2:
            a = [k]
        if rng.random() < 0.2:
            b = [k]
        y = torch.matmul(torch.zeros(a), torch.zeros(b))
        add("MatMul", [a, b], list(y.shape))
    for _ in range(10):
        m, k, n = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
        ta, tb = rng.choice([0, 1]), rng.choice([0, 1])
        a = [k, m] if ta else [m, k]
        b = [n, k] if tb else [k, n]
        c = rng.choice([[n], [m, n], [1, n], []])
        add("Gemm", [a, b, c], [m, n], dict(transA=ta, transB=tb))


def slice_cases():
    for _ in range(40):
        rank = rng.randint(1, 3)
        dims = shape(rank, 0, 7)
        x = np.zeros(dims)
        axes = rng.sample(range(rank), rng.randint(1, rank))
        starts, ends, steps, index = [], [], [], [slice(None)] * rank
        for a in axes:
            st = rng.choice([1, 2, 3, -1, -2])
            s = rng.randint(-10, 10)
            e = rng.choice([rng.randint(-10, 10), 2**62, -2**62])
            starts.append(s); ends.append(e); steps.append(st)
            index[a] = slice(s, e, st)
        y = x[tuple(index)]
        neg = [a - rank if rng.random() < 0.3 else a for a in axes]
        add("Slice", [dims], list(y.shape),
            consts={1: np.array(starts, np.int64), 2: np.array(ends, np.int64),
                    3: np.array(neg, np.int64), 4: np.array(steps, np.int64)})


def misc_cases():
    for _ in range(10):
        dims = shape(3, 1, 5)
        axis = rng.randint(-3, 2)
        idx = shape(rng.randint(0, 2), 1, 3)
        y = np.take(np.zeros(dims), np.zeros(idx, np.int64), axis=axis)
        add("Gather", [dims], list(y.shape), dict(axis=axis),
            consts={1: np.zeros(idx, np.int64)})
    for op, fn in [("ReduceMean", np.mean), ("ReduceMax", np.max), ("ReduceL2", np.sum)]:
        for _ in range(5):
            dims = shape(3)
            axes = rng.sample(range(-3, 3), rng.randint(1, 2))
            if len({a % 3 for a in axes}) < len(axes):
                continue
            keep = rng.choice([0, 1])
            y = fn(np.zeros(dims), axis=tuple(axes), keepdims=bool(keep))
            add(op, [dims], list(y.shape), dict(axes=axes, keepdims=keep))
    for _ in range(8):
        dims = shape(3, 1, 6)
        axis = rng.randint(0, 2)
        cut = sorted(rng.sample(range(dims[axis] + 1), 1))
        sizes = [cut[0], dims[axis] - cut[0]]
        parts = np.split(np.zeros(dims), cut, axis=axis)
        add("Split", [dims], [list(p.shape) for p in parts], dict(axis=axis),
            consts={1: np.array(sizes, np.int64)}, n_out=2)
    for _ in range(6):
        dims = shape(3)
        reps = shape(3, 0, 3)
        add("Tile", [dims], list(np.tile(np.zeros(dims), reps).shape),
            consts={1: np.array(reps, np.int64)})
    for _ in range(6):
        dims = [rng.choice([1, d]) for d in shape(3)]
        target = shape(rng.randint(1, 4))
        try:
            y = np.zeros(dims) * np.ones(target)
        except ValueError:
            continue
        add("Expand", [dims], list(y.shape), consts={1: np.array(target, np.int64)})
    for _ in range(6):
        dims = shape(4)
        perm = rng.sample(range(4), 4)
        add("Transpose", [dims], list(np.transpose(np.zeros(dims), perm).shape),
            dict(perm=perm))
    for _ in range(6):
        dims = shape(4)
        axis = rng.randint(-4, 4)
        a = axis if axis >= 0 else axis + 4
        flat = [int(np.prod(dims[:a])), int(np.prod(dims[a:]))]
        add("Flatten", [dims], flat, dict(axis=axis))
    for _ in range(6):
        rank = rng.randint(1, 3)
        a = shape(rank)
        axis = rng.randint(-rank, rank - 1)
        b = list(a)
        b[axis] = rng.randint(1, 4)
        y = np.concatenate([np.zeros(a), np.zeros(b)], axis=axis)
        add("Concat", [a, b], list(y.shape), dict(axis=axis))
    for _ in range(6):
        dims = shape(3, 1, 4)
        pads = [rng.randint(-1, 2) for _ in range(6)]
        if any(dims[i] + pads[i] + pads[i + 3] <= 0 for i in range(3)):
            continue  # PyTorch rejects empty results
        y = torch.zeros(dims)
        pad = []
        for i in reversed(range(3)):
            pad += [pads[i], pads[i + 3]]
        y = F.pad(y, pad)
        add("Pad", [dims], list(y.shape), consts={1: np.array(pads, np.int64)})


def main():
    mlg_opt, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    conv_cases(); pool_cases(); broadcast_cases(); matmul_cases(); slice_cases(); misc_cases()
    nodes, inputs, inits, outputs, expected = [], [], [], [], {}
    for node, ins, cinits, outs in cases:
        nodes.append(node)
        inputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in ins.items()]
        inits += cinits
        for name, exp in outs:
            et = TensorProto.BOOL if node.op_type in ("Equal", "Less") else TensorProto.FLOAT
            outputs.append(helper.make_tensor_value_info(name, et, None))
            expected[name] = (exp, node.name)
    graph = helper.make_graph(nodes, "cases", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 7
    path = os.path.join(work, "cases.onnx")
    onnx.save(model, path)
    p = subprocess.run([mlg_opt, path], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr)
        sys.exit("mlg-opt failed to import the cases")
    header = re.search(r"func\.func @forward\((.*?)\) -> \((.*?)\) \{", p.stdout, re.S)
    results = re.findall(r'tensor<([0-9x]*?)x?(?:f32|i1)> \{mlg\.name = "(c\d+_out\d+)"\}',
                         header.group(2))
    got = {name: tuple(int(d) for d in dims.split("x") if d) for dims, name in results}
    bad = 0
    for name, (exp, node) in expected.items():
        if got.get(name) != exp:
            bad += 1
            print(f"MISMATCH {node}: mlg {got.get(name)} reference {exp}")
    print(f"{len(expected)} outputs of {len(cases)} cases checked, {bad} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
