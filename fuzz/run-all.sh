#!/usr/bin/env bash
# Builds a preset with the libFuzzer targets (clang, ASan+UBSan) and runs every fuzz target for
# the given number of seconds each, printing executions and coverage per target. The preset is
# "fuzz" (-O2, for long campaigns) unless CLINICWATCH_FUZZ_PRESET names another: the test command
# uses "asan", whose tree it has built already.
# Crashes are saved under fuzz/crashes/<target>/ and make the script exit non-zero.
# Usage: fuzz/run-all.sh [SECONDS_PER_TARGET=60] [PARALLEL_TARGETS=1]
# With PARALLEL_TARGETS > 1 that many targets run at once, at low CPU priority, so a long
# campaign can share the machine with builds; the time per target is wall-clock time.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
parallel=${2:-1}
preset=${CLINICWATCH_FUZZ_PRESET:-fuzz}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)" >/dev/null
if [[ ! -d fuzz/corpus ]]; then fuzz/make-seeds.sh build/release >/dev/null; fi

# Runs one target; prints its result line. Exit status 1 on a crash.
run_target() {
  local bin=$1 seconds=$2 name log result execs cov ft
  name=$(basename "$bin" | sed 's/^fuzz_//')
  mkdir -p "fuzz/corpus/$name" "fuzz/crashes/$name"
  log=$(mktemp)
  if nice -n "$3" "$bin" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="fuzz/crashes/$name/" "fuzz/corpus/$name" >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
  fi
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  printf '%-22s %12s %8s %8s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
  [[ $result == ok ]] || tail -30 "$log"
  rm -f "$log"
  [[ $result == ok ]]
}
export -f run_target

niceness=0
((parallel > 1)) && niceness=19
printf '%-22s %12s %8s %8s  %s\n' target executions cov ft result
printf '%s\n' "build/$preset"/fuzz/fuzz_* |
  xargs -P "$parallel" -I{} bash -c 'run_target "$@"' _ {} "$seconds" "$niceness"
