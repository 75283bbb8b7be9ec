#!/usr/bin/env bash
# Regenerates the seed corpus of the program-loader fuzzer: small programs
# compiled from the bundled example, some ONNX node tests, the program
# round-trip test's input and the three-stream offload program, each
# covering other kernels and fields.
#
#   runtime/fuzz/make_corpus.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(cd "$1" && pwd)/bin"
out="$here/corpus"
nodes=/usr/share/libonnx-testdata/data/node
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
compile() { # name onnx [flags...]
  local name=$1 model=$2
  shift 2
  "$bin/mlg-opt" "$model" "$@" --mlg-lower-pipeline -o "$tmp/$name.rt.mlir"
  "$bin/mlg-translate" --mlg-to-program "$tmp/$name.rt.mlir" -o "$out/$name.mlgp"
}
compile small_cnn "$here/../../examples/small_cnn.onnx" --batch-size=2
for t in add_bcast basic_conv_with_padding maxpool_2d_pads averagepool_2d_ceil \
         batchnorm_example_training_mode lstm_with_peepholes gemm_all_attributes \
         matmul_4d slice_neg_steps gather_negative_indices reflect_pad \
         reduce_mean_keepdims_example softmax_axis_1 transpose_all_permutations_3 \
         concat_3d_axis_1 cast_FLOAT_to_DOUBLE where_example layer_normalization_4d_axis1; do
  [[ -d "$nodes/test_$t" ]] || continue
  compile "$t" "$nodes/test_$t/model.onnx" 2>/dev/null || true
done
"$bin/mlg-translate" --mlg-to-program "$here/../../test/Target/Program/Inputs/program.mlir" \
  -o "$out/all_fields.mlgp"
"$bin/mlg-translate" --mlg-to-program "$here/../../test/Runtime/Inputs/offload-streams.mlir" \
  -o "$out/offload_streams.mlgp"
ls "$out" | wc -l
