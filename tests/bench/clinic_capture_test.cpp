// The synthetic clinic capture: deterministic, exactly N frames in time order, every frame
// decodes, and the ground truth matches what is in the frames.
#include "bench/clinic_capture.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "capture/packet.hpp"
#include "capture/protocols/dns.hpp"

namespace clinicwatch::bench {
namespace {

struct Captured {
    std::vector<std::pair<std::int64_t, Frame>> frames;
    ClinicCaptureTruth truth;
};

Captured generate(std::uint64_t packets, std::uint64_t seed, bool incidents) {
    ClinicCaptureOptions o;
    o.packets = packets;
    o.seed = seed;
    o.incidents = incidents;
    Captured c;
    c.truth = generate_clinic_capture(o, [&](std::int64_t ts, ByteView f) {
        c.frames.emplace_back(ts, Frame(f.begin(), f.end()));
    });
    return c;
}

const Captured& default_capture() {
    static const Captured c = generate(30'000, 3, true);
    return c;
}

TEST(ClinicCapture, SameSeedSameBytesOtherSeedOtherBytes) {
    auto a = generate(20'000, 11, true);
    auto b = generate(20'000, 11, true);
    auto c = generate(20'000, 12, true);
    ASSERT_EQ(a.frames.size(), b.frames.size());
    EXPECT_TRUE(a.frames == b.frames);
    EXPECT_EQ(truth_json(a.truth), truth_json(b.truth));
    EXPECT_FALSE(a.frames == c.frames);
}

TEST(ClinicCapture, ExactPacketCountInTimeOrderAllDecodable) {
    const auto& c = default_capture();
    ASSERT_EQ(c.frames.size(), 30'000u);
    EXPECT_EQ(c.truth.packets, 30'000u);
    std::uint64_t bytes = 0;
    Packet p;
    std::int64_t last = 0;
    std::map<std::uint16_t, int> tcp_syn_ports;
    int dhcp = 0, dns_answers_with_cname = 0, tls_hello_with_sni = 0, arp = 0, stp = 0;
    for (const auto& [ts, f] : c.frames) {
        EXPECT_GE(ts, last);
        last = ts;
        bytes += f.size();
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(f.size()), f, p);
        ASSERT_TRUE(p.decoded()) << "frame at " << ts;
        if (p.arp) ++arp;
        if (p.llc && p.llc->dsap == 0x42) ++stp;
        if (p.tcp && p.tcp->is_syn_only()) ++tcp_syn_ports[p.tcp->dst_port];
        if (p.udp && (p.udp->dst_port == 67 || p.udp->dst_port == 68)) ++dhcp;
        if (p.udp && p.udp->src_port == 53) {
            auto m = dns::parse(p.payload);
            ASSERT_TRUE(m.has_value());
            bool cname = false;
            for (const auto& r : m->answers) cname |= r.type == dns::kCname;
            dns_answers_with_cname += cname;
        }
        if (p.tcp && p.tcp->dst_port == 443 && p.payload.size() > 60 && p.payload[0] == 0x16 &&
            p.payload[5] == 0x01)
            ++tls_hello_with_sni;
    }
    EXPECT_EQ(bytes, c.truth.bytes);
    EXPECT_EQ(c.truth.first_us, c.frames.front().first);
    EXPECT_EQ(c.truth.last_us, c.frames.back().first);
    EXPECT_GT(arp, 100);
    EXPECT_GT(stp, 100);
    EXPECT_GE(dhcp, 4 * 10);  // every DHCP client's DORA
    EXPECT_GT(dns_answers_with_cname, 5);
    EXPECT_GT(tls_hello_with_sni, 5);
    EXPECT_GT(tcp_syn_ports[80], 5);
    EXPECT_GT(tcp_syn_ports[445], 2);
    EXPECT_EQ(tcp_syn_ports[3389], 2);  // the inbound RDP incident
    EXPECT_EQ(tcp_syn_ports[5938], 1);  // TeamViewer
    EXPECT_EQ(tcp_syn_ports[23], 1);    // Telnet
}

TEST(ClinicCapture, TruthListsHostsWithTheirAddressesAndIncidents) {
    const auto& c = default_capture();
    const auto& t = c.truth;
    EXPECT_GE(t.hosts.size(), 15u);
    std::set<std::string> roles, kinds;
    int randomized = 0, unregistered = 0;
    for (const auto& h : t.hosts) {
        roles.insert(h.role);
        randomized += h.randomized_mac;
        unregistered += !h.registered;
        EXPECT_EQ(h.randomized_mac, h.mac.is_locally_administered()) << h.hostname;
    }
    for (auto r : {"router", "ehr-server", "ehr-client", "reception", "printer", "nas", "pacs",
                   "modality", "staff-phone", "home-router"})
        EXPECT_TRUE(roles.count(r)) << r;
    EXPECT_EQ(randomized, 3);
    EXPECT_GE(unregistered, 3);
    EXPECT_EQ(t.hosts.front().mac.to_string().substr(0, 8), "00:a0:de");
    for (const auto& i : t.incidents) {
        kinds.insert(i.kind);
        EXPECT_LE(i.start_us, i.end_us);
        EXPECT_GE(i.start_us, t.first_us);
        EXPECT_LE(i.end_us, t.last_us);
        EXPECT_FALSE(i.hosts.empty());
    }
    for (auto k : {"rogue-dhcp", "ip-conflict", "gateway-mac-change", "l2-loop", "remote-access",
                   "inbound-exposure", "cleartext-login", "unregistered-device"})
        EXPECT_TRUE(kinds.count(k)) << k;

    // The loop's frames are byte-identical repeats.
    const TruthIncident* loop = nullptr;
    for (const auto& i : t.incidents)
        if (i.kind == "l2-loop") loop = &i;
    ASSERT_NE(loop, nullptr);
    std::map<Frame, int> repeats;
    for (const auto& [ts, f] : c.frames)
        if (ts >= loop->details["burst_start_us"].get<std::int64_t>() &&
            ts <= loop->details["burst_end_us"].get<std::int64_t>() && f[0] & 1)
            ++repeats[f];
    int max_repeat = 0;
    for (const auto& [f, n] : repeats) max_repeat = std::max(max_repeat, n);
    EXPECT_GE(max_repeat, 1000);

    auto json = truth_json(t);
    EXPECT_EQ(json["capture"]["packets"], 30'000);
    EXPECT_EQ(json["hosts"].size(), t.hosts.size());
    EXPECT_EQ(json["network"]["gateway_ip"], "192.168.100.1");
    EXPECT_NE(register_yaml(t).find("register:\n  - mac: \"00:a0:de:"), std::string::npos);
}

TEST(ClinicCapture, NoIncidentsMeansNoIncidentDevices) {
    auto c = generate(5'000, 3, false);
    EXPECT_EQ(c.frames.size(), 5'000u);
    EXPECT_TRUE(c.truth.incidents.empty());
    for (const auto& h : c.truth.hosts) EXPECT_NE(h.role, "home-router");
}

TEST(ClinicCapture, TooFewPacketsIsAClearError) {
    ClinicCaptureOptions o;
    o.packets = 2'000;
    EXPECT_THROW(generate_clinic_capture(o, [](std::int64_t, ByteView) {}), ClinicCaptureError);
    EXPECT_GT(minimum_packets(o), 2'000u);
}

TEST(ClinicCapture, IsoTimes) {
    EXPECT_EQ(parse_iso_time("2026-11-20T08:00:00+09:00"), 1'795'129'200'000'000);
    EXPECT_EQ(parse_iso_time("2026-11-19T23:00:00Z"), 1'795'129'200'000'000);
    EXPECT_EQ(parse_iso_time("2026-11-20T08:00:00"), 1'795'129'200'000'000);
    EXPECT_EQ(parse_iso_time("2026-11-20"), 1'795'129'200'000'000 - 8 * 3600 * 1'000'000LL);
    EXPECT_FALSE(parse_iso_time("yesterday"));
    EXPECT_FALSE(parse_iso_time("2026-13-01"));
    EXPECT_EQ(format_iso_time(1'795'129'200'000'001), "2026-11-20T08:00:00.000001+09:00");
}

}  // namespace
}  // namespace clinicwatch::bench
