#include "bench/outage_capture.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "bench/clinic_payloads.hpp"

namespace clinicwatch::bench {

namespace {

constexpr std::int64_t kMs = 1000;
constexpr std::int64_t kSec = 1'000'000;
constexpr std::int64_t kMin = 60 * kSec;

const std::map<std::string, OutageScenario>& scenario_table() {
    static const std::map<std::string, OutageScenario> table = {
        {"clean", OutageScenario::clean},
        {"ehr-down", OutageScenario::ehr_down},
        {"dns-down", OutageScenario::dns_down},
        {"dhcp-down", OutageScenario::dhcp_down},
        {"router-arp", OutageScenario::router_arp},
        {"throughput-ceiling", OutageScenario::throughput_ceiling},
        {"morning", OutageScenario::morning},
        {"night-off", OutageScenario::night_off},
        {"dead-name", OutageScenario::dead_name},
        {"capture-gap", OutageScenario::capture_gap},
        {"ehr-refused", OutageScenario::ehr_refused},
        {"dhcp-exhausted", OutageScenario::dhcp_exhausted},
        {"dns-failing", OutageScenario::dns_failing},
    };
    return table;
}

MacAddress mac(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint8_t e,
               std::uint8_t f) {
    return MacAddress{{a, b, c, d, e, f}};
}

struct Device {
    MacAddress mac;
    std::uint32_t ip = 0;
    std::string name, role, responsible, vendor;
    std::uint16_t next_port = 49152;
    std::uint32_t seq = 1000;
};

// A window of minutes [from, to) after the capture's start.
struct Window {
    int from = -1, to = -1;
    bool contains(std::int64_t offset_us) const {
        return from >= 0 && offset_us >= from * kMin && offset_us < to * kMin;
    }
};

class Generator {
  public:
    Generator(const OutageCaptureOptions& o)
        : o_(o), rng_state_(o.seed * 0x9e3779b97f4a7c15ULL + 7) {
        router_ = {mac(0x00, 0xa0, 0xde, 0x7a, 0x1c, 0x30),
                   ip4(192, 168, 100, 1),
                   "rtx830",
                   "router",
                   "network vendor",
                   "Yamaha"};
        ehr_ = {mac(0x00, 0x15, 0x5d, 0x10, 0x00, 0x0a),
                ip4(192, 168, 100, 10),
                "電子カルテサーバー",
                "ehr-server",
                "EHR vendor",
                "Microsoft"};
        nas_ = {mac(0x00, 0x11, 0x32, 0x20, 0x00, 0x0b),
                ip4(192, 168, 100, 11),
                "NAS",
                "nas",
                "network vendor",
                "Synology"};
        const char* ehr_names[] = {"診察室1", "診察室2", "診察室3", "処置室", "検査室", "看護師室"};
        for (int i = 0; i < 6; ++i)
            ehr_clients_.push_back(
                {mac(0x00, 0x1b, 0x21, 0xaa, 0xbb, static_cast<std::uint8_t>(0x21 + i)),
                 ip4(192, 168, 100, static_cast<std::uint8_t>(21 + i)), ehr_names[i], "ehr-client",
                 "EHR vendor", "Dell"});
        office_.push_back({mac(0x00, 0x1b, 0x21, 0xaa, 0xbb, 0x31), ip4(192, 168, 100, 31),
                           "受付PC", "reception", "clinic", "Dell"});
        office_.push_back({mac(0x00, 0x1b, 0x21, 0xaa, 0xbb, 0x32), ip4(192, 168, 100, 32),
                           "事務PC", "reception", "clinic", "Dell"});
        for (int i = 0; i < 3; ++i)
            newcomers_.push_back(
                {mac(0x3c, 0x22, 0xfb, 0x51, 0x00, static_cast<std::uint8_t>(i + 1)),
                 ip4(192, 168, 100, static_cast<std::uint8_t>(51 + i)),
                 "ノートPC" + std::to_string(i + 1), "ehr-client", "clinic", "Apple"});
        switch (o.scenario) {
            case OutageScenario::ehr_down:
                ehr_down_ = {10, 15};
                break;
            case OutageScenario::dns_down:
                dns_down_ = {12, 15};
                break;
            case OutageScenario::dhcp_down:
                dhcp_down_ = {20, 23};
                break;
            case OutageScenario::router_arp:
                arp_down_ = {5, 8};
                break;
            case OutageScenario::throughput_ceiling:
                ceiling_ = {10, 15};
                break;
            case OutageScenario::morning:
                ehr_down_ = {10, 15};
                dns_down_ = {17, 20};
                dhcp_down_ = {23, 26};
                break;
            case OutageScenario::capture_gap:
                gap_ = {10, 15};
                break;
            case OutageScenario::ehr_refused:
                refused_ = {10, 14};
                break;
            case OutageScenario::dhcp_exhausted:
                dhcp_full_ = {20, 23};
                break;
            case OutageScenario::dns_failing:
                dns_failing_ = {12, 15};
                break;
            default:
                break;
        }
        if (o.outage_from && o.outage_to) {
            Window w{*o.outage_from, *o.outage_to};
            if (w.from >= w.to) w = {};
            for (Window* each : {&ehr_down_, &dns_down_, &dhcp_down_, &arp_down_, &ceiling_, &gap_,
                                 &refused_, &dhcp_full_, &dns_failing_})
                if (each->from >= 0) *each = w;
        }
        night_ = o.scenario == OutageScenario::night_off;
    }

    ClinicCaptureTruth run(const FrameSink& sink) {
        for (int m = 0; m < o_.minutes; ++m) minute(m);
        if (dhcp_down_.from >= 0 || dhcp_full_.from >= 0 || o_.scenario == OutageScenario::clean ||
            o_.scenario == OutageScenario::dead_name || o_.scenario == OutageScenario::capture_gap)
            newcomers();
        std::stable_sort(frames_.begin(), frames_.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        ClinicCaptureTruth t;
        t.options.start_us = o_.start_us;
        t.options.duration_us = o_.minutes * kMin;
        t.options.seed = o_.seed;
        t.options.incidents = true;
        t.gateway_mac = router_.mac;
        t.gateway_ip = router_.ip;
        for (const auto& [ts, f] : frames_) {
            std::int64_t offset = ts - o_.start_us;
            if (gap_.contains(offset)) continue;
            sink(ts, f);
            if (!t.packets) t.first_us = ts;
            t.last_us = ts;
            ++t.packets;
            t.bytes += f.size();
        }
        auto host = [&](const Device& d, const std::string& addressing) {
            TruthHost h;
            h.mac = d.mac;
            h.ip = d.ip;
            h.hostname = d.name;
            h.role = d.role;
            h.responsible = d.responsible;
            h.vendor = d.vendor;
            h.addressing = addressing;
            t.hosts.push_back(h);
        };
        host(router_, "static");
        host(ehr_, "static");
        host(nas_, "static");
        for (const auto& d : ehr_clients_) host(d, "dhcp");
        for (const auto& d : office_) host(d, "dhcp");
        for (const auto& d : newcomers_) host(d, "dhcp");
        t.incidents = truth_;
        return t;
    }

  private:
    std::uint64_t next() {
        rng_state_ ^= rng_state_ << 13;
        rng_state_ ^= rng_state_ >> 7;
        rng_state_ ^= rng_state_ << 17;
        return rng_state_;
    }
    std::int64_t below(std::int64_t n) {
        return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n));
    }

    void put(std::int64_t offset, Frame f) {
        frames_.emplace_back(o_.start_us + offset, std::move(f));
    }

    void eth_ip(std::int64_t at, const Device& from, const Device& to, const Frame& ip_frame) {
        put(at, ethernet(to.mac, from.mac, ethertype::ipv4, ip_frame));
    }

    void tcp(std::int64_t at, const Device& from, const Device& to, std::uint16_t sport,
             std::uint16_t dport, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
             ByteView payload, std::uint16_t window = 64240) {
        TcpHeader h;
        h.src_port = sport;
        h.dst_port = dport;
        h.seq = seq;
        h.ack = ack;
        h.flags = flags;
        h.window = window;
        if (flags & tcpflag::syn)
            h.options =
                TcpOptions().mss(1460).nop().window_scale(8).nop().nop().sack_permitted().finish();
        Ipv4Header ip;
        ip.src = from.ip;
        ip.dst = to.ip;
        ip.protocol = ipproto::tcp;
        ip.ttl = 128;
        ip.id = static_cast<std::uint16_t>(next());
        eth_ip(at, from, to, ipv4(ip, tcp4(from.ip, to.ip, h, payload)));
    }

    void udp(std::int64_t at, const Device& from, const MacAddress& to_mac, std::uint32_t src_ip,
             std::uint32_t dst_ip, std::uint16_t sport, std::uint16_t dport, ByteView payload) {
        Ipv4Header ip;
        ip.src = src_ip;
        ip.dst = dst_ip;
        ip.protocol = ipproto::udp;
        ip.id = static_cast<std::uint16_t>(next());
        put(at, ethernet(to_mac, from.mac, ethertype::ipv4,
                         ipv4(ip, udp4(src_ip, dst_ip, sport, dport, payload))));
    }

    void arp_exchange(std::int64_t at, const Device& asker, const Device& target, bool answered) {
        put(at, ethernet(kBroadcastMac, asker.mac, ethertype::arp,
                         arp(1, asker.mac, asker.ip, MacAddress{}, target.ip)));
        if (answered)
            put(at + 300, ethernet(asker.mac, target.mac, ethertype::arp,
                                   arp(2, target.mac, target.ip, asker.mac, asker.ip)));
    }

    // A short TCP session: handshake, request, answer, close. Unanswered: the SYN and its
    // retransmissions (1 s and 3 s later), then the client gives up.
    void session(std::int64_t at, Device& client, Device& server, std::uint16_t port, bool answered,
                 std::size_t answer_bytes = 1200, bool refused = false) {
        std::uint16_t sport = client.next_port++;
        std::uint32_t cseq = client.seq += 100000, sseq = server.seq += 100000;
        if (!answered) {
            for (std::int64_t retry : {std::int64_t{0}, 1 * kSec, 3 * kSec})
                tcp(at + retry, client, server, sport, port, cseq, 0, tcpflag::syn, {});
            return;
        }
        if (refused) {
            // The host is up, nothing listens on the port: RST+ACK to each SYN; Windows tries
            // twice more, half a second apart.
            for (std::int64_t retry : {std::int64_t{0}, 500 * kMs, 1000 * kMs}) {
                tcp(at + retry, client, server, sport, port, cseq, 0, tcpflag::syn, {});
                tcp(at + retry + 300, server, client, port, sport, 0, cseq + 1,
                    tcpflag::rst | tcpflag::ack, {});
            }
            return;
        }
        Frame request(180, 0x41), answer(answer_bytes, 0x42);
        std::int64_t t = at;
        tcp(t, client, server, sport, port, cseq, 0, tcpflag::syn, {});
        tcp(t += 400, server, client, port, sport, sseq, cseq + 1, tcpflag::syn | tcpflag::ack, {});
        tcp(t += 200, client, server, sport, port, cseq + 1, sseq + 1, tcpflag::ack, {});
        tcp(t += 100, client, server, sport, port, cseq + 1, sseq + 1, tcpflag::ack | tcpflag::psh,
            request);
        tcp(t += 2000, server, client, port, sport, sseq + 1, cseq + 181,
            tcpflag::ack | tcpflag::psh, answer);
        std::uint32_t send = sseq + 1 + static_cast<std::uint32_t>(answer.size());
        tcp(t += 200, client, server, sport, port, cseq + 181, send, tcpflag::ack | tcpflag::fin,
            {});
        tcp(t += 300, server, client, port, sport, send, cseq + 182, tcpflag::ack | tcpflag::fin,
            {});
        tcp(t += 200, client, server, sport, port, cseq + 182, send + 1, tcpflag::ack, {});
    }

    // A file read from the NAS: `segments` full segments at `spacing_us`, every `retransmit_every`
    // th segment sent again 2 ms later (0: none), an ACK every second segment.
    void transfer(std::int64_t at, Device& client, Device& server, int segments,
                  std::int64_t spacing_us, int retransmit_every) {
        std::uint16_t sport = client.next_port++;
        std::uint32_t cseq = client.seq += 100000, sseq = server.seq += 10'000'000;
        std::int64_t t = at;
        tcp(t, client, server, sport, 445, cseq, 0, tcpflag::syn, {});
        tcp(t += 300, server, client, 445, sport, sseq, cseq + 1, tcpflag::syn | tcpflag::ack, {});
        tcp(t += 100, client, server, sport, 445, cseq + 1, sseq + 1, tcpflag::ack, {});
        Frame seg(1460, 0x55);
        std::uint32_t s = sseq + 1;
        for (int i = 0; i < segments; ++i) {
            t += spacing_us;
            tcp(t, server, client, 445, sport, s, cseq + 1, tcpflag::ack, seg);
            if (retransmit_every && i % retransmit_every == retransmit_every - 1)
                tcp(t + 2 * kMs, server, client, 445, sport, s, cseq + 1, tcpflag::ack, seg);
            s += 1460;
            if (i % 2 == 1) tcp(t + 30, client, server, sport, 445, cseq + 1, s, tcpflag::ack, {});
        }
        tcp(t += 5 * kMs, client, server, sport, 445, cseq + 1, s, tcpflag::ack | tcpflag::fin, {});
        tcp(t += 300, server, client, 445, sport, s, cseq + 2, tcpflag::ack | tcpflag::fin, {});
    }

    void dns(std::int64_t at, Device& client, const std::string& name, bool answered,
             std::uint16_t rcode = 0) {
        std::uint16_t id = static_cast<std::uint16_t>(next());
        std::uint16_t sport = client.next_port++;
        Frame q = dns_query(id, name, 1);
        if (!answered) {
            // Windows' resolver: again after 1 s and 2 s more, then gives up.
            for (std::int64_t retry : {std::int64_t{0}, 1 * kSec, 3 * kSec})
                udp(at + retry, client, router_.mac, client.ip, router_.ip, sport, 53, q);
            return;
        }
        udp(at, client, router_.mac, client.ip, router_.ip, sport, 53, q);
        DnsAnswerChain chain;
        chain.name = name;
        if (rcode == 0)
            chain.addresses = {ip4(203, 0, 113, static_cast<std::uint8_t>(10 + below(50)))};
        Frame a = dns_response(id, chain, static_cast<std::uint16_t>(0x8180 | rcode));
        udp(at + 8 * kMs, router_, client.mac, router_.ip, client.ip, 53, sport, a);
    }

    void dhcp(std::int64_t at, Device& client, std::uint8_t type, std::uint32_t xid,
              bool from_server) {
        DhcpMessage m;
        m.op = from_server ? 2 : 1;
        m.xid = xid;
        m.chaddr = client.mac;
        if (from_server && type != 6) m.yiaddr = client.ip;
        DhcpOptions opt;
        opt.add_u8(53, type);
        if (from_server && type == 6) {
            // A NAK carries only the server's identifier.
            opt.add_ip(54, router_.ip);
            udp(at, router_, kBroadcastMac, router_.ip, 0xffffffff, 67, 68, dhcp_payload(m, opt));
        } else if (from_server) {
            opt.add_ip(54, router_.ip).add_u32(51, 86400).add_ip(1, ip4(255, 255, 255, 0));
            opt.add_ip(3, router_.ip).add_ip(6, router_.ip);
            udp(at, router_, kBroadcastMac, router_.ip, 0xffffffff, 67, 68, dhcp_payload(m, opt));
        } else {
            if (type == 3) opt.add_ip(50, client.ip).add_ip(54, router_.ip);
            udp(at, client, kBroadcastMac, 0, 0xffffffff, 68, 67, dhcp_payload(m, opt));
        }
    }

    // A device getting an address: DISCOVER, OFFER, REQUEST, ACK.
    void dora(std::int64_t at, Device& client) {
        auto xid = static_cast<std::uint32_t>(next());
        dhcp(at, client, 1, xid, false);
        dhcp(at + 5 * kMs, client, 2, xid, true);
        dhcp(at + 20 * kMs, client, 3, xid, false);
        dhcp(at + 25 * kMs, client, 5, xid, true);
    }

    void record(const std::string& kind, const Device& server, Window w,
                const std::vector<const Device*>& clients) {
        TruthIncident in;
        in.kind = kind;
        in.start_us = o_.start_us + w.from * kMin;
        in.end_us = o_.start_us + w.to * kMin;
        for (const auto* c : clients) in.hosts.push_back(c->mac);
        in.details = {{"server_ip", ip4_text(server.ip)}, {"server_mac", server.mac.to_string()}};
        truth_.push_back(std::move(in));
    }

    void minute(int m) {
        std::int64_t base = m * kMin;
        if (night_) {
            // Two PCs left on at the nurses' station; the EHR server is switched off at 22:10.
            for (int i = 4; i < 6; ++i) {
                dns(base + (10 + i) * kSec + below(kSec), ehr_clients_[i], "time.windows.com",
                    true);
                if (m % 5 == i - 4) arp_exchange(base + 40 * kSec, ehr_clients_[i], router_, true);
            }
            if (m < 10 && m % 2 == 0) arp_exchange(base + 5 * kSec, router_, ehr_, true);
            if (m == 20) {
                for (std::int64_t r : {std::int64_t{0}, 1 * kSec, 2 * kSec})
                    put(base + 30 * kSec + r,
                        ethernet(kBroadcastMac, router_.mac, ethertype::arp,
                                 arp(1, router_.mac, router_.ip, MacAddress{}, ehr_.ip)));
            }
            return;
        }
        std::vector<Device*> pcs;
        for (auto& d : ehr_clients_) pcs.push_back(&d);
        for (auto& d : office_) pcs.push_back(&d);
        // The EHR: each examination-room PC opens a session twice a minute.
        for (auto& c : ehr_clients_) {
            for (int half = 0; half < 2; ++half) {
                std::int64_t at = base + half * 30 * kSec + below(25 * kSec) + kSec;
                bool up = !ehr_down_.contains(at);
                session(at, c, ehr_, 80, up, 1200, refused_.contains(at));
            }
        }
        // Office PCs read from the NAS.
        for (auto& c : office_) {
            std::int64_t at = base + 5 * kSec + below(40 * kSec);
            if (o_.scenario == OutageScenario::throughput_ceiling) {
                bool slow = ceiling_.contains(at);
                // 400 KB: at ~580 Mbit/s normally, at ~95 Mbit/s through the 100 Mbit/s hop
                // with one segment in 25 sent twice.
                transfer(at, c, nas_, 274, slow ? 123 : 20, slow ? 25 : 0);
            } else {
                session(at, c, nas_, 445, true, 1400);
            }
        }
        // DNS through the router's forwarder, and ARP for the router.
        for (std::size_t i = 0; i < pcs.size(); ++i) {
            Device& c = *pcs[i];
            std::int64_t at = base + below(55 * kSec) + kSec;
            bool router_arp_down = arp_down_.contains(base);
            if (router_arp_down) {
                // Without the router's MAC nothing goes out: the PC keeps asking.
                for (std::int64_t s = static_cast<std::int64_t>(i) * 300 * kMs; s < kMin;
                     s += 5 * kSec)
                    arp_exchange(base + s, c, router_, false);
                continue;
            }
            // SERVFAIL (rcode 2): the forwarder answers but its upstream is gone.
            dns(at, c, i % 2 ? "www.mhlw.go.jp" : "update.ehr-vendor.example",
                !dns_down_.contains(at), dns_failing_.contains(at) ? 2 : 0);
            if (m % 5 == static_cast<int>(i % 5))
                arp_exchange(base + 50 * kSec + static_cast<std::int64_t>(i) * kSec, c, router_,
                             true);
        }
        // The EHR server and the NAS resolve names too, and the router refreshes its ARP cache.
        if (m % 3 == 0) arp_exchange(base + 57 * kSec, router_, ehr_, true);
        if (m % 4 == 1) arp_exchange(base + 58 * kSec, router_, nas_, true);
        // DHCP renewals: one PC a minute, answered unless DHCP is down (then it retries).
        Device& renewing = *pcs[static_cast<std::size_t>(m) % pcs.size()];
        std::int64_t at = base + 45 * kSec;
        auto xid = static_cast<std::uint32_t>(next());
        dhcp(at, renewing, 3, xid, false);
        if (!dhcp_down_.contains(at)) dhcp(at + 4 * kMs, renewing, 5, xid, true);
        if (o_.scenario == OutageScenario::dead_name) {
            // One PC asks every 10 s for a server that was retired (NXDOMAIN), and another
            // keeps trying the retired server's old address.
            for (int s = 0; s < 60; s += 10)
                dns(base + s * kSec + 500 * kMs, office_[0], "old-ehr.clinic.local", true, 3);
            Device retired{
                mac(0x00, 0x15, 0x5d, 0x10, 0x00, 0x50), ip4(192, 168, 100, 50), "", "", "", ""};
            for (int s = 0; s < 60; s += 15) {
                arp_exchange(base + s * kSec + 200 * kMs, office_[1], retired, false);
                session(base + s * kSec + 300 * kMs, office_[1], retired, 445, false);
            }
        }
    }

    // Laptops arriving (and, with DHCP down, asking in vain every 4 s until it comes back).
    void newcomers() {
        for (std::size_t i = 0; i < newcomers_.size(); ++i) {
            Device& n = newcomers_[i];
            int from = dhcp_down_.from >= 0   ? dhcp_down_.from
                       : dhcp_full_.from >= 0 ? dhcp_full_.from
                                              : 20;
            std::int64_t arrive = from * kMin + static_cast<std::int64_t>(i) * 20 * kSec + 3 * kSec;
            std::int64_t t = arrive;
            auto xid = static_cast<std::uint32_t>(next());
            while (dhcp_down_.contains(t)) {
                dhcp(t, n, 1, xid, false);
                t += 4 * kSec;
            }
            // Out of addresses: no OFFER for the DISCOVERs; the laptop then asks for the address
            // it had yesterday (INIT-REBOOT REQUEST) and is told NAK; again and again.
            for (int round = 0; dhcp_full_.contains(t); ++round) {
                auto attempt = static_cast<std::uint32_t>(next());
                if (round % 2 == 0) {
                    dhcp(t, n, 1, attempt, false);
                } else {
                    dhcp(t, n, 3, attempt, false);
                    dhcp(t + 3 * kMs, n, 6, attempt, true);
                }
                t += 4 * kSec;
            }
            if (t >= o_.minutes * kMin) continue;
            dora(t, n);
            session(t + 2 * kSec, n, ehr_, 80, !ehr_down_.contains(t + 2 * kSec), 1200,
                    refused_.contains(t + 2 * kSec));
        }
    }

  public:
    void script_truth() {
        std::vector<const Device*> ehr_users;
        for (const auto& d : ehr_clients_) ehr_users.push_back(&d);
        if (ehr_down_.from >= 0) record("server-not-answering", ehr_, ehr_down_, ehr_users);
        if (refused_.from >= 0) record("service-not-running", ehr_, refused_, ehr_users);
        if (dhcp_full_.from >= 0) {
            std::vector<const Device*> left;
            for (const auto& d : newcomers_) left.push_back(&d);
            record("dhcp-out-of-addresses", router_, dhcp_full_, left);
        }
        std::vector<const Device*> pcs = ehr_users;
        for (const auto& d : office_) pcs.push_back(&d);
        if (dns_down_.from >= 0) record("dns-not-answering", router_, dns_down_, pcs);
        if (dns_failing_.from >= 0) record("dns-not-answering", router_, dns_failing_, pcs);
        if (arp_down_.from >= 0) record("router-not-answering-arp", router_, arp_down_, pcs);
        if (dhcp_down_.from >= 0) {
            std::vector<const Device*> left;
            for (const auto& d : newcomers_) left.push_back(&d);
            // The PCs whose renewal went unanswered: one a minute.
            for (int m = dhcp_down_.from; m < dhcp_down_.to; ++m)
                left.push_back(pcs[static_cast<std::size_t>(m) % pcs.size()]);
            record("dhcp-not-answering", router_, dhcp_down_, left);
        }
        if (ceiling_.from >= 0) {
            std::vector<const Device*> office;
            for (const auto& d : office_) office.push_back(&d);
            record("throughput-ceiling", nas_, ceiling_, office);
        }
    }

  private:
    OutageCaptureOptions o_;
    std::uint64_t rng_state_;
    Device router_, ehr_, nas_;
    std::vector<Device> ehr_clients_, office_, newcomers_;
    Window ehr_down_, dns_down_, dhcp_down_, arp_down_, ceiling_, gap_, refused_, dhcp_full_,
        dns_failing_;
    bool night_ = false;
    std::vector<std::pair<std::int64_t, Frame>> frames_;
    std::vector<TruthIncident> truth_;
};

}  // namespace

std::optional<OutageScenario> parse_outage_scenario(const std::string& name) {
    auto it = scenario_table().find(name);
    if (it == scenario_table().end()) return std::nullopt;
    return it->second;
}

std::string outage_scenario_name(OutageScenario s) {
    for (const auto& [name, value] : scenario_table())
        if (value == s) return name;
    return "clean";
}

std::vector<std::string> outage_scenario_names() {
    std::vector<std::string> out;
    for (const auto& [name, value] : scenario_table()) out.push_back(name);
    return out;
}

ClinicCaptureTruth generate_outage_capture(const OutageCaptureOptions& options,
                                           const FrameSink& sink) {
    if (options.minutes < 5 || options.minutes > 24 * 60)
        throw ClinicCaptureError("outage capture: minutes must be 5 to 1440");
    Generator g(options);
    g.script_truth();
    return g.run(sink);
}

}  // namespace clinicwatch::bench
