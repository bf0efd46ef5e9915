#!/usr/bin/env bash
# Bytes the live daemon writes to disk per hour at a given packet rate of clinic traffic: a
# generated clinic capture is sent with tcpreplay (looped, --pps) into a veth pair in a network
# namespace made here, `clinicwatch run` captures on the other end, and the daemon's
# /proc/<pid>/io write_bytes (what reached the block layer: database, WAL, checkpoints) is read
# after a warm-up and at the end. Needs root, iproute2 and tcpreplay.
#
# Usage: bench/measure-disk-writes.sh [--binary PATH] [--seconds N] [--pps N]
#   --binary PATH  the clinicwatch to measure (default build/release/daemon/clinicwatch)
#   --seconds N    measured time after a 20 s warm-up (default 180)
#   --pps N        packets per second (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."

bin=build/release/daemon/clinicwatch
seconds=180
pps=2000
while (($#)); do
  case $1 in
    --binary) bin=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --pps) pps=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "measure-disk-writes: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $(id -u) == 0 ]] || { echo "measure-disk-writes: needs root (network namespace)" >&2; exit 1; }

work=$(mktemp -d "${PWD}/build/disk-writes.XXXXXX")  # on the disk, not a tmpfs
ns=cwdisk$$
cleanup() {
  [[ -n ${daemon:-} ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  [[ -n ${replay:-} ]] && kill "$replay" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

packets=$((pps * 600))  # ten minutes of distinct traffic, then it loops
build/release/bench/clinicwatch-make-capture --out "$work/clinic.pcap" --truth "$work/truth.json" \
  --packets "$packets" --seed 1 >/dev/null
cat >"$work/clinicwatch.yaml" <<'YAML'
network:
  internal_networks: [192.168.100.0/24]
  gateway_ip: 192.168.100.1
YAML

ip netns add "$ns"
ip netns exec "$ns" ip link add cwa type veth peer name cwb
ip netns exec "$ns" ip link set cwa up
ip netns exec "$ns" ip link set cwb up
ip netns exec "$ns" "$bin" run --interface cwa --db "$work/clinic.db" \
  --config "$work/clinicwatch.yaml" 2>"$work/daemon.log" &
daemon=$!
sleep 3
ip netns exec "$ns" tcpreplay -q -i cwb --loop 0 --pps "$pps" "$work/clinic.pcap" \
  >/dev/null 2>&1 &
replay=$!

write_bytes() { awk '/^write_bytes/ {print $2}' "/proc/$1/io"; }
sleep 20
start=$(write_bytes "$daemon")
sleep "$seconds"
end=$(write_bytes "$daemon")
bytes=$((end - start))
per_hour=$((bytes * 3600 / seconds))
kill "$replay" 2>/dev/null || true
kill -TERM "$daemon" && wait "$daemon" || true
daemon=
analysed=$("$bin" stats --db "$work/clinic.db" --config "$work/clinicwatch.yaml" --json --since 2000-01-01 |
  python3 -c 'import json,sys; print(sum(m.get("frames", 0) for m in json.load(sys.stdin)))' 2>/dev/null ||
  echo "?")
echo "binary      $bin"
echo "traffic     $pps packets/s of clinic traffic for $seconds s (after a 20 s warm-up)"
echo "written     $bytes bytes ($(awk -v b="$per_hour" 'BEGIN {printf "%.1f", b / 1048576}') MB per hour)"
echo "analysed    $analysed frames stored in the minute statistics"
echo "load        $(cut -d' ' -f1-3 /proc/loadavg)"
