#!/usr/bin/env bash
# Quick start, part 1: install, build, and run the main job on the bundled
# example: import examples/small_cnn.onnx (batch 8) and print what was
# imported, then write its IR to build/small_cnn.mlir.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh mlg-opt
BUILD_DIR=${MLG_BUILD_DIR:-build}
"$BUILD_DIR/bin/mlg-opt" examples/small_cnn.onnx --batch-size=8 \
  --mlg-model-summary -o "$BUILD_DIR/small_cnn.mlir"
echo "IR written to $BUILD_DIR/small_cnn.mlir"
