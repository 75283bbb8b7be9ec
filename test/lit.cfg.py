# -*- Python -*-
# lit configuration of mlg's tests: lit tests of the dialect, the importer,
# the passes and the tools, and the GoogleTest unit tests (test/unit).

import os
import subprocess

import lit.formats
from lit.llvm import llvm_config

config.name = "mlg"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mlg_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "consumer"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.mlg_tools_dir, append_path=True)

config.substitutions.append(("%python", config.python))
config.substitutions.append(("%fixture", f"{config.python} {config.test_source_root}/Import/Onnx/Inputs/fixtures.py"))
config.substitutions.append(("%node_tests", config.onnx_node_tests))
config.substitutions.append(("%mlg_src", config.mlg_src_root))
config.substitutions.append(("%mlg_obj", config.mlg_obj_root))

llvm_config.add_tool_substitutions(["mlg-opt", "mlg-translate"], [config.mlg_tools_dir])

# onnxruntime is the oracle of the runtime's end-to-end tests.
config.substitutions.append(("%ort_python", config.ort_python))
try:
    subprocess.run([config.ort_python, "-c", "import onnxruntime, onnx, numpy"],
                   check=True, capture_output=True, timeout=60)
    config.available_features.add("onnxruntime")
except (OSError, subprocess.SubprocessError):
    pass

if os.path.isdir(config.onnx_node_tests):
    config.available_features.add("onnx-node-tests")

# PyTorch (Debian's python3-torch) is the reference of whole-model gradients.
try:
    subprocess.run([config.python, "-c", "import torch, torchvision"],
                   check=True, capture_output=True, timeout=120)
    config.available_features.add("torch")
except (OSError, subprocess.SubprocessError):
    lit_config.note("python3-torch is absent: the gradient checks against "
                    "PyTorch are skipped")

# The libFuzzer build of the program loader (clang-22; see runtime/fuzz).
if os.path.exists(os.path.join(config.mlg_tools_dir, "mlg-program-fuzzer")):
    config.available_features.add("fuzzer")

# A usable GPU for the CUDA backend's tests (a build with CUDA on a machine
# with a driver and a device).
try:
    r = subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=60)
    if r.returncode == 0 and b"GPU" in r.stdout:
        config.available_features.add("cuda-gpu")
except (OSError, subprocess.SubprocessError):
    pass

# The exported benchmark models (the `mlg-models` target writes them).
config.substitutions.append(("%models", config.models_dir))
if os.path.exists(os.path.join(config.models_dir, "bert_encoder.onnx")):
    config.available_features.add("models")
