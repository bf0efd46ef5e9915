#!/usr/bin/env bash
# The fleet alert rules (docs/prometheus) with Debian's promtool: syntax, then the unit tests
# (sensor silent, frames dropped, digest not sent). Exit 77 (skipped) without promtool.
set -euo pipefail
src=${1:?usage: prometheus_rules_test.sh SOURCE_DIR}
if ! command -v promtool >/dev/null; then
  echo "promtool not installed (Debian package prometheus): rules not tested"
  exit 77
fi
cd "$src/docs/prometheus"
promtool check rules clinicwatch-rules.yml
promtool test rules clinicwatch-rules.test.yml
