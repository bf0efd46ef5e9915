#include "bench/hostile_capture.hpp"

#include <array>
#include <random>

#include "bench/clinic_payloads.hpp"

namespace clinicwatch::bench {

namespace {

constexpr std::uint32_t kLan = ip4(192, 168, 100, 0);
constexpr std::uint32_t kGatewayIp = ip4(192, 168, 100, 1);
const MacAddress kGatewayMac{{0x00, 0xa0, 0xde, 0x11, 0x22, 0x33}};  // Yamaha OUI
const MacAddress kAttackerMac{{0x00, 0x1b, 0x21, 0x66, 0x66, 0x66}};
constexpr std::uint32_t kAttackerIp = ip4(192, 168, 100, 66);

struct Names {
    HostileKind kind;
    std::string_view name;
};
constexpr std::array<Names, 7> kNames{{{HostileKind::mac_flood, "mac-flood"},
                                       {HostileKind::ip_flood, "ip-flood"},
                                       {HostileKind::destinations, "destinations"},
                                       {HostileKind::fragments, "fragments"},
                                       {HostileKind::broadcasts, "broadcasts"},
                                       {HostileKind::dns_huge, "dns-huge"},
                                       {HostileKind::syn_scan, "syn-scan"}}};

MacAddress mac_from(std::uint64_t v) {
    MacAddress m;
    for (int i = 5; i >= 0; --i, v >>= 8) m.bytes[static_cast<std::size_t>(i)] = v & 0xff;
    return m;
}

// A unicast, globally administered MAC (what macof sends), never one of ours.
MacAddress random_mac(std::mt19937_64& rng) {
    MacAddress m = mac_from(rng());
    m.bytes[0] &= 0xfc;
    if (m.bytes[0] == 0) m.bytes[0] = 0x04;
    return m;
}

// A public unicast IPv4 address (1.0.0.0 - 223.255.255.255, private ranges skipped).
std::uint32_t random_public_ip(std::mt19937_64& rng) {
    for (;;) {
        auto ip = static_cast<std::uint32_t>(rng() % (0xe0000000u - 0x01000000u)) + 0x01000000u;
        std::uint8_t a = ip >> 24, b = (ip >> 16) & 0xff;
        if (a == 10 || a == 127 || (a == 172 && (b & 0xf0) == 16) || (a == 192 && b == 168) ||
            (a == 169 && b == 254) || (a == 100 && (b & 0xc0) == 64))
            continue;
        return ip;
    }
}

std::string random_label(std::mt19937_64& rng, std::size_t length) {
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(length, 'a');
    for (auto& c : s) c = kChars[rng() % (sizeof(kChars) - 1)];
    return s;
}

Frame tcp_frame(const MacAddress& dst_mac, const MacAddress& src_mac, std::uint32_t src,
                std::uint32_t dst, std::uint16_t sport, std::uint16_t dport, std::uint8_t flags,
                std::uint32_t seq) {
    TcpHeader h;
    h.src_port = sport;
    h.dst_port = dport;
    h.seq = seq;
    h.ack = flags & tcpflag::ack ? seq ^ 0x5a5a5a5a : 0;
    h.flags = flags;
    h.window = 64240;
    h.options = TcpOptions().mss(1460).nop().window_scale(8).nop().nop().sack_permitted().finish();
    Ipv4Header ip{src, dst, ipproto::tcp, 128, static_cast<std::uint16_t>(seq), true, 0};
    return ethernet(dst_mac, src_mac, ethertype::ipv4, ipv4(ip, tcp4(src, dst, h, {})));
}

// DNS response with `answers` A records for one random name, each with its own long owner
// name (no compression): as large as a UDP datagram on Ethernet allows.
Frame huge_dns_answer(std::mt19937_64& rng, std::uint16_t id) {
    Frame dns;
    put16(dns, id);
    put16(dns, 0x8180);
    put16(dns, 1);                         // one question
    constexpr std::uint16_t kAnswers = 9;  // about 1400 bytes: one Ethernet frame
    put16(dns, kAnswers);
    put16(dns, 0);
    put16(dns, 0);
    std::string name = random_label(rng, 63) + "." + random_label(rng, 12) + ".example";
    put_dns_name(dns, name);
    put16(dns, 1);
    put16(dns, 1);
    for (std::uint16_t i = 0; i < kAnswers; ++i) {
        put_dns_name(dns, random_label(rng, 40) + "." + name);
        put16(dns, 1);
        put16(dns, 1);
        put32(dns, 86400);
        put16(dns, 4);
        put32(dns, random_public_ip(rng));
    }
    std::uint32_t client = ip4(192, 168, 100, 20);
    return ethernet(
        mac_from(0x0015'5d00'0020), kGatewayMac, ethertype::ipv4,
        ipv4({kGatewayIp, client, ipproto::udp, 64, id, true, 0},
             udp4(kGatewayIp, client, 53, static_cast<std::uint16_t>(40000 + id % 20000), dns)));
}

// Ordinary background: the gateway and a few PCs doing ARP and DNS.
Frame background_frame(std::mt19937_64& rng, std::uint64_t n) {
    std::uint8_t host = static_cast<std::uint8_t>(20 + n % 8);
    MacAddress mac = mac_from(0x0015'5d00'0000 + host);
    std::uint32_t ip = kLan | host;
    if (n % 2 == 0)
        return ethernet(kBroadcastMac, mac, ethertype::arp,
                        arp(1, mac, ip, MacAddress{}, kGatewayIp));
    auto id = static_cast<std::uint16_t>(rng());
    Frame q = dns_query(id, "www.example.jp", 1);
    return ethernet(kGatewayMac, mac, ethertype::ipv4,
                    ipv4({ip, kGatewayIp, ipproto::udp, 128, id, false, 0},
                         udp4(ip, kGatewayIp, static_cast<std::uint16_t>(50000 + host), 53, q)));
}

Frame hostile_frame(HostileKind kind, std::mt19937_64& rng, std::uint64_t n) {
    switch (kind) {
        case HostileKind::mac_flood: {
            MacAddress src = random_mac(rng);
            auto ip = kLan | static_cast<std::uint32_t>(2 + rng() % 250);
            return ethernet(kBroadcastMac, src, ethertype::arp,
                            arp(1, src, ip, MacAddress{}, kGatewayIp));
        }
        case HostileKind::ip_flood: {
            // Half inside the LAN (the inventory binds those to the sender), half outside.
            std::uint32_t src =
                n % 2 ? kLan | static_cast<std::uint32_t>(rng() % 254 + 1) : random_public_ip(rng);
            Frame payload(32, 0x41);
            return ethernet(
                kGatewayMac, kAttackerMac, ethertype::ipv4,
                ipv4({src, kGatewayIp, ipproto::udp, 64, static_cast<std::uint16_t>(n), false, 0},
                     udp4(src, kGatewayIp, static_cast<std::uint16_t>(rng()), 9, payload)));
        }
        case HostileKind::destinations:
            return tcp_frame(kGatewayMac, kAttackerMac, kAttackerIp, random_public_ip(rng),
                             static_cast<std::uint16_t>(1024 + rng() % 60000),
                             n % 3 ? 443 : static_cast<std::uint16_t>(rng()), tcpflag::syn,
                             static_cast<std::uint32_t>(rng()));
        case HostileKind::fragments: {
            // A fragment of a random datagram: random id, offset and more-fragments flag.
            std::uint32_t dst = n % 2 ? random_public_ip(rng) : kLan | (rng() % 254 + 1);
            Frame body(8 + rng() % 1400, static_cast<std::uint8_t>(n));
            Frame ip = ipv4({kAttackerIp, dst, n % 3 ? ipproto::udp : ipproto::tcp, 64,
                             static_cast<std::uint16_t>(rng()), false, 0},
                            body);
            std::uint16_t offset = static_cast<std::uint16_t>(rng() % 8000);
            std::uint16_t flags = rng() % 4 ? 0x2000 : 0;  // MF on most
            std::uint16_t field = static_cast<std::uint16_t>(flags | offset);
            ip[6] = static_cast<std::uint8_t>(field >> 8);
            ip[7] = static_cast<std::uint8_t>(field);
            ip[10] = ip[11] = 0;  // header checksum again over the changed field
            std::uint16_t sum = internet_checksum(ByteView(ip.data(), 20));
            ip[10] = static_cast<std::uint8_t>(sum >> 8);
            ip[11] = static_cast<std::uint8_t>(sum);
            return ethernet(kGatewayMac, kAttackerMac, ethertype::ipv4, ip);
        }
        case HostileKind::broadcasts: {
            Frame payload(64 + rng() % 200);
            for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
            auto src = kLan | static_cast<std::uint32_t>(30 + n % 4);
            return ethernet(
                kBroadcastMac, mac_from(0x0015'5d00'0030 + n % 4), ethertype::ipv4,
                ipv4({src, kLan | 255, ipproto::udp, 64, static_cast<std::uint16_t>(n), false, 0},
                     udp4(src, kLan | 255, 137, 137, payload)));
        }
        case HostileKind::dns_huge:
            return huge_dns_answer(rng, static_cast<std::uint16_t>(n));
        case HostileKind::syn_scan: {
            // Every fourth probe is answered: the target "offers" a random port.
            auto target = static_cast<std::uint8_t>(2 + rng() % 64);
            auto port = static_cast<std::uint16_t>(1 + rng() % 65535);
            MacAddress target_mac = mac_from(0x0015'5d00'0100 + target);
            std::uint32_t target_ip = kLan | target;
            if (n % 4 == 3)
                return tcp_frame(kAttackerMac, target_mac, target_ip, kAttackerIp, port, 40000,
                                 tcpflag::syn | tcpflag::ack, static_cast<std::uint32_t>(rng()));
            return tcp_frame(target_mac, kAttackerMac, kAttackerIp, target_ip, 40000, port,
                             tcpflag::syn, static_cast<std::uint32_t>(rng()));
        }
    }
    return {};
}

}  // namespace

const std::vector<HostileKind>& all_hostile_kinds() {
    static const std::vector<HostileKind> kinds = [] {
        std::vector<HostileKind> v;
        for (const auto& n : kNames) v.push_back(n.kind);
        return v;
    }();
    return kinds;
}

std::string_view to_string(HostileKind kind) {
    for (const auto& n : kNames)
        if (n.kind == kind) return n.name;
    return "?";
}

std::optional<HostileKind> parse_hostile_kind(std::string_view text) {
    for (const auto& n : kNames)
        if (n.name == text) return n.kind;
    return std::nullopt;
}

void generate_hostile_capture(const HostileOptions& options, const FrameSink& sink) {
    std::mt19937_64 rng(options.seed);
    const std::int64_t step = 1'000'000 / static_cast<std::int64_t>(std::max<std::uint64_t>(
                                              options.packets_per_second, 1));
    std::int64_t ts = options.start_us;
    for (std::uint64_t n = 0; n < options.packets; ++n, ts += std::max<std::int64_t>(step, 1)) {
        Frame f = n % 10 == 9 ? background_frame(rng, n) : hostile_frame(options.kind, rng, n);
        sink(ts, f);
    }
}

}  // namespace clinicwatch::bench
