#!/usr/bin/env bash
# Runs on a GPU machine, from the repository root, with the folder that
# bench/gpu/bundle.sh made (default .gpu/): prints the GPU and cuDNN, then
# runs the CUDA kernels' GoogleTests against the CPU backend, a small CNN's
# training steps, and on both backends the gradients of ResNet-18, the
# LSTM, and (in float64) ConvNeXt-T, MobileNetV3, a ViT and a GRU, and the
# LSTM's inference. With `bench` as the second argument (a bundle made with
# MLG_BENCH=1), runs compare_pytorch.py instead (its JSON into $OUT, or
# /tmp; --recompute adds the recomputing programs and PyTorch
# checkpointing); with `sanitize`, runs ResNet-18's training step (batch 8)
# under compute-sanitizer's memcheck. Uses PyTorch's cuBLAS and cuDNN.
#
#   bash bench/gpu/run.sh .gpu [bench [--models a,b] [--steps N] [--recompute] | sanitize]
set -uo pipefail
bundle="${1:-.gpu}"
py=$(command -v python3)
site=$("$py" -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null || true)
libs=$(find "$site/nvidia" -name 'libcublas*.so*' -o -name 'libcudnn*.so*' 2>/dev/null |
       xargs -r -n1 dirname | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="$bundle/lib:${libs}${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
"$py" -c 'import torch; print("torch", torch.__version__, "cuDNN", torch.backends.cudnn.version())'
if [[ "${2:-}" == bench ]]; then
  echo "== training steps: mlg (CUDA backend) and PyTorch"
  exec "$py" "$bundle/compare_pytorch.py" "$bundle" --json "${OUT:-/tmp}/bench.json" "${@:3}"
fi
if [[ "${2:-}" == sanitize ]]; then
  echo "== compute-sanitizer memcheck: ResNet-18's training step (batch 8, loss and every gradient)"
  exec compute-sanitizer --tool memcheck --leak-check full --error-exitcode 3 \
    "$bundle/bin/mlg-run" run "$bundle/programs/resnet18_grads.mlgp" --seed=3 \
    --random-inputs=5 --int-range=1000 --backend=cuda --runs=3
fi
echo "== CUDA kernels against the CPU backend"
"$bundle/bin/MLGRuntimeTests" --gtest_filter='Cuda*' 2>&1 | tail -40
echo "== small_cnn: 3 training steps, CPU and GPU"
"$py" "$bundle/cuda_vs_cpu.py" "$bundle/bin/mlg-run" "$bundle/programs/small_cnn.mlgp" \
  "$bundle/programs/small_cnn.onnx" /tmp/cuda_vs_cpu 3
for prog in resnet18_f64_grads resnet18_grads lstm_grads lstm_eval convnext_f64_grads \
            mobilenet_v3_f64_grads vit_f64_grads gru_f64_grads; do
  [[ -f "$bundle/programs/$prog.mlgp" ]] || continue
  what="the training step's loss and every gradient"
  [[ $prog == lstm_eval ]] && what="the forward's logits"
  echo "== $prog: $what, CPU and GPU"
  range=1000
  [[ $prog == lstm_grads || $prog == lstm_eval ]] && range=10000  # the LSTM's vocabulary
  [[ $prog == gru_f64_grads ]] && range=100  # the GRU's
  for b in cpu cuda; do
    "$bundle/bin/mlg-run" run "$bundle/programs/$prog.mlgp" --seed=3 \
      --random-inputs=5 --int-range=$range --backend=$b --runs=3 \
      --output-dir=/tmp/$prog-$b | grep -E "^ran|^device"
  done
  # float64 must agree to rounding; float32 with TF32 convolutions is shown,
  # not judged (ReLUs near zero flip); the LSTM (no ReLU, TF32 products)
  # within 2e-2.
  tol=1e-9
  [[ $prog == resnet18_grads ]] && tol=1
  [[ $prog == lstm_grads || $prog == lstm_eval ]] && tol=2e-2
  "$py" "$bundle/compare_outputs.py" /tmp/$prog-cpu /tmp/$prog-cuda $tol
done
