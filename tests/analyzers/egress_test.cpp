#include "analyzers/egress.hpp"
#include "analyzers/packet_context.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "analyzers/dns_cache.hpp"
#include "capture/protocols/dns.hpp"
#include "tests/analyzers/frames.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

const MacAddress kRouter = *MacAddress::parse("00:a0:de:6e:21:4c");
const MacAddress kEhr = *MacAddress::parse("98:e7:43:0c:55:21");
const MacAddress kReception = *MacAddress::parse("f4:6e:24:19:c2:7b");
const MacAddress kPhone = *MacAddress::parse("6a:3f:91:c4:08:2e");
const IpAddress kEhrIp = *IpAddress::parse("192.168.100.10");
const IpAddress kReceptionIp = *IpAddress::parse("192.168.100.109");
const IpAddress kPhoneIp = *IpAddress::parse("192.168.100.129");
const IpAddress kDnsIp = *IpAddress::parse("192.168.100.1");
constexpr Timestamp kT0 = 1'795'130'000'000'000;  // 2026-11-20, packet time

struct CollectSink : FindingSink {
    std::vector<AlertUpdate> alerts;
    std::vector<BoundaryFlowSummary> flows;
    void alert(AlertUpdate a) override { alerts.push_back(std::move(a)); }
    void minute(const MinuteStats&) override {}
    void boundary_flows(const std::vector<BoundaryFlowSummary>& rows) override {
        flows.insert(flows.end(), rows.begin(), rows.end());
    }
    std::vector<const AlertUpdate*> of(const std::string& kind) const {
        std::vector<const AlertUpdate*> out;
        for (const auto& a : alerts)
            if (a.kind == kind) out.push_back(&a);
        return out;
    }
};

EgressRules test_rules() {
    EgressRules r;
    r.tools.push_back(
        {"TeamViewer", {*PortMatch::parse("tcp/5938")}, {"teamviewer.com"}, {}, "test", {}});
    r.tools.push_back({"RDP", {*PortMatch::parse("tcp/3389")}, {}, {}, "test", {}});
    r.tools.push_back({"VNC", {*PortMatch::parse("tcp/5900-5906")}, {}, {}, "test", {}});
    r.services.push_back({"windows-update", {"windowsupdate.com"}, {}, {}, "test"});
    r.services.push_back({"time", {}, {}, {*PortMatch::parse("udp/123")}, "test"});
    r.risky.push_back({"SMB", {*PortMatch::parse("tcp/445")}, "high", "test"});
    r.risky.push_back({"RDP", {*PortMatch::parse("tcp/3389")}, "high", "test"});
    r.index();
    return r;
}

EgressSettings test_settings() {
    EgressSettings s;
    s.internal_networks = {*IpNetwork::parse("192.168.100.0/24")};
    s.rules = test_rules();
    RolePolicy reception;
    reception.mode = EgressMode::allow;
    reception.services = {"windows-update"};
    reception.domains = {"mhlw.go.jp"};
    s.policy.roles["reception"] = reception;
    return s;
}

// The query a client sends: the response's question without answers, QR clear (RFC 1035 §4.1.1).
Frame dns_query(const std::string& name, std::uint16_t id = 0x4a1f) {
    Frame q = dns_response(name, 1, {}, id);
    q[2] = 0x01;  // RD
    q[3] = 0x00;
    return q;
}

class Harness {
  public:
    explicit Harness(EgressSettings settings = test_settings())
        : egress(sink, std::move(settings), [this](const MacAddress& m) {
              auto it = roles.find(m.to_string());
              return it == roles.end() ? std::string() : it->second;
          }) {
        roles[kEhr.to_string()] = "ehr-server";
        roles[kReception.to_string()] = "reception";
        app.report_flow_ends_to(egress);
    }
    void send(const Frame& f, Timestamp dt_us = 1000) {
        now += dt_us;
        decode_packet(LinkType::ethernet, now, static_cast<std::uint32_t>(f.size()), f, packet);
        egress.on_packet(packet, app.begin(packet));
    }
    // Client inside -> server outside through the router, with the DNS answer first.
    void resolve(const MacAddress& client, const IpAddress& client_ip, const std::string& name,
                 const std::string& address, std::uint32_t ttl = 300) {
        send(ipv4_frame(client, kRouter, client_ip, kDnsIp, 17,
                        udp_datagram(50000, 53, dns_query(name))));
        send(ipv4_frame(kRouter, client, kDnsIp, client_ip, 17,
                        udp_datagram(53, 50000, dns_response(name, 1, {{name, 1, ttl, address}}))));
    }
    void connect(const MacAddress& client, const IpAddress& client_ip, const IpAddress& server,
                 std::uint16_t port, const Frame& first_payload = {}, std::uint16_t sport = 49700) {
        send(ipv4_frame(client, kRouter, client_ip, server, 6,
                        tcp_segment(sport, port, TcpView::kSyn)));
        send(ipv4_frame(kRouter, client, server, client_ip, 6,
                        tcp_segment(port, sport, TcpView::kSyn | TcpView::kAck)));
        send(ipv4_frame(client, kRouter, client_ip, server, 6,
                        tcp_segment(sport, port, TcpView::kAck)));
        if (!first_payload.empty())
            send(
                ipv4_frame(client, kRouter, client_ip, server, 6,
                           tcp_segment(sport, port, TcpView::kAck | TcpView::kPsh, first_payload)));
    }
    void finish() { egress.on_finish(now); }

    std::map<std::string, std::string> roles;
    CollectSink sink;
    Egress egress;
    Packet packet;
    ApplicationLayer app;
    Timestamp now = kT0;
};

}  // namespace

// ---- DNS name cache -------------------------------------------------------------------------

TEST(DnsNameCache, LearnsAnswersAndWalksCnameChainsBackToTheQuestion) {
    DnsNameCache cache(16);
    auto msg = dns_response("router15.teamviewer.com", 1,
                            {{"router15.teamviewer.com", 5, 300, "tv-jp.trafficmanager.net"},
                             {"tv-jp.trafficmanager.net", 5, 60, "edge7.tv.example.net"},
                             {"edge7.tv.example.net", 1, 120, "217.146.28.112"}});
    auto parsed = dns::parse(msg);
    ASSERT_TRUE(parsed);
    cache.learn(*parsed, kT0);
    const std::string* name = cache.lookup(*IpAddress::parse("217.146.28.112"), kT0 + 1);
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(*name, "router15.teamviewer.com");
    // The chain's smallest TTL (60 s) bounds the entry.
    EXPECT_NE(cache.lookup(*IpAddress::parse("217.146.28.112"), kT0 + 59 * kMicrosPerSecond),
              nullptr);
    EXPECT_EQ(cache.lookup(*IpAddress::parse("217.146.28.112"), kT0 + 61 * kMicrosPerSecond),
              nullptr);
    EXPECT_EQ(cache.size(), 0u);  // the expired entry was dropped
}

TEST(DnsNameCache, AaaaAndShortTtlFloor) {
    DnsNameCache cache(16);
    auto parsed = dns::parse(
        dns_response("Update.Example.JP", 28, {{"Update.Example.JP", 28, 0, "2001:db8::53"}}));
    ASSERT_TRUE(parsed);
    cache.learn(*parsed, kT0);
    auto addr = *IpAddress::parse("2001:db8::53");
    ASSERT_NE(cache.lookup(addr, kT0 + 4 * kMicrosPerSecond), nullptr);
    EXPECT_EQ(*cache.lookup(addr, kT0), "update.example.jp");
    EXPECT_EQ(cache.lookup(addr, kT0 + 6 * kMicrosPerSecond), nullptr);
}

TEST(DnsNameCache, IgnoresQueriesAndErrors) {
    DnsNameCache cache(16);
    auto msg = dns_response("a.example", 1, {{"a.example", 1, 300, "203.0.113.5"}});
    msg[2] = 0x01;  // clear QR: a query
    cache.learn(*dns::parse(msg), kT0);
    msg[2] = 0x81;
    msg[3] = 0x83;  // NXDOMAIN
    cache.learn(*dns::parse(msg), kT0);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(DnsNameCache, StaysAtItsCapacity) {
    DnsNameCache cache(256);
    for (std::uint32_t i = 0; i < 5000; ++i) {
        auto ip = IpAddress::v4(0xcb007100u + i);
        auto msg = dns_response("h" + std::to_string(i) + ".example", 1,
                                {{"h" + std::to_string(i) + ".example", 1, 3600, ip.to_string()}});
        cache.learn(*dns::parse(msg), kT0 + i);
        ASSERT_LE(cache.size(), 256u);
    }
    EXPECT_EQ(cache.size(), 256u);
    EXPECT_EQ(cache.evictions(), 5000u - 256u);
}

TEST(DnsNameCache, UnansweredQueriesTimeOutInsteadOfFillingTheTable) {
    // A clinic's day has many queries whose answer the mirror never shows (lost, or answered
    // over another path). They are forgotten after their timeout, so the table never drops a
    // live query for them; a real burst still does, and is counted.
    DnsNameCache cache(16);
    const auto resolver = *IpAddress::parse("192.168.100.1");
    const auto client = *IpAddress::parse("192.168.100.20");
    const auto q = *dns::parse(dns_query("portal.example."));
    const std::size_t kQueries = 3 * DnsNameCache::kMaxOutstandingQueries;
    for (std::size_t i = 0; i < kQueries; ++i)  // one every 10 ms: 123 s of queries
        cache.query(q, client, static_cast<std::uint16_t>(1024 + i % 60000), resolver,
                    kT0 + static_cast<Timestamp>(i) * 10'000);
    EXPECT_EQ(cache.queries_evicted(), 0u);
    EXPECT_LE(cache.outstanding_queries(), 2 * DnsNameCache::kQueryTimeout / 10'000 + 1);
    // Five thousand queries in one second: more than the table holds at once.
    const Timestamp burst = kT0 + 200 * kMicrosPerSecond;
    for (std::size_t i = 0; i < 5000; ++i)
        cache.query(q, client, static_cast<std::uint16_t>(1024 + i), resolver,
                    burst + static_cast<Timestamp>(i) * 100);
    EXPECT_GE(cache.queries_evicted(), 5000 - DnsNameCache::kMaxOutstandingQueries);
}

TEST(DnsNameCache, LearnsOnlyAnswersToOutstandingQueries) {
    DnsNameCache cache(16);
    const auto client = *IpAddress::parse("192.168.100.20");
    const auto resolver = *IpAddress::parse("192.168.100.1");
    const auto other = *IpAddress::parse("192.168.100.66");
    const auto addr = *IpAddress::parse("203.0.113.9");
    auto answer =
        *dns::parse(dns_response("portal.example", 1, {{"portal.example", 1, 300, "203.0.113.9"}}));
    // No query: unsolicited.
    EXPECT_EQ(cache.answer(answer, resolver, client, 50000, kT0), DnsAnswerFate::unsolicited);
    EXPECT_EQ(cache.lookup(addr, kT0), nullptr);
    cache.query(*dns::parse(dns_query("Portal.Example.")), client, 50000, resolver, kT0);
    // Another sender, port, id or name: still unsolicited.
    EXPECT_EQ(cache.answer(answer, other, client, 50000, kT0), DnsAnswerFate::unsolicited);
    EXPECT_EQ(cache.answer(answer, resolver, client, 50001, kT0), DnsAnswerFate::unsolicited);
    auto wrong_id = *dns::parse(
        dns_response("portal.example", 1, {{"portal.example", 1, 300, "203.0.113.9"}}, 0x1111));
    EXPECT_EQ(cache.answer(wrong_id, resolver, client, 50000, kT0), DnsAnswerFate::unsolicited);
    auto wrong_name =
        *dns::parse(dns_response("other.example", 1, {{"other.example", 1, 300, "203.0.113.9"}}));
    EXPECT_EQ(cache.answer(wrong_name, resolver, client, 50000, kT0), DnsAnswerFate::unsolicited);
    EXPECT_EQ(cache.lookup(addr, kT0), nullptr);
    EXPECT_EQ(cache.unsolicited(), 5u);
    // Too late: the query is no longer outstanding.
    EXPECT_EQ(cache.answer(answer, resolver, client, 50000, kT0 + DnsNameCache::kQueryTimeout + 1),
              DnsAnswerFate::unsolicited);
    // The answer to the question asked (case and trailing dot do not matter).
    EXPECT_EQ(cache.answer(answer, resolver, client, 50000, kT0 + 1), DnsAnswerFate::learned);
    ASSERT_NE(cache.lookup(addr, kT0 + 2), nullptr);
    EXPECT_EQ(*cache.lookup(addr, kT0 + 2), "portal.example");
}

TEST(Egress, UnsolicitedDnsAnswerDoesNotNameAFlow) {
    Harness h;
    // A LAN host sends the EHR server an answer from port 53 nobody asked for.
    const auto attacker = *IpAddress::parse("192.168.100.66");
    const auto attacker_mac = *MacAddress::parse("02:00:00:00:66:66");
    h.send(ipv4_frame(attacker_mac, kEhr, attacker, kEhrIp, 17,
                      udp_datagram(53, 50000,
                                   dns_response("files.example.net", 1,
                                                {{"files.example.net", 1, 300, "198.51.100.7"}}))));
    h.connect(kEhr, kEhrIp, *IpAddress::parse("198.51.100.7"), 443);
    h.finish();
    ASSERT_FALSE(h.sink.flows.empty());
    EXPECT_EQ(h.sink.flows[0].name, "");
    EXPECT_EQ(h.egress.dns_unsolicited(), 1u);
    // The name is on no allow list: counted, not a finding.
    EXPECT_TRUE(h.sink.of("dns-forged-answer").empty());
}

TEST(Egress, UnsolicitedAnswerForAnAllowedNameIsAForgery) {
    Harness h;
    const auto attacker = *IpAddress::parse("192.168.100.66");
    const auto attacker_mac = *MacAddress::parse("02:00:00:00:66:66");
    const auto evil = *IpAddress::parse("198.51.100.66");
    // Reception may reach Windows Update; the forged answer points it at the attacker's host.
    h.send(ipv4_frame(
        attacker_mac, kReception, attacker, kReceptionIp, 17,
        udp_datagram(53, 50000,
                     dns_response("download.windowsupdate.com", 1,
                                  {{"download.windowsupdate.com", 1, 300, "198.51.100.66"}}))));
    h.connect(kReception, kReceptionIp, evil, 80);
    h.finish();
    auto forged = h.sink.of("dns-forged-answer");
    ASSERT_EQ(forged.size(), 1u);
    EXPECT_EQ(forged[0]->severity, Severity::high);
    EXPECT_EQ(forged[0]->subject_mac, attacker_mac);
    EXPECT_EQ(forged[0]->evidence["name"], "download.windowsupdate.com");
    EXPECT_EQ(forged[0]->evidence["allowed_by"], "service windows-update");
    EXPECT_EQ(forged[0]->evidence["address"], "198.51.100.66");
    // And the flow was not named (so not "allowed"): reception's policy denies it.
    ASSERT_FALSE(h.sink.flows.empty());
    EXPECT_EQ(h.sink.flows[0].name, "");
    EXPECT_NE(h.sink.flows[0].verdict, "allowed");
}

// ---- Policy ---------------------------------------------------------------------------------

TEST(EgressPolicy, PortsDomainsAndRoles) {
    auto p = PortMatch::parse("tcp/5900-5906");
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->matches(kProtoTcp, 5901));
    EXPECT_FALSE(p->matches(kProtoUdp, 5901));
    EXPECT_FALSE(p->matches(kProtoTcp, 5907));
    EXPECT_TRUE(PortMatch::parse("123")->matches(kProtoUdp, 123));
    EXPECT_FALSE(PortMatch::parse("sctp/1"));
    EXPECT_FALSE(PortMatch::parse("70000"));
    EXPECT_FALSE(PortMatch::parse("10-5"));

    EXPECT_TRUE(domain_matches("router15.teamviewer.com", "teamviewer.com"));
    EXPECT_TRUE(domain_matches("teamviewer.com", "*.teamviewer.com"));
    EXPECT_FALSE(domain_matches("evilteamviewer.com", "teamviewer.com"));
    EXPECT_FALSE(domain_matches("", "teamviewer.com"));

    EXPECT_TRUE(role_matches("orca-server", "*-server"));
    EXPECT_TRUE(role_matches("modality-cr", "modality-*"));
    EXPECT_FALSE(role_matches("ehr-client", "*-server"));

    EgressPolicy policy;
    EXPECT_EQ(policy.for_role("ehr-server").mode, EgressMode::none);
    EXPECT_EQ(policy.for_role("modality-workstation").mode, EgressMode::none);
    EXPECT_EQ(policy.for_role("nas").mode, EgressMode::none);
    EXPECT_EQ(policy.for_role("ehr-client").mode, EgressMode::observe);
    EXPECT_EQ(policy.for_role("").mode, EgressMode::observe);
    policy.roles["ehr-server"].mode = EgressMode::allow;
    EXPECT_EQ(policy.for_role("ehr-server").mode, EgressMode::allow);
}

TEST(EgressPolicy, Evaluation) {
    auto rules = test_rules();
    RolePolicy allow;
    allow.mode = EgressMode::allow;
    allow.services = {"windows-update", "time"};
    allow.domains = {"karte-vendor.jp"};
    allow.networks = {*IpNetwork::parse("61.213.150.0/24")};
    auto ip = *IpAddress::parse("203.0.113.9");
    std::string why;
    EXPECT_EQ(evaluate_egress(allow, rules, "cloud.karte-vendor.jp", ip, kProtoTcp, 443, &why),
              Verdict::allowed);
    EXPECT_EQ(why, "domain karte-vendor.jp");
    EXPECT_EQ(evaluate_egress(allow, rules, "ctldl.windowsupdate.com", ip, kProtoTcp, 80, &why),
              Verdict::allowed);
    EXPECT_EQ(why, "service windows-update");
    EXPECT_EQ(evaluate_egress(allow, rules, "", ip, kProtoUdp, 123), Verdict::allowed);
    EXPECT_EQ(evaluate_egress(allow, rules, "", *IpAddress::parse("61.213.150.20"), 50, 0),
              Verdict::allowed);
    EXPECT_EQ(evaluate_egress(allow, rules, "sync.medibox-cloud.net", ip, kProtoTcp, 443),
              Verdict::denied);
    EXPECT_EQ(evaluate_egress(allow, rules, "", ip, kProtoTcp, 123), Verdict::denied);
    RolePolicy none{EgressMode::none, {}, {}, {}, {}};
    EXPECT_EQ(evaluate_egress(none, rules, "ctldl.windowsupdate.com", ip, kProtoTcp, 80),
              Verdict::denied);
    RolePolicy observe;
    EXPECT_EQ(evaluate_egress(observe, rules, "x.example", ip, kProtoTcp, 443), Verdict::observed);
}

// ---- Alerts from frames ---------------------------------------------------------------------

TEST(Egress, ServerHttpsEgressWithSniIsDenied) {
    Harness h;
    auto dst = *IpAddress::parse("45.76.210.84");
    h.connect(kEhr, kEhrIp, dst, 443, client_hello("sync.medibox-cloud.net"));
    auto denied = h.sink.of("egress-denied");
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ(denied[0]->severity, Severity::high);
    EXPECT_EQ(denied[0]->subject_mac, kEhr);
    EXPECT_EQ(denied[0]->evidence["destination_name"], "sync.medibox-cloud.net");
    EXPECT_EQ(denied[0]->evidence["name_source"], "tls-sni");
    EXPECT_EQ(denied[0]->evidence["destination_ip"], "45.76.210.84");
    EXPECT_EQ(denied[0]->evidence["role"], "ehr-server");
    EXPECT_EQ(denied[0]->evidence["port"], 443);
    EXPECT_NE(denied[0]->key.find("sync.medibox-cloud.net"), std::string::npos);
    EXPECT_TRUE(h.sink.of("remote-access").empty());
    // Two more connections to the same place the same day are the same alert; repeats within
    // a second are summed into one update (the store adds counts up).
    h.connect(kEhr, kEhrIp, dst, 443, client_hello("sync.medibox-cloud.net"), 49800);
    h.connect(kEhr, kEhrIp, dst, 443, client_hello("sync.medibox-cloud.net"), 49801);
    EXPECT_EQ(h.sink.of("egress-denied").size(), 1u);
    h.finish();
    denied = h.sink.of("egress-denied");
    ASSERT_EQ(denied.size(), 2u);
    EXPECT_EQ(denied[0]->key, denied[1]->key);
    EXPECT_EQ(denied[0]->count + denied[1]->count, 3u);

    ASSERT_EQ(h.sink.flows.size(), 1u);
    const auto& row = h.sink.flows[0];
    EXPECT_EQ(row.mac, kEhr);
    EXPECT_EQ(row.name, "sync.medibox-cloud.net");
    EXPECT_EQ(row.direction, "egress");
    EXPECT_EQ(row.verdict, "denied");
    EXPECT_EQ(row.flows, 3u);
    EXPECT_EQ(row.packets, 12u);
    EXPECT_EQ(row.port, 443);
}

TEST(Egress, TeamViewerNamedByDnsIsRemoteAccess) {
    Harness h;
    h.resolve(kReception, kReceptionIp, "router15.teamviewer.com", "217.146.28.112");
    h.connect(kReception, kReceptionIp, *IpAddress::parse("217.146.28.112"), 5938,
              from_hex("17 24 0a 20 00 00 00 00"));
    auto ra = h.sink.of("remote-access");
    ASSERT_EQ(ra.size(), 1u);
    EXPECT_EQ(ra[0]->severity, Severity::high);
    EXPECT_EQ(ra[0]->subject_mac, kReception);
    EXPECT_EQ(ra[0]->evidence["destination_name"], "router15.teamviewer.com");
    EXPECT_EQ(ra[0]->evidence["name_source"], "dns");
    EXPECT_EQ(ra[0]->evidence["application"], "TeamViewer");
    // The reception PC may reach Windows Update and mhlw.go.jp only: TeamViewer is denied too.
    EXPECT_EQ(h.sink.of("egress-denied").size(), 1u);
}

TEST(Egress, TeamViewerOn443IsFoundByName) {
    Harness h;
    h.resolve(kPhone, kPhoneIp, "master11.teamviewer.com", "185.188.32.11");
    h.connect(kPhone, kPhoneIp, *IpAddress::parse("185.188.32.11"), 443,
              from_hex("16 03 01 00 04 01 00 00 00"));  // a hello too short to carry an SNI
    auto ra = h.sink.of("remote-access");
    ASSERT_EQ(ra.size(), 1u);
    EXPECT_EQ(ra[0]->evidence["application"], "TeamViewer");
    EXPECT_TRUE(h.sink.of("egress-denied").empty());  // unknown role: observe
}

TEST(Egress, AnyDeskRelayOn443IsFoundByItsAlpn) {
    EgressSettings settings = test_settings();
    RemoteAccessTool anydesk;
    anydesk.name = "AnyDesk";
    anydesk.tls_alpn = {"anydesk/"};
    anydesk.source = "test";
    settings.rules.tools.push_back(anydesk);
    Harness h(std::move(settings));
    // OpenSSL 3.0.19's TLS 1.2 ClientHello offering ALPN "anydesk/6.2.0/linux", no SNI.
    h.connect(kPhone, kPhoneIp, *IpAddress::parse("195.181.174.176"), 443,
              from_hex("16030100d1010000cd03030f5eded5b9145cfb52ad6369d4a4bfdb57d80be08ed44d3177"
                       "7577f84008656d000038c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0"
                       "270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff0100006c000b0004"
                       "03000102000a000c000a001d0017001e001900180023000000100016001413616e79646573"
                       "6b2f362e322e302f6c696e75780016000000170000000d002a002804030503060308070808"
                       "0809080a080b080408050806040105010601030303010302040205020602"));
    auto ra = h.sink.of("remote-access");
    ASSERT_EQ(ra.size(), 1u);
    EXPECT_EQ(ra[0]->evidence["application"], "AnyDesk");
    EXPECT_EQ(ra[0]->subject_mac, kPhone);
}

TEST(Egress, InboundRdpAcceptedIsAnExposure) {
    Harness h;
    auto attacker = *IpAddress::parse("193.233.48.27");
    h.send(ipv4_frame(kRouter, kEhr, attacker, kEhrIp, 6, tcp_segment(51234, 3389, TcpView::kSyn)));
    EXPECT_TRUE(h.sink.alerts.empty());  // a knock is not yet an exposure
    h.send(ipv4_frame(kEhr, kRouter, kEhrIp, attacker, 6,
                      tcp_segment(3389, 51234, TcpView::kSyn | TcpView::kAck)));
    auto exposure = h.sink.of("inbound-exposure");
    ASSERT_EQ(exposure.size(), 1u);
    EXPECT_EQ(exposure[0]->severity, Severity::critical);
    EXPECT_EQ(exposure[0]->subject_mac, kEhr);
    EXPECT_EQ(exposure[0]->evidence["direction"], "inbound");
    EXPECT_EQ(exposure[0]->evidence["port"], 3389);
    EXPECT_EQ(exposure[0]->evidence["destination_ip"], "193.233.48.27");
    EXPECT_EQ(h.sink.of("remote-access").size(), 1u);
    EXPECT_EQ(h.sink.of("risky-protocol-wan").size(), 1u);
    EXPECT_TRUE(h.sink.of("egress-denied").empty());
}

TEST(Egress, InboundSynWithoutAnswerIsNotAnExposure) {
    Harness h;
    h.send(ipv4_frame(kRouter, kEhr, *IpAddress::parse("45.148.10.90"), kEhrIp, 6,
                      tcp_segment(40000, 3389, TcpView::kSyn)));
    h.send(ipv4_frame(kEhr, kRouter, kEhrIp, *IpAddress::parse("45.148.10.90"), 6,
                      tcp_segment(3389, 40000, TcpView::kRst | TcpView::kAck)));
    h.finish();
    EXPECT_TRUE(h.sink.alerts.empty());
    ASSERT_EQ(h.sink.flows.size(), 1u);
    EXPECT_EQ(h.sink.flows[0].verdict, "refused");
}

TEST(Egress, MidStreamRdpServedFromInsideIsRemoteAccessNotExposure) {
    Harness h;  // the capture started after the handshake
    auto far = *IpAddress::parse("198.51.100.77");
    h.send(ipv4_frame(kEhr, kRouter, kEhrIp, far, 6,
                      tcp_segment(3389, 52000, TcpView::kAck | TcpView::kPsh, Frame(40, 3))));
    h.send(ipv4_frame(kRouter, kEhr, far, kEhrIp, 6,
                      tcp_segment(52000, 3389, TcpView::kAck | TcpView::kPsh, Frame(40, 3))));
    h.egress.on_tick(h.now + 5 * kMicrosPerSecond);
    EXPECT_TRUE(h.sink.of("inbound-exposure").empty());
    ASSERT_EQ(h.sink.of("remote-access").size(), 1u);
    EXPECT_EQ(h.sink.of("remote-access")[0]->evidence["direction"], "inbound");
    EXPECT_EQ(h.sink.of("remote-access")[0]->evidence["port"], 3389);
    EXPECT_EQ(h.sink.of("risky-protocol-wan").size(), 1u);
    EXPECT_TRUE(h.sink.of("egress-denied").empty());
}

TEST(Egress, UdpReplyFromAWellKnownPortIsEgress) {
    Harness h;  // the DNS query to the outside server was not seen, only its answer
    auto resolver = *IpAddress::parse("8.8.8.8");
    h.send(ipv4_frame(
        kRouter, kEhr, resolver, kEhrIp, 17,
        udp_datagram(53, 53000,
                     dns_response("a.example", 1, {{"a.example", 1, 60, "203.0.113.1"}}))));
    auto denied = h.sink.of("egress-denied");
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ(denied[0]->evidence["direction"], "egress");
    EXPECT_EQ(denied[0]->evidence["port"], 53);
}

TEST(Egress, UnansweredSmbToTheInternetIsRisky) {
    Harness h;
    auto far = *IpAddress::parse("147.137.21.94");
    for (int i = 0; i < 3; ++i)
        h.send(ipv4_frame(kPhone, kRouter, kPhoneIp, far, 6, tcp_segment(1050, 445, TcpView::kSyn)),
               3 * kMicrosPerSecond);
    EXPECT_TRUE(h.sink.alerts.empty());  // waiting for a name or a payload
    h.egress.on_tick(h.now + 20 * kMicrosPerSecond);
    auto risky = h.sink.of("risky-protocol-wan");
    ASSERT_EQ(risky.size(), 1u);
    EXPECT_EQ(risky[0]->subject_mac, kPhone);
    EXPECT_EQ(risky[0]->evidence["port"], 445);
    EXPECT_NE(risky[0]->summary.find("SMB"), std::string::npos);
}

TEST(Egress, AllowedDestinationsRaiseNothing) {
    Harness h;
    h.resolve(kReception, kReceptionIp, "ctldl.windowsupdate.com", "23.200.237.143");
    std::string get =
        "GET /msdownload/update/v3/static/trustedr/en/authrootstl.cab HTTP/1.1\r\n"
        "User-Agent: Microsoft-CryptoAPI/10.0\r\nHost: ctldl.windowsupdate.com\r\n\r\n";
    h.connect(kReception, kReceptionIp, *IpAddress::parse("23.200.237.143"), 80,
              Frame(get.begin(), get.end()));
    h.connect(kReception, kReceptionIp, *IpAddress::parse("210.171.180.101"), 443,
              client_hello("www.mhlw.go.jp"), 49801);
    h.finish();
    EXPECT_TRUE(h.sink.alerts.empty());
    ASSERT_EQ(h.sink.flows.size(), 2u);
    for (const auto& row : h.sink.flows) EXPECT_EQ(row.verdict, "allowed");
    // The same device to a name not on its list is denied.
    h.connect(kReception, kReceptionIp, *IpAddress::parse("45.76.210.84"), 443,
              client_hello("sync.medibox-cloud.net"), 49802);
    EXPECT_EQ(h.sink.of("egress-denied").size(), 1u);
    EXPECT_EQ(h.sink.of("egress-denied")[0]->severity, Severity::medium);
}

TEST(Egress, LanRemoteAccessIsLowSeverity) {
    Harness h;
    auto vnc_server = *IpAddress::parse("192.168.100.50");
    auto vnc_mac = *MacAddress::parse("00:11:22:33:44:55");
    h.send(ipv4_frame(kReception, vnc_mac, kReceptionIp, vnc_server, 6,
                      tcp_segment(50000, 5901, TcpView::kSyn)));
    h.send(ipv4_frame(vnc_mac, kReception, vnc_server, kReceptionIp, 6,
                      tcp_segment(5901, 50000, TcpView::kSyn | TcpView::kAck)));
    auto ra = h.sink.of("remote-access");
    ASSERT_EQ(ra.size(), 1u);
    EXPECT_EQ(ra[0]->severity, Severity::low);
    EXPECT_EQ(ra[0]->subject_mac, vnc_mac);
    EXPECT_EQ(ra[0]->evidence["scope"], "lan");
    EXPECT_EQ(ra[0]->evidence["tool"], "VNC");
    h.finish();
    EXPECT_TRUE(h.sink.flows.empty());  // LAN traffic is not a boundary flow
}

TEST(Egress, MulticastAndLanTrafficIsNotBoundary) {
    Harness h;
    h.send(ipv4_frame(kPhone, *MacAddress::parse("01:00:5e:7f:ff:fa"), kPhoneIp,
                      *IpAddress::parse("239.255.255.250"), 17, udp_datagram(50000, 1900)));
    h.send(ipv4_frame(kPhone, kEhr, kPhoneIp, kEhrIp, 6, tcp_segment(50000, 445, TcpView::kSyn)));
    h.finish();
    EXPECT_TRUE(h.sink.alerts.empty());
    EXPECT_TRUE(h.sink.flows.empty());
    EXPECT_EQ(h.egress.flows(), 0u);
}

TEST(Egress, UdpFlowsGoByTheFirstPacket) {
    Harness h;
    auto ntp = *IpAddress::parse("133.243.238.164");
    h.send(ipv4_frame(kEhr, kRouter, kEhrIp, ntp, 17, udp_datagram(123, 123, Frame(48, 0x23))));
    auto denied = h.sink.of("egress-denied");
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ(denied[0]->evidence["protocol"], "udp");
    EXPECT_EQ(denied[0]->evidence["port"], 123);
}

TEST(Egress, GlobalIpv6IsPlacedByTheRouterMac) {
    auto v6_ehr = *IpAddress::parse("2409:10:a0e0:1200::10");  // a NGN IPoE prefix
    auto v6_far = *IpAddress::parse("2001:db8:77::443");
    {
        Harness h;  // without the router's MAC both ends look external: ignored
        h.send(
            ipv6_frame(kEhr, kRouter, v6_ehr, v6_far, 6, tcp_segment(50000, 443, TcpView::kSyn)));
        EXPECT_EQ(h.egress.flows(), 0u);
    }
    EgressSettings settings = test_settings();
    settings.gateway_mac = kRouter;
    Harness h(std::move(settings));
    h.send(ipv6_frame(kEhr, kRouter, v6_ehr, v6_far, 6, tcp_segment(50000, 443, TcpView::kSyn)));
    h.send(ipv6_frame(kRouter, kEhr, v6_far, v6_ehr, 6,
                      tcp_segment(443, 50000, TcpView::kSyn | TcpView::kAck)));
    h.send(ipv6_frame(kEhr, kRouter, v6_ehr, v6_far, 6,
                      tcp_segment(50000, 443, TcpView::kAck | TcpView::kPsh,
                                  client_hello("backup.example-cloud.jp"))));
    auto denied = h.sink.of("egress-denied");
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ(denied[0]->subject_mac, kEhr);
    EXPECT_EQ(denied[0]->evidence["destination_name"], "backup.example-cloud.jp");
    EXPECT_EQ(denied[0]->evidence["destination_ip"], "2001:db8:77::443");
}

// ---- Bounds ---------------------------------------------------------------------------------

namespace {

// SYNs from the phone to `destinations` random public IPv4 addresses, `repeats` in a row to
// each, one every 10 µs of packet time. Returns the largest flow table seen.
std::size_t flood_random_destinations(Harness& h, std::size_t destinations, int repeats) {
    Frame f = ipv4_frame(kPhone, kRouter, kPhoneIp, IpAddress::v4(0x08080808u), 6,
                         tcp_segment(40000, 443, TcpView::kSyn));
    std::mt19937 rng(7);
    std::size_t peak = 0;
    for (std::size_t i = 0; i < destinations; ++i) {
        // Written into the frame in place (bytes 30..33).
        std::uint32_t ip = (rng() % 0xdf000000u) + 0x01000000u;
        std::uint32_t first = ip >> 24;
        if (first == 10 || first == 100 || first == 172 || first == 192)
            ip = (45u << 24) | (ip & 0x00ffffffu);  // keep clear of private ranges
        f[30] = static_cast<std::uint8_t>(ip >> 24);
        f[31] = static_cast<std::uint8_t>(ip >> 16);
        f[32] = static_cast<std::uint8_t>(ip >> 8);
        f[33] = static_cast<std::uint8_t>(ip);
        for (int r = 0; r < repeats; ++r) {
            h.now += 10;
            decode_packet(LinkType::ethernet, h.now, static_cast<std::uint32_t>(f.size()), f,
                          h.packet);
            h.egress.on_packet(h.packet, h.app.begin(h.packet));
            peak = std::max(peak, h.egress.flows());
        }
    }
    return peak;
}

std::uint64_t dropped_from(const Egress& egress, const std::string& table) {
    std::vector<TableUse> use;
    egress.table_use(use);
    auto it =
        std::find_if(use.begin(), use.end(), [&](const TableUse& t) { return t.table == table; });
    EXPECT_NE(it, use.end()) << table;
    return it == use.end() ? 0 : it->dropped;
}

EgressSettings with_flow_table_of(std::size_t flows) {
    EgressSettings settings = test_settings();
    settings.policy.max_flows = flows;
    return settings;
}

std::uint64_t summed_packets(const Harness& h) {
    std::uint64_t packets = 0;
    for (const auto& row : h.sink.flows) packets += row.packets;
    return packets;
}

}  // namespace

TEST(Egress, FlowTableStaysAtItsCapUnderAMillionRandomDestinations) {
    Harness h(with_flow_table_of(4096));
    const std::size_t kDestinations = 1'000'000;
    const std::size_t shared_capacity = h.app.flows().capacity();
    ASSERT_GT(shared_capacity, 4096u);
    EXPECT_EQ(flood_random_destinations(h, kDestinations, 1), 4096u);
    EXPECT_EQ(h.egress.flows(), 4096u);
    EXPECT_EQ(h.app.flows().size(), shared_capacity);
    // One SYN each: once the flow table is full each new flow waits on its probation for a
    // second packet that never comes, so the connections already followed stay. Only a
    // destination the generator happened to repeat soon enough is let in.
    EXPECT_LE(h.app.flows().evicted(), 200u);
    EXPECT_GE(h.app.flows().refused(), kDestinations - shared_capacity - 200);
    // Before the flow table filled, egress's own entries ran out: within the budget of new
    // connections a second (the flood may straddle two seconds) they closed old ones, the rest
    // were counted; so were the few repeated destinations let in later.
    EXPECT_LE(h.egress.flow_evictions(), 2 * Egress::kMaxNewFlowsPerSecondWhenFull);
    EXPECT_GE(h.egress.flow_evictions() + h.egress.flows_untracked(), shared_capacity - 4096);
    EXPECT_LE(h.egress.flow_evictions() + h.egress.flows_untracked(), shared_capacity - 4096 + 200);
    EXPECT_EQ(dropped_from(h.egress, "boundary-flows"), h.egress.flow_evictions());
    h.finish();
    // Followed connections were summed, not lost, and the rest counted where they were turned
    // away: every SYN is accounted for.
    EXPECT_EQ(summed_packets(h) + h.egress.flows_untracked() + h.app.flows().refused(),
              kDestinations)
        << "rows " << h.sink.flows.size() << " evictions " << h.egress.flow_evictions();
}

TEST(Egress, FullFlowTableTakesSessionsThatSendAgainUpToABudgetPerSecond) {
    Harness h(with_flow_table_of(4096));
    // Every destination gets a SYN and its retransmission: each new flow passes probation, and
    // the per-second budgets decide. 500,000 new flows in 10 s of packet time.
    const std::size_t kDestinations = 500'000;
    EXPECT_EQ(flood_random_destinations(h, kDestinations, 2), 4096u);
    std::uint64_t seconds = kDestinations * 2 * 10 / 1'000'000;
    const std::uint64_t budget = FlowTableSettings{}.max_new_flows_per_second_when_full;
    const FlowTable& flows = h.app.flows();
    EXPECT_GE(flows.evicted(), budget * (seconds - 1));
    EXPECT_LE(flows.evicted(), budget * (seconds + 1));
    // The rest were refused (less a few destinations the generator repeated).
    EXPECT_LE(flows.refused(), 2 * kDestinations);
    EXPECT_GE(flows.refused(), 2 * (kDestinations - flows.capacity() - flows.evicted()) - 400);
    // A flow leaving the table closes egress's entry for it, so egress never holds more than
    // the flow table and its own cap.
    EXPECT_LE(h.egress.flows(), 4096u);
    h.finish();
    EXPECT_EQ(summed_packets(h) + h.egress.flows_untracked() + flows.refused(), 2 * kDestinations);
}

TEST(Egress, AConnectionLeavingTheFlowTableClosesItsEntry) {
    // Egress keeps no table of its own: its entry belongs to a flow of the one flow table, and
    // goes (reported) when the flow does.
    Harness h;
    const IpAddress server = *IpAddress::parse("203.0.113.80");
    h.connect(kReception, kReceptionIp, server, 443, client_hello("portal.example.jp"));
    ASSERT_EQ(h.egress.flows(), 1u);
    ASSERT_EQ(h.app.flows().size(), 1u);
    h.app.flows().expire(h.now + 301 * kMicrosPerSecond);
    EXPECT_EQ(h.app.flows().size(), 0u);
    EXPECT_EQ(h.egress.flows(), 0u);
    h.finish();
    ASSERT_EQ(h.sink.flows.size(), 1u);
    EXPECT_EQ(h.sink.flows[0].name, "portal.example.jp");
    EXPECT_EQ(h.sink.flows[0].packets, 4u);
    EXPECT_EQ(h.sink.flows[0].flows, 1u);
}

TEST(Egress, PortsReusedAfterACloseAreASecondConnection) {
    // The flow table starts a new flow when a closed connection's ports open again; egress
    // closes the first entry then, so the day's row counts two connections.
    Harness h;
    const IpAddress server = *IpAddress::parse("203.0.113.81");
    h.connect(kReception, kReceptionIp, server, 443, client_hello("portal.example.jp"));
    h.send(ipv4_frame(kReception, kRouter, kReceptionIp, server, 6,
                      tcp_segment(49700, 443, TcpView::kFin | TcpView::kAck)));
    h.send(ipv4_frame(kRouter, kReception, server, kReceptionIp, 6,
                      tcp_segment(443, 49700, TcpView::kFin | TcpView::kAck)));
    h.send(ipv4_frame(kReception, kRouter, kReceptionIp, server, 6,
                      tcp_segment(49700, 443, TcpView::kSyn, {}, 0x5000)));
    EXPECT_EQ(h.egress.flows(), 1u);
    h.finish();
    // The second connection sent no name yet: its row is the address's, the first one's the
    // name's. Two connections, seven packets in all.
    std::uint64_t connections = 0, packets = 0;
    for (const auto& row : h.sink.flows) {
        connections += row.flows;
        packets += row.packets;
    }
    EXPECT_EQ(connections, 2u);
    EXPECT_EQ(packets, 7u);
}

TEST(Egress, FullFlowTableKeepsWhoSentADatagramFlowsFirstPacket) {
    Harness h(with_flow_table_of(4));
    for (std::uint32_t i = 0; i < 4; ++i)
        h.connect(kPhone, kPhoneIp, IpAddress::v4(0x2d4cd200u + i), 443);
    ASSERT_EQ(h.egress.flows(), 4u);
    // Both ports high (a VPN on 1194): only the order says which side opened it. The first
    // datagram waits on probation and the answer admits the flow.
    const IpAddress vpn = *IpAddress::parse("203.0.113.9");
    h.send(ipv4_frame(kPhone, kRouter, kPhoneIp, vpn, 17, udp_datagram(51000, 1194, Frame(8, 1))));
    h.send(ipv4_frame(kRouter, kPhone, vpn, kPhoneIp, 17, udp_datagram(1194, 51000, Frame(8, 2))));
    h.finish();
    bool found = false;
    for (const auto& row : h.sink.flows)
        if (row.address == vpn) {
            found = true;
            EXPECT_EQ(row.direction, "egress");
            EXPECT_EQ(row.port, 1194);
        }
    EXPECT_TRUE(found);
}

TEST(Egress, StoredDestinationsPerAssetAndDayAreCapped) {
    Harness h;
    const std::uint32_t kPeers = 2000;
    for (std::uint32_t i = 0; i < kPeers; ++i)
        h.send(ipv4_frame(kPhone, kRouter, kPhoneIp, IpAddress::v4(0x2d4cd200u + i), 17,
                          udp_datagram(50000, 9999, Frame(8, 1))));
    h.finish();
    EXPECT_EQ(h.sink.flows.size(), Egress::kMaxSummaryDestinations + 1u);
    EXPECT_EQ(h.egress.summaries_capped(), kPeers - Egress::kMaxSummaryDestinations);
    std::uint64_t flows = 0, lumped = 0;
    for (const auto& row : h.sink.flows) {
        flows += row.flows;
        if (row.name == "(other destinations)") {
            lumped = row.flows;
            EXPECT_TRUE(row.address.empty());
        }
    }
    EXPECT_EQ(flows, kPeers);
    EXPECT_EQ(lumped, kPeers - Egress::kMaxSummaryDestinations);
}

// A restart in the middle of the day continues the day's cap: the rows stored by the earlier
// run count, and a destination it already stored is not counted twice.
TEST(Egress, DayCapCountsTheRowsOfAnEarlierRun) {
    auto peer = [](std::uint32_t i) { return IpAddress::v4(0x2d4cd200u + i); };
    Harness first;
    const std::uint32_t kEarlier = 1000;
    for (std::uint32_t i = 0; i < kEarlier; ++i)
        first.send(ipv4_frame(kPhone, kRouter, kPhoneIp, peer(i), 17,
                              udp_datagram(50000, 9999, Frame(8, 1))));
    first.finish();
    ASSERT_EQ(first.sink.flows.size(), kEarlier);

    Harness restarted;
    restarted.now = first.now + 60 * kMicrosPerSecond;
    restarted.egress.restore_day_rows(first.sink.flows);
    for (std::uint32_t i = 0; i < 5; ++i)  // seen before the restart
        restarted.send(ipv4_frame(kPhone, kRouter, kPhoneIp, peer(i), 17,
                                  udp_datagram(50000, 9999, Frame(8, 1))));
    for (std::uint32_t i = kEarlier; i < kEarlier + 100; ++i)  // new today
        restarted.send(ipv4_frame(kPhone, kRouter, kPhoneIp, peer(i), 17,
                                  udp_datagram(50000, 9999, Frame(8, 1))));
    restarted.finish();
    std::uint64_t own_rows = 0, lumped = 0;
    for (const auto& row : restarted.sink.flows) {
        if (row.name == "(other destinations)")
            lumped += row.flows;
        else
            ++own_rows;
    }
    EXPECT_EQ(own_rows, 5u + (Egress::kMaxSummaryDestinations - kEarlier));
    EXPECT_EQ(lumped, 100u - (Egress::kMaxSummaryDestinations - kEarlier));
}

// A reload that rebuilds egress (its settings changed) continues the day from the analyzer it
// replaces: its destination count, and the names it learned from DNS answers.
TEST(Egress, RebuildOnReloadContinuesTheDay) {
    auto peer = [](std::uint32_t i) { return IpAddress::v4(0x2d4cd200u + i); };
    Harness earlier;
    const std::uint32_t kEarlier = 1000;
    for (std::uint32_t i = 0; i < kEarlier; ++i)
        earlier.send(ipv4_frame(kPhone, kRouter, kPhoneIp, peer(i), 17,
                                udp_datagram(50000, 9999, Frame(8, 1))));
    earlier.resolve(kReception, kReceptionIp, "portal.example.jp", "203.0.113.77");
    earlier.finish();
    ASSERT_EQ(earlier.sink.flows.size(), kEarlier);

    Harness rebuilt;
    rebuilt.now = earlier.now + kMicrosPerSecond;
    rebuilt.egress.continue_from(earlier.egress);
    for (std::uint32_t i = kEarlier; i < kEarlier + 100; ++i)
        rebuilt.send(ipv4_frame(kPhone, kRouter, kPhoneIp, peer(i), 17,
                                udp_datagram(50000, 9999, Frame(8, 1))));
    rebuilt.connect(kReception, kReceptionIp, *IpAddress::parse("203.0.113.77"), 443);
    rebuilt.finish();
    std::uint64_t own_rows = 0, lumped = 0;
    bool named = false;
    for (const auto& row : rebuilt.sink.flows) {
        if (row.name == "(other destinations)")
            lumped += row.flows;
        else if (row.mac == kPhone)
            ++own_rows;
        if (row.mac == kReception && row.name == "portal.example.jp") named = true;
    }
    EXPECT_EQ(own_rows, Egress::kMaxSummaryDestinations - kEarlier);
    EXPECT_EQ(lumped, 100u - (Egress::kMaxSummaryDestinations - kEarlier));
    EXPECT_TRUE(named) << "the DNS name learned before the reload was forgotten";
}

// A restart continues the day's alert cap from the alerts an earlier run stored: 50 named
// destinations before, then 40 new ones after leave room for 14 more names, not 64.
TEST(Egress, AlertCapCountsTheAlertsOfAnEarlierRun) {
    auto peer = [](std::uint32_t i) { return IpAddress::v4(0x2d4cd200u + i); };
    Harness first;
    for (std::uint32_t i = 0; i < 50; ++i)
        first.send(
            ipv4_frame(kEhr, kRouter, kEhrIp, peer(i), 17, udp_datagram(50000, 9999, Frame(8, 1))));
    std::vector<std::string> stored;
    for (const auto* a : first.sink.of("egress-denied")) stored.push_back(a->key);
    ASSERT_EQ(std::set<std::string>(stored.begin(), stored.end()).size(), 50u);

    Harness restarted;
    restarted.now = first.now + 60 * kMicrosPerSecond;
    restarted.egress.restore_day_alerts(stored);
    for (std::uint32_t i = 0; i < 5; ++i)  // alerted before the restart: the same alerts
        restarted.send(
            ipv4_frame(kEhr, kRouter, kEhrIp, peer(i), 17, udp_datagram(50000, 9999, Frame(8, 1))));
    for (std::uint32_t i = 50; i < 90; ++i)  // new today
        restarted.send(
            ipv4_frame(kEhr, kRouter, kEhrIp, peer(i), 17, udp_datagram(50000, 9999, Frame(8, 1))));
    std::set<std::string> named;
    std::size_t lumped = 0;
    for (const auto* a : restarted.sink.of("egress-denied")) {
        if (a->key.find("|*|") != std::string::npos)
            ++lumped;
        else
            named.insert(a->key);
    }
    EXPECT_EQ(named.size(), 5u + (Egress::kMaxAlertDestinations - 50));
    EXPECT_GT(lumped, 0u) << "the cap started the day over after the restart";
    EXPECT_EQ(restarted.egress.alerts_capped(), 40u - (Egress::kMaxAlertDestinations - 50));
}

TEST(Egress, AlertsPerAssetAndDayAreCapped) {
    Harness h;
    for (std::uint32_t i = 0; i < 500; ++i) {
        auto dst = IpAddress::v4(0x2d4cd200u + i);
        h.send(ipv4_frame(kEhr, kRouter, kEhrIp, dst, 17, udp_datagram(50000, 9999, Frame(8, 1))));
    }
    std::set<std::string> keys;
    for (const auto* a : h.sink.of("egress-denied")) keys.insert(a->key);
    EXPECT_EQ(keys.size(), Egress::kMaxAlertDestinations + 1);  // 64 named + one "many"
    EXPECT_EQ(h.egress.alerts_capped(), 500u - Egress::kMaxAlertDestinations);
    h.finish();
    std::uint64_t lumped = 0;
    for (const auto* a : h.sink.of("egress-denied"))
        if (a->key.find("|*|") != std::string::npos) lumped += a->count;
    EXPECT_EQ(lumped, 500u - Egress::kMaxAlertDestinations);
}
