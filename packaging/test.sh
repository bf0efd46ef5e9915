#!/usr/bin/env bash
# Set-up, build and every test: what CI runs (.ci/run) and the README's second command.
# Builds the release preset and runs ctest; then the asan preset unless CLINICWATCH_SKIP_ASAN=1.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh --tests
jobs=$(nproc)

echo "== release build and tests"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"

if [[ ${CLINICWATCH_SKIP_ASAN:-0} != 1 ]]; then
  echo "== ASan + UBSan build and tests"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --preset asan -j "$jobs"
fi

if [[ ${CLINICWATCH_SKIP_FUZZ:-0} != 1 ]]; then
  echo "== fuzz smoke: every libFuzzer target for ${CLINICWATCH_FUZZ_SECONDS:-5} s"
  fuzz/run-all.sh "${CLINICWATCH_FUZZ_SECONDS:-5}"
fi
