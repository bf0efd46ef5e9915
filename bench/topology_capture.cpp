#include "bench/topology_capture.hpp"

#include <algorithm>
#include <map>

#include "bench/clinic_payloads.hpp"

namespace clinicwatch::bench {

namespace {

constexpr std::int64_t kMs = 1000;
constexpr std::int64_t kSec = 1'000'000;
const MacAddress kLldpMac{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}};
const MacAddress kCdpMac{{0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc}};
const MacAddress kStpMac{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}};

MacAddress mac(const char* text) {
    return MacAddress::parse(text).value_or(MacAddress{});
}

void lldp_tlv(Frame& f, std::uint8_t type, ByteView value) {
    put16(f, static_cast<std::uint16_t>((type << 9) | value.size()));
    put_bytes(f, value);
}
void lldp_tlv(Frame& f, std::uint8_t type, std::uint8_t subtype, std::string_view text) {
    Frame v{subtype};
    put_text(v, text);
    lldp_tlv(f, type, v);
}

void cdp_tlv(Frame& f, std::uint16_t type, ByteView value) {
    put16(f, type);
    put16(f, static_cast<std::uint16_t>(value.size() + 4));
    put_bytes(f, value);
}

// Frames in time order: everything is collected, sorted (stable: equal times keep their order)
// and handed over; the segments here are a few thousand frames.
class Timeline {
  public:
    void add(std::int64_t t, Frame f) { frames_.push_back({t, seq_++, std::move(f)}); }
    std::uint64_t flush(const FrameSink& sink, bool twice) {
        std::sort(frames_.begin(), frames_.end(), [](const auto& a, const auto& b) {
            return a.t != b.t ? a.t < b.t : a.seq < b.seq;
        });
        std::uint64_t n = 0;
        for (const auto& e : frames_) {
            sink(e.t, e.frame);
            ++n;
            if (twice) {
                sink(e.t, e.frame);
                ++n;
            }
        }
        return n;
    }

  private:
    struct Entry {
        std::int64_t t;
        std::uint64_t seq;
        Frame frame;
    };
    std::vector<Entry> frames_;
    std::uint64_t seq_ = 0;
};

struct Station {
    MacAddress mac;
    std::uint32_t ip = 0;
    std::uint16_t ip_id = 1;
};

Frame udp_frame(Station& s, const MacAddress& dst_mac, std::uint32_t dst_ip, std::uint16_t sport,
                std::uint16_t dport, ByteView payload, std::uint32_t src_ip = 0) {
    std::uint32_t src = src_ip ? src_ip : s.ip;
    Frame seg = udp4(src, dst_ip, sport, dport, payload);
    return ethernet(dst_mac, s.mac, ethertype::ipv4,
                    ipv4(Ipv4Header{src, dst_ip, ipproto::udp, 128, s.ip_id++, false, 0}, seg));
}

Frame tcp_frame(Station& s, std::uint32_t src_ip, const MacAddress& dst_mac, std::uint32_t dst_ip,
                std::uint16_t sport, std::uint16_t dport, std::uint8_t flags, std::uint32_t seq,
                std::uint32_t ack, ByteView payload = {}) {
    TcpHeader h;
    h.src_port = sport;
    h.dst_port = dport;
    h.seq = seq;
    h.ack = ack;
    h.flags = flags;
    h.window = 64240;
    if (flags & tcpflag::syn)
        h.options = TcpOptions().mss(1460).nop().nop().sack_permitted().finish();
    Frame seg = tcp4(src_ip, dst_ip, h, payload);
    return ethernet(dst_mac, s.mac, ethertype::ipv4,
                    ipv4(Ipv4Header{src_ip, dst_ip, ipproto::tcp, 128, s.ip_id++, true, 0}, seg));
}

// A short TCP session: handshake, one request, one answer, as the mirror port sees both ways.
void tcp_session(Timeline& tl, std::int64_t t, Station& client, std::uint32_t client_ip,
                 const MacAddress& server_mac_seen_by_client, Station& server_side,
                 std::uint32_t server_ip, std::uint16_t sport, std::uint16_t dport) {
    static const std::uint8_t request[] = {'G', 'E', 'T', ' ', '/', ' ',  'H',  'T',  'T',
                                           'P', '/', '1', '.', '1', '\r', '\n', '\r', '\n'};
    static const std::uint8_t answer[] = {'H', 'T', 'T', 'P', '/', '1',  '.',  '1',  ' ', '2',
                                          '0', '0', ' ', 'O', 'K', '\r', '\n', '\r', '\n'};
    std::uint32_t c = 1000 + sport, s = 5000 + sport;
    tl.add(t, tcp_frame(client, client_ip, server_mac_seen_by_client, server_ip, sport, dport,
                        tcpflag::syn, c, 0));
    tl.add(t + 2 * kMs, tcp_frame(server_side, server_ip, client.mac, client_ip, dport, sport,
                                  tcpflag::syn | tcpflag::ack, s, c + 1));
    tl.add(t + 3 * kMs, tcp_frame(client, client_ip, server_mac_seen_by_client, server_ip, sport,
                                  dport, tcpflag::ack | tcpflag::psh, c + 1, s + 1, request));
    tl.add(t + 6 * kMs,
           tcp_frame(server_side, server_ip, client.mac, client_ip, dport, sport,
                     tcpflag::ack | tcpflag::psh, s + 1, c + 1 + sizeof(request), answer));
}

void arp_pair(Timeline& tl, std::int64_t t, const Station& asker, std::uint32_t asker_ip,
              const Station& answerer, std::uint32_t answerer_ip) {
    tl.add(t, ethernet(kBroadcastMac, asker.mac, ethertype::arp,
                       arp(1, asker.mac, asker_ip, MacAddress{}, answerer_ip)));
    tl.add(t + 400, ethernet(asker.mac, answerer.mac, ethertype::arp,
                             arp(2, answerer.mac, answerer_ip, asker.mac, asker_ip)));
}

// The internet LAN's DHCP exchange: DISCOVER, OFFER, REQUEST, ACK with mask, router and DNS.
void dhcp_dora(Timeline& tl, std::int64_t t, Station& router, Station& client, std::uint32_t ip,
               const std::string& name) {
    DhcpMessage m;
    m.xid = 0x1000 + ip % 256;
    m.chaddr = client.mac;
    auto client_opts = [&](std::uint8_t type) {
        DhcpOptions o;
        o.add_u8(53, type).add(12, name);
        if (type == 3) o.add_ip(50, ip).add_ip(54, router.ip);
        static const std::uint8_t prl[] = {1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252};
        o.add(55, ByteView(prl));
        return o;
    };
    auto server_opts = [&](std::uint8_t type) {
        DhcpOptions o;
        o.add_u8(53, type).add_ip(54, router.ip).add_u32(51, 86400);
        o.add_ip(1, ip4(255, 255, 255, 0)).add_ip(3, router.ip).add_ip(6, router.ip);
        return o;
    };
    Station unbound{client.mac, 0, 1};
    tl.add(t,
           udp_frame(unbound, kBroadcastMac, 0xffffffff, 68, 67, dhcp_payload(m, client_opts(1))));
    DhcpMessage offer = m;
    offer.op = 2;
    offer.yiaddr = ip;
    tl.add(t + 3 * kMs,
           udp_frame(router, client.mac, ip, 67, 68, dhcp_payload(offer, server_opts(2))));
    tl.add(t + 5 * kMs,
           udp_frame(unbound, kBroadcastMac, 0xffffffff, 68, 67, dhcp_payload(m, client_opts(3))));
    tl.add(t + 8 * kMs,
           udp_frame(router, client.mac, ip, 67, 68, dhcp_payload(offer, server_opts(5))));
}

TopologyTruth two_subnets(const TopologyCaptureOptions& o, const FrameSink& sink, bool closed) {
    TopologyTruth truth;
    Timeline tl;
    const std::int64_t t0 = o.start_us, end = o.start_us + o.duration_us;
    Station router{mac("00:a0:de:6a:10:01"), ip4(192, 168, 100, 1)};
    Station internet_side = router;  // answers from the internet arrive from the router's MAC
    const std::uint32_t web = ip4(203, 0, 113, 80);
    std::vector<Station> pcs = {{mac("98:e7:43:20:00:01"), ip4(192, 168, 100, 101)},
                                {mac("98:e7:43:20:00:02"), ip4(192, 168, 100, 102)},
                                {mac("f8:0d:ac:20:00:03"), ip4(192, 168, 100, 103)}};
    Station ehr{mac("c8:f7:50:10:00:10"), ip4(192, 168, 10, 10)};
    std::vector<Station> terminals = {{mac("6c:e4:da:10:01:01"), ip4(192, 168, 10, 101)},
                                      {mac("6c:e4:da:10:01:02"), ip4(192, 168, 10, 102)}};
    // The PC the EHR vendor gave a second address on the closed network, on the same cable.
    Station both{mac("50:81:40:aa:bb:01"), ip4(192, 168, 100, 50)};
    const std::uint32_t both_closed = ip4(192, 168, 10, 50);

    truth.router_mac = router.mac;
    truth.subnets = {"192.168.100.0/24"};
    for (std::size_t i = 0; i < pcs.size(); ++i)
        dhcp_dora(tl, t0 + static_cast<std::int64_t>(2 + i) * kSec, router, pcs[i], pcs[i].ip,
                  "PC-" + std::to_string(i + 1));
    if (closed) {
        truth.subnets.push_back("192.168.10.0/24");
        truth.bridging_mac = both.mac;
        truth.bridging_addresses = {"192.168.100.50", "192.168.10.50"};
        dhcp_dora(tl, t0 + 6 * kSec, router, both, both.ip, "KARTE-GW");
    }
    std::uint16_t port = 49152;
    for (std::int64_t t = t0 + 10 * kSec; t < end; t += 30 * kSec) {
        std::int64_t at = t;
        for (auto& pc : pcs) {
            if ((t - t0) % (120 * kSec) < 30 * kSec) arp_pair(tl, at, pc, pc.ip, router, router.ip);
            tcp_session(tl, at + 50 * kMs, pc, pc.ip, router.mac, internet_side, web, port++, 443);
            at += 700 * kMs;
        }
        if (!closed) continue;
        for (auto& term : terminals) {
            if ((t - t0) % (120 * kSec) < 30 * kSec) arp_pair(tl, at, term, term.ip, ehr, ehr.ip);
            tcp_session(tl, at + 50 * kMs, term, term.ip, ehr.mac, ehr, ehr.ip, port++, 80);
            at += 700 * kMs;
        }
        // The joining PC: on the internet through the router from one address, at the EHR
        // server from the other, all the time (not one address after the other).
        arp_pair(tl, at, both, both.ip, router, router.ip);
        tcp_session(tl, at + 50 * kMs, both, both.ip, router.mac, internet_side, web, port++, 443);
        arp_pair(tl, at + 300 * kMs, both, both_closed, ehr, ehr.ip);
        tcp_session(tl, at + 350 * kMs, both, both_closed, ehr.mac, ehr, ehr.ip, port++, 80);
    }
    truth.packets = tl.flush(sink, o.double_mirrored);
    return truth;
}

TopologyTruth clinic(const TopologyCaptureOptions& o, const FrameSink& sink) {
    ClinicCaptureOptions co;
    co.packets = o.clinic_packets;
    co.start_us = o.start_us;
    co.duration_us = o.duration_us;
    co.incidents = true;
    // First pass for the clinic's own devices (the switch's MAC comes from the seed).
    ClinicCaptureTruth clinic_truth = generate_clinic_capture(co, [](std::int64_t, ByteView) {});
    TopologyTruth truth;
    MacAddress sw, foreign;
    for (const auto& h : clinic_truth.hosts) {
        if (h.role == "switch") sw = h.mac;
        if (h.role == "home-router") foreign = h.mac;
    }
    truth.router_mac = clinic_truth.gateway_mac;
    truth.router_name = "RTX830";
    truth.switch_mac = sw;
    truth.switch_name = "SW-1F-CORE";
    truth.switch_model = "AT-x230-18GP";
    truth.ap_mac = mac("00:3a:9a:51:0a:01");
    truth.ap_name = "AP-2F-NURSE";
    truth.ap_model = "AIR-AP1815I-Q-K9";
    truth.second_switch_mac = mac("cc:e1:d5:40:22:10");
    truth.foreign_router_mac = foreign;
    truth.subnets = {"192.168.100.0/24", "192.168.11.0/24"};

    Timeline tl;
    const std::int64_t t0 = o.start_us, end = o.start_us + o.duration_us;
    LldpAnnouncement rtx{clinic_truth.gateway_mac,
                         "LAN1",
                         "LAN1",
                         "RTX830",
                         "RTX830 Rev.15.02.30 (Fri Nov  8 10:00:00 2024)",
                         0x10,
                         clinic_truth.gateway_ip};
    LldpAnnouncement core{
        sw,
        "port1.0.1",
        "to RTX830 LAN1",
        "SW-1F-CORE",
        "Allied Telesis router/switch, AlliedWare Plus (TM) 5.5.2-0.1 AT-x230-18GP",
        0x04,
        ip4(192, 168, 100, 2)};
    LldpAnnouncement ap{truth.ap_mac,
                        "GigabitEthernet0",
                        "GigabitEthernet0",
                        "AP-2F-NURSE",
                        "Cisco AP Software, ap1g5-k9w8 Version: 8.10.185.0",
                        0x0c,
                        ip4(192, 168, 100, 3)};
    CdpAnnouncement ap_cdp{"AP-2F-NURSE",
                           "cisco AIR-AP1815I-Q-K9",
                           "Cisco AP Software, ap1g5-k9w8 Version: 8.10.185.0",
                           "GigabitEthernet0",
                           0x0002 | 0x0020,
                           ip4(192, 168, 100, 3)};
    for (std::int64_t t = t0 + 1 * kSec; t < end; t += 30 * kSec) {
        tl.add(t, lldp_frame(clinic_truth.gateway_mac, rtx));
        tl.add(t + 100 * kMs, lldp_frame(sw, core));
        tl.add(t + 200 * kMs, lldp_frame(truth.ap_mac, ap));
    }
    for (std::int64_t t = t0 + 3 * kSec; t < end; t += 60 * kSec)
        tl.add(t, cdp_frame(truth.ap_mac, ap_cdp));
    // The second floor's small switch: STP only, the core switch is its root.
    truth.second_switch_bridge = "32768/" + truth.second_switch_mac.to_string();
    MacAddress port_mac = truth.second_switch_mac;
    port_mac.bytes[5] = static_cast<std::uint8_t>(port_mac.bytes[5] + 1);
    for (std::int64_t t = t0 + 1300 * kMs; t < end; t += 2 * kSec)
        tl.add(t, bpdu_frame(port_mac, 0x8000, sw, 20000, 0x8000, truth.second_switch_mac, 0x8001));
    // The access point answers ARP for its management address.
    Station ap_station{truth.ap_mac, ip4(192, 168, 100, 3)};
    Station gw{clinic_truth.gateway_mac, clinic_truth.gateway_ip};
    for (std::int64_t t = t0 + 5 * kSec; t < end; t += 120 * kSec)
        arp_pair(tl, t, ap_station, ap_station.ip, gw, gw.ip);

    // Merge: the extra frames join the clinic's in time order.
    std::vector<std::pair<std::int64_t, Frame>> extra;
    tl.flush([&](std::int64_t t, ByteView f) { extra.emplace_back(t, Frame(f.begin(), f.end())); },
             false);
    std::size_t next = 0;
    std::uint64_t count = 0;
    auto emit = [&](std::int64_t t, ByteView f) {
        sink(t, f);
        ++count;
        if (o.double_mirrored) {
            sink(t, f);
            ++count;
        }
    };
    truth.clinic = generate_clinic_capture(co, [&](std::int64_t t, ByteView f) {
        while (next < extra.size() && extra[next].first <= t) {
            emit(extra[next].first, extra[next].second);
            ++next;
        }
        emit(t, f);
    });
    std::int64_t last = truth.clinic.last_us;
    for (; next < extra.size(); ++next) emit(std::max(last, extra[next].first), extra[next].second);
    // The access point and the second switch belong to the clinic (registered).
    TruthHost a;
    a.mac = truth.ap_mac;
    a.ip = ap_station.ip;
    a.hostname = "AP-2F-NURSE";
    a.vendor = "Cisco Systems, Inc";
    a.role = "wifi-ap";
    a.addressing = "static";
    a.responsible = "network vendor";
    truth.clinic.hosts.push_back(a);
    truth.packets = count;
    return truth;
}

}  // namespace

Frame lldp_frame(const MacAddress& src, const LldpAnnouncement& a) {
    Frame f;
    Frame chassis{4};
    put_mac(chassis, a.chassis);
    lldp_tlv(f, 1, chassis);
    lldp_tlv(f, 2, 5, a.port_id);  // interface name
    Frame ttl;
    put16(ttl, 120);
    lldp_tlv(f, 3, ttl);
    Frame text;
    put_text(text, a.port_description);
    lldp_tlv(f, 4, text);
    text.clear();
    put_text(text, a.system_name);
    lldp_tlv(f, 5, text);
    text.clear();
    put_text(text, a.system_description);
    lldp_tlv(f, 6, text);
    Frame caps;
    put16(caps, a.capabilities);
    put16(caps, a.capabilities);
    lldp_tlv(f, 7, caps);
    if (a.management_ip) {
        Frame m{5, 1};  // length (subtype + address), IPv4
        put_ip4(m, a.management_ip);
        put8(m, 2);  // interface numbering: ifIndex
        put32(m, 1);
        put8(m, 0);  // no OID
        lldp_tlv(f, 8, m);
    }
    put16(f, 0);  // end of LLDPDU
    return ethernet(kLldpMac, src, 0x88cc, f);
}

Frame cdp_frame(const MacAddress& src, const CdpAnnouncement& a) {
    Frame pdu{2, 180, 0, 0};  // version 2, TTL 180 s, checksum (filled in below)
    Frame v;
    put_text(v, a.device_id);
    cdp_tlv(pdu, 0x0001, v);
    v.clear();
    put32(v, 1);
    put8(v, 1);  // NLPID
    put8(v, 1);
    put8(v, 0xcc);
    put16(v, 4);
    put_ip4(v, a.address);
    cdp_tlv(pdu, 0x0002, v);
    v.clear();
    put_text(v, a.port_id);
    cdp_tlv(pdu, 0x0003, v);
    v.clear();
    put32(v, a.capabilities);
    cdp_tlv(pdu, 0x0004, v);
    v.clear();
    put_text(v, a.software);
    cdp_tlv(pdu, 0x0005, v);
    v.clear();
    put_text(v, a.platform);
    cdp_tlv(pdu, 0x0006, v);
    // An even length: Cisco's checksum treats an odd last byte its own way.
    if (pdu.size() % 2) cdp_tlv(pdu, 0x0009, Frame{'C'});  // VTP management domain
    std::uint16_t sum = internet_checksum(pdu);
    pdu[2] = static_cast<std::uint8_t>(sum >> 8);
    pdu[3] = static_cast<std::uint8_t>(sum);
    Frame snap{0x00, 0x00, 0x0c, 0x20, 0x00};
    put_bytes(snap, pdu);
    return ethernet_llc(kCdpMac, src, 0xaa, 0xaa, 0x03, snap);
}

Frame bpdu_frame(const MacAddress& src, std::uint16_t root_priority, const MacAddress& root,
                 std::uint32_t cost, std::uint16_t bridge_priority, const MacAddress& bridge,
                 std::uint16_t port_id) {
    Frame f;
    put16(f, 0);
    put8(f, 0);  // 802.1D
    put8(f, 0);  // configuration
    put8(f, 0);
    put16(f, root_priority);
    put_mac(f, root);
    put32(f, cost);
    put16(f, bridge_priority);
    put_mac(f, bridge);
    put16(f, port_id);
    put16(f, 256);
    put16(f, 20 * 256);
    put16(f, 2 * 256);
    put16(f, 15 * 256);
    return ethernet_llc(kStpMac, src, 0x42, 0x42, 0x03, f);
}

std::optional<TopologyScenario> parse_topology_scenario(const std::string& name) {
    if (name == "two-subnets") return TopologyScenario::two_subnets;
    if (name == "single-subnet") return TopologyScenario::single_subnet;
    if (name == "clinic") return TopologyScenario::clinic;
    return std::nullopt;
}

TopologyTruth generate_topology_capture(const TopologyCaptureOptions& options,
                                        const FrameSink& sink) {
    switch (options.scenario) {
        case TopologyScenario::two_subnets:
            return two_subnets(options, sink, true);
        case TopologyScenario::single_subnet:
            return two_subnets(options, sink, false);
        case TopologyScenario::clinic:
            return clinic(options, sink);
    }
    return {};
}

}  // namespace clinicwatch::bench
