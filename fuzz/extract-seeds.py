#!/usr/bin/python3
"""Cuts fuzz seeds out of a classic pcap made by the project's own generator.

Each parser's fuzz target gets the bytes that parser sees in the daemon: a UDP or TCP payload,
the payload after an Ethernet or LLC header, or (for the decoder, egress and loop targets) whole
frames in that target's own framing. Seeds are de-duplicated and kept small, at most --per-target
per target, preferring different leading bytes so the corpus starts varied.

Usage: extract-seeds.py CAPTURE.pcap CORPUS_DIR [--per-target N]
"""
import argparse
import hashlib
import os
import struct
import sys

UDP_PORTS = {
    67: "dhcp", 68: "dhcp", 53: "dns", 5353: "dns", 5355: "dns", 137: "nbns",
    138: "netbios_browser", 1900: "ssdp",
}
TCP_PORTS = {445: ["smb", "ntlmssp"], 139: ["smb", "ntlmssp"], 80: ["http", "ntlmssp"],
             8080: ["http", "ntlmssp"], 443: ["tls"], 22: ["ssh"], 53: ["dns"]}


def frames(path):
    with open(path, "rb") as f:
        header = f.read(24)
        if len(header) < 24:
            sys.exit(f"{path}: not a pcap file (too short)")
        magic = struct.unpack("<I", header[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            endian = ">"
        else:
            sys.exit(f"{path}: not a classic pcap file (magic {magic:#x})")
        if struct.unpack(endian + "I", header[20:24])[0] != 1:
            sys.exit(f"{path}: link type is not Ethernet")
        while True:
            record = f.read(16)
            if len(record) < 16:
                return
            _, _, caplen, _ = struct.unpack(endian + "IIII", record)
            data = f.read(caplen)
            if len(data) < caplen:
                return
            yield data


class Corpus:
    def __init__(self, root, per_target):
        self.root = root
        self.per_target = per_target
        self.seen = {}  # target -> set of digests
        self.leads = {}  # target -> {leading-byte key: seeds kept with it}

    def add(self, target, data, lead_bytes=4):
        if not data:
            return
        seen = self.seen.setdefault(target, set())
        leads = self.leads.setdefault(target, {})
        if len(seen) >= self.per_target:
            return
        digest = hashlib.sha1(data).hexdigest()
        # Variety: at most three seeds with the same leading bytes and length class.
        lead = (data[:lead_bytes], len(data) // 16)
        if digest in seen or leads.get(lead, 0) >= 3:
            return
        seen.add(digest)
        leads[lead] = leads.get(lead, 0) + 1
        os.makedirs(os.path.join(self.root, target), exist_ok=True)
        with open(os.path.join(self.root, target, "gen-" + digest[:16]), "wb") as out:
            out.write(data)


def transport(frame):
    """Returns (protocol, sport, dport, payload) for IPv4/IPv6 UDP/TCP, else None."""
    pos, etype = 14, struct.unpack("!H", frame[12:14])[0]
    while etype in (0x8100, 0x88A8) and len(frame) >= pos + 4:
        etype = struct.unpack("!H", frame[pos + 2:pos + 4])[0]
        pos += 4
    if etype == 0x0800 and len(frame) >= pos + 20:
        ihl = (frame[pos] & 0x0F) * 4
        proto = frame[pos + 9]
        total = struct.unpack("!H", frame[pos + 2:pos + 4])[0]
        end = min(len(frame), pos + total)
        pos += ihl
    elif etype == 0x86DD and len(frame) >= pos + 40:
        proto = frame[pos + 6]
        end = len(frame)
        pos += 40
    else:
        return None
    if proto == 17 and end >= pos + 8:
        sport, dport = struct.unpack("!HH", frame[pos:pos + 4])
        return "udp", sport, dport, frame[pos + 8:end]
    if proto == 6 and end >= pos + 20:
        sport, dport = struct.unpack("!HH", frame[pos:pos + 4])
        offset = (frame[pos + 12] >> 4) * 4
        return "tcp", sport, dport, frame[pos + offset:end]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture")
    parser.add_argument("corpus")
    parser.add_argument("--per-target", type=int, default=40)
    args = parser.parse_args()
    corpus = Corpus(args.corpus, args.per_target)
    egress_batch, loop_batch, app_batch = bytearray(), bytearray(), bytearray()
    for frame in frames(args.capture):
        if len(frame) < 14:
            continue
        etype = struct.unpack("!H", frame[12:14])[0]
        corpus.add("decode", b"\x00" + frame, lead_bytes=0 if etype > 1500 else 18)
        if etype == 0x88CC:
            corpus.add("lldp", frame[14:])
        elif etype <= 1500 and len(frame) >= 17:
            if frame[14:16] == b"\x42\x42":
                corpus.add("stp", frame[17:])
            elif frame[14:16] == b"\xaa\xaa" and frame[17:22] == b"\x00\x00\x0c\x20\x00":
                corpus.add("cdp", frame[22:])
        # Whole-frame targets read a stream of frames in their own framing; each 8 KB of the
        # capture becomes one seed.
        egress_batch += struct.pack("!H", len(frame)) + frame
        # app_layer: a time step byte (0..255, squared in ms) before each frame.
        app_batch += struct.pack("!HB", len(frame), 8) + frame
        if len(app_batch) >= 8192:
            corpus.add("app_layer", bytes(app_batch))
            app_batch.clear()
        if len(egress_batch) >= 8192:
            corpus.add("egress", bytes(egress_batch))
            egress_batch.clear()
        if len(frame) <= 255:
            loop_batch += bytes([len(frame), 10]) + frame
            if len(loop_batch) >= 8192:
                corpus.add("loop_detector", bytes(loop_batch))
                loop_batch.clear()
        seen = transport(frame)
        if seen is None:
            continue
        proto, sport, dport, payload = seen
        if proto == "udp":
            for port in (sport, dport):
                if port in UDP_PORTS:
                    corpus.add(UDP_PORTS[port], payload)
        elif payload:
            for port in (sport, dport):
                for target in TCP_PORTS.get(port, []):
                    corpus.add(target, payload)
            if payload[:2] in (b"\x16\x03",):
                corpus.add("tls", payload)
            if payload[:4] == b"SSH-":
                corpus.add("ssh", payload)
    for target in sorted(corpus.seen):
        print(f"{target:18} {len(corpus.seen[target]):4} seeds")


if __name__ == "__main__":
    main()
