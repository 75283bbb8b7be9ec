#!/usr/bin/env bash
# Installs what mlg needs to build and test: Debian's packages, and from PyPI
# the onnxruntime reference for the runtime's end-to-end tests.
# Idempotent: installs just what is missing (so a second run is quick).
#
set -euo pipefail

packages=(
  # build
  cmake g++ ninja-build ccache lld-22
  # MLIR/LLVM 22
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  # ONNX 1.12 protos and library; Protobuf; BLAS for the CPU runtime; zlib
  # for the runtime's gzip-compressed IDX data sets
  libonnx-dev libprotobuf-dev protobuf-compiler libopenblas-dev zlib1g-dev
  # the recompute budget's mixed-integer programs (COIN-OR CBC)
  coinor-libcbc-dev pkg-config
  # the program-loader fuzzer (clang's libFuzzer and sanitizers)
  clang-22 libclang-rt-22-dev
  # tests: GoogleTest, ONNX node tests, onnx.helper fixtures, PyTorch and
  # NumPy as references, torchvision for the exported models
  libgtest-dev libonnx-testdata python3-onnx python3-numpy python3-torch
  python3-torchvision
  # the data set mlg-run trains on (/usr/share/datasets/fashion-mnist)
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    SUDO=sudo
  else
    SUDO=
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime, the oracle of the runtime's end-to-end tests, is not packaged
# by Debian: it goes into the python3 on PATH (not Debian's, whose packages
# pip must not touch). The tests that need it are skipped where it is absent.
ort_python=${MLG_ORT_PYTHON:-$(command -v python3 || true)}
if [[ -n "$ort_python" && "$ort_python" != /usr/bin/python3 ]]; then
  if ! "$ort_python" -c "import onnxruntime, onnx, numpy" 2>/dev/null; then
    echo "install-deps: pip install onnxruntime onnx numpy into $ort_python"
    "$ort_python" -m pip install -q --disable-pip-version-check onnxruntime onnx numpy
  fi
fi
echo "install-deps: done"
