#!/usr/bin/env bash
# Builds the libFuzzer harness of the program loader with Debian's clang-22
# (libclang-rt-22-dev), AddressSanitizer and UndefinedBehaviorSanitizer:
#
#   runtime/fuzz/build.sh BUILD_DIR OUT_BINARY
#
# BUILD_DIR is a configured mlg build (for the generated program.pb.cc).
# Then:  OUT_BINARY runtime/fuzz/corpus -runs=0          (replay the corpus)
#        OUT_BINARY -max_total_time=600 NEW_DIR corpus   (fuzz)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/.."
build="$(cd "$1" && pwd)"
out="$2"
CXX=${CXX_FUZZ:-clang++-22}
flags=(-std=c++20 -O1 -g -DONNX_ML=1 -DONNX_NAMESPACE=onnx -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$src/include" -I"$build/runtime" -w)
objs=()
mkdir -p "$build/fuzz-obj"
for f in "$src"/src/program.cc "$src"/src/program_file.cc "$src"/src/session.cc \
         "$src"/src/onnx_io.cc "$src"/src/external_data.cc "$src"/src/cpu/*.cc \
         "$build/runtime/program.pb.cc" "$here/program_fuzzer.cc"; do
  o="$build/fuzz-obj/$(basename "$f").o"
  if [[ ! -f "$o" || "$f" -nt "$o" ]]; then
    "$CXX" "${flags[@]}" -c "$f" -o "$o"
  fi
  objs+=("$o")
done
"$CXX" "${flags[@]}" "${objs[@]}" -o "$out" -lprotobuf -lonnx_proto -lopenblas
echo "built $out"
