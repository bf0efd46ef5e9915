#!/usr/bin/env bash
# Set-up, build, and the main job on a bundled demo: generates a synthetic clinic capture with
# the project's own generator (hosts, ARP, DHCP, DNS, TCP sessions and a few incidents: a rogue
# DHCP server, an IP conflict, a gateway MAC change, a layer-2 loop, TeamViewer, RDP from the
# internet, a Telnet login), replays it, and shows the alerts, the inventory and the report.
# The README's first command. Run as root on Debian 12 (it installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target clinicwatch clinicwatch-make-capture

bin=build/release/daemon/clinicwatch
mkdir -p demo
rm -f demo/clinic.db demo/clinic.db-wal demo/clinic.db-shm
build/release/bench/clinicwatch-make-capture --out demo/clinic.pcap --truth demo/clinic-truth.json \
  --register demo/register.yaml
# The demo's configuration: config/demo.yaml, no learning period (the capture is 30 minutes),
# and the register of the clinic's approved devices the generator wrote.
{
  cat config/demo.yaml
  printf '\ninventory:\n  learning_days: 0\n\nreport:\n  clinic_name: "さくら内科クリニック (demo)"\n\n'
  cat demo/register.yaml
} > demo/clinicwatch.yaml
"$bin" check-config demo/clinicwatch.yaml

echo
echo "== clinicwatch replay demo/clinic.pcap"
"$bin" replay demo/clinic.pcap --db demo/clinic.db --config demo/clinicwatch.yaml --no-progress
echo
echo "== clinicwatch incidents"
"$bin" incidents --db demo/clinic.db --config demo/clinicwatch.yaml
echo
echo "== clinicwatch assets"
"$bin" assets --db demo/clinic.db --config demo/clinicwatch.yaml
echo
echo "== clinicwatch report"
"$bin" report --format html --lang ja --db demo/clinic.db --config demo/clinicwatch.yaml \
  --out demo/report.html
"$bin" report --format csv --db demo/clinic.db --config demo/clinicwatch.yaml \
  --out demo/assets.csv
echo "report for the network vendor: demo/report.html (asset ledger: demo/assets.csv)"
echo
echo "The database is demo/clinic.db. Try:"
echo "  $bin alerts --db demo/clinic.db"
echo "  $bin stats  --db demo/clinic.db"
echo "  $bin egress --db demo/clinic.db --config demo/clinicwatch.yaml"
echo "  $bin digest --dry-run --db demo/clinic.db --config demo/clinicwatch.yaml"
