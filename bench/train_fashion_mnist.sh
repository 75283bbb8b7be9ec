#!/usr/bin/env bash
# Trains fashion_cnn on Fashion-MNIST end to end with mlg and prints a table:
#
#   bench/train_fashion_mnist.sh [BUILD_DIR] [--epochs=N] [--batch=B] [--lr=LR]
#
# 1. compiles the training step of fashion_cnn-train.onnx (exported by
#    scripts/export_models.py into BUILD_DIR/models; exported here if
#    missing) with Adam, 2. trains it with `mlg-run train` (default 3 epochs
#    of batch 64, lr 1e-3) and saves the trained model's inference form,
#    3. compiles that for evaluation and measures its test accuracy with
#    `mlg-run eval` and, as the reference, with onnxruntime on the same
#    model and data. Fashion-MNIST comes from Debian's dataset-fashion-mnist.
# Work files go to BUILD_DIR/bench/train_fashion_mnist/.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$here/build"
epochs=3 batch=64 lr=0.001
for a in "$@"; do
  case "$a" in
    --epochs=*) epochs="${a#*=}" ;;
    --batch=*) batch="${a#*=}" ;;
    --lr=*) lr="${a#*=}" ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "unknown option $a" >&2; exit 1 ;;
    *) build="$(cd "$a" && pwd)" ;;
  esac
done
bin="$build/bin"
models="${MLG_MODELS_DIR:-$build/models}"
data=/usr/share/datasets/fashion-mnist
out="$build/bench/train_fashion_mnist"
mkdir -p "$out"
ort_python=${MLG_ORT_PYTHON:-python3}

if [[ ! -f "$models/fashion_cnn-train.onnx" ]]; then
  /usr/bin/python3 "$here/scripts/export_models.py" "$models" --models fashion_cnn
fi

echo "== compiling the training step (Adam, lr $lr, batch $batch)"
"$bin/mlg-opt" "$models/fashion_cnn-train.onnx" --batch-size="$batch" \
  --mlg-build-training-step="optimizer=adam lr=$lr" --mlg-dead-node-elim \
  --mlg-lower-pipeline -o "$out/train.rt.mlir"
"$bin/mlg-translate" --mlg-to-program "$out/train.rt.mlir" -o "$out/train.mlgp"

echo "== training $epochs epoch(s)"
start=$(date +%s.%N)
"$bin/mlg-run" train "$out/train.mlgp" --weights="$models/fashion_cnn-train.onnx" \
  --data="fashion-mnist:$data" --epochs="$epochs" --save="$out/trained.onnx" \
  --log-every=200 | tee "$out/train.log"
end=$(date +%s.%N)

echo "== compiling the trained model for evaluation (batch 500)"
"$bin/mlg-opt" "$out/trained.onnx" --batch-size=500 --mlg-lower-pipeline \
  -o "$out/eval.rt.mlir"
"$bin/mlg-translate" --mlg-to-program "$out/eval.rt.mlir" -o "$out/eval.mlgp"
"$bin/mlg-run" eval "$out/eval.mlgp" --weights="$out/trained.onnx" \
  --data="fashion-mnist:$data:test" | tee "$out/eval.log"
"$ort_python" "$here/test/tools/mlg-run/Inputs/ort_check.py" accuracy \
  "$out/trained.onnx" "$data" | tee "$out/ort.log"

field() { sed -n "$2" "$1" | head -1; }
steps=$(field "$out/train.log" 's/^trained \([0-9]*\) steps.*/\1/p')
rate=$(field "$out/train.log" 's/.*: \([0-9.]*\) samples\/s$/\1/p')
loss=$(field "$out/train.log" 's/^loss: first [0-9.]*, final \([0-9.]*\).*/\1/p')
arena=$(field "$out/train.log" 's/^memory: arena \(.*\) + persistent .*/\1/p')
persistent=$(field "$out/train.log" 's/^memory: arena .* + persistent \(.*\), peak RSS.*/\1/p')
rss=$(field "$out/train.log" 's/^memory: .*, peak RSS \(.*\)$/\1/p')
mlg_acc=$(field "$out/eval.log" 's/^accuracy: \([0-9.]*\).*/\1/p')
ort_acc=$(field "$out/ort.log" 's/^accuracy: \([0-9.]*\).*/\1/p')
minutes=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 60 }')

echo
echo "| epochs | steps | minutes | samples/s | final loss | mlg accuracy | onnxruntime accuracy | arena | persistent | peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|---|"
echo "| $epochs | $steps | $minutes | $rate | $loss | $mlg_acc | $ort_acc | $arena | $persistent | $rss |"
