// Decoding of link, network and transport headers into a Packet view.
// Each layer checks its length before reading and stops at the first thing it does not know.
#include <cstring>

#include "capture/packet.hpp"

namespace clinicwatch {

namespace {

constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeArp = 0x0806;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;
constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;
constexpr std::uint16_t kEtherTypeQinQOld = 0x9100;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;

constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kProtoIcmpv6 = 58;

constexpr int kMaxVlanTags = 4;
constexpr int kMaxIpv6ExtensionHeaders = 8;

bool fail(Packet& out) {
    out.result = DecodeResult::undecodable;
    return false;
}

bool decode_tcp(Bytes seg, Packet& out) {
    if (seg.size() < 20) return fail(out);
    TcpView t;
    const auto* p = seg.data();
    t.src_port = load_be16(p);
    t.dst_port = load_be16(p + 2);
    t.seq = load_be32(p + 4);
    t.ack = load_be32(p + 8);
    t.header_length = static_cast<std::uint8_t>((p[12] >> 4) * 4);
    t.flags = p[13];
    t.window = load_be16(p + 14);
    if (t.header_length < 20 || t.header_length > seg.size()) return fail(out);
    decode_tcp_options(seg.subspan(20, t.header_length - 20u), t.options);
    out.payload = seg.subspan(t.header_length);
    out.tcp = t;
    return true;
}

bool decode_udp(Bytes dgram, Packet& out) {
    if (dgram.size() < 8) return fail(out);
    UdpView u;
    u.src_port = load_be16(dgram.data());
    u.dst_port = load_be16(dgram.data() + 2);
    u.length = load_be16(dgram.data() + 4);
    if (u.length < 8) return fail(out);
    // The captured payload is whatever the UDP length claims, cut to what we have (snaplen).
    std::size_t payload_len = std::min<std::size_t>(u.length - 8u, dgram.size() - 8);
    out.payload = dgram.subspan(8, payload_len);
    out.udp = u;
    return true;
}

bool decode_transport(std::uint8_t protocol, Bytes data, Packet& out) {
    switch (protocol) {
        case kProtoTcp:
            return decode_tcp(data, out);
        case kProtoUdp:
            return decode_udp(data, out);
        case kProtoIcmp:
        case kProtoIcmpv6:
            if (data.size() < 4) return fail(out);
            out.icmp = IcmpView{data[0], data[1], protocol == kProtoIcmpv6};
            out.payload = data.subspan(4);
            return true;
        default:
            return true;  // another protocol (GRE, ESP, IGMP ...): IP layer is enough
    }
}

bool decode_ipv4(Bytes data, Packet& out) {
    if (data.size() < 20) return fail(out);
    const auto* p = data.data();
    if ((p[0] >> 4) != 4) return fail(out);
    IpView ip;
    ip.header_length = static_cast<std::uint16_t>((p[0] & 0x0f) * 4);
    ip.total_length = load_be16(p + 2);
    if (ip.header_length < 20 || ip.header_length > data.size() ||
        ip.total_length < ip.header_length)
        return fail(out);
    ip.options_length = static_cast<std::uint16_t>(ip.header_length - 20);
    std::uint16_t frag = load_be16(p + 6);
    ip.dont_fragment = frag & 0x4000;
    bool more_fragments = frag & 0x2000;
    std::uint16_t offset = frag & 0x1fff;
    ip.is_fragment = more_fragments || offset != 0;
    ip.is_later_fragment = offset != 0;
    ip.ttl = p[8];
    ip.protocol = p[9];
    ip.src = IpAddress::v4(p + 12);
    ip.dst = IpAddress::v4(p + 16);
    out.ip = ip;
    // Ethernet pads short frames: trust total_length, but never beyond what was captured.
    std::size_t end = std::min<std::size_t>(ip.total_length, data.size());
    out.l3_payload = data.subspan(ip.header_length, end - ip.header_length);
    if (ip.is_later_fragment) return true;  // no transport header here
    return decode_transport(ip.protocol, out.l3_payload, out);
}

bool decode_ipv6(Bytes data, Packet& out) {
    if (data.size() < 40) return fail(out);
    const auto* p = data.data();
    if ((p[0] >> 4) != 6) return fail(out);
    IpView ip;
    std::uint16_t payload_length = load_be16(p + 4);
    std::uint8_t next = p[6];
    ip.ttl = p[7];
    ip.src = IpAddress::v6(p + 8);
    ip.dst = IpAddress::v6(p + 24);
    ip.total_length =
        static_cast<std::uint16_t>(std::min<std::size_t>(40u + payload_length, 0xffff));
    std::size_t end = std::min<std::size_t>(40u + payload_length, data.size());
    std::size_t pos = 40;
    // Walk extension headers, with a bound so a chain of them cannot keep us busy.
    for (int i = 0; i < kMaxIpv6ExtensionHeaders; ++i) {
        bool extension = next == 0 || next == 43 || next == 60 || next == 44 || next == 51;
        if (!extension) break;
        if (pos + 8 > end) return fail(out);
        std::uint8_t following = data[pos];
        std::size_t len;
        if (next == 44) {  // fragment header, fixed 8 bytes
            std::uint16_t frag = load_be16(data.data() + pos + 2);
            ip.is_fragment = true;
            ip.is_later_fragment = (frag & 0xfff8) != 0;
            len = 8;
        } else if (next == 51) {  // AH: length in 4-byte units, minus 2
            len = (std::size_t{data[pos + 1]} + 2) * 4;
        } else {
            len = (std::size_t{data[pos + 1]} + 1) * 8;
        }
        if (pos + len > end) return fail(out);
        pos += len;
        next = following;
    }
    ip.protocol = next;
    ip.header_length = static_cast<std::uint16_t>(pos);
    out.ip = ip;
    out.l3_payload = data.subspan(pos, end - pos);
    if (ip.is_later_fragment) return true;
    return decode_transport(next, out.l3_payload, out);
}

bool decode_arp(Bytes data, Packet& out) {
    // Only Ethernet/IPv4 ARP (hardware type 1, protocol 0x0800, lengths 6 and 4) is meaningful
    // on a clinic LAN; anything else is counted as undecodable.
    if (data.size() < 28) return fail(out);
    const auto* p = data.data();
    if (load_be16(p) != 1 || load_be16(p + 2) != kEtherTypeIpv4 || p[4] != 6 || p[5] != 4)
        return fail(out);
    ArpView a;
    a.opcode = load_be16(p + 6);
    a.sender_mac = MacAddress::from(p + 8);
    a.sender_ip = IpAddress::v4(p + 14);
    a.target_mac = MacAddress::from(p + 18);
    a.target_ip = IpAddress::v4(p + 24);
    out.arp = a;
    return true;
}

bool decode_llc(Bytes data, Packet& out) {
    if (data.size() < 3) return fail(out);
    LlcView llc;
    llc.dsap = data[0];
    llc.ssap = data[1];
    llc.control = data[2];
    std::size_t header = 3;
    if (llc.dsap == 0xaa && llc.ssap == 0xaa) {
        if (data.size() < 8) return fail(out);
        llc.snap = true;
        llc.snap_oui = (std::uint32_t{data[3]} << 16) | (std::uint32_t{data[4]} << 8) | data[5];
        llc.snap_type = load_be16(data.data() + 6);
        header = 8;
    }
    out.llc = llc;
    out.l3_payload = data.subspan(header);
    return true;
}

// Everything after the link header: VLAN tags, then the network layer.
bool decode_from_ethertype(std::uint16_t type, Bytes data, Packet& out) {
    int tags = 0;
    while (type == kEtherTypeVlan || type == kEtherTypeQinQ || type == kEtherTypeQinQOld) {
        if (++tags > kMaxVlanTags || data.size() < 4) return fail(out);
        std::uint16_t vid = load_be16(data.data()) & 0x0fff;
        if (out.vlan_depth == 0) out.outer_vlan = vid;
        out.vlan = vid;
        ++out.vlan_depth;
        type = load_be16(data.data() + 2);
        data = data.subspan(4);
    }
    if (type <= 1500) {  // an 802.3 length field: LLC follows (STP, CDP via SNAP ...)
        out.ethertype = 0;
        return decode_llc(data.subspan(0, std::min<std::size_t>(type, data.size())), out);
    }
    out.ethertype = type;
    switch (type) {
        case kEtherTypeIpv4:
            return decode_ipv4(data, out);
        case kEtherTypeIpv6:
            return decode_ipv6(data, out);
        case kEtherTypeArp:
            return decode_arp(data, out);
        default:
            out.l3_payload = data;  // LLDP, EAPOL, PPPoE ...: left to analyzers that want them
            return true;
    }
}

void set_l2_flags_from_dst(Packet& out) {
    out.has_dst_mac = true;
    out.l2_broadcast = out.dst_mac.is_broadcast();
    out.l2_multicast = !out.l2_broadcast && out.dst_mac.is_multicast();
}

// Linux "cooked" captures (tcpdump -i any). Packet type: 0 to us, 1 broadcast, 2 multicast,
// 3 to another host, 4 sent by us.
void set_l2_flags_from_packet_type(std::uint16_t packet_type, Packet& out) {
    out.l2_broadcast = packet_type == 1;
    out.l2_multicast = packet_type == 2;
    if (out.l2_broadcast) {
        out.dst_mac =
            MacAddress::from(reinterpret_cast<const std::uint8_t*>("\xff\xff\xff\xff\xff\xff"));
        out.has_dst_mac = true;
    }
}

bool decode_sll(Bytes frame, Packet& out) {
    if (frame.size() < 16) return fail(out);
    const auto* p = frame.data();
    std::uint16_t packet_type = load_be16(p);
    std::uint16_t hatype = load_be16(p + 2);
    std::uint16_t addr_len = load_be16(p + 4);
    if (hatype == 1 && addr_len == 6) out.src_mac = MacAddress::from(p + 6);
    set_l2_flags_from_packet_type(packet_type, out);
    std::uint16_t protocol = load_be16(p + 14);
    Bytes rest = frame.subspan(16);
    if (protocol == 0x0004) return decode_llc(rest, out);  // 802.2 LLC frame
    return decode_from_ethertype(protocol, rest, out);
}

bool decode_sll2(Bytes frame, Packet& out) {
    if (frame.size() < 20) return fail(out);
    const auto* p = frame.data();
    std::uint16_t protocol = load_be16(p);
    std::uint16_t hatype = load_be16(p + 8);
    std::uint8_t packet_type = p[10];
    std::uint8_t addr_len = p[11];
    if (hatype == 1 && addr_len == 6) out.src_mac = MacAddress::from(p + 12);
    set_l2_flags_from_packet_type(packet_type, out);
    Bytes rest = frame.subspan(20);
    if (protocol == 0x0004) return decode_llc(rest, out);
    return decode_from_ethertype(protocol, rest, out);
}

// Raw IP: the version nibble says which.
bool decode_raw_ip(Bytes frame, Packet& out) {
    if (frame.empty()) return fail(out);
    switch (frame[0] >> 4) {
        case 4:
            return decode_from_ethertype(kEtherTypeIpv4, frame, out);
        case 6:
            return decode_from_ethertype(kEtherTypeIpv6, frame, out);
        default:
            return fail(out);
    }
}

// BSD loopback: a 4-byte address family, in the capturing host's byte order (DLT_NULL) or in
// network order (DLT_LOOP). AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30 by system.
bool decode_loopback(Bytes frame, bool network_order, Packet& out) {
    if (frame.size() < 4) return fail(out);
    std::uint32_t family = network_order ? load_be32(frame.data()) : load_le32(frame.data());
    if (!network_order && family > 0xffff) family = load_be32(frame.data());  // big-endian host
    Bytes rest = frame.subspan(4);
    if (family == 2) return decode_from_ethertype(kEtherTypeIpv4, rest, out);
    if (family == 24 || family == 28 || family == 30)
        return decode_from_ethertype(kEtherTypeIpv6, rest, out);
    return fail(out);
}

}  // namespace

bool decode_tcp_options(Bytes options, TcpOptions& out) {
    std::size_t pos = 0;
    while (pos < options.size()) {
        std::uint8_t kind = options[pos];
        if (out.layout_length < TcpOptions::kMaxLayout) out.layout[out.layout_length++] = kind;
        if (kind == 0) break;  // end of option list; the rest is padding
        if (kind == 1) {
            ++pos;
            continue;
        }
        if (pos + 1 >= options.size()) return !(out.malformed = true);
        std::size_t len = options[pos + 1];
        if (len < 2 || pos + len > options.size()) return !(out.malformed = true);
        const auto* v = options.data() + pos + 2;
        switch (kind) {
            case 2:
                if (len == 4) out.mss = load_be16(v);
                break;
            case 3:
                if (len == 3) out.window_scale = v[0];
                break;
            case 4:
                out.sack_permitted = true;
                break;
            case 8:
                if (len == 10) {
                    out.timestamp_value = load_be32(v);
                    out.timestamp_echo = load_be32(v + 4);
                }
                break;
            default:
                break;
        }
        pos += len;
    }
    return true;
}

bool decode_ethernet(Bytes frame, Packet& out) {
    if (frame.size() < 14) return fail(out);
    out.dst_mac = MacAddress::from(frame.data());
    out.src_mac = MacAddress::from(frame.data() + 6);
    set_l2_flags_from_dst(out);
    return decode_from_ethertype(load_be16(frame.data() + 12), frame.subspan(14), out);
}

void decode_packet(LinkType link, Timestamp ts, std::uint32_t wire_length, Bytes frame,
                   Packet& out) {
    out = Packet{};
    out.ts = ts;
    out.wire_length = wire_length;
    out.frame = frame;
    switch (link) {
        case LinkType::ethernet:
            decode_ethernet(frame, out);
            break;
        case LinkType::linux_sll:
            decode_sll(frame, out);
            break;
        case LinkType::linux_sll2:
            decode_sll2(frame, out);
            break;
        case LinkType::raw_ip:
            decode_raw_ip(frame, out);
            break;
        case LinkType::bsd_loopback:
            decode_loopback(frame, false, out);
            break;
        case LinkType::openbsd_loop:
            decode_loopback(frame, true, out);
            break;
    }
}

}  // namespace clinicwatch
