#!/usr/bin/env bash
# Quick start, part 1: install, build, and run the main job on the bundled
# example examples/small_cnn.onnx (batch 8): print what was imported, plan its
# memory and lower it to a program, writing the memory report (JSON and SVG)
# and the .mlgp program into build/quickstart/, then run the program on the
# CPU backend with the model's weights and a random input.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh mlg-opt mlg-translate mlg-run
BUILD_DIR=${MLG_BUILD_DIR:-build}
OUT="$BUILD_DIR/quickstart"
mkdir -p "$OUT"
"$BUILD_DIR/bin/mlg-opt" examples/small_cnn.onnx --batch-size=8 --mlg-model-summary \
  --mlg-lower-pipeline --mlg-memory-report="$OUT/small_cnn.json" -o "$OUT/small_cnn.rt.mlir"
"$BUILD_DIR/bin/mlg-translate" --mlg-to-program "$OUT/small_cnn.rt.mlir" -o "$OUT/small_cnn.mlgp"
"$BUILD_DIR/bin/mlg-run" run "$OUT/small_cnn.mlgp" --weights=examples/small_cnn.onnx \
  --random-inputs --output-dir="$OUT/outputs"
echo "memory report: $OUT/small_cnn.json and $OUT/small_cnn.svg"
echo "program:       $OUT/small_cnn.mlgp"
echo "outputs:       $OUT/outputs/output_0.pb (an ONNX TensorProto)"
