#!/usr/bin/env bash
# Installs, with apt-get, exactly the Debian 12 packages clinicwatch needs that are missing.
# Usage: packaging/install-deps.sh [--tests]     (as root; --tests adds what the tests use)
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config
  libpcap-dev libboost-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libsystemd-dev libcap-dev
  libsqlite3-dev libsqlitecpp-dev libcli11-dev nlohmann-json3-dev
  ieee-data
  libmstch-dev libcurl4-openssl-dev libssl-dev tzdata
)
test_packages=(
  libgtest-dev clang libclang-rt-14-dev iproute2 tcpreplay python3 xxd
  dpkg-dev file systemd
  python3-aiosmtpd python3-html5lib python3-jsonschema poppler-utils openssl chromium fonts-ipafont-gothic graphviz
  prometheus rsyslog tshark
)
# graphviz: its dot checks the network map's DOT export (skipped without it).
# tshark (with wireshark-common's mergecap): the IPv6 acceptance test compares what the sensor
# reads in ../shared/pcaps with what tshark shows (skipped without it).
# prometheus: only its promtool is used (the metrics and alert-rule tests); rsyslog: the syslog
# forwarding test starts its own rsyslogd on loopback. Neither service is needed running; where
# the machine starts services on install (not in CI's container, whose policy-rc.d refuses),
# prometheus listens on :9090 and rsyslog on /dev/log, which no test uses.

wanted=("${build_packages[@]}")
if [[ ${1:-} == --tests ]]; then wanted+=("${test_packages[@]}"); fi

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#wanted[@]} packages are already installed"
  exit 0
fi
if ((EUID != 0)); then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
