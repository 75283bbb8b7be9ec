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
