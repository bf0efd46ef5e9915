// Frame builders for the analyzer tests: Ethernet + IPv4 + TCP/UDP with the real header
// layouts (RFC 791, 793, 768; checksums left zero, which the decoder does not check), and DNS
// responses (RFC 1035 §4.1) with uncompressed names.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "capture/address.hpp"
#include "capture/packet.hpp"

namespace clinicwatch::test {

using Frame = std::vector<std::uint8_t>;

inline void put16(Frame& f, std::uint16_t v) {
    f.push_back(static_cast<std::uint8_t>(v >> 8));
    f.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(Frame& f, std::uint32_t v) {
    put16(f, static_cast<std::uint16_t>(v >> 16));
    put16(f, static_cast<std::uint16_t>(v));
}

inline Frame ipv4_frame(const MacAddress& src_mac, const MacAddress& dst_mac, const IpAddress& src,
                        const IpAddress& dst, std::uint8_t proto, const Frame& l4,
                        std::uint8_t ttl = 64) {
    Frame f(dst_mac.bytes.begin(), dst_mac.bytes.end());
    f.insert(f.end(), src_mac.bytes.begin(), src_mac.bytes.end());
    put16(f, 0x0800);
    f.push_back(0x45);
    f.push_back(0);
    put16(f, static_cast<std::uint16_t>(20 + l4.size()));
    put16(f, 0x1234);
    put16(f, 0x4000);  // DF
    f.push_back(ttl);
    f.push_back(proto);
    put16(f, 0);
    f.insert(f.end(), src.bytes.begin(), src.bytes.begin() + 4);
    f.insert(f.end(), dst.bytes.begin(), dst.bytes.begin() + 4);
    f.insert(f.end(), l4.begin(), l4.end());
    while (f.size() < 60) f.push_back(0);  // Ethernet minimum frame
    return f;
}

inline Frame ipv6_frame(const MacAddress& src_mac, const MacAddress& dst_mac, const IpAddress& src,
                        const IpAddress& dst, std::uint8_t next_header, const Frame& l4) {
    Frame f(dst_mac.bytes.begin(), dst_mac.bytes.end());
    f.insert(f.end(), src_mac.bytes.begin(), src_mac.bytes.end());
    put16(f, 0x86dd);
    put32(f, 0x60000000);  // version 6, no traffic class or flow label
    put16(f, static_cast<std::uint16_t>(l4.size()));
    f.push_back(next_header);
    f.push_back(64);
    f.insert(f.end(), src.bytes.begin(), src.bytes.end());
    f.insert(f.end(), dst.bytes.begin(), dst.bytes.end());
    f.insert(f.end(), l4.begin(), l4.end());
    return f;
}

inline Frame tcp_segment(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags,
                         const Frame& payload = {}, std::uint32_t seq = 1000) {
    Frame t;
    put16(t, sport);
    put16(t, dport);
    put32(t, seq);
    put32(t, (flags & TcpView::kAck) ? 5000 : 0);
    t.push_back(0x50);  // data offset 5
    t.push_back(flags);
    put16(t, 64240);
    put16(t, 0);
    put16(t, 0);
    t.insert(t.end(), payload.begin(), payload.end());
    return t;
}

inline Frame udp_datagram(std::uint16_t sport, std::uint16_t dport, const Frame& payload = {}) {
    Frame u;
    put16(u, sport);
    put16(u, dport);
    put16(u, static_cast<std::uint16_t>(8 + payload.size()));
    put16(u, 0);
    u.insert(u.end(), payload.begin(), payload.end());
    return u;
}

inline void put_name(Frame& f, const std::string& name) {
    std::size_t start = 0;
    while (start < name.size()) {
        auto dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        f.push_back(static_cast<std::uint8_t>(dot - start));
        f.insert(f.end(), name.begin() + static_cast<long>(start),
                 name.begin() + static_cast<long>(dot));
        start = dot + 1;
    }
    f.push_back(0);
}

struct DnsAnswer {
    std::string name;
    std::uint16_t type;  // 1 A, 5 CNAME, 28 AAAA
    std::uint32_t ttl;
    std::string value;  // dotted name for CNAME, address text for A/AAAA
};

inline Frame dns_response(const std::string& question, std::uint16_t qtype,
                          const std::vector<DnsAnswer>& answers, std::uint16_t id = 0x4a1f) {
    Frame d;
    put16(d, id);
    put16(d, 0x8180);  // response, RD, RA, no error
    put16(d, 1);
    put16(d, static_cast<std::uint16_t>(answers.size()));
    put16(d, 0);
    put16(d, 0);
    put_name(d, question);
    put16(d, qtype);
    put16(d, 1);
    for (const auto& a : answers) {
        put_name(d, a.name);
        put16(d, a.type);
        put16(d, 1);
        put32(d, a.ttl);
        Frame rdata;
        if (a.type == 5) {
            put_name(rdata, a.value);
        } else {
            auto ip = *IpAddress::parse(a.value);
            rdata.assign(ip.bytes.begin(), ip.bytes.begin() + (ip.is_v4() ? 4 : 16));
        }
        put16(d, static_cast<std::uint16_t>(rdata.size()));
        d.insert(d.end(), rdata.begin(), rdata.end());
    }
    return d;
}

// A minimal TLS 1.2 ClientHello (RFC 5246 §7.4.1.2) carrying one server_name (RFC 6066 §3).
inline Frame client_hello(const std::string& sni) {
    Frame ext;
    put16(ext, 0);  // server_name
    put16(ext, static_cast<std::uint16_t>(sni.size() + 5));
    put16(ext, static_cast<std::uint16_t>(sni.size() + 3));
    ext.push_back(0);  // host_name
    put16(ext, static_cast<std::uint16_t>(sni.size()));
    ext.insert(ext.end(), sni.begin(), sni.end());
    Frame body;
    put16(body, 0x0303);
    for (int i = 0; i < 32; ++i) body.push_back(static_cast<std::uint8_t>(i * 7));
    body.push_back(0);  // no session id
    put16(body, 4);
    put16(body, 0xc02f);
    put16(body, 0x009c);
    body.push_back(1);
    body.push_back(0);  // null compression
    put16(body, static_cast<std::uint16_t>(ext.size()));
    body.insert(body.end(), ext.begin(), ext.end());
    Frame hello{22, 3, 1};
    put16(hello, static_cast<std::uint16_t>(body.size() + 4));
    hello.push_back(1);  // ClientHello
    hello.push_back(0);
    put16(hello, static_cast<std::uint16_t>(body.size()));
    hello.insert(hello.end(), body.begin(), body.end());
    return hello;
}

}  // namespace clinicwatch::test
