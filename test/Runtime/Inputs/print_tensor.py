#!/usr/bin/env python3
"""Prints a serialized ONNX TensorProto's values, one line, for FileCheck.

  print_tensor.py FILE.pb
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

t = numpy_helper.to_array(onnx.load_tensor(sys.argv[1]))
print(t.dtype, list(t.shape), " ".join(str(v) for v in np.asarray(t).reshape(-1)))
