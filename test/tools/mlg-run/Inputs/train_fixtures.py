#!/usr/bin/env python3
"""Models and data sets for mlg-run's train and eval tests.

  train_fixtures.py mlp OUT.onnx            [N, 16] -> Gemm -> Mul(h, h) -> Gemm -> [N, 4]
  train_fixtures.py image_mlp OUT.onnx      [N, 1, 28, 28] -> Flatten -> Gemm -> Mul(h, h)
                                            -> Gemm -> [N, 10]
  train_fixtures.py bn_mlp OUT.onnx [MODE]  mlp behind a training-mode BatchNormalization
                                            (scale and bias meant to be frozen) and a
                                            training-mode Dropout whose training_mode is
                                            MODE: constant (a Constant node, the default),
                                            initializer, or input (a graph input whose
                                            default is an initializer)
  train_fixtures.py images DIR [--rows=R] [--train=N] [--test=N]
                                            a Fashion-MNIST-shaped directory of IDX files
                                            (train gzipped, t10k plain) whose class c is a
                                            bright block at a place of its own, plus noise
                                            (and one label in ten drawn at random)
  train_fixtures.py corrupt KIND DIR        a copy of `images` damaged as KIND says:
                                            truncated-gz, bad-magic, count-mismatch, bad-label

Weights are drawn from a seeded generator; every model has one input `input`, a
symbolic batch, and one output `output`.
"""
import gzip
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(nodes, inits, in_shape, out_shape, path, extra_inputs=()):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N"] + in_shape)] +
        list(extra_inputs),
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N"] + out_shape)],
        inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, path)


def uniform(rng, name, shape, fan_in):
    bound = 1.0 / np.sqrt(fan_in)
    return numpy_helper.from_array(rng.uniform(-bound, bound, shape).astype(np.float32), name)


def mlp_nodes(rng, x, n_in, hidden, classes):
    nodes = [
        helper.make_node("Gemm", [x, "fc1.weight", "fc1.bias"], ["h"], transB=1, name="fc1"),
        helper.make_node("Mul", ["h", "h"], ["h2"], name="square"),
        helper.make_node("Gemm", ["h2", "fc2.weight", "fc2.bias"], ["output"], transB=1,
                         name="fc2"),
    ]
    inits = [uniform(rng, "fc1.weight", [hidden, n_in], n_in),
             uniform(rng, "fc1.bias", [hidden], n_in),
             uniform(rng, "fc2.weight", [classes, hidden], hidden),
             uniform(rng, "fc2.bias", [classes], hidden)]
    return nodes, inits


def mlp(path):
    nodes, inits = mlp_nodes(np.random.default_rng(0), "input", 16, 32, 4)
    save(nodes, inits, [16], [4], path)


def image_mlp(path):
    nodes, inits = mlp_nodes(np.random.default_rng(1), "flat", 784, 32, 10)
    nodes.insert(0, helper.make_node("Flatten", ["input"], ["flat"], axis=1, name="flatten"))
    save(nodes, inits, [1, 28, 28], [10], path)


def bn_mlp(path, dropout_mode="constant"):
    """dropout_mode says where Dropout's training_mode (true) comes from: a
    Constant node, an initializer, or a graph input whose default is an
    initializer."""
    rng = np.random.default_rng(2)
    nodes, inits = mlp_nodes(rng, "d", 16, 32, 4)
    training = numpy_helper.from_array(np.array(True), "training")
    nodes = [
        helper.make_node("BatchNormalization",
                         ["input", "bn_scale", "bn_bias", "bn_mean", "bn_var"],
                         ["y", "bn_mean_out", "bn_var_out"], epsilon=1e-5, momentum=0.9,
                         training_mode=1, name="bn"),
        helper.make_node("Constant", [], ["ratio"],
                         value=numpy_helper.from_array(np.array(0.25, np.float32))),
        helper.make_node("Dropout", ["y", "ratio", "training"], ["d", "mask"], name="dropout"),
    ] + nodes
    if dropout_mode == "constant":
        nodes.insert(1, helper.make_node("Constant", [], ["training"], value=training))
    else:
        inits.append(training)
    inits += [numpy_helper.from_array(rng.uniform(0.5, 1.5, 16).astype(np.float32), "bn_scale"),
              numpy_helper.from_array(rng.normal(0, 0.1, 16).astype(np.float32), "bn_bias"),
              numpy_helper.from_array(np.zeros(16, np.float32), "bn_mean"),
              numpy_helper.from_array(np.ones(16, np.float32), "bn_var")]
    extra_inputs = ([helper.make_tensor_value_info("training", TensorProto.BOOL, [])]
                    if dropout_mode == "input" else [])
    save(nodes, inits, [16], [4], path, extra_inputs)


def idx_bytes(array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def image_set(n, rows, seed):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 160, (n, rows, rows))
    for i, c in enumerate(labels):
        r, col = 2 + 2 * (c % 5), 4 + 10 * (c // 5)
        images[i, r:r + 6, col:col + 8] = 255
    # One label in ten is wrong, so that no classifier is perfect.
    noisy = rng.random(n) < 0.1
    labels[noisy] = rng.integers(0, 10, int(noisy.sum()))
    return images, labels


def write_images(out, rows=28, n_train=640, n_test=200):
    os.makedirs(out, exist_ok=True)
    for split, n, seed, zipped in (("train", n_train, 0, True), ("t10k", n_test, 1, False)):
        images, labels = image_set(n, rows, seed)
        for kind, data in (("images-idx3", images), ("labels-idx1", labels)):
            path = os.path.join(out, f"{split}-{kind}-ubyte")
            if zipped:
                with gzip.open(path + ".gz", "wb") as f:
                    f.write(idx_bytes(data))
            else:
                with open(path, "wb") as f:
                    f.write(idx_bytes(data))


def corrupt(kind, out):
    write_images(out)
    images = os.path.join(out, "train-images-idx3-ubyte.gz")
    labels = os.path.join(out, "train-labels-idx1-ubyte.gz")
    if kind == "truncated-gz":
        data = open(images, "rb").read()
        open(images, "wb").write(data[:len(data) // 2])
    elif kind == "bad-magic":
        with gzip.open(images, "wb") as f:
            f.write(b"P5\n28 28\n255\n" + bytes(100))
    elif kind == "count-mismatch":
        with gzip.open(labels, "wb") as f:
            f.write(idx_bytes(np.zeros(7, np.uint8)))
    elif kind == "bad-label":
        with gzip.open(labels, "wb") as f:
            f.write(idx_bytes(np.full(640, 12, np.uint8)))
    else:
        sys.exit(f"unknown corruption '{kind}'")


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    name = args[0]
    if name in ("mlp", "image_mlp", "bn_mlp"):
        globals()[name](*args[1:])
    elif name == "images":
        opts = dict(a[2:].split("=") for a in args[2:])
        write_images(args[1], int(opts.get("rows", 28)), int(opts.get("train", 640)),
                     int(opts.get("test", 200)))
    elif name == "corrupt":
        corrupt(args[1], args[2])
    else:
        sys.exit(f"unknown fixture '{name}'")


if __name__ == "__main__":
    main()
