#!/usr/bin/env bash
# Writes a seed corpus for every fuzz target into fuzz/corpus/<target>/, made from the
# project's own bytes: frames and messages from the unit tests, the example configuration and
# a generated capture. Never other people's captures.
# Usage: fuzz/make-seeds.sh BUILD_DIR      (BUILD_DIR of a normal preset, for the generator)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
out=fuzz/corpus
mkdir -p "$out"

seed() {  # seed TARGET NAME HEX
  mkdir -p "$out/$1"
  echo "$3" | xxd -r -p > "$out/$1/$2"
}

# Frames for decode: first byte selects the link type (0 Ethernet, 1 SLL, 2 SLL2).
seed decode arp "00ffffffffffff0016ce6e8b24080600010800060400010016ce6e8b24c0a800720000000000000c0a80001"
seed decode syn "0000055d21994c00216a5b7d4a080045000034 40f24000800653 5cac1010804a7d5f68064600507c235ab7000000008002200 00b30000002040 5b401030302010104 02"
seed decode sll "01000000010006 00216a5b7d4a0000080045000034 40f24000800653 5cac1010804a7d5f68064600507c235ab7000000008002200 00b30000002040 5b401030302010104 02"
seed dns answer "180f81800001000100000000 09776972657368 61726b036f72670000010001c00c000100010000384000048079327a"
mkdir -p "$out/config"
cp config/clinicwatch.example.yaml "$out/config/example.yaml"
[[ -f config/demo.yaml ]] && cp config/demo.yaml "$out/config/demo.yaml"
mkdir -p "$out/pcap_file"
if [[ -x $build/bench/clinicwatch-make-capture ]]; then
  tmp=$(mktemp -d)
  if "$build/bench/clinicwatch-make-capture" --out "$tmp/small.pcap" --truth "$tmp/truth.json" \
      --packets 5000 --no-incidents >/dev/null 2>&1; then
    # libFuzzer prefers small inputs: keep the first 8 KB.
    head -c 8192 "$tmp/small.pcap" > "$out/pcap_file/head.pcap"
  fi
  # Every parser's own bytes (DHCP, DNS, NBNS, SSDP, STP, SMB, HTTP, TLS ...) cut out of a
  # generated capture with incidents, and frame streams for the decode, egress and loop targets.
  if "$build/bench/clinicwatch-make-capture" --out "$tmp/clinic.pcap" --truth "$tmp/truth.json" \
      --packets 20000 >/dev/null 2>&1; then
    /usr/bin/python3 fuzz/extract-seeds.py "$tmp/clinic.pcap" "$out"
  fi
  rm -rf "$tmp"
else
  echo "make-seeds: $build/bench/clinicwatch-make-capture not built; only hand-written seeds" >&2
fi
# A minimal classic pcap with one ARP frame, written by hand.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' > "$out/pcap_file/one.pcap"
printf '\x00\x00\x00\x00\x00\x00\x00\x00\x2a\x00\x00\x00\x2a\x00\x00\x00' >> "$out/pcap_file/one.pcap"
echo "ffffffffffff0016ce6e8b24080600010800060400010016ce6e8b24c0a800720000000000000c0a80001" | xxd -r -p >> "$out/pcap_file/one.pcap"
# Protocols the generator does not send, written by hand from their specifications.
# LLDP: chassis (MAC), port "1", TTL 120, system name "ap", management address, end.
seed lldp ap "020704ac44f21d73a8 04020531 06020078 0a026170 100c0501c0a864030200000001 00 0000"
# CDP v2: device ID "sw1", one IPv4 address, platform "cisco WS-C2960".
seed cdp sw1 "02b40000 00010007737731 0002001100000001 0101cc0004c0a86402 00060012636973636f2057532d4332393630"
# QUIC: the client Initials of RFC 9001 and RFC 9369 Appendix A.2 (tests/capture/quic_vectors.hpp).
mkdir -p "$out/quic"
for v in kRfc9001ClientInitial kRfc9369ClientInitial; do
  sed -n "/$v =/,/;/p" tests/capture/quic_vectors.hpp | grep -o '"[0-9a-f]*"' | tr -d '"' |
    xxd -r -p > "$out/quic/$v"
done
# app_layer: the same Initial in a UDP/443 frame from a LAN client, in the target's framing.
mkdir -p "$out/app_layer"
/usr/bin/python3 - "$out/quic/kRfc9001ClientInitial" "$out/app_layer/quic-initial" <<'PY'
import struct, sys
quic = open(sys.argv[1], "rb").read()
udp = struct.pack("!HHHH", 53000, 443, 8 + len(quic), 0) + quic
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                 bytes([192, 168, 100, 20]), bytes([142, 250, 196, 110])) + udp
eth = bytes.fromhex("00a0de6e214c" "f46e2419c27b" "0800") + ip
open(sys.argv[2], "wb").write(struct.pack("!HB", len(eth), 1) + eth)
PY
# VPN first messages (tests/capture/vpn_messages.hpp, laid out as their specifications give
# them): OpenVPN client/server hard resets (UDP, TCP), IKEv2 IKE_SA_INIT, L2TP SCCRQ and HELLO,
# PPTP SCCRQ and Echo-Request, a WireGuard keepalive.
seed vpn openvpn-client "38074981bd797a558d0000000000"
seed vpn openvpn-server "4066f94709188dae2b0100000000074981bd797a558d00000000"
seed vpn openvpn-tcp "000e38074981bd797a558d0000000000"
seed vpn ike-sa-init "8a3c5b1f0e2d4c6b00000000000000002120220800000000000000240000000c0000000801010000"
seed vpn l2tp-sccrq "c80200370000000000000000800800000000000180080000000201008009000000076c6163800a0000000300000003800800000009 1234"
seed vpn l2tp-hello "c8020014123400000007000980080000000000 06"
seed vpn pptp-echo "001000011a2b3c4d0005000000000042"
seed vpn wireguard-keepalive "04000000efbeadde0500000000000000 00112233445566778899aabbccddeeff"
# app_layer: the same OpenVPN reset and L2TP SCCRQ in UDP frames from a LAN client.
/usr/bin/python3 - "$out/app_layer" <<'PY'
import struct, sys
def frame(payload, sport, dport):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                     bytes([192, 168, 100, 20]), bytes([203, 0, 113, 45])) + udp
    eth = bytes.fromhex("00a0de6e214c" "f46e2419c27b" "0800") + ip
    return struct.pack("!HB", len(eth), 1) + eth
out = sys.argv[1]
open(out + "/openvpn-reset", "wb").write(
    frame(bytes.fromhex("38074981bd797a558d0000000000"), 40001, 443))
open(out + "/l2tp-hello", "wb").write(
    frame(bytes.fromhex("c802001412340000000700098008000000000006"), 41701, 11701))
PY
# NDP (RFC 4861): a Yamaha router's RA (O flag, lifetime 1800, source MAC, MTU 1460, prefix
# 2409:10:a0:1200::/64, RDNSS) and a neighbour advertisement (router, solicited, override).
seed ndp ra "86003c4a404007080000000000000000010100a0de6a100105010000000005b4030440c000278d0000093a80000000002409001000a0120000000000000000001903000000000708fe8000000000000002a0defffe6a1001"
seed ndp na "88000000e0000000fe8000000000000002a0defffe6a1001020100a0de6a1001"
# DHCPv6: an Information-request (client DUID-LL, elapsed time, ORO 23/24) and a Reply with
# the server's DUID and a DNS server; an Advertise with IA_NA.
seed dhcpv6 info-request "0b1234560001000a00030001001b21c000200008000200000006000400170018"
seed dhcpv6 reply "071234560001000a00030001001b21c000200002000a0003000100a0de6a100100170010fe8000000000000002a0defffe6a1001"
seed dhcpv6 advertise "024a1b2c0002000a00030001106f3fc0ff01000300280e00155d00000e100000151800050018fdc21a2b3c4d0001000000000000100000001c2000001d4c"
mkdir -p "$out/ssh"
printf 'SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7\r\n' > "$out/ssh/openssh"
printf 'SSH-1.99-Cisco-1.25\r\n' > "$out/ssh/cisco"
# Text for the MIME, template and rule-file targets: Japanese, markup and a p0f signature.
mkdir -p "$out/mime" "$out/report_render" "$out/os_rules"
printf '受付PC (Windows 7) のサポートは終了しています' > "$out/mime/japanese"
printf '<b>電子カルテ</b> & "x" \x27y\x27' > "$out/report_render/markup"
printf '%s\n' '[tcp:request]' 'label = s:win:Windows:7 or 8' \
  'sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0' > "$out/os_rules/p0f"
printf '2020-01-14' > "$out/os_rules/day"
# Any other target (added with its parser) gets an empty seed folder at least.
for t in build/fuzz/fuzz/fuzz_*; do
  [[ -x $t ]] || continue
  mkdir -p "$out/$(basename "$t" | sed 's/^fuzz_//')"
done
echo "seeds in $out/"
