#!/usr/bin/env bash
# Configures (once) and builds mlg in build/ with Ninja, against Debian's
# MLIR/LLVM 22. Extra arguments are Ninja targets.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${MLG_BUILD_DIR:-build}
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
fi
ninja -C "$BUILD_DIR" "$@"
