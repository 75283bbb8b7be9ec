#!/usr/bin/env python3
"""Small ONNX models for the importer's lit tests, built with onnx.helper.

  fixtures.py NAME OUT.onnx     write fixture NAME to OUT.onnx (and, for the
                                external-data cases, its data files beside it)
  fixtures.py --list            list the fixture names

Each fixture is a function below; its docstring says what it exercises.
"""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 14
FIXTURES = {}


def fixture(fn):
    FIXTURES[fn.__name__] = fn
    return fn


def model(nodes, inputs, outputs, initializers=(), opset=OPSET, ir_version=7):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir_version
    return m


def tensor(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def weights(name, shape, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(dtype), name)


def save(m, path):
    onnx.save(m, path)


# --- models that import ------------------------------------------------------
@fixture
def node_order(path):
    """Two layers, each with an op that reads only its weight (a Neg here;
    in PyTorch's exports a weight's Transpose) just before the MatMul that
    uses it."""
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu1"),
        helper.make_node("Neg", ["w1"], ["w1n"], name="n1"),
        helper.make_node("MatMul", ["a", "w1n"], ["m1"], name="mm1"),
        helper.make_node("Relu", ["m1"], ["r"], name="relu2"),
        helper.make_node("Neg", ["w2"], ["w2n"], name="n2"),
        helper.make_node("MatMul", ["r", "w2n"], ["m2"], name="mm2"),
        helper.make_node("Tanh", ["m2"], ["y"], name="tanh"),
    ]
    save(model(nodes, [tensor("x", TensorProto.FLOAT, [2, 4])],
               [tensor("y", TensorProto.FLOAT, [2, 3])],
               [weights("w1", (4, 5), 1), weights("w2", (5, 3), 2)]), path)


@fixture
def linear_transposed(path):
    """Linear layers as PyTorch exports them in training mode: MatMul by a
    Transpose of the weight, on a 3-d input and on a 3-d activation; the
    second weight's Transpose is also an output of its own."""
    nodes = [
        helper.make_node("Transpose", ["w1"], ["w1t"], perm=[1, 0], name="t1"),
        helper.make_node("MatMul", ["input", "w1t"], ["m1"], name="mm1"),
        helper.make_node("Relu", ["m1"], ["r"], name="relu"),
        helper.make_node("Transpose", ["w2"], ["w2t"], perm=[1, 0], name="t2"),
        helper.make_node("MatMul", ["r", "w2t"], ["m2"], name="mm2"),
        helper.make_node("Add", ["m2", "b2"], ["output"], name="add"),
    ]
    save(model(nodes, [tensor("input", TensorProto.FLOAT, [2, 3, 4])],
               [tensor("output", TensorProto.FLOAT, [2, 3, 6]),
                tensor("w2t", TensorProto.FLOAT, [5, 6])],
               [weights("w1", (5, 4), 1), weights("w2", (6, 5), 2),
                weights("b2", (6,), 3)]), path)


@fixture
def tiny_cnn(path):
    """Conv (auto_pad SAME_UPPER) + BatchNorm + Relu + MaxPool + GlobalAveragePool
    + Flatten + Gemm on a symbolic batch."""
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], auto_pad="SAME_UPPER",
                         strides=[2, 2], name="conv1"),
        helper.make_node("BatchNormalization", ["c1", "s", "b", "m", "v"], ["n1"],
                         epsilon=1e-5, name="bn1"),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2],
                         name="pool1"),
        helper.make_node("GlobalAveragePool", ["p1"], ["g1"], name="gap"),
        helper.make_node("Flatten", ["g1"], ["f1"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["f1", "fc_w", "fc_b"], ["output"], transB=1, name="fc"),
    ]
    inits = [weights("w1", [8, 3, 3, 3]), weights("b1", [8], 1), weights("s", [8], 2),
             weights("b", [8], 3), weights("m", [8], 4),
             numpy_helper.from_array(np.ones(8, np.float32), "v"),
             weights("fc_w", [10, 8], 5), weights("fc_b", [10], 6)]
    save(model(nodes, [tensor("input", TensorProto.FLOAT, ["N", 3, 32, 32])],
               [tensor("output", TensorProto.FLOAT, ["N", 10])], inits), path)


@fixture
def shape_arith(path):
    """The shape arithmetic of PyTorch's attention export: Shape -> Gather ->
    Div -> Unsqueeze -> Concat -> Reshape, on symbolic batch and sequence."""
    c = lambda name, v: helper.make_node(
        "Constant", [], [name], value=numpy_helper.from_array(np.array(v, np.int64)))
    nodes = [
        helper.make_node("Shape", ["input"], ["shape"]),
        c("i0", 0), c("i1", 1), c("heads", 4), c("ax0", [0]),
        helper.make_node("Gather", ["shape", "i0"], ["batch"], axis=0),
        helper.make_node("Gather", ["shape", "i1"], ["seq"], axis=0),
        helper.make_node("Shape", ["input"], ["shape2"], start=-1),
        helper.make_node("Div", ["shape2", "heads"], ["head_dim"]),
        helper.make_node("Unsqueeze", ["batch", "ax0"], ["b1"]),
        helper.make_node("Unsqueeze", ["seq", "ax0"], ["s1"]),
        c("h1", [4]),
        helper.make_node("Concat", ["b1", "s1", "h1", "head_dim"], ["target"], axis=0),
        helper.make_node("Reshape", ["input", "target"], ["split_heads"]),
        helper.make_node("Transpose", ["split_heads"], ["output"], perm=[0, 2, 1, 3]),
    ]
    save(model(nodes, [tensor("input", TensorProto.FLOAT, ["batch", "sequence", 32])],
               [tensor("output", TensorProto.FLOAT, None)], opset=15), path)


@fixture
def training_ops(path):
    """BatchNormalization and Dropout in training mode (opset 14), with the
    mask and running statistics used."""
    nodes = [
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"],
                         training_mode=1, momentum=0.9),
        helper.make_node("Dropout", ["y", "ratio", "train"], ["d", "mask"]),
    ]
    inits = [weights("s", [4]), weights("b", [4], 1), weights("m", [4], 2),
             numpy_helper.from_array(np.ones(4, np.float32), "v"),
             numpy_helper.from_array(np.array(0.25, np.float32), "ratio"),
             numpy_helper.from_array(np.array(True), "train")]
    save(model(nodes, [tensor("x", TensorProto.FLOAT, [2, 4, 3, 3])],
               [tensor("d", TensorProto.FLOAT, None), tensor("mask", TensorProto.BOOL, None),
                tensor("rm", TensorProto.FLOAT, None), tensor("rv", TensorProto.FLOAT, None)],
               inits), path)


@fixture
def lstm_batch_first(path):
    """LSTM with layout=1 (batch-major), bidirectional, with initial states."""
    h, i = 5, 3
    nodes = [helper.make_node("LSTM", ["X", "W", "R", "B", "", "h0", "c0"],
                              ["Y", "Yh", "Yc"], hidden_size=h, layout=1,
                              direction="bidirectional")]
    inits = [weights("W", [2, 4 * h, i]), weights("R", [2, 4 * h, h], 1),
             weights("B", [2, 8 * h], 2)]
    save(model(nodes, [tensor("X", TensorProto.FLOAT, [4, 7, i]),
                       tensor("h0", TensorProto.FLOAT, [4, 2, h]),
                       tensor("c0", TensorProto.FLOAT, [4, 2, h])],
               [tensor("Y", TensorProto.FLOAT, None), tensor("Yh", TensorProto.FLOAT, None),
                tensor("Yc", TensorProto.FLOAT, None)], inits), path)


def gru_bidirectional(path, layout, linear_before_reset):
    h, i = 5, 3
    nodes = [helper.make_node("GRU", ["X", "W", "R", "B", "", "h0"], ["Y", "Yh"],
                              hidden_size=h, layout=layout,
                              linear_before_reset=linear_before_reset,
                              direction="bidirectional")]
    x, h0 = ([4, 7, i], [4, 2, h]) if layout else ([7, 4, i], [2, 4, h])
    inits = [weights("W", [2, 3 * h, i]), weights("R", [2, 3 * h, h], 1),
             weights("B", [2, 6 * h], 2), weights("h0", h0, 3)]
    save(model(nodes, [tensor("X", TensorProto.FLOAT, x)],
               [tensor("Y", TensorProto.FLOAT, None), tensor("Yh", TensorProto.FLOAT, None)],
               inits), path)


@fixture
def gru_batch_first(path):
    """GRU with layout=1 (batch-major), bidirectional, linear_before_reset,
    with biases and an initial state (an initializer, so that X is the one
    input)."""
    gru_bidirectional(path, 1, 1)


@fixture
def gru_reset_first(path):
    """GRU in sequence-major layout, bidirectional, with the reset gate
    applied before the recurrent product (linear_before_reset=0), with
    biases and an initial state."""
    gru_bidirectional(path, 0, 0)


def gru(path, **attrs):
    h, i = 5, 3
    nodes = [helper.make_node("GRU", ["X", "W", "R"], ["Y"], hidden_size=h, name="gru",
                              **attrs)]
    save(model(nodes, [tensor("X", TensorProto.FLOAT, [7, 4, i])],
               [tensor("Y", TensorProto.FLOAT, None)],
               [weights("W", [1, 3 * h, i]), weights("R", [1, 3 * h, h], 1)]), path)


@fixture
def gru_clip(path):
    """A GRU that clips its gates' inputs (not supported)."""
    gru(path, clip=1.0)


@fixture
def gru_relu(path):
    """A GRU with a ReLU for its candidate activation (not supported)."""
    gru(path, activations=["Sigmoid", "Relu"])


@fixture
def softmax_opset11(path):
    """Softmax before opset 13 flattens the input at the axis."""
    nodes = [helper.make_node("Softmax", ["x"], ["y"], axis=1)]
    save(model(nodes, [tensor("x", TensorProto.FLOAT, [2, 3, 4])],
               [tensor("y", TensorProto.FLOAT, [2, 3, 4])], opset=11), path)


@fixture
def initializer_kinds(path):
    """A float weight (a parameter), an int64 table (a constant), a float
    scalar (a constant) and a large int table (an immutable global)."""
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["rows"], axis=0),
        helper.make_node("Mul", ["rows", "scale"], ["scaled"]),
        helper.make_node("Gather", ["big", "ids"], ["lookup"], axis=0),
        helper.make_node("Cast", ["lookup"], ["lookup_f"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["scaled", "lookup_f"], ["out"]),
    ]
    inits = [weights("table", [10, 6]),
             numpy_helper.from_array(np.array([1, 3], np.int64), "ids"),
             numpy_helper.from_array(np.array(0.5, np.float32), "scale"),
             numpy_helper.from_array(np.arange(10 * 6 * 100, dtype=np.int64)
                                     .reshape(10, 600)[:, :6].copy(), "big_small"),
             numpy_helper.from_array(np.arange(5000 * 6, dtype=np.int64).reshape(5000, 6),
                                     "big")]
    save(model(nodes, [], [tensor("out", TensorProto.FLOAT, [2, 6])], inits), path)


@fixture
def external_data(path):
    """Weights stored as external data next to the model, as a large model's
    would be."""
    m = model([helper.make_node("MatMul", ["x", "w"], ["y"])],
              [tensor("x", TensorProto.FLOAT, [2, 4])], [tensor("y", TensorProto.FLOAT, [2, 3])],
              [numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3), "w")])
    onnx.save(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location=os.path.basename(path) + ".data", size_threshold=0)


@fixture
def symbols(path):
    """Two inputs that share the symbolic dimension 'S', and an unknown one."""
    nodes = [helper.make_node("Add", ["a", "b"], ["c"])]
    save(model(nodes, [tensor("a", TensorProto.FLOAT, ["N", "S"]),
                       tensor("b", TensorProto.FLOAT, ["S"])],
               [tensor("c", TensorProto.FLOAT, None)]), path)


@fixture
def reshape_from_input(path):
    """Reshape whose target shape is a graph input (as in the node tests)."""
    nodes = [helper.make_node("Reshape", ["data", "shape"], ["out"])]
    save(model(nodes, [tensor("data", TensorProto.FLOAT, [2, 3, 4]),
                       tensor("shape", TensorProto.INT64, [2])],
               [tensor("out", TensorProto.FLOAT, None)]), path)


@fixture
def shape_tensor(path):
    """A serialized TensorProto [4, 6] (int64), for --bind-input."""
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.array([4, 6], np.int64)).SerializeToString())


# --- bad input -----------------------------------------------------------------

@fixture
def empty(path):
    """A zero-byte file."""
    open(path, "wb").close()


@fixture
def truncated(path):
    """A valid model cut in the middle of its weights."""
    tiny_cnn(path)
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])


@fixture
def random_bytes(path):
    """Four kilobytes of seeded random bytes."""
    rng = random.Random(1234)
    open(path, "wb").write(bytes(rng.randrange(256) for _ in range(4096)))


@fixture
def cycle(path):
    """Two nodes that read each other's output."""
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="first"),
             helper.make_node("Relu", ["a"], ["b"], name="second")]
    save(model(nodes, [tensor("x", TensorProto.FLOAT, [2])],
               [tensor("b", TensorProto.FLOAT, [2])]), path)


@fixture
def undefined_value(path):
    """A node that reads a name nothing defines."""
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="adder")]
    save(model(nodes, [tensor("x", TensorProto.FLOAT, [2])],
               [tensor("y", TensorProto.FLOAT, [2])]), path)


@fixture
def missing_initializer(path):
    """An initializer whose external data file is missing."""
    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="weights.bin")
    save(model([helper.make_node("MatMul", ["x", "w"], ["y"])],
               [tensor("x", TensorProto.FLOAT, [2, 4])], [tensor("y", TensorProto.FLOAT, [2, 3])],
               [w]), path)


@fixture
def wrong_attribute_type(path):
    """Conv with `strides` given as a float."""
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    node.attribute.append(helper.make_attribute("strides", 2.0))
    save(model([node], [tensor("x", TensorProto.FLOAT, [1, 3, 8, 8])],
               [tensor("y", TensorProto.FLOAT, None)], [weights("w", [4, 3, 3, 3])]), path)


@fixture
def conv_channel_mismatch(path):
    """A convolution whose weight expects 4 input channels on a 3-channel input."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")]
    save(model(nodes, [tensor("x", TensorProto.FLOAT, [1, 3, 8, 8])],
               [tensor("y", TensorProto.FLOAT, None)], [weights("w", [8, 4, 3, 3])]), path)


@fixture
def matmul_mismatch(path):
    """MatMul of [2, 4] by [5, 3]."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    save(model(nodes, [tensor("x", TensorProto.FLOAT, [2, 4])],
               [tensor("y", TensorProto.FLOAT, None)], [weights("w", [5, 3])]), path)


@fixture
def negative_dim(path):
    """An initializer with dimension -3."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 3], np.zeros(6, np.float32).tolist())
    w.dims[1] = -3
    save(model([helper.make_node("Add", ["x", "w"], ["y"])],
               [tensor("x", TensorProto.FLOAT, [2, 3])], [tensor("y", TensorProto.FLOAT, None)],
               [w]), path)


@fixture
def negative_input_dim(path):
    """A graph input declared with dimension -2."""
    x = tensor("x", TensorProto.FLOAT, [2, 3])
    x.type.tensor_type.shape.dim[1].dim_value = -2
    save(model([helper.make_node("Relu", ["x"], ["y"])], [x],
               [tensor("y", TensorProto.FLOAT, None)]), path)


@fixture
def overflow_dims(path):
    """An input whose byte count overflows 64 bits (2^40 x 2^40 floats)."""
    save(model([helper.make_node("Relu", ["x"], ["y"])],
               [tensor("x", TensorProto.FLOAT, [1 << 40, 1 << 40])],
               [tensor("y", TensorProto.FLOAT, None)]), path)


@fixture
def overflow_result(path):
    """An Expand whose result would need more than 2^63 bytes."""
    shape = numpy_helper.from_array(np.array([1 << 31, 1 << 31, 4], np.int64), "shape")
    save(model([helper.make_node("Expand", ["x", "shape"], ["y"], name="expand")],
               [tensor("x", TensorProto.FLOAT, [1])], [tensor("y", TensorProto.FLOAT, None)],
               [shape]), path)


@fixture
def unsupported_op(path):
    """An operator mlg does not import (TopK) and one from another domain."""
    k = numpy_helper.from_array(np.array([2], np.int64), "k")
    nodes = [helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk"),
             helper.make_node("FancyOp", ["v"], ["y"], domain="com.example", name="fancy")]
    m = model(nodes, [tensor("x", TensorProto.FLOAT, [4])], [tensor("y", TensorProto.FLOAT, None)],
              [k])
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    save(m, path)


@fixture
def dynamic_dim(path):
    """An input with a symbolic sequence dimension and nothing to bind it."""
    save(model([helper.make_node("Relu", ["x"], ["y"])],
               [tensor("x", TensorProto.FLOAT, ["batch", "sequence"])],
               [tensor("y", TensorProto.FLOAT, None)]), path)


@fixture
def opset_too_new(path):
    """A model that claims opset 99."""
    save(model([helper.make_node("Relu", ["x"], ["y"])], [tensor("x", TensorProto.FLOAT, [2])],
               [tensor("y", TensorProto.FLOAT, [2])], opset=99), path)


def external(path, location):
    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value=location)
    save(model([helper.make_node("MatMul", ["x", "w"], ["y"])],
               [tensor("x", TensorProto.FLOAT, [2, 4])], [tensor("y", TensorProto.FLOAT, [2, 3])],
               [w]), path)


@fixture
def external_parent(path):
    """External data at '../secret.bin', outside the model's folder (which
    exists, so only the path rule can stop it)."""
    parent = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    open(os.path.join(parent, "secret.bin"), "wb").write(b"\0" * 48)
    external(path, "../secret.bin")


@fixture
def external_absolute(path):
    """External data at an absolute path."""
    secret = os.path.abspath(path) + ".abs.bin"
    open(secret, "wb").write(b"\0" * 48)
    external(path, secret)


@fixture
def external_symlink(path):
    """External data through a symbolic link that leads out of the folder."""
    folder = os.path.dirname(os.path.abspath(path))
    outside = os.path.join(os.path.dirname(folder), "outside.bin")
    open(outside, "wb").write(b"\0" * 48)
    link = os.path.join(folder, "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(outside, link)
    external(path, "link.bin")


@fixture
def external_short(path):
    """External data whose file is shorter than the tensor."""
    open(os.path.join(os.path.dirname(os.path.abspath(path)), "short.bin"), "wb").write(b"\0" * 8)
    external(path, "short.bin")


@fixture
def raw_data_size(path):
    """An initializer whose raw_data is shorter than its shape needs."""
    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    w.raw_data = w.raw_data[:20]
    save(model([helper.make_node("MatMul", ["x", "w"], ["y"])],
               [tensor("x", TensorProto.FLOAT, [2, 4])], [tensor("y", TensorProto.FLOAT, [2, 3])],
               [w]), path)


def main():
    if sys.argv[1:] == ["--list"]:
        for name, fn in FIXTURES.items():
            print(f"{name}: {fn.__doc__.splitlines()[0]}")
        return
    if len(sys.argv) != 3 or sys.argv[1] not in FIXTURES:
        sys.exit(f"usage: fixtures.py NAME OUT ({', '.join(FIXTURES)})")
    out = sys.argv[2]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    FIXTURES[sys.argv[1]](out)


if __name__ == "__main__":
    main()
