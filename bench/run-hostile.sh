#!/usr/bin/env bash
# The hostile-traffic benchmark: builds the release preset, writes one capture per kind of
# flood with clinicwatch-make-hostile (random source MACs, random source IPs, random internet
# destinations, IP fragments, distinct broadcasts, huge DNS answers, a SYN scan) and a normal
# clinic capture of the same size, replays each, and prints per kind: packets/s, the ratio to
# normal traffic's packets/s, the raw libpcap read loop's packets/s on the same file (large
# frames cost reading time before any analysis), peak RSS, and the sensor-limit findings (every bounded table
# that had to drop entries is reported as one).
#
# Usage: bench/run-hostile.sh [--packets N] [--runs N] [--strict]
#   --packets N  frames per capture (default 1000000); captures are kept in build/bench-data/
#   --runs N     replays per capture (default 3); the median packets/s is shown
#   --strict     exit 1 when a target is missed
# Targets (issue 9): packets/s at least half of normal traffic's, peak RSS under the memory
# budget (limits.memory_megabytes, 128 MB), and for each flood a sensor-limit finding for
# the table it aims at.
set -euo pipefail
cd "$(dirname "$0")/.."

packets=1000000
runs=3
strict=0
while (($#)); do
  case $1 in
    --packets) packets=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --strict) strict=1; shift ;;
    -h|--help) sed -n '2,/^set/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-hostile: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cmake --preset release >/dev/null
cmake --build build/release -j 2 --target clinicwatch clinicwatch-make-capture \
  clinicwatch-make-hostile clinicwatch-raw-read-loop >/dev/null
bin=build/release/daemon/clinicwatch
raw=build/release/bench/clinicwatch-raw-read-loop
data=build/bench-data/hostile
mkdir -p "$data"
budget_mb=128
config="$data/hostile.yaml"
cat >"$config" <<YAML
network:
  internal_networks: [192.168.100.0/24]
  gateway_ip: 192.168.100.1
limits:
  memory_megabytes: $budget_mb
YAML

# kind:table the flood aims at (empty: no table is expected to fill)
kinds=(normal: mac-flood:hosts ip-flood:device-lists destinations:flows fragments:
       broadcasts:loop-frame-signatures dns-huge:dns-responses syn-scan:device-lists)

capture_of() {
  local kind=$1 pcap="$data/$1-$packets.pcap"
  if [[ ! -s $pcap ]]; then
    if [[ $kind == normal ]]; then
      build/release/bench/clinicwatch-make-capture --out "$pcap" --truth "$pcap.json" \
        --packets "$packets" >/dev/null
    else
      build/release/bench/clinicwatch-make-hostile --kind "$kind" --packets "$packets" \
        --out "$pcap"
    fi
  fi
  echo "$pcap"
}

printf '\ncpu      %s, %s cores\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)"
printf '\n%-13s %12s %7s %12s %8s %9s  %s\n' kind "replay pps" ratio "raw loop pps" "of raw" "peak RSS" \
  "sensor-limit findings (table: dropped)"
normal_pps=0
missed=()
for entry in "${kinds[@]}"; do
  kind=${entry%%:*}
  want=${entry#*:}
  pcap=$(capture_of "$kind")
  db="$data/$kind.db"
  cat "$pcap" >/dev/null  # from the page cache for every kind alike
  rates=()
  rss_kb=0
  for ((i = 1; i <= runs; i++)); do
    rm -f "$db" "$db-wal" "$db-shm"
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$data/time.txt" "$bin" replay "$pcap" --db "$db" --config "$config" \
      --no-progress >/dev/null
    t1=$(date +%s.%N)
    rss_kb=$(awk -v a="$rss_kb" '{ print ($1 > a ? $1 : a) }' "$data/time.txt")
    rates+=("$(awk -v p="$packets" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", p / (b - a) }')")
  done
  raw_pps=$("$raw" "$pcap" | sed -n 's/.*pps=\([0-9]*\).*/\1/p')
  pps=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
  [[ $kind == normal ]] && normal_pps=$pps
  ratio=$(awk -v p="$pps" -v n="$normal_pps" 'BEGIN { printf "%.2f", p / n }')
  limits=$("$bin" alerts --db "$db" --config "$config" --json |
    /usr/bin/python3 -c 'import json, sys
rows = [a["evidence"] for a in json.load(sys.stdin) if a["kind"] == "sensor-limit"]
print(" ".join("%s:%s" % (e["table"], e.get("dropped_total", e.get("resident_mb")))
               for e in rows) or "-")')
  of_raw=$(awk -v p="$pps" -v r="$raw_pps" 'BEGIN { printf "%.2f", p / r }')
  printf '%-13s %12s %7s %12s %8s %6s MB  %s\n' "$kind" "$pps" "$ratio" "$raw_pps" "$of_raw" "$rss_mb" \
    "$limits"
  awk -v r="$ratio" 'BEGIN { exit !(r < 0.5) }' && missed+=("$kind: packets/s below half of normal")
  awk -v m="$rss_mb" -v b="$budget_mb" 'BEGIN { exit !(m >= b) }' && missed+=("$kind: RSS over budget")
  if [[ -n $want && " $limits " != *" $want:"* ]]; then
    missed+=("$kind: no sensor-limit finding for $want")
  fi
  rm -f "$db" "$db-wal" "$db-shm"
done
echo
echo "pps: median of $runs replays, from the wall time of each whole replay (start, decode,"
echo "analyzers, store, final flush); peak RSS: the highest of the runs."
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
if ((${#missed[@]})); then
  printf 'missed: %s\n' "${missed[@]}"
  ((strict)) && exit 1
else
  echo "all targets met"
fi
