#!/usr/bin/env bash
# Cross-builds clinicwatch for 64-bit ARM (Raspberry Pi OS bookworm 64-bit, Debian 12 arm64) with
# Debian's cross toolchain and multiarch :arm64 libraries, writes the arm64 .deb into DIR, runs the
# test suite's non-root tests under qemu-aarch64 and replays a generated clinic capture with the
# packaged binary under qemu (every device of the capture must be found).
# Usage: packaging/build-arm64.sh --out DIR [--jobs N] [--no-tests]     (as root on Debian 12 amd64)
# Takes long on a small machine (the whole tree, then the tests under emulation): not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

out="" jobs=2 run_tests=1
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --no-tests) run_tests=0; shift ;;
    -h | --help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "build-arm64: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n $out ]] || { echo "build-arm64: --out DIR is required" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# --- what the build needs, installed when missing (as install-deps.sh does) -------------------
packaging/install-deps.sh --tests
build_tools=(crossbuild-essential-arm64 qemu-user-static)
# The arm64 twins of install-deps.sh's libraries (Multi-Arch: same, installable beside amd64).
arm64_libraries=(
  libpcap-dev libsystemd-dev libcap-dev libboost-dev libspdlog-dev libfmt-dev libsqlite3-dev
  libsqlitecpp-dev libmstch-dev libcurl4-openssl-dev libssl-dev libgtest-dev libyaml-cpp0.7
)
# Not co-installable with its amd64 twin: unpacked into a private folder instead.
arm64_unpacked=(libyaml-cpp-dev libyaml-cpp0.7)

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  ((EUID == 0)) || { echo "build-arm64: run as root (dpkg --add-architecture arm64)" >&2; exit 1; }
  echo "build-arm64: adding the arm64 architecture to dpkg"
  dpkg --add-architecture arm64
  apt-get update -qq
fi
missing=()
for p in "${build_tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for p in "${arm64_libraries[@]}"; do
  dpkg-query -W -f='${Status}' "$p:arm64" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p:arm64")
done
if ((${#missing[@]})); then
  ((EUID == 0)) || { echo "build-arm64: missing ${missing[*]}; run as root" >&2; exit 1; }
  echo "build-arm64: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=$src/build/arm64
extra=$build/extra-root
if [[ ! -f $extra/usr/lib/aarch64-linux-gnu/cmake/yaml-cpp/yaml-cpp-config.cmake ]]; then
  debs=$(mktemp -d)
  chmod 777 "$debs"  # apt downloads as user _apt
  (cd "$debs" && apt-get download -qq "${arm64_unpacked[@]/%/:arm64}")
  mkdir -p "$extra"
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$extra"; done
  rm -rf "$debs"
fi

# --- configure and build ----------------------------------------------------------------------
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$src/packaging/arm64-toolchain.cmake" \
  -DCLINICWATCH_ARM64_EXTRA_ROOT="$extra" \
  -Dyaml-cpp_DIR="$extra/usr/lib/aarch64-linux-gnu/cmake/yaml-cpp" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DCLINICWATCH_TESTS=$((run_tests ? 1 : 0)) "${launcher[@]}" >"$build.configure.log" ||
  { cat "$build.configure.log"; exit 1; }
echo "build-arm64: building in $build with -j$jobs (nice 10)"
nice -n 10 cmake --build "$build" -j "$jobs" >"$build.build.log" 2>&1 ||
  { tail -50 "$build.build.log"; exit 1; }
file "$build/daemon/clinicwatch" | grep -q "ARM aarch64" ||
  { echo "build-arm64: $build/daemon/clinicwatch is not an arm64 program" >&2; exit 1; }
echo "build-arm64: built ($(grep -c 'warning:' "$build.build.log" || true) compiler warnings, see $build.build.log)"

# --- the .deb: the same cpack.cmake, maintainer scripts and conffiles as amd64 ----------------
rm -rf "$build/packages"
(cd "$build" && DEB_HOST_ARCH=arm64 cpack -G DEB >"$build.cpack.log" 2>&1) ||
  { cat "$build.cpack.log"; exit 1; }
deb=$(ls "$build"/packages/clinicwatch_*_arm64.deb)
ctl=$(mktemp -d)
dpkg-deb -e "$deb" "$ctl"
for f in postinst prerm postrm conffiles; do
  cmp -s "$ctl/$f" "packaging/deb/$f" || { echo "build-arm64: $f differs from packaging/deb/$f" >&2; exit 1; }
done
rm -rf "$ctl"
cp "$deb" "$out/"
deb=$out/$(basename "$deb")
echo "build-arm64: wrote $deb ($(dpkg-deb -f "$deb" Architecture), depends: $(dpkg-deb -f "$deb" Depends))"

emulator=(qemu-aarch64-static)

# --- the packaged binary replays a generated clinic capture under qemu -------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/root"
"${emulator[@]}" "$build/bench/clinicwatch-make-capture" --out "$work/clinic.pcap" \
  --truth "$work/truth.json" --minutes 10 >/dev/null
bin=("${emulator[@]}" "$work/root/usr/bin/clinicwatch")
"${bin[@]}" --version
CLINICWATCH_RULES_DIR=$work/root/usr/share/clinicwatch/rules \
  "${bin[@]}" replay "$work/clinic.pcap" --db "$work/clinic.db" --no-progress >"$work/replay.log" 2>&1 ||
  { cat "$work/replay.log"; exit 1; }
"${bin[@]}" assets --db "$work/clinic.db" --json >"$work/assets.json"
python3 - "$work/truth.json" "$work/assets.json" <<'EOF'
import json, sys
truth = json.load(open(sys.argv[1]))
assets = json.load(open(sys.argv[2]))
rows = assets["assets"] if isinstance(assets, dict) else assets
found = {a["mac"].lower() for a in rows}
wanted = {h["mac"].lower() for h in truth["hosts"]}
missing = sorted(wanted - found)
print(f"build-arm64: replay under qemu-aarch64 found {len(wanted) - len(missing)} of the "
      f"{len(wanted)} devices of the generated clinic capture ({len(found)} assets in all)")
sys.exit(1 if missing else 0)
EOF

# --- the non-root tests under qemu --------------------------------------------------------------
if ((run_tests)); then
  # As an unprivileged user, so tests that need root (namespaces, tmpfs, installing the .deb)
  # skip themselves with their reason; everything else runs under the emulator.
  mkdir -p "$build/Testing"
  chmod -R a+rwX "$build/Testing"
  chmod a+rx "$work"
  echo "build-arm64: running the non-root tests under qemu-aarch64 (-j$jobs)"
  set +e
  # Left out: the .deb test (it installs into this amd64 system) and the replay crash test,
  # whose 25 replays of a 2,000-device capture take longer than ctest's 10 minutes when every
  # instruction is emulated (it runs natively in the amd64 suite and on a Raspberry Pi).
  echo "build-arm64: not run under the emulator: packaging_deb, CrashSafety.KillNineDuringReplays…"
  setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    env HOME=/tmp TMPDIR=/tmp ctest --test-dir "$build" -j "$jobs" \
    -E '^(packaging_deb|CrashSafety.KillNineDuringReplaysNeverCorruptsOrLosesData)$' \
    --output-on-failure >"$build.ctest.log" 2>&1
  status=$?
  set -e
  grep -E "tests passed|tests failed|Total Test time" "$build.ctest.log"
  # One progress line per skipped test ("12/311 Test #40: Name ...***Skipped"); the summary at
  # the end lists them again, so only the progress lines are counted.
  skipped=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*Skipped' "$build.ctest.log" || true)
  echo "build-arm64: skipped (need root or shared captures): $skipped"
  if ((status != 0)); then
    grep -A2 -E "\(Failed\)|\*\*\*Failed|Timeout" "$build.ctest.log" | head -40
    exit 1
  fi
fi
echo "build-arm64: done: $deb"
