#!/usr/bin/env bash
# Packs what a GPU machine needs to run mlg's CUDA tests and benchmarks into
# one folder (default .gpu/ in the repository root, which git ignores):
#
#   bench/gpu/bundle.sh [BUILD_DIR] [OUT_DIR]
#
# The binaries (mlg-run, the runtime's GoogleTests), the shared libraries
# they need beyond the C/C++ runtime that such a machine may lack (Debian's
# Protobuf, ONNX protos, OpenBLAS), and training-step programs compiled
# here (GPU machines need no compiler): small_cnn from examples/. cuBLAS and
# cuDNN are left out: bench/gpu/run.sh uses PyTorch's copies there.
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
cp "$here/test/Runtime/Inputs/cuda_vs_cpu.py" "$out/"
du -sh "$out"
