// The ipv6-routers unit on the generated dual-stack IPoE clinic (bench/ipv6_capture): the
// router and its prefixes learned without configuration, the real router's periodic RAs and a
// renumbering quiet, and each attack one finding naming the attacker, grouped into one incident
// per attacker. Also: an NDP storm is an ARP storm for the loop detector, and egress places a
// global IPv6 flow by the learned prefix (risky-protocol-wan as over IPv4).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "analyzers/dispatcher.hpp"
#include "analyzers/egress.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/ipv6_addresses.hpp"
#include "analyzers/ipv6_routers.hpp"
#include "bench/frame_builder.hpp"
#include "bench/ipv6_capture.hpp"
#include "daemon/egress_rules.hpp"
#include "daemon/incidents/describe.hpp"
#include "daemon/incidents/incidents.hpp"
#include "daemon/report/template.hpp"
#include "tests/analyzers/alert_records.hpp"
#include "tests/analyzers/loop_frames.hpp"

using namespace clinicwatch;

namespace {

struct Sink : FindingSink {
    std::vector<AlertUpdate> alerts;
    void alert(AlertUpdate a) override { alerts.push_back(std::move(a)); }
    void minute(const MinuteStats&) override {}
};

struct Replay {
    bench::Ipv6CaptureTruth truth;
    Ipv6Lan lan;
    Sink sink;
    std::string stored;  // the last meta "ipv6_lan" written
};

// Feeds the generated capture through the unit, as the dispatcher does.
void replay(Replay& r, const bench::Ipv6CaptureOptions& options,
            Ipv6RoutersSettings settings = {}) {
    settings.record = [&r](const std::string& s) { r.stored = s; };
    HostTable hosts(1024);
    Dispatcher dispatcher(hosts);
    dispatcher.add(std::make_unique<Ipv6Routers>(r.lan, r.sink, std::move(settings)));
    Packet packet;
    r.truth = bench::generate_ipv6_capture(options, [&](std::int64_t ts, bench::ByteView frame) {
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(frame.size()),
                      Bytes(frame.data(), frame.size()), packet);
        dispatcher.on_packet(packet);
    });
    dispatcher.finish();
}

std::map<std::string, std::set<std::string>> alerts_by_kind(const Replay& r) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& a : r.sink.alerts) out[a.kind].insert(a.subject_mac->to_string());
    return out;
}

TEST(Ipv6Routers, RouterAndPrefixesLearnedWithoutConfigurationAndRenumberingIsQuiet) {
    Replay r;
    bench::Ipv6CaptureOptions o;
    o.incidents = false;  // the router's RAs every minute, renumbering at 60%, rotation
    replay(r, o);
    EXPECT_TRUE(r.sink.alerts.empty()) << r.sink.alerts.front().summary;
    ASSERT_EQ(r.lan.routers().size(), 1u);
    const Ipv6Router& router = r.lan.routers().front();
    EXPECT_EQ(router.mac, r.truth.router_mac);
    EXPECT_EQ(router.link_local.to_string(), r.truth.router_link_local);
    EXPECT_EQ(router.lifetime, 1800);
    EXPECT_TRUE(router.other);
    EXPECT_FALSE(router.managed);
    EXPECT_EQ(router.mtu, 1460u);
    ASSERT_EQ(router.dns.size(), 1u);
    std::set<std::string> prefixes;
    for (const auto& p : r.lan.prefixes()) prefixes.insert(p.prefix.to_string());
    EXPECT_EQ(prefixes, std::set<std::string>(r.truth.prefixes.begin(), r.truth.prefixes.end()));
    // The renumbered prefix: the old one deprecated (preferred 0), the new one preferred.
    for (const auto& p : r.lan.prefixes())
        EXPECT_EQ(p.preferred_lifetime == 0, p.prefix.to_string() == r.truth.prefixes.front());
    // Every host address is on-link now; internet addresses are not.
    for (const auto& h : r.truth.hosts) {
        for (const auto& a : h.stable) EXPECT_TRUE(r.lan.on_link(*IpAddress::parse(a))) << a;
        for (const auto& a : h.temporary) EXPECT_TRUE(r.lan.on_link(*IpAddress::parse(a))) << a;
    }
    EXPECT_FALSE(r.lan.on_link(*IpAddress::parse("2603:1037:1:2::12")));
    // The router's global address in each prefix, from its answers to the servers.
    std::vector<std::string> globals;
    for (const auto& a : router.addresses) globals.push_back(a.to_string());
    EXPECT_EQ(globals, r.truth.router_globals);
    // What a restart reads back.
    Ipv6Lan restored;
    restored.restore(nlohmann::json::parse(r.stored));
    ASSERT_EQ(restored.routers().size(), 1u);
    EXPECT_EQ(restored.routers().front().mac, r.truth.router_mac);
    EXPECT_EQ(restored.prefixes().size(), 2u);
}

TEST(Ipv6Routers, EachAttackIsOneFindingNamingTheAttacker) {
    Replay r;
    replay(r, {});
    auto by_kind = alerts_by_kind(r);
    std::map<std::string, std::set<std::string>> expected;
    for (const auto& i : r.truth.incidents)
        if (i.kind != "egress-denied" && i.kind != "remote-access" && i.kind != "inbound-exposure")
            expected[i.kind].insert(i.device.to_string());
    EXPECT_EQ(by_kind, expected);
    // The real router is never a subject.
    for (const auto& a : r.sink.alerts) EXPECT_NE(*a.subject_mac, r.truth.router_mac);
    // Only the real router was learned, with its own prefixes (not the home router's ULA).
    ASSERT_EQ(r.lan.routers().size(), 1u);
    EXPECT_EQ(r.lan.routers().front().mac, r.truth.router_mac);
    for (const auto& p : r.lan.prefixes()) EXPECT_NE(p.prefix.to_string(), "fdc2:1a2b:3c4d:1::/64");
    // What each finding says: the impersonated address, what the home router announced.
    for (const auto& a : r.sink.alerts) {
        if (a.kind == "ra-impersonation") {
            EXPECT_EQ(a.evidence["impersonated"], r.truth.router_link_local);
        } else if (a.kind == "rogue-ra") {
            EXPECT_EQ(a.evidence["prefixes"][0], "fdc2:1a2b:3c4d:1::/64");
            EXPECT_EQ(a.evidence["flags"], "M O");
        } else if (a.kind == "rogue-dhcpv6") {
            EXPECT_EQ(a.evidence["offered"][0], "fdc2:1a2b:3c4d:1::1000");
        } else if (a.kind == "ndp-router-spoof" && a.subject == "b8:27:eb:66:00:03") {
            // Unsolicited NAs for the router's link-local address.
            EXPECT_EQ(a.evidence["address"], r.truth.router_link_local);
            EXPECT_EQ(a.evidence["how"], "neighbour-advert");
        } else if (a.kind == "ndp-router-spoof") {
            // Duplicate address detection for the router's global address (then NAs): the
            // first frame raised it.
            EXPECT_EQ(a.subject, "b8:27:eb:66:00:04");
            EXPECT_EQ(a.evidence["address"], r.truth.router_globals.back());
        }
    }

    // Through the correlator: one incident per attacker (the home router's RA and DHCPv6 are
    // one), each about that device.
    auto incidents = correlate(test::alert_records(r.sink.alerts));
    std::map<std::string, std::string> kind_of;
    for (const auto& in : incidents) kind_of[in.subject_mac] = in.kind;
    EXPECT_EQ(kind_of,
              (std::map<std::string, std::string>{{"10:6f:3f:c0:ff:01", "rogue-ra"},
                                                  {"b8:27:eb:66:00:01", "ra-impersonation"},
                                                  {"b8:27:eb:66:00:02", "ra-router-lifetime-zero"},
                                                  {"b8:27:eb:66:00:03", "ndp-router-spoof"},
                                                  {"b8:27:eb:66:00:04", "ndp-router-spoof"}}));
    for (const auto& in : incidents)
        if (in.kind == "rogue-ra") {
            EXPECT_EQ(in.alerts.size(), 2u);
            EXPECT_EQ(in.facts["offered"][0], "fdc2:1a2b:3c4d:1::1000");
        }
}

// Alerts through the correlator, as the store hands them over (one record per key).
std::vector<Incident> incidents_of(const Replay& r) {
    return correlate(test::alert_records(r.sink.alerts));
}

TEST(Ipv6Routers, RouterChangingItsFlagsIsOneIncidentSayingWhatChanged) {
    // The router's RAs go from O to M O at 80% (DHCPv6 address assignment turned on); its
    // periodic RAs before and after, and the renumbering, raise nothing else.
    Replay r;
    bench::Ipv6CaptureOptions o;
    o.incidents = false;
    o.router_flags_change = true;
    replay(r, o);
    ASSERT_EQ(r.sink.alerts.size(), 1u) << r.sink.alerts.back().summary;
    const AlertUpdate& a = r.sink.alerts.front();
    EXPECT_EQ(a.kind, "ra-flags-changed");
    EXPECT_EQ(*a.subject_mac, r.truth.router_mac);
    EXPECT_EQ(a.count, 1u);  // the first RA with the new flags; the later ones are the new normal
    EXPECT_EQ(a.evidence["previous_flags"], "O");
    EXPECT_EQ(a.evidence["flags"], "M O");
    EXPECT_TRUE(a.evidence["managed_set"].get<bool>());
    EXPECT_FALSE(a.evidence["other_cleared"].get<bool>());
    EXPECT_GE(a.first_seen, r.truth.options.start_us + r.truth.options.duration_us * 8 / 10);
    EXPECT_TRUE(r.lan.routers().front().managed);

    auto incidents = incidents_of(r);
    ASSERT_EQ(incidents.size(), 1u);
    EXPECT_EQ(incidents[0].kind, "ra-flags-changed");
    EXPECT_EQ(incidents[0].subject_mac, r.truth.router_mac.to_string());
    // In words: the router by its register name, what changed, whom to call.
    nlohmann::json assets = nlohmann::json::array({{{"mac", r.truth.router_mac.to_string()},
                                                    {"register_name", "RTX830"},
                                                    {"registered", "yes"},
                                                    {"name", "RTX830"},
                                                    {"addresses", nlohmann::json::array()}}});
    for (const char* language : {"ja", "en"}) {
        auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", language);
        DeviceNames names(messages, assets);
        auto d = describe_incident(incidents[0], 1, messages, names);
        std::string detail = d["detail"];
        std::string action = d["action"];
        EXPECT_NE(detail.find("DHCPv6"), std::string::npos) << detail;
        EXPECT_EQ(d["party"], messages["party_names"]["network"]) << language;
        EXPECT_FALSE(d["action"].get<std::string>().empty());
        EXPECT_EQ(d["device"], "RTX830");
        if (std::string(language) == "en") {
            EXPECT_NE(detail.find("from \"O\" to \"M O\""), std::string::npos) << detail;
            EXPECT_NE(detail.find("With the M flag set"), std::string::npos) << detail;
            EXPECT_NE(action.find("network vendor"), std::string::npos) << action;
        } else {
            EXPECT_NE(detail.find("「O」から「M O」"), std::string::npos) << detail;
            EXPECT_NE(detail.find("Mフラグが付いた"), std::string::npos) << detail;
            EXPECT_NE(action.find("ネットワーク保守業者"), std::string::npos) << action;
        }
    }
}

TEST(Ipv6Routers, RouterFlagsClearedAfterARestartAreNoticedToo) {
    // What an earlier run stored (the router with M O) against this run's RAs (O only): the
    // M flag cleared, one finding.
    Replay first;
    bench::Ipv6CaptureOptions o;
    o.incidents = false;
    o.renumbering = false;
    o.router_flags_change = true;
    replay(first, o);
    ASSERT_TRUE(first.lan.routers().front().managed);
    Replay second;
    second.lan.restore(nlohmann::json::parse(first.stored));
    bench::Ipv6CaptureOptions later = o;
    later.router_flags_change = false;
    later.start_us = o.start_us + 86'400'000'000LL;
    replay(second, later);
    auto kinds = alerts_by_kind(second);
    ASSERT_EQ(kinds.size(), 1u);
    ASSERT_EQ(second.sink.alerts.size(), 1u);
    EXPECT_EQ(second.sink.alerts[0].evidence["previous_flags"], "M O");
    EXPECT_EQ(second.sink.alerts[0].evidence["flags"], "O");
    EXPECT_TRUE(second.sink.alerts[0].evidence["managed_cleared"].get<bool>());
    // A third day with the flags the second one stored: nothing.
    Replay third;
    third.lan.restore(nlohmann::json::parse(second.stored));
    later.start_us += 86'400'000'000LL;
    replay(third, later);
    EXPECT_TRUE(third.sink.alerts.empty()) << third.sink.alerts.front().summary;
}

TEST(Ipv6Routers, ConfiguredRouterAndExpectedPrefixes) {
    // The register names the router; the line is contracted for the first prefix only: the
    // renumbering is then reported once (the router's), and nothing else changes.
    Replay r;
    bench::Ipv6CaptureOptions o;
    o.incidents = false;
    Ipv6RoutersSettings s;
    s.routers = {*MacAddress::parse("00:a0:de:6a:10:01")};
    s.expected_prefixes = {*IpNetwork::parse("2409:10:a0:1200::/64")};
    replay(r, o, s);
    auto by_kind = alerts_by_kind(r);
    ASSERT_EQ(by_kind.size(), 1u);
    EXPECT_EQ(by_kind["ra-unexpected-prefix"], std::set<std::string>{"00:a0:de:6a:10:01"});
    EXPECT_EQ(r.lan.routers().front().source, "configuration");
}

TEST(Ipv6Routers, HomeRouterFirstWithAKnownGatewayIsStillRogue) {
    // The IPv4 gateway's MAC (configured or learned by ARP) is the router even before it
    // advertises: a home router heard first is not adopted.
    Replay r;
    Ipv6RoutersSettings s;
    s.gateway_mac = [] { return MacAddress::parse("00:a0:de:6a:10:01"); };
    bench::Ipv6CaptureOptions o;
    replay(r, o, s);
    EXPECT_EQ(alerts_by_kind(r)["rogue-ra"], std::set<std::string>{"10:6f:3f:c0:ff:01"});
    EXPECT_TRUE(r.lan.is_router(*MacAddress::parse("00:a0:de:6a:10:01")));
    EXPECT_FALSE(r.lan.is_router(*MacAddress::parse("10:6f:3f:c0:ff:01")));
}

TEST(Ipv6AddressKinds, LinkLocalEui64StableAndRotatingTemporaries) {
    constexpr Timestamp kH = 3600 * kMicrosPerSecond, kDay = 24 * kH;
    auto seen = [](const char* a, Timestamp first, Timestamp last, const char* source = "ip") {
        return Observed{a, source, first, last};
    };
    std::vector<Observed> pc = {
        seen("192.168.100.20", 0, 9 * kDay, "arp"),
        seen("fe80::1c2d:3e4f:5a6b:7c8d", 0, 9 * kDay),
        seen("2409:10:a0:1200:5e1:22ff:aa3:1001", 10, 10, "ndp-dad"),  // stable: formed first
        seen("2409:10:a0:1200:9a1:c2d:e3f:4a01", 20, kDay),            // temporary day 1
        seen("2409:10:a0:1200:9a1:c2d:e3f:4a01", 20, kDay + kH, "ndp-dad"),
        seen("2409:10:a0:1200:77:1234:5678:9a02", kDay, 2 * kDay),      // day 2
        seen("2409:10:a0:1200:c3:4455:6677:8803", 2 * kDay, 3 * kDay),  // today's
        seen("2409:10:a0:1300:211:32ff:fec0:30", 0, 9 * kDay),          // EUI-64 (from a MAC)
        // Another prefix: a second address with no rotation (DHCPv6 IA_NA) stays stable, and
        // so does one formed long after the one before it (not a rotation).
        seen("2409:10:a0:1400::1:1", 0, kDay),
        seen("2409:10:a0:1400::1000", 5, kDay),
        seen("2409:10:a0:1500::a", 0, 9 * kDay),
        seen("2409:10:a0:1500::b", kH, kH),
        seen("2409:10:a0:1500::c", 9 * kDay, 9 * kDay),
    };
    auto kinds = ipv6_address_kinds(pc);
    ASSERT_EQ(kinds.size(), pc.size());
    std::vector<std::string_view> expected = {
        "",       "link-local", "stable", "temporary", "temporary", "temporary", "temporary",
        "stable", "stable",     "stable", "stable",    "stable",    "stable"};
    EXPECT_EQ(kinds, expected);
}

// A multicast neighbour solicitation, as a host resolving `target` sends it.
bench::Frame neighbour_solicit(const MacAddress& src, std::uint32_t target_low) {
    bench::Ip6 source{}, target{}, group{};
    source[0] = 0xfe;
    source[1] = 0x80;
    source[15] = 0x20;
    target[0] = 0x24;
    target[1] = 0x09;
    target[12] = static_cast<std::uint8_t>(target_low >> 24);
    target[13] = static_cast<std::uint8_t>(target_low >> 16);
    target[14] = static_cast<std::uint8_t>(target_low >> 8);
    target[15] = static_cast<std::uint8_t>(target_low);
    group = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13], target[14], target[15]};
    bench::Frame body = {0, 0, 0, 0};
    body.insert(body.end(), target.begin(), target.end());
    body.insert(body.end(), {1, 1});
    body.insert(body.end(), src.bytes.begin(), src.bytes.end());
    bench::Ipv6Header h;
    h.src = source;
    h.dst = group;
    h.next_header = bench::ipproto::icmpv6;
    h.hop_limit = 255;
    return bench::ethernet(bench::multicast_mac6(group), src, bench::ethertype::ipv6,
                           bench::ipv6(h, bench::icmp6(source, group, 135, 0, body)));
}

TEST(Ipv6Routers, NdpStormIsAnArpStorm) {
    // A host sweeping its /64 with neighbour solicitations: 200 distinct ones a second for
    // 10 s, after a quiet minute of ordinary resolution (one a second).
    constexpr Timestamp kS = kMicrosPerSecond, kT0 = 1'795'129'200LL * kS;
    MacAddress sweeper = *MacAddress::parse("00:11:32:00:00:aa");
    MacAddress pc = *MacAddress::parse("00:1b:21:c0:00:21");
    clinicwatch::test::LoopHarness h;
    for (int i = 0; i < 60; ++i) h.feed(kT0 + i * kS, neighbour_solicit(pc, 0x100 + i % 5));
    for (int i = 0; i < 2000; ++i)
        h.feed(kT0 + 60 * kS + i * (kS / 200), neighbour_solicit(sweeper, 0x10000 + i));
    h.finish();
    auto storms = h.sink.of_kind("arp-storm");
    ASSERT_FALSE(storms.empty());
    std::set<std::string> subjects;
    for (const auto& s : storms) subjects.insert(s.update.subject);
    EXPECT_TRUE(subjects.count("00:11:32:00:00:aa"));
    EXPECT_FALSE(subjects.count("00:1b:21:c0:00:21"));
    EXPECT_EQ(storms.back().update.evidence["peak_requests_per_second"].get<int>() >= 190, true);
    EXPECT_TRUE(h.sink.of_kind("l2-loop").empty());
}

// Issue 20: risky protocols over IPv6 with the same rules and names as over IPv4. A PC with a
// global address (inside only because the router's RA put its /64 on the link: nothing about
// IPv6 is configured) opens SMB to an internet IPv6 address and to the LAN NAS's global
// address; only the first crosses the boundary.
TEST(Ipv6Routers, SmbToAnInternetIpv6AddressIsRiskyAndToTheLanNasIsNot) {
    constexpr Timestamp kS = kMicrosPerSecond, kT0 = 1'795'129'200LL * kS;
    const MacAddress router = *MacAddress::parse("00:a0:de:6e:21:4c");
    const MacAddress pc = *MacAddress::parse("f4:6e:24:19:c2:7b");
    const MacAddress nas = *MacAddress::parse("00:11:32:8a:4e:10");
    auto ip6 = [](const char* text) { return IpAddress::parse(text)->bytes; };
    const bench::Ip6 router_ll = ip6("fe80::2a0:deff:fe6e:214c");
    const bench::Ip6 pc_ip = ip6("2400:4050:a1b2:3c00:f66e:24ff:fe19:c27b");
    const bench::Ip6 nas_ip = ip6("2400:4050:a1b2:3c00:211:32ff:fe8a:4e10");
    const bench::Ip6 far = ip6("2a01:4f8:c17:b8f::2");  // an internet host, not on the link

    Ipv6Lan lan;
    Sink sink;
    HostTable hosts(1024);
    Dispatcher dispatcher(hosts);
    dispatcher.add(std::make_unique<Ipv6Routers>(lan, sink, Ipv6RoutersSettings{}));
    EgressSettings egress;
    egress.internal_networks = {*IpNetwork::parse("192.168.100.0/24")};
    egress.ipv6_lan = &lan;
    egress.rules = load_egress_rules(CLINICWATCH_SOURCE_DIR "/rules");
    dispatcher.add(std::make_unique<Egress>(sink, std::move(egress), nullptr));
    Packet packet;
    std::size_t frames = 0;
    auto feed = [&](Timestamp ts, const bench::Frame& frame) {
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(frame.size()),
                      Bytes(frame.data(), frame.size()), packet);
        dispatcher.on_packet(packet);
        ++frames;
    };
    auto tcp = [&](Timestamp ts, const MacAddress& dst_mac, const MacAddress& src_mac,
                   const bench::Ip6& src, const bench::Ip6& dst, const bench::TcpHeader& h,
                   std::size_t payload) {
        bench::Ipv6Header ip;
        ip.src = src;
        ip.dst = dst;
        ip.next_header = bench::ipproto::tcp;
        feed(ts, bench::ethernet(
                     dst_mac, src_mac, bench::ethertype::ipv6,
                     bench::ipv6(ip, bench::tcp6(src, dst, h, bench::Frame(payload, 0x42)))));
    };
    // An SMB session from the PC: handshake, then request/response pairs (SMB2 over direct TCP
    // needs no name: the port says what it is).
    auto smb_session = [&](Timestamp t, const MacAddress& peer_mac, const bench::Ip6& peer,
                           std::uint16_t client_port) {
        namespace f = bench::tcpflag;
        std::uint32_t c = 1000, s = 5000;
        tcp(t, peer_mac, pc, pc_ip, peer, {client_port, 445, c, 0, f::syn, 64240, {}}, 0);
        tcp(t + 20'000, pc, peer_mac, peer, pc_ip,
            {445, client_port, s, c + 1, f::syn | f::ack, 65535, {}}, 0);
        ++c, ++s;
        for (int i = 0; i < 40; ++i) {
            Timestamp at = t + 50'000 + i * 100'000;
            tcp(at, peer_mac, pc, pc_ip, peer, {client_port, 445, c, s, f::psh | f::ack, 1024, {}},
                120);
            c += 120;
            tcp(at + 20'000, pc, peer_mac, peer, pc_ip,
                {445, client_port, s, c, f::psh | f::ack, 1024, {}}, 200);
            s += 200;
        }
    };

    bench::Ipv6Header ra_ip;
    ra_ip.src = router_ll;
    ra_ip.dst = ip6("ff02::1");
    ra_ip.next_header = bench::ipproto::icmpv6;
    ra_ip.hop_limit = 255;
    bench::Frame ra;  // RFC 4861 §4.2: O flag, 1800 s, the clinic's /64 on-link and autonomous
    bench::put8(ra, 64);
    bench::put8(ra, 0x40);
    bench::put16(ra, 1800);
    bench::put32(ra, 0);
    bench::put32(ra, 0);
    bench::put8(ra, 3);
    bench::put8(ra, 4);
    bench::put8(ra, 64);
    bench::put8(ra, 0xc0);
    bench::put32(ra, 2592000);
    bench::put32(ra, 604800);
    bench::put32(ra, 0);
    bench::put_bytes(ra, ip6("2400:4050:a1b2:3c00::"));
    for (int i = 0; i < 3; ++i)
        feed(kT0 + i * 60 * kS,
             bench::ethernet(bench::multicast_mac6(ra_ip.dst), router, bench::ethertype::ipv6,
                             bench::ipv6(ra_ip, bench::icmp6(router_ll, ra_ip.dst, 134, 0, ra))));
    // Twice each, minutes apart: the second session to a destination adds no second alert.
    for (int round = 0; round < 2; ++round) {
        Timestamp t = kT0 + (5 + 60 * round) * kS;
        smb_session(t, nas, nas_ip, static_cast<std::uint16_t>(50100 + round));
        smb_session(t + 10 * kS, router, far, static_cast<std::uint16_t>(50200 + round));
    }
    dispatcher.finish();
    EXPECT_GE(frames, 300u);

    ASSERT_EQ(lan.routers().size(), 1u);  // learned from its RA, not configured
    EXPECT_EQ(lan.routers().front().mac, router);
    std::vector<const AlertUpdate*> risky;
    for (const auto& a : sink.alerts) {
        EXPECT_NE(a.evidence.value("destination_ip", ""), "2400:4050:a1b2:3c00:211:32ff:fe8a:4e10")
            << a.kind << ": " << a.summary;  // nothing about the LAN NAS
        if (a.kind == "risky-protocol-wan") risky.push_back(&a);
    }
    // One alert (kept up to date by the second session), about the PC, with IPv4's name.
    std::set<std::string> keys;
    for (const auto* a : risky) keys.insert(a->key);
    ASSERT_EQ(keys.size(), 1u);
    const AlertUpdate& a = *risky.back();
    EXPECT_EQ(a.subject_mac, pc);
    EXPECT_EQ(a.severity, Severity::high);
    EXPECT_EQ(a.evidence["asset_ip"], "2400:4050:a1b2:3c00:f66e:24ff:fe19:c27b");
    EXPECT_EQ(a.evidence["destination_ip"], "2a01:4f8:c17:b8f::2");
    EXPECT_EQ(a.evidence["direction"], "egress");
    EXPECT_EQ(a.evidence["port"], 445);
    EXPECT_EQ(a.summary.rfind("SMB crossing the internet boundary: device "
                              "2400:4050:a1b2:3c00:f66e:24ff:fe19:c27b to 2a01:4f8:c17:b8f::2",
                              0),
              0u)
        << a.summary;
}

}  // namespace
