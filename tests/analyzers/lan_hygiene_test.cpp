#include "analyzers/lan_hygiene.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>

#include "analyzers/dispatcher.hpp"
#include "analyzers/inventory.hpp"
#include "tests/analyzers/frame_builder.hpp"
#include "tests/analyzers/recording_sink.hpp"

namespace clinicwatch {
namespace {

using namespace test;

constexpr Timestamp kT0 = 1'763'600'000'000'000;
constexpr Timestamp kSecond = kMicrosPerSecond;
const std::string kGwMac = "00:a0:de:6e:21:4c", kGwIp = "192.168.100.1";
const std::string kBroadcast = "ff:ff:ff:ff:ff:ff", kZero = "00:00:00:00:00:00";

struct Fixture {
    HostTable hosts;
    Dispatcher dispatcher{hosts};
    RecordingSink sink;
    AssetRegister reg;
    LanHygiene* hygiene = nullptr;
    Timestamp now = kT0;

    explicit Fixture(LanHygieneSettings s = defaults(), std::vector<RegisterEntry> entries = {},
                     std::size_t capacity = 1000)
        : hosts(capacity), reg(with_gateway(std::move(entries))) {
        InventorySettings inv;
        inv.asset_register = &reg;
        dispatcher.add(std::make_unique<Inventory>(hosts, inv));
        auto h = std::make_unique<LanHygiene>(hosts, sink, std::move(s));
        hygiene = h.get();
        dispatcher.add(std::move(h));
    }
    // The gateway is in every test's register, as in a real clinic's.
    static std::vector<RegisterEntry> with_gateway(std::vector<RegisterEntry> entries) {
        entries.push_back({*MacPrefix::parse(kGwMac), "gateway", "router", "", "", 1});
        return entries;
    }
    static LanHygieneSettings defaults() {
        LanHygieneSettings s;
        s.learning_period = 0;
        s.gateway_ip = IpAddress::parse(kGwIp);
        s.gateway_mac = MacAddress::parse(kGwMac);
        return s;
    }
    void feed(const Frame& f) { dispatcher.on_packet(decode(f, now)); }
    void advance(Timestamp by) {
        // Quiet time still ticks: one harmless frame from the gateway per second.
        for (Timestamp end = now + by; now < end;) {
            now += kSecond;
            feed(arp(2, kGwMac, kGwIp, "98:e7:43:0c:55:21", "192.168.100.10"));
        }
    }
};

Frame dhcp_reply(std::uint8_t type, const std::string& server_mac, const std::string& server_ip,
                 const std::string& client, const std::string& offered) {
    Frame m = dhcp_message(2, client, offered,
                           {{53, {type}},
                            {54, ip_bytes(server_ip)},
                            {3, ip_bytes(server_ip)},
                            {6, ip_bytes(server_ip)}});
    return udp(kBroadcast, server_mac, server_ip, "255.255.255.255", 67, 68, m);
}

TEST(LanHygiene, RogueDhcpFromAnUnapprovedServerOnly) {
    Fixture fx;
    fx.feed(dhcp_reply(2, kGwMac, kGwIp, "a8:b2:da:30:5f:92", "192.168.100.115"));
    fx.feed(dhcp_reply(5, kGwMac, kGwIp, "a8:b2:da:30:5f:92", "192.168.100.115"));
    EXPECT_TRUE(fx.sink.of_kind("rogue-dhcp").empty());
    fx.feed(
        dhcp_reply(2, "34:3d:c4:88:12:5a", "192.168.11.1", "3e:c1:77:25:a9:60", "192.168.11.25"));
    fx.feed(
        dhcp_reply(5, "34:3d:c4:88:12:5a", "192.168.11.1", "3e:c1:77:25:a9:60", "192.168.11.25"));
    fx.advance(15 * kSecond);
    fx.dispatcher.finish();
    auto rogue = fx.sink.of_kind("rogue-dhcp");
    ASSERT_FALSE(rogue.empty());
    EXPECT_EQ(rogue[0]->severity, Severity::high);
    EXPECT_EQ(rogue[0]->subject, "192.168.11.1");
    EXPECT_EQ(rogue[0]->subject_mac->to_string(), "34:3d:c4:88:12:5a");
    EXPECT_EQ(rogue[0]->evidence["offered_ip"], "192.168.11.25");
    EXPECT_EQ(rogue[0]->evidence["router_option"][0], "192.168.11.1");
    std::uint64_t total = 0;
    for (auto* a : rogue) total += a->count;
    EXPECT_EQ(total, 2u);  // both replies counted, in throttled updates with one key
    for (auto* a : rogue) EXPECT_EQ(a->key, rogue[0]->key);
}

TEST(LanHygiene, RogueDhcpWithoutConfigurationLearnsTheFirstServer) {
    LanHygieneSettings s;
    s.learning_period = 0;
    Fixture fx(s);
    fx.feed(dhcp_reply(2, "00:0c:29:c0:60:a4", "192.168.1.5", "00:0c:29:59:fd:21", "192.168.1.10"));
    fx.feed(dhcp_reply(5, "00:0c:29:c0:60:a4", "192.168.1.5", "00:0c:29:59:fd:21", "192.168.1.10"));
    EXPECT_TRUE(fx.sink.of_kind("rogue-dhcp").empty());
    fx.feed(
        dhcp_reply(2, "34:3d:c4:88:12:5a", "192.168.11.1", "00:0c:29:59:fd:21", "192.168.11.2"));
    EXPECT_EQ(fx.sink.of_kind("rogue-dhcp").size(), 1u);
}

TEST(LanHygiene, IpConflictBetweenTwoMacsButNotSharedOrMovedAddresses) {
    LanHygieneSettings s = Fixture::defaults();
    s.shared_addresses = {*IpAddress::parse("192.168.100.50")};
    Fixture fx(s);
    const std::string ricoh = "58:38:79:a2:10:6f", brother = "3c:2a:f4:61:d0:47";
    fx.feed(arp(2, ricoh, "192.168.100.20", kGwMac, kGwIp));
    fx.advance(2 * kSecond);
    fx.feed(arp(1, brother, "192.168.100.20", kZero, "192.168.100.20"));  // gratuitous
    auto c = fx.sink.of_kind("ip-conflict");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0]->subject, "192.168.100.20");
    EXPECT_EQ(c[0]->severity, Severity::medium);
    EXPECT_EQ(c[0]->subject_mac->to_string(), brother);
    EXPECT_EQ(c[0]->evidence["macs"][0], ricoh);
    EXPECT_EQ(c[0]->evidence["last_claim"], "gratuitous-arp");
    // Both keep answering for over a minute: the alert rises to high.
    for (int i = 0; i < 8; ++i) {
        fx.advance(10 * kSecond);
        fx.feed(arp(2, i % 2 ? ricoh : brother, "192.168.100.20", kGwMac, kGwIp));
    }
    fx.dispatcher.finish();
    EXPECT_EQ(fx.sink.of_kind("ip-conflict").back()->severity, Severity::high);
    std::size_t before = fx.sink.alerts.size();
    // A shared (virtual) address may move between two MACs.
    fx.feed(arp(2, "00:00:5e:00:01:01", "192.168.100.50", kGwMac, kGwIp));
    fx.feed(arp(2, "00:00:5e:00:01:02", "192.168.100.50", kGwMac, kGwIp));
    // An address that moves after the window (a new lease) is no conflict.
    fx.feed(arp(2, "6c:2b:59:8a:04:e1", "192.168.100.111", kGwMac, kGwIp));
    fx.advance(301 * kSecond);
    fx.feed(arp(2, "c8:f7:50:2e:71:c8", "192.168.100.111", kGwMac, kGwIp));
    for (std::size_t i = before; i < fx.sink.alerts.size(); ++i)
        EXPECT_NE(fx.sink.alerts[i].kind, "ip-conflict") << fx.sink.alerts[i].subject;
}

TEST(LanHygiene, IpConflictFromDhcpAckAgainstAStaticDevice) {
    Fixture fx;
    fx.feed(arp(2, "58:38:79:a2:10:6f", "192.168.100.20", kGwMac, kGwIp));
    fx.feed(dhcp_reply(5, kGwMac, kGwIp, "a8:b2:da:30:5f:92", "192.168.100.20"));
    auto c = fx.sink.of_kind("ip-conflict");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0]->evidence["last_claim"], "dhcp-ack");
}

TEST(LanHygiene, GatewayMacChangeIsCritical) {
    Fixture fx;
    fx.feed(arp(2, kGwMac, kGwIp, "98:e7:43:0c:55:21", "192.168.100.10"));
    EXPECT_TRUE(fx.sink.of_kind("gateway-mac-change").empty());
    fx.feed(arp(2, "00:a0:de:71:05:b9", kGwIp, kBroadcast, kGwIp));
    auto g = fx.sink.of_kind("gateway-mac-change");
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0]->severity, Severity::critical);
    EXPECT_EQ(g[0]->subject, kGwIp);
    EXPECT_EQ(g[0]->subject_mac->to_string(), "00:a0:de:71:05:b9");
    EXPECT_EQ(g[0]->evidence["expected_mac"], kGwMac);
    EXPECT_EQ(g[0]->evidence["expected_mac_from"], "configuration");
    EXPECT_TRUE(fx.sink.of_kind("ip-conflict").empty());  // reported once, as the worse kind
}

TEST(LanHygiene, GatewayMacIsLearnedWhenNotConfigured) {
    LanHygieneSettings s = Fixture::defaults();
    s.gateway_mac.reset();
    Fixture fx(s);
    fx.feed(arp(2, kGwMac, kGwIp, "98:e7:43:0c:55:21", "192.168.100.10"));
    ASSERT_TRUE(fx.hygiene->gateway_mac());
    EXPECT_EQ(fx.hygiene->gateway_mac()->to_string(), kGwMac);
    fx.feed(arp(2, "00:25:b3:bf:91:ee", kGwIp, "98:e7:43:0c:55:21", "192.168.100.10"));
    auto g = fx.sink.of_kind("gateway-mac-change");
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0]->evidence["expected_mac_from"], "learned from ARP");
}

TEST(LanHygiene, UnregisteredDeviceOnceAfterLearningWithNamesAndVendor) {
    LanHygieneSettings s = Fixture::defaults();
    s.learning_period = 60 * kSecond;
    std::vector<RegisterEntry> reg = {
        {*MacPrefix::parse("98:e7:43:0c:55:21"), "ehr", "ehr-server", "EHR vendor", "", 2}};
    Fixture fx(s, reg);
    // Seen during learning: recorded, never alerted.
    fx.feed(arp(2, "10:c5:95:4b:22:9e", "192.168.100.11", kGwMac, kGwIp));
    fx.advance(90 * kSecond);
    // A new device after learning, with a DHCP host name.
    const std::string buffalo = "34:3d:c4:88:12:5a";
    Frame req = dhcp_message(1, buffalo, "0.0.0.0", {{53, {3}}, {12, text_bytes("WSR-1800AX4")}});
    fx.feed(udp(kBroadcast, buffalo, "0.0.0.0", "255.255.255.255", 68, 67, req));
    fx.feed(arp(2, buffalo, "192.168.11.1", kGwMac, kGwIp));
    fx.advance(60 * kSecond);
    fx.feed(arp(2, buffalo, "192.168.11.1", kGwMac, kGwIp));
    fx.advance(60 * kSecond);
    fx.dispatcher.finish();
    auto u = fx.sink.of_kind("unregistered-device");
    ASSERT_EQ(u.size(), 1u);
    EXPECT_EQ(u[0]->subject_mac->to_string(), buffalo);
    EXPECT_EQ(u[0]->key, "unregistered-device:" + buffalo);
    EXPECT_EQ(u[0]->evidence["first_address"], "192.168.11.1");
    EXPECT_EQ(u[0]->evidence["names"][0]["value"], "WSR-1800AX4");
    EXPECT_EQ(u[0]->severity, Severity::medium);
}

TEST(LanHygiene, RandomisedMacsAreSummarisedPerDay) {
    Fixture fx;
    for (int i = 0; i < 5; ++i) {
        std::string mac = "6a:3f:91:c4:08:2" + std::to_string(i);
        fx.feed(arp(2, mac, "192.168.100.1" + std::to_string(30 + i), kGwMac, kGwIp));
    }
    fx.advance(40 * kSecond);
    fx.dispatcher.finish();
    auto u = fx.sink.of_kind("unregistered-device");
    ASSERT_FALSE(u.empty());
    for (auto* a : u) {
        EXPECT_EQ(a->severity, Severity::low);
        EXPECT_TRUE(a->key.starts_with("unregistered-device:randomized:")) << a->key;
        EXPECT_EQ(a->key, u[0]->key);
    }
    EXPECT_EQ(u.back()->evidence["devices_total"], 5);
    // With alert_each_randomized, each phone is its own (low) alert.
    LanHygieneSettings s = Fixture::defaults();
    s.alert_each_randomized = true;
    Fixture each(s);
    each.feed(arp(2, "6a:3f:91:c4:08:20", "192.168.100.130", kGwMac, kGwIp));
    each.feed(arp(2, "6a:3f:91:c4:08:21", "192.168.100.131", kGwMac, kGwIp));
    each.advance(40 * kSecond);
    auto e = each.sink.of_kind("unregistered-device");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0]->severity, Severity::low);
    EXPECT_NE(e[0]->key, e[1]->key);
}

// The day of the randomised-MAC summary is the clinic's day: in Tokyo, phones seen at 08:50
// and at 09:10 are one day's summary (09:00 JST is midnight UTC), and 00:10 the next morning
// begins the next day's.
TEST(LanHygiene, RandomisedMacSummaryDayIsTheClinicsLocalDay) {
    const char* old_tz = std::getenv("TZ");
    std::string saved = old_tz ? old_tz : "";
    ::setenv("TZ", "Asia/Tokyo", 1);
    ::tzset();
    Fixture fx;
    constexpr Timestamp k0850 = 1'795'132'200'000'000;  // 2026-11-20 08:50 JST (23:50 UTC)
    fx.now = k0850;
    fx.feed(arp(2, "6a:3f:91:c4:08:20", "192.168.100.130", kGwMac, kGwIp));
    fx.advance(20 * 60 * kSecond);  // to 09:10 JST, across midnight UTC
    fx.feed(arp(2, "6a:3f:91:c4:08:21", "192.168.100.131", kGwMac, kGwIp));
    fx.advance(60 * kSecond);
    fx.now = k0850 + (15 * 3600 + 20 * 60) * kSecond;  // 2026-11-21 00:10 JST
    fx.feed(arp(2, "6a:3f:91:c4:08:22", "192.168.100.132", kGwMac, kGwIp));
    fx.advance(60 * kSecond);
    fx.dispatcher.finish();
    if (old_tz)
        ::setenv("TZ", saved.c_str(), 1);
    else
        ::unsetenv("TZ");
    ::tzset();
    std::map<std::string, std::int64_t> devices_by_key;
    for (auto* a : fx.sink.of_kind("unregistered-device"))
        devices_by_key[a->key] = a->evidence["devices_total"].get<std::int64_t>();
    EXPECT_EQ(devices_by_key, (std::map<std::string, std::int64_t>{
                                  {"unregistered-device:randomized:2026-11-20", 2},
                                  {"unregistered-device:randomized:2026-11-21", 1}}));
}

TEST(LanHygiene, MacFloodIsOneAlertAndRegisteredDevicesStay) {
    LanHygieneSettings s = Fixture::defaults();
    s.max_new_macs_per_minute = 100;
    std::vector<RegisterEntry> reg = {
        {*MacPrefix::parse("98:e7:43:0c:55:21"), "ehr", "ehr-server", "EHR vendor", "", 2}};
    Fixture fx(s, reg, 500);
    fx.feed(arp(2, "98:e7:43:0c:55:21", "192.168.100.10", kGwMac, kGwIp));
    std::mt19937_64 rng(7);
    for (int i = 0; i < 20000; ++i) {
        if (i % 200 == 0) fx.now += kSecond;
        std::uint64_t v = rng() & 0xfcffffffffffULL;  // unicast, globally administered
        MacAddress m;
        for (int b = 0; b < 6; ++b) m.bytes[b] = static_cast<std::uint8_t>(v >> (40 - 8 * b));
        fx.feed(ethernet(kBroadcast, m.to_string(), 0x88b5));
    }
    fx.advance(130 * kSecond);
    fx.dispatcher.finish();
    EXPECT_LE(fx.hosts.size(), 500u);
    // Each flood MAC sent once and none was admitted; only devices sending again (the test's
    // gateway) may push a flood-time newcomer out.
    EXPECT_GT(fx.hosts.refused(), 19000u);
    EXPECT_LE(fx.hosts.evictions(), 2u);
    ASSERT_NE(fx.hosts.find(*MacAddress::parse("98:e7:43:0c:55:21"), 0), nullptr);
    auto f = fx.sink.of_kind("mac-flood");
    ASSERT_FALSE(f.empty());
    std::uint64_t incidents = 0;
    for (auto* a : f) {
        incidents += a->count;
        EXPECT_EQ(a->key, f[0]->key);
    }
    EXPECT_EQ(incidents, 1u);
    EXPECT_TRUE(f.back()->ended);
    EXPECT_EQ(f.back()->evidence["host_table_capacity"], 500);
    EXPECT_GT(f.back()->evidence["frames_refused_during_flood"].get<std::uint64_t>(), 19000u);
    EXPECT_GT(f.back()->evidence["peak_new_macs_per_minute"].get<std::uint64_t>(), 5000u);
    EXPECT_LE(f.size(), 5u);
    // The flood's MACs are summarised by mac-flood, not one unregistered alert each.
    EXPECT_TRUE(fx.sink.of_kind("unregistered-device").empty());
}

}  // namespace
}  // namespace clinicwatch

namespace clinicwatch {
namespace {

TEST(LanHygiene, GatewayMacIsLearnedFromOutboundTrafficBeforeArp) {
    LanHygieneSettings s = Fixture::defaults();
    s.gateway_ip = IpAddress::parse("172.16.0.1");
    s.gateway_mac.reset();
    Fixture fx(s);
    const std::string victim = "00:21:70:c0:56:f0", router = "00:26:0b:31:07:33";
    for (const char* dst : {"93.184.216.34", "142.250.0.1", "151.101.1.1"})
        fx.feed(tcp(router, victim, "172.16.0.107", dst, 50000, 443, 0x02));
    ASSERT_TRUE(fx.hygiene->gateway_mac());
    EXPECT_EQ(fx.hygiene->gateway_mac()->to_string(), router);
    fx.feed(arp(2, "00:25:b3:bf:91:ee", "172.16.0.1", victim, "172.16.0.107"));
    auto g = fx.sink.of_kind("gateway-mac-change");
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0]->evidence["expected_mac_from"], "learned from outbound traffic");
}

// With no gateway configured, each device's next hop to the internet is watched.
struct NoGateway {
    explicit NoGateway(LanHygieneSettings s = without_gateway()) : fx(std::move(s)) {}
    Fixture fx;
    static LanHygieneSettings without_gateway() {
        LanHygieneSettings s = Fixture::defaults();
        s.gateway_ip.reset();
        s.gateway_mac.reset();
        return s;
    }
    static constexpr const char* kVictim = "00:21:70:c0:56:f0";
    static constexpr const char* kRouter = "00:26:0b:31:07:33";
    static constexpr const char* kOther = "00:25:b3:bf:91:ee";
    // `n` SYNs from the victim to internet addresses, sent to `hop`.
    void browse(const std::string& hop, int n) {
        for (int i = 0; i < n; ++i) {
            fx.now += 100'000;
            fx.feed(tcp(hop, kVictim, "172.16.0.107", "93.184.216." + std::to_string(i + 1),
                        static_cast<std::uint16_t>(50000 + i), 443, 0x02));
        }
    }
};

TEST(LanHygiene, WithoutAGatewayTrafficMovingToAnArpClaimerIsAlerted) {
    NoGateway t;
    t.browse(NoGateway::kRouter, 5);
    // The attacker's unsolicited reply claims the gateway's address; the victim follows.
    t.fx.feed(arp(2, NoGateway::kOther, "172.16.0.1", NoGateway::kVictim, "172.16.0.107"));
    t.browse(NoGateway::kOther, 9);
    EXPECT_TRUE(t.fx.sink.of_kind("gateway-mac-change").empty());  // not yet confirmed
    t.browse(NoGateway::kOther, 20);
    auto g = t.fx.sink.of_kind("gateway-mac-change");
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0]->severity, Severity::high);
    EXPECT_EQ(g[0]->subject, "172.16.0.1");
    EXPECT_EQ(g[0]->subject_mac, MacAddress::parse(NoGateway::kOther));
    EXPECT_EQ(g[0]->evidence["expected_mac"], NoGateway::kRouter);
    EXPECT_EQ(g[0]->evidence["device_ip"], "172.16.0.107");
    // The spoofing stops: the victim goes back to the router, which has just answered an ARP
    // request. Going back to an earlier hop is not a takeover, so the router is not reported.
    t.fx.feed(arp(2, NoGateway::kRouter, "172.16.0.1", NoGateway::kVictim, "172.16.0.107"));
    t.browse(NoGateway::kRouter, 30);
    EXPECT_EQ(t.fx.sink.of_kind("gateway-mac-change").size(), 1u);
}

// The next hops learned before a restart or reload are handed to the new unit: the first move
// it sees is a move away from the router, not the device's first hop.
TEST(LanHygiene, WithoutAGatewayRestoredNextHopsShowATakeover) {
    std::vector<LearnedNextHop> learned;
    Timestamp later = 0;
    {
        NoGateway earlier;
        earlier.browse(NoGateway::kRouter, 5);
        earlier.fx.hygiene->on_finish(earlier.fx.now);
        learned = earlier.fx.hygiene->next_hops();
        later = earlier.fx.now + 3600 * kSecond;
    }
    ASSERT_EQ(learned.size(), 1u);
    EXPECT_EQ(learned[0].device, MacAddress::parse(NoGateway::kVictim));
    EXPECT_EQ(learned[0].hop, MacAddress::parse(NoGateway::kRouter));
    for (bool restored : {false, true}) {
        LanHygieneSettings s = NoGateway::without_gateway();
        if (restored) s.next_hops = learned;
        std::vector<LearnedNextHop> recorded;
        s.record_next_hops = [&](const std::vector<LearnedNextHop>& hops) { recorded = hops; };
        NoGateway t(s);
        t.fx.now = later;
        t.fx.feed(arp(2, NoGateway::kOther, "172.16.0.1", NoGateway::kVictim, "172.16.0.107"));
        t.browse(NoGateway::kOther, 30);
        t.fx.hygiene->on_finish(t.fx.now);
        // Without what was learned, the spoofer is the device's first hop: nothing to see.
        EXPECT_EQ(t.fx.sink.of_kind("gateway-mac-change").size(), restored ? 1u : 0u) << restored;
        ASSERT_EQ(recorded.size(), 1u);
        EXPECT_EQ(recorded[0].hop, MacAddress::parse(NoGateway::kOther));
        EXPECT_EQ(recorded[0].earlier,
                  restored ? *MacAddress::parse(NoGateway::kRouter) : MacAddress{});
    }
}

TEST(LanHygiene, WithoutAGatewayASecondRouterIsNotATakeover) {
    {
        // Some destinations go through a second router: the device goes back to the first.
        NoGateway t;
        t.browse(NoGateway::kRouter, 5);
        t.fx.feed(arp(2, NoGateway::kOther, "172.16.0.254", NoGateway::kVictim, "172.16.0.107"));
        for (int round = 0; round < 5; ++round) {
            t.browse(NoGateway::kOther, 6);
            t.browse(NoGateway::kRouter, 6);
        }
        EXPECT_TRUE(t.fx.sink.of_kind("gateway-mac-change").empty());
    }
    {
        // The device used the second router from its first packet.
        NoGateway t;
        t.fx.feed(arp(2, NoGateway::kOther, "172.16.0.254", NoGateway::kVictim, "172.16.0.107"));
        t.browse(NoGateway::kOther, 30);
        EXPECT_TRUE(t.fx.sink.of_kind("gateway-mac-change").empty());
    }
    {
        // A move long after the new router's last ARP claim is not tied to it.
        NoGateway t;
        t.browse(NoGateway::kRouter, 5);
        t.fx.feed(arp(2, NoGateway::kOther, "172.16.0.1", NoGateway::kVictim, "172.16.0.107"));
        t.fx.now += LanHygiene::kTakeoverWindow + kSecond;
        t.browse(NoGateway::kOther, 30);
        EXPECT_TRUE(t.fx.sink.of_kind("gateway-mac-change").empty());
    }
}

}  // namespace
}  // namespace clinicwatch
