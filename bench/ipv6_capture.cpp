// The dual-stack IPoE clinic (see ipv6_capture.hpp). Frames are collected with their times,
// sorted once and handed to the sink: the scenario is a few thousand frames.
#include "bench/ipv6_capture.hpp"

#include <algorithm>
#include <map>

#include "bench/clinic_payloads.hpp"
#include "bench/quic_initial.hpp"
#include "capture/protocols/quic.hpp"

namespace clinicwatch::bench {

namespace {

constexpr std::int64_t kSec = 1'000'000, kMs = 1'000;

// splitmix64: small and deterministic.
class Rng {
  public:
    explicit Rng(std::uint64_t seed) : s_(seed * 0x9e3779b97f4a7c15ULL + 0x1234567) {}
    std::uint64_t next() {
        std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::int64_t range(std::int64_t lo, std::int64_t hi) {
        return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    std::uint16_t u16() { return static_cast<std::uint16_t>(next()); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(next()); }

  private:
    std::uint64_t s_;
};

Ip6 ip6(const std::string& text) {
    auto a = IpAddress::parse(text);
    Ip6 out{};
    if (a && a->is_v6()) std::copy(a->bytes.begin(), a->bytes.end(), out.begin());
    return out;
}
std::string text6(const Ip6& a) {
    return IpAddress::v6(a.data()).to_string();
}
MacAddress mac(const char* text) {
    return *MacAddress::parse(text);
}
// A /64 prefix and an interface identifier.
Ip6 with_iid(const Ip6& prefix, std::uint64_t iid) {
    Ip6 a = prefix;
    for (int i = 0; i < 8; ++i) a[15 - i] = static_cast<std::uint8_t>(iid >> (8 * i));
    return a;
}
std::uint64_t eui64_iid(const MacAddress& m) {
    const auto& b = m.bytes;
    return (std::uint64_t{static_cast<std::uint8_t>(b[0] ^ 0x02)} << 56) |
           (std::uint64_t{b[1]} << 48) | (std::uint64_t{b[2]} << 40) | (0xffULL << 32) |
           (0xfeULL << 24) | (std::uint64_t{b[3]} << 16) | (std::uint64_t{b[4]} << 8) | b[5];
}
Ip6 solicited_node(const Ip6& target) {
    Ip6 g = ip6("ff02::1:ff00:0");
    g[13] = target[13];
    g[14] = target[14];
    g[15] = target[15];
    return g;
}

const Ip6 kAllNodes = ip6("ff02::1"), kAllRouters = ip6("ff02::2"), kAllDhcp = ip6("ff02::1:2"),
          kMldv2 = ip6("ff02::16"), kUnspecified{};

struct Station {
    Ipv6TruthHost truth;
    Ip6 link_local{};
    Ip6 stable{};     // in the current prefix
    Ip6 temporary{};  // current temporary address (PCs), else == stable
    bool temporaries = false;
    std::int64_t next_rotation = 0;
};

class Builder {
  public:
    Builder(const Ipv6CaptureOptions& o) : o_(o), rng_(o.seed) {}

    Ipv6CaptureTruth run(const FrameSink& sink);

  private:
    std::int64_t at(double fraction) const {
        return o_.start_us +
               static_cast<std::int64_t>(fraction * static_cast<double>(o_.duration_us));
    }
    std::int64_t end() const { return o_.start_us + o_.duration_us; }
    void emit(std::int64_t ts, Frame frame) { frames_.push_back({ts, seq_++, std::move(frame)}); }
    void eth6(std::int64_t ts, const MacAddress& dst, const MacAddress& src, const Ip6& s,
              const Ip6& d, std::uint8_t next, const Frame& payload, std::uint8_t hop = 64) {
        Ipv6Header h;
        h.src = s;
        h.dst = d;
        h.next_header = next;
        h.hop_limit = hop;
        emit(ts, ethernet(dst, src, ethertype::ipv6, ipv6(h, payload)));
    }
    void icmp(std::int64_t ts, const MacAddress& dst, const MacAddress& src, const Ip6& s,
              const Ip6& d, std::uint8_t type, const Frame& body) {
        eth6(ts, dst, src, s, d, ipproto::icmpv6, icmp6(s, d, type, 0, body), 255);
    }
    void udp(std::int64_t ts, const MacAddress& dst, const MacAddress& src, const Ip6& s,
             const Ip6& d, std::uint16_t sp, std::uint16_t dp, const Frame& payload,
             std::uint8_t hop = 64) {
        eth6(ts, dst, src, s, d, ipproto::udp, udp6(s, d, sp, dp, payload), hop);
    }

    // --- NDP and RA bodies (RFC 4861, RFC 8106), after type/code/checksum.
    struct Prefix {
        Ip6 prefix{};
        std::uint32_t valid = 2592000, preferred = 604800;
    };
    struct Ra {
        std::uint8_t flags = 0x40;  // O
        std::uint16_t lifetime = 1800;
        std::vector<Prefix> prefixes;
        std::vector<Ip6> rdnss;
        std::uint32_t mtu = 1460;
        std::optional<MacAddress> slla;
    };
    static Frame ra_body(const Ra& ra) {
        Frame b;
        put8(b, 64);  // current hop limit
        put8(b, ra.flags);
        put16(b, ra.lifetime);
        put32(b, 0);  // reachable time
        put32(b, 0);  // retransmit timer
        if (ra.slla) {
            put8(b, 1);
            put8(b, 1);
            put_mac(b, *ra.slla);
        }
        if (ra.mtu) {
            put8(b, 5);
            put8(b, 1);
            put16(b, 0);
            put32(b, ra.mtu);
        }
        for (const auto& p : ra.prefixes) {
            put8(b, 3);
            put8(b, 4);
            put8(b, 64);
            put8(b, 0xc0);  // on-link, autonomous
            put32(b, p.valid);
            put32(b, p.preferred);
            put32(b, 0);
            put_bytes(b, p.prefix);
        }
        if (!ra.rdnss.empty()) {
            put8(b, 25);
            put8(b, static_cast<std::uint8_t>(1 + 2 * ra.rdnss.size()));
            put16(b, 0);
            put32(b, 1800);
            for (const auto& d : ra.rdnss) put_bytes(b, d);
        }
        return b;
    }
    static Frame ns_body(const Ip6& target, std::optional<MacAddress> slla) {
        Frame b;
        put32(b, 0);
        put_bytes(b, target);
        if (slla) {
            put8(b, 1);
            put8(b, 1);
            put_mac(b, *slla);
        }
        return b;
    }
    static Frame na_body(const Ip6& target, std::uint8_t flags, const MacAddress& tlla) {
        Frame b;
        put8(b, flags);  // R 0x80, S 0x40, O 0x20
        put8(b, 0);
        put16(b, 0);
        put_bytes(b, target);
        put8(b, 2);
        put8(b, 1);
        put_mac(b, tlla);
        return b;
    }
    // DHCPv6 (RFC 8415): type, transaction id, options.
    static void opt(Frame& f, std::uint16_t code, const Frame& value) {
        put16(f, code);
        put16(f, static_cast<std::uint16_t>(value.size()));
        put_bytes(f, value);
    }
    static Frame duid_ll(const MacAddress& m) {
        Frame d;
        put16(d, 3);  // DUID-LL
        put16(d, 1);  // Ethernet
        put_mac(d, m);
        return d;
    }
    static Frame dhcp6(std::uint8_t type, std::uint32_t xid, const Frame& options) {
        Frame f;
        put8(f, type);
        put8(f, static_cast<std::uint8_t>(xid >> 16));
        put8(f, static_cast<std::uint8_t>(xid >> 8));
        put8(f, static_cast<std::uint8_t>(xid));
        put_bytes(f, options);
        return f;
    }

    void router_ra(std::int64_t ts, const Ra& ra, const Ip6& dst = kAllNodes,
                   const MacAddress* dst_mac = nullptr) {
        icmp(ts, dst_mac ? *dst_mac : multicast_mac6(dst), router_mac_, router_ll_, dst, 134,
             ra_body(ra));
    }
    Ra router_ra_now(std::int64_t ts) const {
        Ra ra;
        if (o_.router_flags_change && ts >= at(0.8)) ra.flags = 0xc0;  // M and O
        ra.slla = router_mac_;
        ra.rdnss = {router_ll_};
        if (renumbered_ && ts >= renumber_at_) {
            ra.prefixes.push_back({new_prefix_, 2592000, 604800});
            // The old prefix is deprecated for two hours, then gone.
            if (ts < renumber_at_ + 2 * 3600 * kSec) ra.prefixes.push_back({old_prefix_, 7200, 0});
        } else {
            ra.prefixes.push_back({old_prefix_, 2592000, 604800});
        }
        return ra;
    }
    Ip6 prefix_at(std::int64_t ts) const {
        return renumbered_ && ts >= renumber_at_ ? new_prefix_ : old_prefix_;
    }

    // A host brings an address into use: Duplicate Address Detection (RFC 4862 5.4).
    void dad(std::int64_t ts, const Station& s, const Ip6& address) {
        icmp(ts, multicast_mac6(solicited_node(address)), s.truth.mac, kUnspecified,
             solicited_node(address), 135, ns_body(address, std::nullopt));
    }
    // MLDv2 report joining the solicited-node groups (hop-by-hop router alert).
    void mld(std::int64_t ts, const Station& s, const std::vector<Ip6>& addresses) {
        Frame body;
        put16(body, 0);
        put16(body, static_cast<std::uint16_t>(addresses.size()));
        for (const auto& a : addresses) {
            put8(body, 4);  // CHANGE_TO_EXCLUDE
            put8(body, 0);
            put16(body, 0);
            put_bytes(body, solicited_node(a));
        }
        Frame msg = icmp6(s.link_local, kMldv2, 143, 0, body);
        Frame hbh = {ipproto::icmpv6, 0, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00};
        put_bytes(hbh, msg);
        eth6(ts, multicast_mac6(kMldv2), s.truth.mac, s.link_local, kMldv2, 0, hbh, 1);
    }
    // Address resolution of the router (NS from the host, NA from the router).
    void resolve_router(std::int64_t ts, const Station& s) {
        icmp(ts, multicast_mac6(solicited_node(router_ll_)), s.truth.mac, s.link_local,
             solicited_node(router_ll_), 135, ns_body(router_ll_, s.truth.mac));
        icmp(ts + 300, s.truth.mac, router_mac_, router_ll_, s.link_local, 136,
             na_body(router_ll_, 0xc0, router_mac_));
    }
    // A server resolving the router's global address (its static gateway or DNS server).
    Ip6 router_global(std::int64_t ts) const { return with_iid(prefix_at(ts), 1); }
    void resolve_router_global(std::int64_t ts, const Station& s) {
        Ip6 g = router_global(ts);
        icmp(ts, multicast_mac6(solicited_node(g)), s.truth.mac, s.stable, solicited_node(g), 135,
             ns_body(g, s.truth.mac));
        icmp(ts + 300, s.truth.mac, router_mac_, g, s.stable, 136, na_body(g, 0xc0, router_mac_));
    }
    void quic_session(std::int64_t ts, const Station& s, const std::string& name, const Ip6& server,
                      std::uint16_t server_port);
    void join(std::int64_t ts, Station& s);
    void new_temporary(std::int64_t ts, Station& s);
    void keep_addresses(std::int64_t ts, Station& s);
    void dns_aaaa(std::int64_t ts, const Station& s, const std::string& name, const Ip6& answer);
    void arp_gateway(std::int64_t ts, const Station& s);

    struct Tcp {
        MacAddress cmac, smac;
        Ip6 cip{}, sip{};
        std::uint16_t cport = 0, sport = 0;
        std::uint32_t cseq = 0, sseq = 0;
        std::int64_t t = 0;
        std::int64_t rtt = 20 * kMs;
    };
    void tcp(Tcp& c, bool from_client, std::uint8_t flags, const Frame& payload, std::int64_t gap);
    void handshake(Tcp& c);
    void close(Tcp& c);
    Tcp connect_out(std::int64_t ts, const Station& s, const Ip6& server, std::uint16_t port);

    void begin_incident(const std::string& kind, const MacAddress& device, std::int64_t start,
                        nlohmann::json details) {
        truth_.incidents.push_back({kind, start, start, device, std::move(details)});
        open_incident_ = truth_.incidents.size() - 1;
    }
    void end_incident(std::int64_t last) { truth_.incidents[open_incident_].end_us = last; }

    struct Timed {
        std::int64_t ts;
        std::uint64_t seq;
        Frame frame;
    };

    const Ipv6CaptureOptions& o_;
    Rng rng_;
    std::vector<Timed> frames_;
    std::uint64_t seq_ = 0;
    Ipv6CaptureTruth truth_;
    std::size_t open_incident_ = 0;

    MacAddress router_mac_ = mac("00:a0:de:6a:10:01");
    Ip6 router_ll_{};
    std::uint32_t router_v4_ = ip4(192, 168, 100, 1);
    Ip6 old_prefix_ = ip6("2409:10:a0:1200::"), new_prefix_ = ip6("2409:10:a0:1300::");
    bool renumbered_ = false;
    std::int64_t renumber_at_ = 0;
};

void Builder::tcp(Tcp& c, bool from_client, std::uint8_t flags, const Frame& payload,
                  std::int64_t gap) {
    c.t += gap;
    TcpHeader h;
    h.flags = flags;
    h.window = 64240;
    if (from_client) {
        h.src_port = c.cport;
        h.dst_port = c.sport;
        h.seq = c.cseq;
        h.ack = (flags & tcpflag::ack) ? c.sseq : 0;
    } else {
        h.src_port = c.sport;
        h.dst_port = c.cport;
        h.seq = c.sseq;
        h.ack = c.cseq;
    }
    if (flags & tcpflag::syn)
        h.options = bench::TcpOptions()
                        .mss(1440)
                        .nop()
                        .window_scale(8)
                        .nop()
                        .nop()
                        .sack_permitted()
                        .finish();
    const Ip6& s = from_client ? c.cip : c.sip;
    const Ip6& d = from_client ? c.sip : c.cip;
    eth6(c.t, from_client ? c.smac : c.cmac, from_client ? c.cmac : c.smac, s, d, ipproto::tcp,
         tcp6(s, d, h, payload), from_client ? 128 : 52);
    std::uint32_t advance = static_cast<std::uint32_t>(payload.size()) +
                            ((flags & (tcpflag::syn | tcpflag::fin)) ? 1 : 0);
    (from_client ? c.cseq : c.sseq) += advance;
}

void Builder::handshake(Tcp& c) {
    tcp(c, true, tcpflag::syn, {}, 0);
    tcp(c, false, tcpflag::syn | tcpflag::ack, {}, c.rtt);
    tcp(c, true, tcpflag::ack, {}, 200);
}

void Builder::close(Tcp& c) {
    tcp(c, true, tcpflag::fin | tcpflag::ack, {}, 50 * kMs);
    tcp(c, false, tcpflag::fin | tcpflag::ack, {}, c.rtt);
    tcp(c, true, tcpflag::ack, {}, 200);
}

Builder::Tcp Builder::connect_out(std::int64_t ts, const Station& s, const Ip6& server,
                                  std::uint16_t port) {
    Tcp c;
    c.cmac = s.truth.mac;
    c.smac = router_mac_;
    c.cip = s.temporaries ? s.temporary : s.stable;
    c.sip = server;
    c.cport = static_cast<std::uint16_t>(rng_.range(49152, 65535));
    c.sport = port;
    c.cseq = rng_.u32();
    c.sseq = rng_.u32();
    c.t = ts;
    c.rtt = rng_.range(8, 40) * kMs;
    return c;
}

// An HTTP/3 connection as a browser makes it (RFC 9000 §7, RFC 9001 §4): the client's Initial
// with its ClientHello (padded to 1200 bytes), the server's Initial (ACK, ServerHello)
// coalesced with a Handshake packet, the client's Initial ACK and Handshake packet, then 1-RTT
// short-header packets. Handshake and 1-RTT payloads are under keys no observer has: random
// bytes are what the wire shows of them.
void Builder::quic_session(std::int64_t ts, const Station& s, const std::string& name,
                           const Ip6& server, std::uint16_t server_port) {
    auto random = [this](std::size_t n) {
        Frame f(n);
        for (auto& b : f) b = static_cast<std::uint8_t>(rng_.next());
        return f;
    };
    const Frame odcid = random(8), client_cid = random(8), server_cid = random(8);
    const std::uint16_t port = static_cast<std::uint16_t>(rng_.range(49152, 65535));
    const std::int64_t rtt = rng_.range(5, 30) * kMs;
    std::int64_t q = ts;
    auto send = [&](bool out, const Frame& dg) {
        udp(q, out ? router_mac_ : s.truth.mac, out ? s.truth.mac : router_mac_,
            out ? s.temporary : server, out ? server : s.temporary, out ? port : server_port,
            out ? server_port : port, dg, out ? 128 : 52);
    };
    // A Handshake packet (long header type 2) of `size` bytes.
    auto handshake_packet = [&](const Frame& dcid, const Frame& scid, std::size_t size) {
        Frame p;
        put8(p, static_cast<std::uint8_t>(0xe0 | (rng_.next() & 0x0f)));
        put32(p, quic::kVersion1);
        put8(p, static_cast<std::uint8_t>(dcid.size()));
        put_bytes(p, dcid);
        put8(p, static_cast<std::uint8_t>(scid.size()));
        put_bytes(p, scid);
        std::size_t rest = size > p.size() + 2 + 20 ? size - p.size() - 2 : 20;
        put16(p, static_cast<std::uint16_t>(0x4000 | rest));
        put_bytes(p, random(rest));
        return p;
    };
    send(true, quic_seal_initial(
                   true, odcid, odcid, client_cid, 0,
                   quic_crypto_frame(0, quic_client_hello(name, random(32), client_cid)), 1200));
    q += rtt;
    Frame frames = quic_ack_frame(0);
    put_bytes(frames, quic_crypto_frame(0, quic_server_hello(random(32))));
    Frame dg = quic_seal_initial(false, odcid, client_cid, server_cid, 0, frames, 0);
    put_bytes(dg, handshake_packet(client_cid, server_cid, 1200 - dg.size()));
    send(false, dg);
    q += 2 * kMs;
    send(true, quic_seal_initial(true, odcid, server_cid, client_cid, 1, quic_ack_frame(0), 1200));
    q += 1 * kMs;
    send(true, handshake_packet(server_cid, client_cid, 80));
    for (int i = 0; i < 4; ++i) {
        bool out = i % 2 == 0;
        q += out ? rng_.range(1, 20) * kMs : rtt;
        Frame p;
        put8(p, static_cast<std::uint8_t>(0x40 | (rng_.next() & 0x1f)));
        put_bytes(p, out ? server_cid : client_cid);
        put_bytes(p, random(static_cast<std::size_t>(rng_.range(40, 1200))));
        send(out, p);
    }
    bool known = false;
    for (const auto& [n, a] : truth_.quic) known = known || n == name;
    if (!known) truth_.quic.push_back({name, text6(server)});
}

void Builder::arp_gateway(std::int64_t ts, const Station& s) {
    emit(ts, ethernet(kBroadcastMac, s.truth.mac, ethertype::arp,
                      arp(1, s.truth.mac, s.truth.ipv4, MacAddress{}, router_v4_)));
    emit(ts + 400, ethernet(s.truth.mac, router_mac_, ethertype::arp,
                            arp(2, router_mac_, router_v4_, s.truth.mac, s.truth.ipv4)));
}

void Builder::join(std::int64_t ts, Station& s) {
    arp_gateway(ts, s);
    dad(ts + 10 * kMs, s, s.link_local);
    mld(ts + 12 * kMs, s, {s.link_local});
    // Router solicitation once the link-local address is ours; the router answers at once.
    icmp(ts + 1100 * kMs, multicast_mac6(kAllRouters), s.truth.mac, s.link_local, kAllRouters, 133,
         [&] {
             Frame b;
             put32(b, 0);
             put8(b, 1);
             put8(b, 1);
             put_mac(b, s.truth.mac);
             return b;
         }());
    router_ra(ts + 1102 * kMs, router_ra_now(ts));
    keep_addresses(ts + 1200 * kMs, s);
    // The O flag: DNS servers by stateless DHCPv6 (Information-request / Reply).
    std::uint32_t xid = rng_.u32() & 0xffffff;
    Frame ireq;
    opt(ireq, 1, duid_ll(s.truth.mac));
    opt(ireq, 8, Frame{0, 0});
    opt(ireq, 6, Frame{0, 23, 0, 24});
    udp(ts + 1500 * kMs, multicast_mac6(kAllDhcp), s.truth.mac, s.link_local, kAllDhcp, 546, 547,
        dhcp6(11, xid, ireq), 1);
    Frame reply;
    opt(reply, 1, duid_ll(s.truth.mac));
    opt(reply, 2, duid_ll(router_mac_));
    Frame dns;
    put_bytes(dns, router_ll_);
    opt(reply, 23, dns);
    udp(ts + 1502 * kMs, s.truth.mac, router_mac_, router_ll_, s.link_local, 547, 546,
        dhcp6(7, xid, reply));
    resolve_router(ts + 1600 * kMs, s);
    if (!s.temporaries) resolve_router_global(ts + 1700 * kMs, s);
}

// SLAAC in the prefix of the moment: the stable address, and for Windows PCs a temporary one.
void Builder::keep_addresses(std::int64_t ts, Station& s) {
    Ip6 prefix = prefix_at(ts);
    Ip6 stable = with_iid(prefix, (rng_.next() & ~(1ULL << 57)) | 1);
    // The server keeps its stable interface identifier across renumbering, like Windows does.
    if (!s.truth.stable.empty()) {
        Ip6 old = ip6(s.truth.stable.back());
        stable = prefix;
        std::copy(old.begin() + 8, old.end(), stable.begin() + 8);
    }
    if (s.truth.stable.empty() || text6(stable) != s.truth.stable.back()) {
        s.stable = stable;
        s.truth.stable.push_back(text6(stable));
        dad(ts, s, stable);
        s.temporary = stable;
    }
    if (s.temporaries) new_temporary(ts + 50 * kMs, s);
}

void Builder::new_temporary(std::int64_t ts, Station& s) {
    s.temporary = with_iid(prefix_at(ts), rng_.next() & ~(1ULL << 57));
    s.truth.temporary.push_back(text6(s.temporary));
    dad(ts, s, s.temporary);
    mld(ts + 5 * kMs, s, {s.link_local, s.stable, s.temporary});
    s.next_rotation = ts + o_.temporary_rotation_seconds * kSec;
}

void Builder::dns_aaaa(std::int64_t ts, const Station& s, const std::string& name,
                       const Ip6& answer) {
    std::uint16_t id = rng_.u16(), port = static_cast<std::uint16_t>(rng_.range(49152, 65535));
    Frame q = dns_query(id, name, 28);
    udp(ts, router_mac_, s.truth.mac, s.link_local, router_ll_, port, 53, q);
    Frame r = q;
    r[2] = 0x81;
    r[3] = 0x80;
    r[7] = 1;  // one answer
    put16(r, 0xc00c);
    put16(r, 28);
    put16(r, 1);
    put32(r, 300);
    put16(r, 16);
    put_bytes(r, answer);
    udp(ts + 3 * kMs, s.truth.mac, router_mac_, router_ll_, s.link_local, 53, port, r);
    bool known = false;
    for (const auto& [n, a] : truth_.names) known = known || n == name;
    if (!known) truth_.names.push_back({name, text6(answer)});
}

Ipv6CaptureTruth Builder::run(const FrameSink& sink) {
    truth_.options = o_;
    router_ll_ = with_iid(ip6("fe80::"), eui64_iid(router_mac_));
    truth_.router_mac = router_mac_;
    truth_.router_link_local = text6(router_ll_);
    truth_.router_ipv4 = router_v4_;
    renumbered_ = o_.renumbering;
    renumber_at_ = at(0.6);
    truth_.prefixes.push_back(text6(old_prefix_) + "/64");
    truth_.router_globals.push_back(text6(with_iid(old_prefix_, 1)));
    if (renumbered_) {
        truth_.prefixes.push_back(text6(new_prefix_) + "/64");
        truth_.router_globals.push_back(text6(with_iid(new_prefix_, 1)));
        truth_.renumbered_us = renumber_at_;
    }
    if (o_.router_flags_change) {
        std::int64_t t = at(0.8);
        truth_.incidents.push_back(
            {"ra-flags-changed", t, end(), router_mac_, {{"from", "O"}, {"to", "M O"}}});
    }

    auto station = [&](const char* m, std::uint32_t v4, const char* host, const char* role,
                       const char* responsible, bool temporaries) {
        Station s;
        s.truth.mac = mac(m);
        s.truth.ipv4 = v4;
        s.truth.hostname = host;
        s.truth.role = role;
        s.truth.responsible = responsible;
        s.link_local = with_iid(ip6("fe80::"), rng_.next() & ~(1ULL << 57));
        s.truth.link_local = text6(s.link_local);
        s.temporaries = temporaries;
        return s;
    };
    std::vector<Station> st;
    st.push_back(station("00:1b:21:c0:00:20", ip4(192, 168, 100, 20), "UKETSUKE-PC", "reception",
                         "clinic", true));
    st.push_back(station("00:1b:21:c0:00:21", ip4(192, 168, 100, 21), "SHINSATSU-01", "ehr-client",
                         "EHR vendor", true));
    st.push_back(station("00:15:5d:c0:00:10", ip4(192, 168, 100, 10), "EHR-SRV", "ehr-server",
                         "EHR vendor", false));
    st.push_back(station("00:11:32:c0:00:30", ip4(192, 168, 100, 30), "NAS01", "nas",
                         "network vendor", false));
    Station& recep = st[0];
    Station& doctor = st[1];
    Station& ehr = st[2];
    Station& nas = st[3];

    // The router's periodic RAs, and its answer to neighbour solicitations of its own.
    for (std::int64_t t = o_.start_us + 200 * kMs; t < end();
         t += o_.ra_interval_seconds * kSec + rng_.range(-3000, 3000) * kMs)
        router_ra(t, router_ra_now(t));
    // The router's own link-local address at start (DAD done long ago; its MLD report now).
    for (std::size_t i = 0; i < st.size(); ++i) join(o_.start_us + (2 + 3 * i) * kSec, st[i]);

    // Renumbering: the router announces the new prefix at once (old one deprecated), and every
    // host forms addresses in it.
    if (renumbered_) {
        router_ra(renumber_at_, router_ra_now(renumber_at_));
        // The PCs move in their session loop below, so that their temporary addresses keep
        // rotating in the old prefix until then.
        for (std::size_t i = 0; i < st.size(); ++i) {
            if (st[i].temporaries) continue;
            keep_addresses(renumber_at_ + (200 + 100 * i) * kMs, st[i]);
            resolve_router_global(renumber_at_ + (250 + 100 * i) * kMs, st[i]);
        }
    }

    // Traffic of the day: sessions walk through time, temporary addresses rotate.
    struct Dest {
        std::string name;
        Ip6 address;
        std::uint16_t port;
        bool quic;
    };
    std::vector<Dest> office = {
        {"login.microsoftonline.com", ip6("2603:1037:1:2::12"), 443, false},
        {"outlook.office.com", ip6("2603:1046:c09:1::2"), 443, true},
        {"www.google.com", ip6("2404:6800:4004:81f::2004"), 443, false},
        {"update.microsoft.com", ip6("2606:2800:11f:17a5:191a:18d5:537:22f9"), 443, false}};
    for (Station* s : {&recep, &doctor}) {
        std::size_t k = 0;
        bool moved = false;
        for (std::int64_t t = o_.start_us + 20 * kSec + rng_.range(0, 9000) * kMs;
             t < end() - 5 * kSec; t += rng_.range(20, 45) * kSec) {
            if (renumbered_ && !moved && t >= renumber_at_) {
                // SLAAC in the new prefix as soon as the router announced it.
                auto i = static_cast<std::size_t>(s - st.data());
                keep_addresses(renumber_at_ + (200 + 100 * i) * kMs, *s);
                moved = true;
            }
            // A new temporary address before the next session, when one is due (and after
            // renumbering, the new prefix's addresses are already in use).
            if (t >= s->next_rotation &&
                !(renumbered_ && t >= renumber_at_ && t < renumber_at_ + kSec))
                new_temporary(t - 2 * kSec, *s);
            if (k % 5 == 4) resolve_router(t - kSec, *s);  // neighbour unreachability detection
            const Dest& d = office[k++ % office.size()];
            dns_aaaa(t, *s, d.name, d.address);
            if (d.quic) {
                quic_session(t + 10 * kMs, *s, d.name, d.address, d.port);
                continue;
            }
            Tcp c = connect_out(t + 10 * kMs, *s, d.address, d.port);
            handshake(c);
            Frame random(32);
            for (auto& b : random) b = static_cast<std::uint8_t>(rng_.next());
            tcp(c, true, tcpflag::psh | tcpflag::ack, tls_client_hello(2, d.name, random), 1 * kMs);
            Frame data(static_cast<std::size_t>(rng_.range(200, 1400)), 0x17);
            tcp(c, false, tcpflag::ack | tcpflag::psh, data, c.rtt);
            tcp(c, true, tcpflag::ack, {}, 1 * kMs);
            close(c);
        }
    }

    // The EHR server uploads its backup to a cloud over IPv6: its role may not reach the
    // internet (egress-denied in a clinic's policy).
    {
        const std::string name = "upload.karte-backup.jp";
        const Ip6 addr = ip6("2001:f60:2:8::41");
        std::int64_t t = at(0.30);
        truth_.incidents.push_back({"egress-denied",
                                    t,
                                    t,
                                    ehr.truth.mac,
                                    {{"name", name}, {"address", text6(addr)}, {"port", 443}}});
        std::size_t i = truth_.incidents.size() - 1;
        dns_aaaa(t, ehr, name, addr);
        Tcp c = connect_out(t + 20 * kMs, ehr, addr, 443);
        handshake(c);
        Frame random(32, 0x5a);
        tcp(c, true, tcpflag::psh | tcpflag::ack, tls_client_hello(1, name, random), 1 * kMs);
        for (int k = 0; k < 20; ++k) {
            tcp(c, true, tcpflag::ack, Frame(1380, 0x17), 2 * kMs);
            if (k % 4 == 3) tcp(c, false, tcpflag::ack, {}, c.rtt / 2);
        }
        close(c);
        truth_.incidents[i].end_us = c.t;
    }

    // TeamViewer on the reception PC over IPv6 (TCP 5938, TeamViewer framing).
    {
        const std::string name = "router7.teamviewer.com";
        const Ip6 addr = ip6("2a00:11c0:48:3::153");
        std::int64_t t = at(0.45);
        truth_.incidents.push_back(
            {"remote-access",
             t,
             t,
             recep.truth.mac,
             {{"tool", "TeamViewer"}, {"name", name}, {"address", text6(addr)}, {"port", 5938}}});
        std::size_t i = truth_.incidents.size() - 1;
        dns_aaaa(t, recep, name, addr);
        Tcp c = connect_out(t + 20 * kMs, recep, addr, 5938);
        handshake(c);
        Frame hello{0x17, 0x24, 0x0a, 0x20};
        hello.resize(56, 0x00);
        tcp(c, true, tcpflag::psh | tcpflag::ack, hello, 1 * kMs);
        for (int k = 0; k < 12; ++k) {
            Frame in{0x17, 0x24, 0x0b, 0x20};
            in.resize(static_cast<std::size_t>(rng_.range(60, 900)), 0x11);
            tcp(c, false, tcpflag::psh | tcpflag::ack, in, rng_.range(300, 2000) * kMs);
            Frame out{0x17, 0x24, 0x0c, 0x20};
            out.resize(static_cast<std::size_t>(rng_.range(40, 200)), 0x22);
            tcp(c, true, tcpflag::psh | tcpflag::ack, out, rng_.range(5, 50) * kMs);
        }
        close(c);
        truth_.incidents[i].end_us = c.t;
    }

    // An internet host opens the NAS's DSM (5001) over IPv6: no NAT, the router's IPv6 filter
    // lets it in, and the NAS answers.
    {
        const Ip6 scanner = ip6("2a01:4f8:c0c:1234::66");
        std::int64_t t = at(0.52);
        Tcp c;
        c.cmac = router_mac_;  // frames from the internet arrive from the router
        c.smac = nas.truth.mac;
        c.cip = scanner;
        c.sip = nas.stable;
        c.cport = static_cast<std::uint16_t>(rng_.range(30000, 60000));
        c.sport = 5001;
        c.cseq = rng_.u32();
        c.sseq = rng_.u32();
        c.t = t;
        c.rtt = 1 * kMs;
        truth_.incidents.push_back(
            {"inbound-exposure",
             t,
             t,
             nas.truth.mac,
             {{"source", text6(scanner)}, {"port", 5001}, {"address", text6(nas.stable)}}});
        std::size_t i = truth_.incidents.size() - 1;
        Tcp in = c;
        handshake(in);
        Frame random(32, 0x33);
        tcp(in, true, tcpflag::psh | tcpflag::ack, tls_client_hello(2, "", random), 1 * kMs);
        tcp(in, false, tcpflag::psh | tcpflag::ack, Frame(900, 0x16), 2 * kMs);
        close(in);
        truth_.incidents[i].end_us = in.t;
    }

    for (auto& s : st) {
        // A little IPv4 too: the LAN is dual-stack.
        for (std::int64_t t = o_.start_us + 90 * kSec; t < end(); t += 300 * kSec)
            arp_gateway(t + rng_.range(0, 5000) * kMs, s);
    }

    if (o_.incidents) {
        // A home router plugged into the LAN: its own RAs (a ULA prefix, M and O flags) every
        // 60 s from 25% on, and a DHCPv6 Advertise answering the doctor PC's Solicit.
        {
            MacAddress home = mac("10:6f:3f:c0:ff:01");
            Ip6 home_ll = with_iid(ip6("fe80::"), eui64_iid(home));
            Ip6 home_prefix = ip6("fdc2:1a2b:3c4d:1::");
            std::int64_t t0 = at(0.25), last = t0;
            begin_incident("rogue-ra", home, t0,
                           {{"prefix", text6(home_prefix) + "/64"},
                            {"flags", "M O"},
                            {"link_local", text6(home_ll)}});
            Ra ra;
            ra.flags = 0xc0;
            ra.slla = home;
            ra.mtu = 1500;
            ra.prefixes.push_back({home_prefix, 86400, 14400});
            ra.rdnss = {home_ll};
            for (std::int64_t t = t0; t < end() - kSec; t += 60 * kSec) {
                icmp(t, multicast_mac6(kAllNodes), home, home_ll, kAllNodes, 134, ra_body(ra));
                last = t;
            }
            end_incident(last);
            std::int64_t t = t0 + 5 * kSec;
            begin_incident("rogue-dhcpv6", home, t, {{"offered", "fdc2:1a2b:3c4d:1::1000"}});
            std::uint32_t xid = 0x4a1b2c;
            Frame sol;
            opt(sol, 1, duid_ll(doctor.truth.mac));
            Frame ia;
            put32(ia, 0x0e00155d);
            put32(ia, 0);
            put32(ia, 0);
            opt(sol, 3, ia);
            opt(sol, 8, Frame{0, 0});
            udp(t, multicast_mac6(kAllDhcp), doctor.truth.mac, doctor.link_local, kAllDhcp, 546,
                547, dhcp6(1, xid, sol), 1);
            Frame adv;
            opt(adv, 1, duid_ll(doctor.truth.mac));
            opt(adv, 2, duid_ll(home));
            Frame iaa;
            put32(iaa, 0x0e00155d);
            put32(iaa, 3600);
            put32(iaa, 5400);
            Frame addr;
            put_bytes(addr, ip6("fdc2:1a2b:3c4d:1::1000"));
            put32(addr, 7200);
            put32(addr, 7500);
            opt(iaa, 5, addr);
            opt(adv, 3, iaa);
            Frame dns;
            put_bytes(dns, home_ll);
            opt(adv, 23, dns);
            udp(t + 4 * kMs, doctor.truth.mac, home, home_ll, doctor.link_local, 547, 546,
                dhcp6(2, xid, adv));
            end_incident(t + 4 * kMs);
        }
        // An RA with the router's own link-local address from another MAC (a man in the
        // middle taking over the default route; its RDNSS points at itself).
        {
            MacAddress attacker = mac("b8:27:eb:66:00:01");
            Ip6 attacker_ll = with_iid(ip6("fe80::"), eui64_iid(attacker));
            std::int64_t t0 = at(0.40);
            begin_incident(
                "ra-impersonation", attacker, t0,
                {{"impersonated", text6(router_ll_)}, {"router_mac", router_mac_.to_string()}});
            Ra ra;
            ra.flags = 0x48;  // O, high preference
            ra.slla = attacker;
            ra.rdnss = {attacker_ll};
            ra.prefixes.push_back({old_prefix_, 2592000, 604800});
            for (int i = 0; i < 3; ++i)
                icmp(t0 + i * 10 * kSec, multicast_mac6(kAllNodes), attacker, router_ll_, kAllNodes,
                     134, ra_body(ra));
            end_incident(t0 + 20 * kSec);
        }
        // "Kill the router": RAs with router lifetime 0 from a device that is not the router.
        {
            MacAddress attacker = mac("b8:27:eb:66:00:02");
            Ip6 attacker_ll = with_iid(ip6("fe80::"), eui64_iid(attacker));
            std::int64_t t0 = at(0.50);
            begin_incident("ra-router-lifetime-zero", attacker, t0,
                           {{"link_local", text6(attacker_ll)}});
            Ra ra;
            ra.flags = 0;
            ra.lifetime = 0;
            ra.slla = attacker;
            ra.mtu = 0;
            for (int i = 0; i < 4; ++i)
                icmp(t0 + i * 3 * kSec, multicast_mac6(kAllNodes), attacker, attacker_ll, kAllNodes,
                     134, ra_body(ra));
            end_incident(t0 + 9 * kSec);
        }
        // NDP spoofing: unsolicited NAs (override) claiming the router's link-local address.
        {
            MacAddress attacker = mac("b8:27:eb:66:00:03");
            Ip6 attacker_ll = with_iid(ip6("fe80::"), eui64_iid(attacker));
            std::int64_t t0 = at(0.70);
            begin_incident("ndp-router-spoof", attacker, t0,
                           {{"address", text6(router_ll_)}, {"link_local", text6(attacker_ll)}});
            for (int i = 0; i < 5; ++i)
                icmp(t0 + i * 2 * kSec, multicast_mac6(kAllNodes), attacker, attacker_ll, kAllNodes,
                     136, na_body(router_ll_, 0xa0, attacker));
            end_incident(t0 + 8 * kSec);
        }
        // NDP spoofing of the router's global address by another device: duplicate address
        // detection for it (a device about to take it), then unsolicited NAs claiming it.
        {
            MacAddress attacker = mac("b8:27:eb:66:00:04");
            std::int64_t t0 = at(0.75);
            Ip6 target = router_global(t0);
            begin_incident("ndp-router-spoof", attacker, t0,
                           {{"address", text6(target)}, {"how", "duplicate-address-detection"}});
            icmp(t0, multicast_mac6(solicited_node(target)), attacker, kUnspecified,
                 solicited_node(target), 135, ns_body(target, std::nullopt));
            for (int i = 0; i < 3; ++i)
                icmp(t0 + (1 + i) * kSec, multicast_mac6(kAllNodes), attacker, target, kAllNodes,
                     136, na_body(target, 0x20, attacker));
            end_incident(t0 + 3 * kSec);
        }
    }

    std::sort(frames_.begin(), frames_.end(), [](const Timed& a, const Timed& b) {
        return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
    });
    for (const auto& f : frames_) {
        if (f.ts >= end()) continue;
        sink(f.ts, f.frame);
        if (truth_.packets == 0) truth_.first_us = f.ts;
        truth_.last_us = f.ts;
        ++truth_.packets;
        truth_.bytes += f.frame.size();
    }
    for (auto& s : st) truth_.hosts.push_back(s.truth);
    return truth_;
}

}  // namespace

Ipv6CaptureTruth generate_ipv6_capture(const Ipv6CaptureOptions& options, const FrameSink& sink) {
    Builder b(options);
    return b.run(sink);
}

nlohmann::json ipv6_truth_json(const Ipv6CaptureTruth& t) {
    using nlohmann::json;
    json hosts = json::array(), reg = json::array(), incidents = json::array(),
         names = json::array();
    reg.push_back({{"mac", t.router_mac.to_string()},
                   {"name", "RTX830"},
                   {"role", "router"},
                   {"responsible", "network vendor"}});
    for (const auto& h : t.hosts) {
        hosts.push_back({{"mac", h.mac.to_string()},
                         {"ip", ip4_text(h.ipv4)},
                         {"hostname", h.hostname},
                         {"role", h.role},
                         {"registered", h.registered},
                         {"link_local", h.link_local},
                         {"stable", h.stable},
                         {"temporary", h.temporary}});
        if (h.registered)
            reg.push_back({{"mac", h.mac.to_string()},
                           {"name", h.hostname},
                           {"role", h.role},
                           {"responsible", h.responsible}});
    }
    for (const auto& i : t.incidents)
        incidents.push_back({{"kind", i.kind},
                             {"start", format_iso_time(i.start_us)},
                             {"end", format_iso_time(i.end_us)},
                             {"start_us", i.start_us},
                             {"end_us", i.end_us},
                             {"hosts", {i.device.to_string()}},
                             {"details", i.details}});
    for (const auto& [n, a] : t.names) names.push_back({{"name", n}, {"address", a}});
    json quic = json::array();
    for (const auto& [n, a] : t.quic) quic.push_back({{"name", n}, {"address", a}});
    return {
        {"generator", "clinicwatch-make-capture --scenario ipv6"},
        {"capture",
         {{"packets", t.packets},
          {"bytes", t.bytes},
          {"start", format_iso_time(t.first_us)},
          {"end", format_iso_time(t.last_us)},
          {"start_us", t.first_us},
          {"end_us", t.last_us},
          {"seed", t.options.seed},
          {"incidents", t.options.incidents},
          {"linktype", 1},
          {"snaplen", 65535}}},
        {"network",
         {{"cidr", "192.168.100.0/24"},
          {"gateway_ip", ip4_text(t.router_ipv4)},
          {"gateway_mac", t.router_mac.to_string()},
          {"router_link_local", t.router_link_local},
          {"router_globals", t.router_globals},
          {"prefixes", t.prefixes},
          {"renumbered", t.renumbered_us ? json(format_iso_time(t.renumbered_us)) : json()},
          {"dns_servers", {t.router_link_local}},
          {"dhcpv6_servers",
           {{{"mac", t.router_mac.to_string()}, {"mode", "stateless"}, {"authorized", true}}}}}},
        {"names", names},
        {"quic", quic},
        {"hosts", hosts},
        {"register", reg},
        {"incidents", incidents}};
}

}  // namespace clinicwatch::bench
