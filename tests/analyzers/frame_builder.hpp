// Builds Ethernet frames for analyzer tests: ARP, IPv4/UDP and TCP, and raw ethertype/LLC
// payloads. Checksums are left zero: the decoder does not verify them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capture/packet.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch::test {

using Frame = std::vector<std::uint8_t>;

inline void put_mac(Frame& f, const std::string& mac) {
    auto m = *MacAddress::parse(mac);
    f.insert(f.end(), m.bytes.begin(), m.bytes.end());
}
inline void put_ip(Frame& f, const std::string& ip) {
    auto a = *IpAddress::parse(ip);
    f.insert(f.end(), a.bytes.begin(), a.bytes.begin() + 4);
}
inline void put16(Frame& f, std::uint16_t v) {
    f.push_back(static_cast<std::uint8_t>(v >> 8));
    f.push_back(static_cast<std::uint8_t>(v));
}

inline Frame ethernet(const std::string& dst, const std::string& src, std::uint16_t type) {
    Frame f;
    put_mac(f, dst);
    put_mac(f, src);
    put16(f, type);
    return f;
}

// op 1 request, 2 reply.
inline Frame arp(std::uint16_t op, const std::string& sender_mac, const std::string& sender_ip,
                 const std::string& target_mac, const std::string& target_ip) {
    Frame f = ethernet(op == 1 ? "ff:ff:ff:ff:ff:ff" : target_mac, sender_mac, 0x0806);
    for (int v : {0, 1, 8, 0, 6, 4}) f.push_back(static_cast<std::uint8_t>(v));
    put16(f, op);
    put_mac(f, sender_mac);
    put_ip(f, sender_ip);
    put_mac(f, target_mac);
    put_ip(f, target_ip);
    return f;
}

inline Frame ipv4(const std::string& dst_mac, const std::string& src_mac, const std::string& src,
                  const std::string& dst, std::uint8_t proto, const Frame& l4) {
    Frame f = ethernet(dst_mac, src_mac, 0x0800);
    f.push_back(0x45);
    f.push_back(0);
    put16(f, static_cast<std::uint16_t>(20 + l4.size()));
    put16(f, 1);
    put16(f, 0x4000);
    f.push_back(64);
    f.push_back(proto);
    put16(f, 0);
    put_ip(f, src);
    put_ip(f, dst);
    f.insert(f.end(), l4.begin(), l4.end());
    return f;
}

inline Frame udp(const std::string& dst_mac, const std::string& src_mac, const std::string& src,
                 const std::string& dst, std::uint16_t sport, std::uint16_t dport,
                 const Frame& payload) {
    Frame u;
    put16(u, sport);
    put16(u, dport);
    put16(u, static_cast<std::uint16_t>(8 + payload.size()));
    put16(u, 0);
    u.insert(u.end(), payload.begin(), payload.end());
    return ipv4(dst_mac, src_mac, src, dst, 17, u);
}

inline Frame tcp(const std::string& dst_mac, const std::string& src_mac, const std::string& src,
                 const std::string& dst, std::uint16_t sport, std::uint16_t dport,
                 std::uint8_t flags) {
    Frame t;
    put16(t, sport);
    put16(t, dport);
    for (int i = 0; i < 8; ++i) t.push_back(0);
    t.push_back(0x50);
    t.push_back(flags);
    put16(t, 8192);
    put16(t, 0);
    put16(t, 0);
    return ipv4(dst_mac, src_mac, src, dst, 6, t);
}

// A BOOTP/DHCP message with the given options (code, value) and an end option.
inline Frame dhcp_message(std::uint8_t op, const std::string& chaddr, const std::string& yiaddr,
                          const std::vector<std::pair<std::uint8_t, Frame>>& options) {
    Frame m(236, 0);
    m[0] = op;
    m[1] = 1;
    m[2] = 6;
    m[4] = 0x12;
    auto y = *IpAddress::parse(yiaddr);
    std::copy(y.bytes.begin(), y.bytes.begin() + 4, m.begin() + 16);
    auto c = *MacAddress::parse(chaddr);
    std::copy(c.bytes.begin(), c.bytes.end(), m.begin() + 28);
    for (int v : {0x63, 0x82, 0x53, 0x63}) m.push_back(static_cast<std::uint8_t>(v));
    for (const auto& [code, value] : options) {
        m.push_back(code);
        m.push_back(static_cast<std::uint8_t>(value.size()));
        m.insert(m.end(), value.begin(), value.end());
    }
    m.push_back(255);
    return m;
}

inline Frame text_bytes(const std::string& s) {
    return Frame(s.begin(), s.end());
}
inline Frame ip_bytes(const std::string& ip) {
    Frame f;
    put_ip(f, ip);
    return f;
}

inline Packet decode(const Frame& f, Timestamp ts) {
    Packet p;
    decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(f.size()),
                  Bytes(f.data(), f.size()), p);
    return p;
}

}  // namespace clinicwatch::test
