#!/usr/bin/env bash
# Quick start, part 1: install, build, and run the main job on the bundled
# example examples/small_cnn.onnx (batch 8): print what was imported, build
# its training step (softmax cross-entropy, SGD with momentum), plan its
# memory and lower it to a program, writing the memory report (JSON and SVG)
# and the .mlgp program into build/quickstart/; then train it for 50 steps
# on synthetic data on the CPU backend and save the trained model (ONNX,
# inference form).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh mlg-opt mlg-translate mlg-run
BUILD_DIR=${MLG_BUILD_DIR:-build}
OUT="$BUILD_DIR/quickstart"
mkdir -p "$OUT"
"$BUILD_DIR/bin/mlg-opt" examples/small_cnn.onnx --batch-size=8 --mlg-model-summary \
  --mlg-train-pipeline="optimizer=momentum lr=0.01 memory-report=$OUT/small_cnn.json" \
  -o "$OUT/small_cnn.rt.mlir"
"$BUILD_DIR/bin/mlg-translate" --mlg-to-program "$OUT/small_cnn.rt.mlir" -o "$OUT/small_cnn.mlgp"
"$BUILD_DIR/bin/mlg-run" train "$OUT/small_cnn.mlgp" --weights=examples/small_cnn.onnx \
  --data=synthetic --steps=50 --log-every=10 --save="$OUT/small_cnn-trained.onnx"
echo "memory report: $OUT/small_cnn.json and $OUT/small_cnn.svg"
echo "program:       $OUT/small_cnn.mlgp (the training step)"
echo "trained model: $OUT/small_cnn-trained.onnx"
