// Builds correct Ethernet frames byte by byte (lengths, checksums, TCP option layouts), and
// writes them to classic pcap files. Used by the synthetic clinic capture generator and by tests
// that need realistic frames; it is the mirror image of capture/decode.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capture/address.hpp"

namespace clinicwatch::bench {

using Frame = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

namespace ethertype {
constexpr std::uint16_t ipv4 = 0x0800, arp = 0x0806, vlan = 0x8100, ipv6 = 0x86dd;
}
namespace ipproto {
constexpr std::uint8_t icmp = 1, tcp = 6, udp = 17, icmpv6 = 58;
}

// Appends big-endian integers and raw bytes to a growing buffer.
inline void put8(Frame& f, std::uint8_t v) {
    f.push_back(v);
}
inline void put16(Frame& f, std::uint16_t v) {
    f.push_back(static_cast<std::uint8_t>(v >> 8));
    f.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(Frame& f, std::uint32_t v) {
    put16(f, static_cast<std::uint16_t>(v >> 16));
    put16(f, static_cast<std::uint16_t>(v));
}
inline void put_bytes(Frame& f, ByteView b) {
    f.insert(f.end(), b.begin(), b.end());
}
inline void put_text(Frame& f, std::string_view s) {
    f.insert(f.end(), s.begin(), s.end());
}
inline void put_mac(Frame& f, const MacAddress& m) {
    f.insert(f.end(), m.bytes.begin(), m.bytes.end());
}
inline void put_ip4(Frame& f, std::uint32_t ip) {
    put32(f, ip);
}

// RFC 1071 one's-complement sum over `data`, added to `sum` (not yet folded or inverted).
std::uint32_t checksum_add(std::uint32_t sum, ByteView data);
// Folds and inverts a running sum into the 16-bit checksum field value.
std::uint16_t checksum_finish(std::uint32_t sum);
inline std::uint16_t internet_checksum(ByteView data) {
    return checksum_finish(checksum_add(0, data));
}

// IPv4 addresses in host byte order, e.g. ip4(192, 168, 100, 1).
constexpr std::uint32_t ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d;
}
std::string ip4_text(std::uint32_t ip);
using Ip6 = std::array<std::uint8_t, 16>;

// The Ethernet multicast MAC for an IPv4 group (01:00:5e + low 23 bits).
MacAddress multicast_mac(std::uint32_t group);
MacAddress multicast_mac6(const Ip6& group);  // 33:33 + low 32 bits
inline const MacAddress kBroadcastMac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

// Ethernet II frame, optionally with one 802.1Q tag; padded to the 60-byte minimum (no FCS).
Frame ethernet(const MacAddress& dst, const MacAddress& src, std::uint16_t type, ByteView payload,
               std::optional<std::uint16_t> vlan = std::nullopt, std::uint8_t priority = 0);
// IEEE 802.3 frame with an LLC header (length field instead of an ethertype), e.g. STP BPDUs.
Frame ethernet_llc(const MacAddress& dst, const MacAddress& src, std::uint8_t dsap,
                   std::uint8_t ssap, std::uint8_t control, ByteView payload);

// ARP over Ethernet for IPv4: 28 bytes. Opcode 1 request, 2 reply.
Frame arp(std::uint16_t opcode, const MacAddress& sender_mac, std::uint32_t sender_ip,
          const MacAddress& target_mac, std::uint32_t target_ip);

struct Ipv4Header {
    std::uint32_t src = 0, dst = 0;
    std::uint8_t protocol = 0;
    std::uint8_t ttl = 64;
    std::uint16_t id = 0;
    bool dont_fragment = true;
    std::uint8_t tos = 0;
};
// IPv4 header (20 bytes, correct header checksum) followed by the payload.
Frame ipv4(const Ipv4Header& h, ByteView payload);

struct Ipv6Header {
    Ip6 src{}, dst{};
    std::uint8_t next_header = 0;
    std::uint8_t hop_limit = 64;
    std::uint32_t flow_label = 0;
};
Frame ipv6(const Ipv6Header& h, ByteView payload);

// TCP options in the order they are added; finish() pads with EOL to a multiple of 4 bytes.
class TcpOptions {
  public:
    TcpOptions& mss(std::uint16_t v);
    TcpOptions& nop();
    TcpOptions& window_scale(std::uint8_t shift);
    TcpOptions& sack_permitted();
    TcpOptions& timestamps(std::uint32_t value, std::uint32_t echo);
    TcpOptions& eol();
    const Frame& bytes() const { return bytes_; }
    Frame finish() const;

  private:
    Frame bytes_;
};

struct TcpHeader {
    std::uint16_t src_port = 0, dst_port = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;  // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
    std::uint16_t window = 0;
    Frame options;  // already padded to a multiple of 4 (TcpOptions::finish)
};
namespace tcpflag {
constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;
}

// TCP segment with the checksum over the IPv4 (or IPv6) pseudo-header.
Frame tcp4(std::uint32_t src_ip, std::uint32_t dst_ip, const TcpHeader& h, ByteView payload);
Frame tcp6(const Ip6& src_ip, const Ip6& dst_ip, const TcpHeader& h, ByteView payload);
// UDP datagram with the checksum over the pseudo-header (0 is sent as 0xffff).
Frame udp4(std::uint32_t src_ip, std::uint32_t dst_ip, std::uint16_t src_port,
           std::uint16_t dst_port, ByteView payload);
Frame udp6(const Ip6& src_ip, const Ip6& dst_ip, std::uint16_t src_port, std::uint16_t dst_port,
           ByteView payload);
// ICMP (v4) message: type, code, the 4 "rest of header" bytes, data; checksum filled in.
Frame icmp4(std::uint8_t type, std::uint8_t code, std::uint32_t rest, ByteView data);
// ICMPv6 message; its checksum covers the IPv6 pseudo-header.
Frame icmp6(const Ip6& src_ip, const Ip6& dst_ip, std::uint8_t type, std::uint8_t code,
            ByteView body);

// Writes a classic pcap file (magic a1b2c3d4, microseconds), buffered and streamed: memory does
// not grow with the number of frames. Throws std::runtime_error on I/O errors.
class PcapFileWriter {
  public:
    explicit PcapFileWriter(const std::string& path, std::uint32_t linktype = 1,
                            std::uint32_t snaplen = 65535);
    ~PcapFileWriter();
    PcapFileWriter(const PcapFileWriter&) = delete;
    PcapFileWriter& operator=(const PcapFileWriter&) = delete;

    void write(std::int64_t ts_us, ByteView frame, std::uint32_t wire_length = 0);
    void close();
    std::uint64_t frames() const { return frames_; }
    std::uint64_t bytes() const { return bytes_; }  // sum of captured frame lengths

  private:
    std::string path_;
    std::FILE* file_ = nullptr;
    std::vector<char> buffer_;
    std::uint64_t frames_ = 0, bytes_ = 0;
};

}  // namespace clinicwatch::bench
