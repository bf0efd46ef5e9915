// The decoded view of one frame. Decoding happens once per packet (capture/decode.cpp); every
// analyzer reads this struct. It points into the frame's bytes and owns nothing, so no heap
// allocation happens per packet.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "capture/address.hpp"
#include "capture/bytes.hpp"

namespace clinicwatch {

// Microseconds since the Unix epoch, taken from the packet's capture timestamp. The pipeline
// never reads the wall clock, so a replay gives the same results as the live run.
using Timestamp = std::int64_t;
constexpr Timestamp kMicrosPerSecond = 1'000'000;

// Link-layer header types we accept (pcap file LINKTYPE_* values). A mirror port gives Ethernet;
// the others come from captures made elsewhere (a Linux "any" capture, a tunnel or loopback
// interface, a raw-IP export) and carry no MAC addresses, so devices are not inventoried from
// them, but the IP layer and above are read as usual.
enum class LinkType : int {
    ethernet = 1,
    linux_sll = 113,
    linux_sll2 = 276,
    raw_ip = 101,       // starts with the IPv4 or IPv6 header (DLT_RAW)
    bsd_loopback = 0,   // 4-byte address family in the capturing host's byte order (DLT_NULL)
    openbsd_loop = 108  // the same family in network byte order (DLT_LOOP)
};

struct ArpView {
    std::uint16_t opcode = 0;  // 1 request, 2 reply
    MacAddress sender_mac, target_mac;
    IpAddress sender_ip, target_ip;
    bool is_gratuitous() const { return sender_ip == target_ip; }
};

struct IpView {
    IpAddress src, dst;
    std::uint8_t protocol = 0;  // next header after all IPv6 extension headers
    std::uint8_t ttl = 0;       // hop limit for IPv6
    std::uint16_t total_length = 0;
    std::uint16_t header_length = 0;   // IPv4 header incl. options, or IPv6 fixed + extensions
    std::uint16_t options_length = 0;  // IPv4 options bytes
    bool dont_fragment = false;
    bool is_fragment = false;        // any fragment (first or later)
    bool is_later_fragment = false;  // offset > 0: no transport header in this frame
};

// TCP options as sent, in order: the OS fingerprint cares about the layout, not only values.
struct TcpOptions {
    static constexpr std::size_t kMaxLayout = 16;
    std::array<std::uint8_t, kMaxLayout> layout{};  // option kinds in order (0 EOL, 1 NOP, ...)
    std::uint8_t layout_length = 0;
    bool malformed = false;
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> window_scale;
    bool sack_permitted = false;
    std::optional<std::uint32_t> timestamp_value;
    std::optional<std::uint32_t> timestamp_echo;
};

struct TcpView {
    static constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                                  kUrg = 0x20, kEce = 0x40, kCwr = 0x80;
    std::uint16_t src_port = 0, dst_port = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint8_t header_length = 0;
    TcpOptions options;
    bool syn() const { return flags & kSyn; }
    bool ack_flag() const { return flags & kAck; }
    bool is_syn_only() const { return (flags & (kSyn | kAck)) == kSyn; }
    bool is_syn_ack() const { return (flags & (kSyn | kAck)) == (kSyn | kAck); }
};

struct UdpView {
    std::uint16_t src_port = 0, dst_port = 0;
    std::uint16_t length = 0;
};

struct IcmpView {
    std::uint8_t type = 0, code = 0;
    bool v6 = false;
};

struct LlcView {
    std::uint8_t dsap = 0, ssap = 0, control = 0;
    std::uint32_t snap_oui = 0;  // with SNAP (dsap=ssap=0xaa)
    std::uint16_t snap_type = 0;
    bool snap = false;
};

enum class DecodeResult : std::uint8_t {
    ok,           // decoded as far as we understand it
    undecodable,  // a header we know claimed more bytes than the frame holds, or was malformed
};

struct Packet {
    Timestamp ts = 0;
    std::uint32_t wire_length = 0;  // length on the wire; frame.size() may be less (snaplen)
    Bytes frame;                    // the captured bytes, link header included

    // Layer 2. With Linux cooked captures there is no destination MAC: the flags below come from
    // the packet-type field instead.
    MacAddress src_mac, dst_mac;
    bool has_dst_mac = false;
    bool l2_broadcast = false;
    bool l2_multicast = false;  // multicast but not broadcast
    std::uint16_t vlan = 0;     // innermost 802.1Q VLAN id (0 = untagged)
    std::uint16_t outer_vlan = 0;
    std::uint8_t vlan_depth = 0;
    std::uint16_t ethertype = 0;  // after VLAN tags; 0 for 802.3 length frames (see llc)

    std::optional<LlcView> llc;
    std::optional<ArpView> arp;
    std::optional<IpView> ip;
    std::optional<TcpView> tcp;
    std::optional<UdpView> udp;
    std::optional<IcmpView> icmp;

    Bytes l3_payload;  // after the network header (IP payload, or LLC payload for STP)
    Bytes payload;     // TCP/UDP payload as captured

    DecodeResult result = DecodeResult::ok;
    bool decoded() const { return result == DecodeResult::ok; }

    // The TCP or UDP ports; 0 and 0 for other protocols.
    struct Ports {
        std::uint16_t src = 0, dst = 0;
    };
    Ports ports() const {
        if (tcp) return {tcp->src_port, tcp->dst_port};
        if (udp) return {udp->src_port, udp->dst_port};
        return {};
    }
};

// Decode one frame captured with the given link type. Never throws, never reads out of bounds.
// Fills `out` (which is reset first).
void decode_packet(LinkType link, Timestamp ts, std::uint32_t wire_length, Bytes frame,
                   Packet& out);

// Individual layers, exposed for tests and fuzz targets. Each returns false on malformed input.
bool decode_ethernet(Bytes frame, Packet& out);
bool decode_tcp_options(Bytes options, TcpOptions& out);

}  // namespace clinicwatch
