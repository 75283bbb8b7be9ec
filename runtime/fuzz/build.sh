#!/usr/bin/env bash
# Builds the libFuzzer harness of the program loader with Debian's clang-22
# (libclang-rt-22-dev), AddressSanitizer and UndefinedBehaviorSanitizer:
#
#   runtime/fuzz/build.sh BUILD_DIR OUT_BINARY
#
# BUILD_DIR is a configured mlg build (for the generated program.pb.cc; the
# `mlg-program-fuzzer` target runs this script). Then:
#   OUT_BINARY runtime/fuzz/corpus -runs=0                   replay the corpus
#   OUT_BINARY -max_total_time=600 NEW_DIR runtime/fuzz/corpus   fuzz
#   OUT_BINARY -merge=1 runtime/fuzz/corpus NEW_DIR         keep what is new
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/.."
build="$(cd "$1" && pwd)"
out="$2"
CXX=${CXX_FUZZ:-clang++-22}
flags=(-std=c++20 -O1 -g -DONNX_ML=1 -DONNX_NAMESPACE=onnx
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$src/include" -I"$build/runtime" -w)
objdir="$build/fuzz-obj"
mkdir -p "$objdir"
sources=("$src"/src/program.cc "$src"/src/program_file.cc "$src"/src/session.cc
         "$src"/src/arena_spare.cc
         "$src"/src/onnx_io.cc "$src"/src/external_data.cc "$src"/src/cpu/*.cc
         "$src"/src/cuda/no_cuda.cc
         "$build/runtime/program.pb.cc" "$here/program_fuzzer.cc")
# Compile what changed since the last build (any header change: everything),
# as many at once as there are cores.
newest_header=$(find "$src/src" "$src/include" "$build/runtime" -name '*.h' -newer "$out" 2>/dev/null | head -1 || true)
stale=()
objs=()
for f in "${sources[@]}"; do
  o="$objdir/$(basename "$f").o"
  objs+=("$o")
  if [[ ! -f "$o" || "$f" -nt "$o" || -n "$newest_header" || ! -f "$out" ]]; then
    stale+=("$f")
  fi
done
if [[ ${#stale[@]} -gt 0 ]]; then
  printf '%s\n' "${stale[@]}" |
    xargs -P "$(nproc)" -I{} sh -c '"$0" "$@" -c "{}" -o "'"$objdir"'/$(basename "{}").o"' "$CXX" "${flags[@]}"
fi
"$CXX" "${flags[@]}" "${objs[@]}" -o "$out.tmp" -lprotobuf -lonnx_proto -lopenblas
mv "$out.tmp" "$out"
echo "built $out"
