#!/usr/bin/env bash
# The .deb: packed with CPack from a build tree, inspected with dpkg-deb (files, conffiles,
# Depends, maintainer scripts, unit hardening), then, as root, installed into this system with
# dpkg, used from its installed paths, reinstalled (upgrade path), removed and purged.
# Usage: tests/packaging/deb_test.sh SOURCE_DIR [BUILD_DIR]   (ctest: test packaging_deb)
#   BUILD_DIR  an already built tree to pack (ctest passes its own, so no second build);
#              without it the package preset is configured and built in build/package.
# The installed binary finds its data beside itself (/usr/bin -> /usr/share/clinicwatch), so any
# tree's binary can be packed for /usr.
# Exit 0 = passed, 77 = skipped (reason printed), anything else = failed.
# The system is left as it was: the package is purged on every exit path.
set -euo pipefail

src=$(cd "${1:?usage: deb_test.sh SOURCE_DIR [BUILD_DIR]}" && pwd)
build_dir=${2:+$(cd "$2" && pwd)}
pkg=clinicwatch
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*" >&2; exit 1; }
check() { # check DESCRIPTION COMMAND...: runs the command, fails the test with the description
    local what=$1; shift
    if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

for tool in cmake cpack dpkg-deb dpkg-shlibdeps file flock; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (packaging/install-deps.sh --tests)"
done

work=$(mktemp -d /tmp/clinicwatch-deb-test.XXXXXX)
installed_by_us=0
cleanup() {
    local rc=$?
    if ((installed_by_us)); then
        dpkg_locked -P "$pkg" >/dev/null 2>&1 || echo "cleanup: dpkg -P $pkg failed" >&2
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR

# dpkg refuses to run while apt or another dpkg holds its lock (other builds on this machine
# may be installing packages): wait for it instead of failing.
dpkg_locked() {
    local out
    for _ in $(seq 1 60); do
        if out=$(dpkg "$@" </dev/null 2>&1); then printf '%s\n' "$out"; return 0; fi
        if ! grep -q "lock" <<<"$out"; then printf '%s\n' "$out" >&2; return 1; fi
        sleep 2
    done
    printf '%s\n' "$out" >&2
    return 1
}

# ---- build or pack (one tree at a time: the debug and release ctest runs may share one)
cd "$src"
mkdir -p "$src/build"
exec 8>"$src/build/.package.lock"
flock -w 900 8 || fail "build/package is locked by another run for 15 minutes"
started=$SECONDS
if [[ -z $build_dir ]]; then
    build_dir=$src/build/package
    cmake --preset package >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "cmake --preset package"; }
    cmake --build --preset package -j2 >"$work/build.log" 2>&1 || { tail -50 "$work/build.log"; fail "build"; }
fi
[[ -x $build_dir/daemon/clinicwatch ]] || fail "$build_dir/daemon/clinicwatch is not built"
(cd "$build_dir" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack in $build_dir"; }
flock -u 8
echo "packed $build_dir in $((SECONDS - started)) s"

debs=("$work"/out/"${pkg}"_*.deb)
check "exactly one .deb produced" test "${#debs[@]}" -eq 1 -a -f "${debs[0]}"
deb=${debs[0]}
version=$(sed -n 's/^project(clinicwatch VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")

# ---- control fields
field() { dpkg-deb -f "$deb" "$1"; }
check "Package is $pkg" test "$(field Package)" = "$pkg"
check "Version is $version-1" test "$(field Version)" = "$version-1"
check "Architecture is this machine's" test "$(field Architecture)" = "$(dpkg --print-architecture)"
depends=$(field Depends)
echo "Depends: $depends"
for lib in libc6 'libstdc\+\+6' libpcap0.8 libsqlite3-0 'libyaml-cpp0\.[0-9]+' 'libspdlog1' libcurl4; do
    check "Depends names $lib (dpkg-shlibdeps; libcurl4 by cpack.cmake)" grep -Eq "(^|, )$lib" <<<"$depends"
done
check "Maintainer set" test -n "$(field Maintainer)"

# ---- file list
dpkg-deb -c "$deb" | awk '{print $1, $NF}' >"$work/contents"
has() { grep -Eq "^$1 \./$2\$" "$work/contents"; }
check "binary /usr/bin/clinicwatch, executable" has '-rwxr-xr-x' 'usr/bin/clinicwatch'
check "configuration /etc/clinicwatch/clinicwatch.yaml" has '-rw-r--r--' 'etc/clinicwatch/clinicwatch\.yaml'
check "systemd unit" has '-rw-r--r--' 'usr/lib/systemd/system/clinicwatch\.service'
check "sysusers.d entry" has '-rw-r--r--' 'usr/lib/sysusers\.d/clinicwatch\.conf'
for doc in README.md install.md events.md fleet.md clinicwatch.example.yaml \
           rsyslog/30-clinicwatch.conf prometheus/clinicwatch-rules.yml; do
    check "doc $doc" has '-rw-r--r--' "usr/share/doc/clinicwatch/${doc//./\\.}"
done
for dir in rules daemon/report/templates; do
    [[ -d $src/$dir ]] || { echo "note: $dir/ does not exist yet, nothing to install from it"; continue; }
    dest=usr/share/clinicwatch/$(basename "$dir")
    while IFS= read -r f; do
        rel=${f#"$src/$dir/"}
        check "$dir/$rel installed" grep -Fqx -- "./$dest/$rel" <(awk '{print $2}' "$work/contents")
    done < <(find "$src/$dir" -type f)
done
check "nothing under /usr/local, /var or /home" \
    bash -c "! grep -Eq ' \./(usr/local|var|home)/' '$work/contents'"
check "every file is owned by root" test "$(dpkg-deb -c "$deb" | awk '{print $2}' | sort -u)" = "root/root"

# ---- control archive: conffiles and maintainer scripts
dpkg-deb -e "$deb" "$work/control"
check "conffiles lists exactly the configuration" \
    test "$(cat "$work/control/conffiles")" = "/etc/clinicwatch/clinicwatch.yaml"
etc_files=$(awk '$1 !~ /^d/ {print substr($2, 2)}' "$work/contents" | grep '^/etc/' | sort)
check "every file under /etc is a conffile" test "$etc_files" = "$(sort "$work/control/conffiles")"
for script in postinst prerm postrm; do
    check "$script is executable" test -x "$work/control/$script"
    check "$script parses with sh -n" sh -n "$work/control/$script"
done

# ---- unit hardening
dpkg-deb -x "$deb" "$work/root"
unit=$work/root/usr/lib/systemd/system/clinicwatch.service
check "packaged unit equals packaging/clinicwatch.service" cmp -s "$unit" "$src/packaging/clinicwatch.service"
if systemd-analyze --help 2>/dev/null | grep -q -- '--offline'; then
    exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
        sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
    echo "systemd-analyze security exposure: ${exposure:-?}"
    check "unit exposure is 2.0 or lower" awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'
else
    echo "note: systemd-analyze with --offline is not available, exposure not measured"
fi

# ---- install into this system (root only)
((EUID == 0)) || skip "package built and inspected; installing needs root (dpkg -i)"
command -v dpkg >/dev/null || skip "no dpkg on this system"
# One install at a time on this machine (parallel ctest runs, other worktrees).
exec 9>/tmp/clinicwatch-deb-test.lock
flock -w 600 9 || fail "another deb_test run held the install lock for 10 minutes"
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install\|config-files'; then
    skip "the $pkg package is already on this system; not touching it"
fi
getent passwd clinicwatch >/dev/null && skip "a user 'clinicwatch' already exists; purge would delete it"
getent group clinicwatch >/dev/null && skip "a group 'clinicwatch' already exists; purge would delete it"
for p in /var/lib/clinicwatch /etc/clinicwatch; do
    [[ -e $p ]] && skip "$p already exists; purge would delete it"
done

systemd_state() { # what deb-systemd-helper and systemctl may leave behind
    { find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
        /var/lib/systemd/deb-systemd-helper-masked -name '*clinicwatch*' 2>/dev/null || true; } | sort
}
before_state=$(systemd_state)

installed_by_us=1
dpkg_locked -i "$deb" | sed 's/^/dpkg: /'
check "dpkg reports the package installed" \
    test "$(dpkg-query -W -f='${Status}' "$pkg")" = "install ok installed"
check "/usr/bin/clinicwatch --version" \
    test "$(/usr/bin/clinicwatch --version)" = "clinicwatch $version"
check "check-config accepts the installed configuration" \
    bash -c "/usr/bin/clinicwatch check-config /etc/clinicwatch/clinicwatch.yaml | grep -q 'configuration is valid'"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd clinicwatch) || fail "user clinicwatch was not created"
check "clinicwatch is a system user (uid $uid < 1000)" test "$uid" -lt 1000
check "home is /var/lib/clinicwatch, no login shell" test "$home:$shell" = "/var/lib/clinicwatch:/usr/sbin/nologin"
check "group clinicwatch exists with the user's gid" test "$(getent group clinicwatch | cut -d: -f3)" = "$gid"
check "/var/lib/clinicwatch owned by clinicwatch, mode 750" \
    test "$(stat -c '%U:%G %a' /var/lib/clinicwatch)" = "clinicwatch:clinicwatch 750"
if command -v deb-systemd-helper >/dev/null; then
    check "service enabled at boot" test -L /etc/systemd/system/multi-user.target.wants/clinicwatch.service
fi

# A real database, written by the service user through the installed binary: a one-frame
# capture (ARP request from 00:11:22:33:44:55, 192.168.100.50 asking for .1).
db=/var/lib/clinicwatch/clinicwatch.db
{
    printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00'
    printf '\x00\x2d\x62\x6a\x00\x00\x00\x00\x2a\x00\x00\x00\x2a\x00\x00\x00'
    printf '\xff\xff\xff\xff\xff\xff\x00\x11\x22\x33\x44\x55\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01'
    printf '\x00\x11\x22\x33\x44\x55\xc0\xa8\x64\x32\x00\x00\x00\x00\x00\x00\xc0\xa8\x64\x01'
} >"$work/arp.pcap"
chmod 755 "$work" && chmod 644 "$work/arp.pcap"
check "the service user writes the database with the installed binary" \
    setpriv --reuid=clinicwatch --regid=clinicwatch --clear-groups \
    /usr/bin/clinicwatch replay --no-progress --config /etc/clinicwatch/clinicwatch.yaml "$work/arp.pcap"
check "the database holds the asset from the capture" \
    bash -c "/usr/bin/clinicwatch assets --config /etc/clinicwatch/clinicwatch.yaml --csv | grep -qi '00:11:22:33:44:55'"
db_sum=$(sha256sum "$db" | cut -d' ' -f1)

# Upgrade path (same version reinstalled: prerm upgrade, postinst configure OLDVERSION).
echo "# local edit by deb_test" >>/etc/clinicwatch/clinicwatch.yaml
dpkg_locked -i --force-confold "$deb" | sed 's/^/dpkg: /'
check "upgrade keeps the database" test "$(sha256sum "$db" | cut -d' ' -f1)" = "$db_sum"
check "upgrade keeps the local configuration edit" grep -q '^# local edit by deb_test$' /etc/clinicwatch/clinicwatch.yaml

# Remove: program gone; database, configuration and user kept.
dpkg_locked -r "$pkg" | sed 's/^/dpkg: /'
check "remove leaves only the configuration" \
    test "$(dpkg-query -W -f='${Status}' "$pkg")" = "deinstall ok config-files"
check "remove deletes the binary and the unit" \
    test ! -e /usr/bin/clinicwatch -a ! -e /usr/lib/systemd/system/clinicwatch.service
check "remove keeps the database" test "$(sha256sum "$db" | cut -d' ' -f1)" = "$db_sum"
check "remove keeps the configuration" test -f /etc/clinicwatch/clinicwatch.yaml
check "remove keeps the user" bash -c "getent passwd clinicwatch >/dev/null"

# Purge: everything gone, the system as before.
dpkg_locked -P "$pkg" | sed 's/^/dpkg: /'
installed_by_us=0
check "purge forgets the package" bash -c "! dpkg-query -W -f='\${Status}' $pkg 2>/dev/null | grep -q ."
check "purge deletes /var/lib/clinicwatch" test ! -e /var/lib/clinicwatch
check "purge deletes /etc/clinicwatch" test ! -e /etc/clinicwatch
check "purge deletes the user" bash -c "! getent passwd clinicwatch"
check "purge deletes the group" bash -c "! getent group clinicwatch"
check "purge leaves no systemd links behind" test "$(systemd_state)" = "$before_state"
echo "PASSED in $((SECONDS - started)) s"
