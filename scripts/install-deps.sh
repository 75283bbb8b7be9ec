#!/usr/bin/env bash
# Installs what mlg needs to build and test, from Debian's packages only.
# Idempotent: installs just what is missing (so a second run is quick).
#
set -euo pipefail

packages=(
  # build
  cmake g++ ninja-build ccache lld-22
  # MLIR/LLVM 22
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  # ONNX 1.12 protos and library; Protobuf
  libonnx-dev libprotobuf-dev protobuf-compiler
  # tests: GoogleTest, ONNX node tests, onnx.helper fixtures, PyTorch and
  # NumPy as references, torchvision for the exported models
  libgtest-dev libonnx-testdata python3-onnx python3-numpy python3-torch
  python3-torchvision
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
