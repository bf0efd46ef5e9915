#!/usr/bin/env bash
# The pipeline benchmark: builds the release preset, makes a 2,000,000-packet clinic capture
# (../shared/bench/make-clinic-pcap when ../shared exists, else our clinicwatch-make-capture),
# then in one run measures the raw libpcap read loop (bench/raw_read_loop.c) and
# `clinicwatch replay` (decode, analyzers and the SQLite store) on the same file, and prints
# packets/s of each, their ratio, and the replay's peak RSS.
#
# Usage: bench/run-benchmark.sh [--packets N] [--runs N] [--own-generator] [--strict]
#   --packets N   capture size (default 2000000); the capture is kept in build/bench-data/
#   --runs N      measurement rounds (default 3); each round runs both readers once
#   --own-generator  use clinicwatch-make-capture even when ../shared is there
#   --strict      exit 1 when a target is missed (median ratio >= 0.7, every RSS < 64 MB)
#   --binary PATH measure this clinicwatch instead of the release build's (e.g. an older build,
#                 to compare before and after a change in one sitting)
# Targets (issue 19): replay >= 70% of the raw loop's packets/s, peak RSS < 64 MB (issue 2 asked
# for 50%).
set -euo pipefail
cd "$(dirname "$0")/.."

packets=2000000
runs=3
strict=0
own=0
binary=
while (($#)); do
  case $1 in
    --packets) packets=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --strict) strict=1; shift ;;
    --own-generator) own=1; shift ;;
    --binary) binary=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-benchmark: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cmake --preset release >/dev/null
cmake --build build/release -j 2 --target clinicwatch clinicwatch-make-capture \
  clinicwatch-raw-read-loop >/dev/null
bin=${binary:-build/release/daemon/clinicwatch}
raw=build/release/bench/clinicwatch-raw-read-loop

data=build/bench-data
mkdir -p "$data"
if ((!own)) && [[ -f ../shared/bench/make-clinic-pcap ]]; then
  generator="../shared/bench/make-clinic-pcap"
  pcap="$data/shared-clinic-$packets.pcap"
  make_capture() { python3 ../shared/bench/make-clinic-pcap --out "$pcap" --truth "$pcap.json" \
                     --packets "$packets" --seed 1; }
else
  generator="clinicwatch-make-capture"
  pcap="$data/clinic-$packets.pcap"
  make_capture() { build/release/bench/clinicwatch-make-capture --out "$pcap" \
                     --truth "$pcap.json" --packets "$packets" --seed 1; }
fi
if [[ ! -s $pcap || ! -s $pcap.json ]]; then
  echo "run-benchmark: making $pcap with $generator"
  make_capture >/dev/null
fi
size_mb=$(( $(stat -c %s "$pcap") / 1048576 ))

config="$data/bench.yaml"
cat >"$config" <<'YAML'
network:
  internal_networks: [192.168.100.0/24]
  gateway_ip: 192.168.100.1
YAML

now() { date +%s.%N; }
"$raw" "$pcap" >/dev/null  # warm the page cache: both readers then read from memory

printf '\ncapture  %s (%s packets, %s MB, made by %s)\n' "$pcap" "$packets" "$size_mb" "$generator"
printf 'cpu      %s, %s cores\n\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)"
printf '%-5s %14s %16s %8s %13s %10s %12s %11s %11s\n' round "raw loop pps" "replay pps" ratio \
  "replay RSS" "raw CPU s" "replay CPU s" "analysis s" "capture s"
ratios=()
max_rss=0
for ((i = 1; i <= runs; i++)); do
  raw_pps=$(/usr/bin/time -f '%U %S' -o "$data/raw-time.txt" "$raw" "$pcap" |
    sed -n 's/.*pps=\([0-9]*\).*/\1/p')
  raw_cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$data/raw-time.txt")
  db="$data/bench.db"
  rm -f "$db" "$db-wal" "$db-shm"
  t0=$(now)
  /usr/bin/time -f '%U %S %M' -o "$data/time.txt" "$bin" replay "$pcap" --db "$db" --config "$config" \
    --no-progress >"$data/replay.txt"
  t1=$(now)
  read -r user_s sys_s rss_kb < <(tail -1 "$data/time.txt")
  replay_cpu=$(awk -v u="$user_s" -v s="$sys_s" 'BEGIN { printf "%.2f", u + s }')
  got=$(sed -n 's/^packets *\([0-9]*\).*/\1/p' "$data/replay.txt")
  if [[ $got != "$packets" ]]; then
    echo "run-benchmark: replay read $got packets, expected $packets" >&2
    exit 1
  fi
  read -r replay_pps ratio rss_mb < <(awk -v p="$packets" -v a="$t0" -v b="$t1" -v r="$raw_pps" \
    -v k="$rss_kb" 'BEGIN { pps = p / (b - a); printf "%.0f %.3f %.1f\n", pps, pps / r, k / 1024 }')
  # The replay's own account of each thread's CPU: the busier thread bounds its speed.
  analysis_s= capture_s=
  read -r analysis_s capture_s < <(sed -n 's/^cpu *\([0-9.]*\) s analysis, \([0-9.]*\) s capture.*/\1 \2/p' \
    "$data/replay.txt") || true  # an older --binary does not print it
  printf '%-5s %14s %16s %8s %10s MB %10s %12s %11s %11s\n' "$i" "$raw_pps" "$replay_pps" "$ratio" \
    "$rss_mb" "$raw_cpu" "$replay_cpu" "${analysis_s:-?}" "${capture_s:-?}"
  ratios+=("$ratio")
  max_rss=$(awk -v a="$max_rss" -v b="$rss_mb" 'BEGIN { print (b > a ? b : a) }')
done
rm -f "$data/bench.db" "$data/bench.db-wal" "$data/bench.db-shm"

median_ratio=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
ok_ratio=$(awk -v r="$median_ratio" 'BEGIN { print (r >= 0.7 ? "yes" : "NO") }')
ok_rss=$(awk -v m="$max_rss" 'BEGIN { print (m < 64 ? "yes" : "NO") }')
printf '\nmedian ratio %s (target >= 0.70: %s); highest RSS %s MB (target < 64: %s)\n' \
  "$median_ratio" "$ok_ratio" "$max_rss" "$ok_rss"
echo "pps from wall time of each whole process (replay: start, decode, analyzers, store, final"
echo "flush); CPU s = user + system of all threads; analysis s / capture s = CPU of the replay's"
echo "analysis and capture threads; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
if ((strict)) && [[ $ok_ratio != yes || $ok_rss != yes ]]; then exit 1; fi
