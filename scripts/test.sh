#!/usr/bin/env bash
# Quick start, part 2: install, build and run every test (lit tests, unit
# tests, ONNX node-test conformance). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# mlg-models exports the benchmark models once (about a minute); check-mlg
# then also checks that they import.
scripts/build.sh mlg-models
scripts/build.sh check-mlg
# Tests delete each model's programs and outputs once it passes (CI
# machines have little disk; a suite that left 9 GB once failed CI): a
# passing run that leaves more than 1 GiB under the build's test folder is
# a defect.
left=$(du -sm "${MLG_BUILD_DIR:-build}/test" | cut -f1)
echo "test outputs and binaries left: ${left} MiB"
if (( left > 1024 )); then
  echo "error: the tests left ${left} MiB behind (more than 1024): a test keeps what it should delete" >&2
  exit 1
fi
