#!/usr/bin/env bash
# Packs what a GPU machine needs to run mlg's CUDA tests and benchmarks into
# one folder (default .gpu/ in the repository root, which git ignores):
#
#   bench/gpu/bundle.sh [BUILD_DIR] [OUT_DIR]
#
# The binaries (mlg-run, the runtime's GoogleTests), the shared libraries
# they need beyond the C/C++ runtime that such a machine may lack (Debian's
# Protobuf, ONNX protos, OpenBLAS), and training-step programs compiled
# here (GPU machines need no compiler): small_cnn from examples/, and
# ResNet-18's gradients where the exported models are found. cuBLAS and
# cuDNN are left out: bench/gpu/run.sh uses PyTorch's copies there. The
# folder is also packed, stripped and xz-compressed, into OUT_DIR.tar.xz
# (well under the 64 MiB a device call carries).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
out="${2:-$here/.gpu}"
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/programs"
cp "$build/bin/mlg-run" "$build/test/unit/MLGRuntimeTests" "$out/bin/"
for lib in $(ldd "$build/bin/mlg-run" "$build/test/unit/MLGRuntimeTests" |
             awk '/=> \//{print $3}' | sort -u); do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libstdc++*|libgcc_s*|libpthread*|libdl*|librt*|libz.so*) ;;
    libcublas*|libcudnn*|libcudart*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
"$build/bin/mlg-opt" "$here/examples/small_cnn.onnx" --batch-size=8 \
  --mlg-train-pipeline="optimizer=momentum lr=0.01" -o "$out/programs/small_cnn.rt.mlir"
"$build/bin/mlg-translate" --mlg-to-program "$out/programs/small_cnn.rt.mlir" \
  -o "$out/programs/small_cnn.mlgp"
rm "$out/programs/small_cnn.rt.mlir"
cp "$here/examples/small_cnn.onnx" "$out/programs/"
# ResNet-18's whole training step, returning the loss and every gradient
# (weights from a seed on both backends: no 45 MB model to carry).
models="${MLG_MODELS_DIR:-$build/models}"
if [[ -f "$models/resnet18-train.onnx" ]]; then
  "$build/bin/mlg-opt" "$models/resnet18-train.onnx" --batch-size=8 \
    --mlg-build-training-step="optimizer=none return-gradients=true" \
    --mlg-dead-node-elim --mlg-lower-pipeline \
    -o "$out/programs/resnet18_grads.rt.mlir"
  "$build/bin/mlg-translate" --mlg-to-program "$out/programs/resnet18_grads.rt.mlir" \
    -o "$out/programs/resnet18_grads.mlgp"
  rm "$out/programs/resnet18_grads.rt.mlir"
fi
# The LSTM's training step (batched input projections, projected cells, one
# product for each weight's gradient over the sequence) at sequence 50 and
# batch 8, returning the loss and every gradient.
if [[ -f "$models/lstm.onnx" ]]; then
  "$build/bin/mlg-opt" "$models/lstm.onnx" --input-shape=input:50x8 \
    --mlg-build-training-step="optimizer=none return-gradients=true" \
    --mlg-dead-node-elim --mlg-fold-gradient-sums --mlg-lower-pipeline \
    -o "$out/programs/lstm_grads.rt.mlir"
  "$build/bin/mlg-translate" --mlg-to-program "$out/programs/lstm_grads.rt.mlir" \
    -o "$out/programs/lstm_grads.mlgp"
  rm "$out/programs/lstm_grads.rt.mlir"
fi
# The LSTM's inference program (the lower pipeline unrolls it into cells).
if [[ -f "$models/lstm.onnx" ]]; then
  "$build/bin/mlg-opt" "$models/lstm.onnx" --input-shape=input:50x8 \
    --mlg-lower-pipeline -o "$out/programs/lstm_eval.rt.mlir"
  "$build/bin/mlg-translate" --mlg-to-program "$out/programs/lstm_eval.rt.mlir" \
    -o "$out/programs/lstm_eval.mlgp"
  rm "$out/programs/lstm_eval.rt.mlir"
fi
# The same in float64, where the backends must agree to rounding.
f64="$build/models/resnet18-f64-train.onnx"
if [[ ! -f "$f64" ]]; then
  mkdir -p "$build/models"
  /usr/bin/python3 "$here/bench/gpu/export_resnet18_f64.py" "$f64" 2>/dev/null
fi
"$build/bin/mlg-opt" "$f64" --batch-size=8 \
  --mlg-build-training-step="optimizer=none return-gradients=true" \
  --mlg-dead-node-elim --mlg-lower-pipeline -o "$out/programs/resnet18_f64_grads.rt.mlir"
"$build/bin/mlg-translate" --mlg-to-program "$out/programs/resnet18_f64_grads.rt.mlir" \
  -o "$out/programs/resnet18_f64_grads.mlgp"
rm "$out/programs/resnet18_f64_grads.rt.mlir"
# Architectures the benchmark does not name (ConvNeXt-T, MobileNetV3-small,
# a small vision Transformer, a bidirectional GRU language model): their
# float64 training steps, returning the loss and every gradient.
extra="$build/models/f64"
if [[ ! -f "$extra/gru-f64-train.onnx" ]]; then
  mkdir -p "$extra"
  /usr/bin/python3 "$here/bench/gpu/export_f64_models.py" "$extra" 2>/dev/null
fi
for spec in convnext:--batch-size=2 mobilenet_v3:--batch-size=2 vit:--batch-size=2 \
            gru:--input-shape=input:6x2; do
  name=${spec%%:*} flag=${spec#*:}
  "$build/bin/mlg-opt" "$extra/$name-f64-train.onnx" "$flag" \
    --mlg-build-training-step="optimizer=none return-gradients=true" \
    --mlg-dead-node-elim --mlg-lower-pipeline -o "$out/programs/${name}_f64_grads.rt.mlir"
  "$build/bin/mlg-translate" --mlg-to-program "$out/programs/${name}_f64_grads.rt.mlir" \
    -o "$out/programs/${name}_f64_grads.mlgp"
  rm "$out/programs/${name}_f64_grads.rt.mlir"
done
cp "$here/test/Runtime/Inputs/compare_outputs.py" "$out/"
# With MLG_BENCH=1: the eight models' training steps (SGD with momentum 0.9,
# the baseline's shapes) and the PyTorch baseline, for compare_pytorch.py.
if [[ "${MLG_BENCH:-0}" == 1 ]]; then
  for spec in resnet18-train:--batch-size=128 resnet50-train:--batch-size=128 \
              vgg16-train:--batch-size=128 mobilenet_v2-train:--batch-size=128 \
              densenet121-train:--batch-size=128 inception_v3-train:--batch-size=128 \
              lstm:--input-shape=input:1000x64 bert_encoder:--input-shape=input:32x512; do
    name=${spec%%:*} flag=${spec#*:}
    # MLG_BENCH_ONLY=resnet50-train,lstm: just these models.
    [[ -n "${MLG_BENCH_ONLY:-}" && ",$MLG_BENCH_ONLY," != *",$name,"* ]] && continue
    plain="$out/programs/${name%-train}-train"
    "$build/bin/mlg-opt" "$models/$name.onnx" "$flag" \
      --mlg-train-pipeline="optimizer=momentum momentum=0.9 memory-report=$plain.report.json" \
      -o "$out/programs/$name.rt.mlir"
    "$build/bin/mlg-translate" --mlg-to-program "$out/programs/$name.rt.mlir" \
      -o "$plain.mlgp"
    python3 "$here/bench/gpu/plan_facts.py" "$plain.report.json" > "$plain.plan.json"
    rm "$out/programs/$name.rt.mlir" "$plain.report.json" "$plain.report.svg"
    # Recomputation (issue 7): Echo's policy and budgets of 50% and 25% of
    # the plain plan's peak, each program with its plan's facts (predicted
    # peak and overhead) beside it; a budget no plan meets is left out.
    # Programs are named M-train-echo, M-train-50pct, M-train-4.9GiB.
    policies="echo 50% 25%"
    # The issue's targets: ResNet-50 at 5.0 GiB (4.9 leaves room for cuDNN's
    # scratch), the LSTM with its recurrent activations gone.
    [[ $name == resnet50-train ]] && policies+=" 4.9GiB reserve128MiB-5.0GiB"
    # (recomputing, the pipeline takes its loss in 8 blocks of rows, each
    # differentiated right after its loss, and under a budget projects its
    # input in blocks of about 32 steps; tags chunksN- and stepsN- set
    # these; 2.57 GiB is 40% of the plain plan; 1.6 GiB is the largest
    # budget whose plan recomputes over 90% of the cells' stored results).
    [[ $name == lstm ]] && policies+=" 3.5GiB 2.57GiB 2GiB 1.6GiB"
    for policy in $policies; do
      tag=${policy/\%/pct}
      chunks=-2 steps=-2  # -2: the pipeline's defaults
      reserve=0           # the budget's scratch reserve (reserveX-)
      while [[ $policy == chunks*-* || $policy == steps*-* || $policy == reserve*-* ]]; do
        part=${policy%%-*}; policy=${policy#*-}
        case $part in
          chunks*) chunks=${part#chunks} ;;
          steps*) steps=${part#steps} ;;
          reserve*) reserve=${part#reserve} ;;
        esac
      done
      variant="$out/programs/${name%-train}-train-$tag"
      if "$build/bin/mlg-opt" "$models/$name.onnx" "$flag" \
           --mlg-train-pipeline="optimizer=momentum momentum=0.9 loss-chunks=$chunks projection-steps=$steps recompute=$policy scratch-reserve=$reserve memory-report=$variant.report.json" \
           -o "$variant.rt.mlir" 2>"$variant.err"; then
        "$build/bin/mlg-translate" --mlg-to-program "$variant.rt.mlir" -o "$variant.mlgp"
        python3 "$here/bench/gpu/plan_facts.py" "$variant.report.json" > "$variant.plan.json"
      else
        echo "$name recompute=$policy: $(head -c 300 "$variant.err")"
      fi
      rm -f "$variant.rt.mlir" "$variant.err" "$variant.report.json" "$variant.report.svg"
    done
  done
  cp "$here/../shared/bench/pytorch_baseline.py" "$here/bench/gpu/compare_pytorch.py" \
     "$here/bench/gpu/pytorch_checkpoint.py" "$out/"
fi
cp "$here/test/Runtime/Inputs/cuda_vs_cpu.py" "$out/"
strip "$out"/bin/* "$out"/lib/* 2>/dev/null || true
tar -C "$(dirname "$out")" -cJf "$out.tar.xz" "$(basename "$out")"
du -sh "$out" "$out.tar.xz"
