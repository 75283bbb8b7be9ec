#!/usr/bin/env python3
"""onnxruntime as the reference for mlg-run's train and eval tests.

  ort_check.py input SHAPE OUT.pb           a seeded N(0, 1) float tensor `input`
                                            of SHAPE (like 8x16), as a TensorProto
  ort_check.py compare MODEL.onnx IN.pb OUT.pb
                                            runs MODEL on IN with onnxruntime and
                                            compares with mlg-run's output OUT
                                            (max |mlg - ort| / max |ort| <= 1e-4)
  ort_check.py accuracy MODEL.onnx DIR [SPLIT]
                                            MODEL's accuracy on an IDX data set
                                            (DIR/SPLIT-images-idx3-ubyte[.gz], SPLIT
                                            t10k by default), normalized as mlg-run
                                            does for Fashion-MNIST; prints
                                            "accuracy: A (n of N)"
  ort_check.py inference-form MODEL.onnx TEMPLATE.onnx
                                            checks that MODEL is TEMPLATE's
                                            inference form: no training-mode
                                            BatchNormalization or Dropout, the same
                                            graph inputs and outputs, initializers
                                            a subset of the template's
"""
import gzip
import os
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def read_idx(path):
    if not os.path.exists(path):
        path += ".gz"
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    rank = data[3]
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def accuracy(model, directory, split="t10k"):
    images = read_idx(os.path.join(directory, f"{split}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte"))
    x = ((images.astype(np.float32) / np.float32(255) - np.float32(0.2860)) /
         np.float32(0.3530))[:, None, :, :]
    s = session(model)
    name = s.get_inputs()[0].name
    correct = 0
    for start in range(0, len(x), 500):
        logits = s.run(None, {name: x[start:start + 500]})[0]
        correct += int((logits.argmax(axis=1) == labels[start:start + 500]).sum())
    print(f"accuracy: {correct / len(x):.4f} ({correct} of {len(x)})")


def compare(model, input_pb, output_pb):
    x = numpy_helper.to_array(onnx.load_tensor(input_pb))
    got = numpy_helper.to_array(onnx.load_tensor(output_pb))
    s = session(model)
    want = s.run(None, {s.get_inputs()[0].name: x})[0]
    error = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
    print(f"max |mlg - ort| / max |ort| = {error:.1e}")
    if got.shape != want.shape or not error <= 1e-4:
        sys.exit(f"MISMATCH: shapes {got.shape} and {want.shape}, error {error}")
    print("outputs match onnxruntime")


def inference_form(path, template_path):
    m, t = onnx.load(path), onnx.load(template_path)
    onnx.checker.check_model(m)
    problems = []
    for node in m.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "BatchNormalization":
            if attrs.get("training_mode", 0) != 0 or len(node.output) != 1:
                problems.append(f"BatchNormalization {node.name} still trains")
        if node.op_type == "Dropout" and len(node.input) > 2:
            problems.append(f"Dropout {node.name} keeps its training_mode input")
    io = lambda g: ([v.name for v in g.input], [v.name for v in g.output])
    if io(m.graph) != io(t.graph):
        problems.append(f"graph inputs/outputs {io(m.graph)} differ from {io(t.graph)}")
    names = {i.name for i in t.graph.initializer}
    extra = [i.name for i in m.graph.initializer if i.name not in names]
    if extra:
        problems.append(f"initializers the template does not have: {extra}")
    for p in problems:
        print("PROBLEM: " + p)
    if problems:
        sys.exit(1)
    kept = sum(1 for i in m.graph.initializer if i.name in names)
    print(f"inference form: {len(m.graph.node)} nodes, {kept} initializers, "
          f"ops {sorted({n.op_type for n in m.graph.node})}")


def main():
    a = sys.argv[1:]
    if a[:1] == ["input"]:
        shape = [int(d) for d in a[1].split("x")]
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        onnx.save_tensor(numpy_helper.from_array(x, "input"), a[2])
    elif a[:1] == ["compare"]:
        compare(*a[1:4])
    elif a[:1] == ["accuracy"]:
        accuracy(*a[1:])
    elif a[:1] == ["inference-form"]:
        inference_form(*a[1:3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
