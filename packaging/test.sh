#!/usr/bin/env bash
# Set-up, build and every test: what CI runs (.ci/run) and the README's second command.
# Builds the release preset and runs ctest; then the asan preset unless CLINICWATCH_SKIP_ASAN=1.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh --tests
jobs=$(nproc)

# The plain build a distribution or a user runs (no preset: -O3, no -Werror) must not stop on
# a warning; one library built that way, with GCC and with clang, keeps -O3-only false
# warnings (as GCC 12 gave in bench/frame_builder.cpp) out without building the tree twice.
echo "== ordinary Release build (one library, GCC and clang)"
for compiler in g++ clang++; do
  dir=build/ordinary-$compiler
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$compiler" \
    -DCLINICWATCH_TESTS=OFF >/dev/null
  cmake --build "$dir" --target clinicwatch_clinic_capture -j "$jobs" >"$dir/build.log" 2>&1 ||
    { cat "$dir/build.log"; exit 1; }
  if grep -q "warning:" "$dir/build.log"; then
    grep -B2 -A8 "warning:" "$dir/build.log"
    echo "ordinary build: $compiler warns (see above)" >&2
    exit 1
  fi
done

echo "== release build and tests"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"

if [[ ${CLINICWATCH_SKIP_ASAN:-0} != 1 ]]; then
  echo "== ASan + UBSan build (clang, with the fuzz targets) and tests"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --preset asan -j "$jobs"
fi

if [[ ${CLINICWATCH_SKIP_FUZZ:-0} != 1 ]]; then
  echo "== fuzz smoke: every libFuzzer target for ${CLINICWATCH_FUZZ_SECONDS:-5} s, $jobs at a time"
  # The asan tree built above holds the fuzz targets (CLINICWATCH_FUZZ); without it, the fuzz
  # preset builds them.
  preset=fuzz
  [[ ${CLINICWATCH_SKIP_ASAN:-0} != 1 ]] && preset=asan
  CLINICWATCH_FUZZ_PRESET=$preset fuzz/run-all.sh "${CLINICWATCH_FUZZ_SECONDS:-5}" "$jobs"
fi
