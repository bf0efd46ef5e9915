#!/usr/bin/env bash
# Set-up, build, and the main job on a bundled demo: generates a synthetic clinic capture
# (our own generator: hosts, ARP, DHCP, DNS, TCP sessions and a few incidents), replays it,
# and shows what was found. The README's first command.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target clinicwatch clinicwatch-make-capture

bin=build/release/daemon/clinicwatch
mkdir -p demo
rm -f demo/clinic.db demo/clinic.db-wal demo/clinic.db-shm
build/release/bench/clinicwatch-make-capture --out demo/clinic.pcap --truth demo/clinic-truth.json
echo
echo "== clinicwatch replay demo/clinic.pcap"
"$bin" replay demo/clinic.pcap --db demo/clinic.db --config config/demo.yaml --no-progress
echo
echo "== clinicwatch alerts"
"$bin" alerts --db demo/clinic.db
echo
echo "== clinicwatch assets"
"$bin" assets --db demo/clinic.db
echo
echo "The database is demo/clinic.db; try: $bin stats --db demo/clinic.db"
