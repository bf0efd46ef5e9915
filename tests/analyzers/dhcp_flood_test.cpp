#include "analyzers/dhcp_flood.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "analyzers/packet_context.hpp"
#include "tests/analyzers/frame_builder.hpp"
#include "tests/analyzers/recording_sink.hpp"

namespace clinicwatch {
namespace {

using namespace test;

constexpr Timestamp kT0 = 1'763'600'000'000'000;
constexpr Timestamp kSecond = kMicrosPerSecond;

std::string mac_text(std::uint64_t v) {
    char s[18];
    std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", unsigned(v >> 40 & 0xff),
                  unsigned(v >> 32 & 0xff), unsigned(v >> 24 & 0xff), unsigned(v >> 16 & 0xff),
                  unsigned(v >> 8 & 0xff), unsigned(v & 0xff));
    return s;
}

// A client's DHCP message (type 1 DISCOVER, 3 REQUEST) from `sender` for `chaddr`.
Frame client_message(std::uint8_t type, const std::string& sender, const std::string& chaddr) {
    Frame m = dhcp_message(1, chaddr, "0.0.0.0", {{53, {type}}});
    return udp("ff:ff:ff:ff:ff:ff", sender, "0.0.0.0", "255.255.255.255", 68, 67, m);
}

struct Fixture {
    RecordingSink sink;
    DhcpFlood flood{sink, DhcpFloodSettings{}};
    Timestamp now = kT0;
    void feed(const Frame& f) {
        Packet p = decode(f, now);
        flood.on_packet(p, app.begin(p));
    }
    ApplicationLayer app;
    // Quiet time, ticking once a second as the dispatcher does.
    void advance(Timestamp by) {
        for (Timestamp end = now + by; now < end;) {
            now += kSecond;
            flood.on_tick(now);
        }
    }
};

TEST(DhcpFlood, StarvationWithForgedClientsIsOneIncidentThatEnds) {
    Fixture fx;
    std::mt19937_64 rng(3);
    // 3,000 DISCOVERs in 30 s, each from a new forged MAC and claiming it (dhcpig-style).
    for (int i = 0; i < 3000; ++i) {
        if (i % 100 == 0) fx.advance(kSecond);
        std::string forged = mac_text(rng() & 0xfcffffffffffULL);
        fx.feed(client_message(1, forged, forged));
    }
    fx.advance(150 * kSecond);
    fx.flood.on_finish(fx.now);
    auto f = fx.sink.of_kind("dhcp-flood");
    ASSERT_FALSE(f.empty());
    std::uint64_t incidents = 0;
    for (const auto* a : f) {
        incidents += a->count;
        EXPECT_EQ(a->key, f[0]->key);
        EXPECT_EQ(a->severity, Severity::high);
        EXPECT_EQ(a->subject, "LAN");
    }
    EXPECT_EQ(incidents, 1u);
    EXPECT_LE(f.size(), 4u);  // raised at once, then at most one update a minute
    // Raised as soon as the minute passed the limit, not at the end of the minute.
    EXPECT_LT(f[0]->last_seen - kT0, 10 * kSecond);
    const AlertUpdate& last = *f.back();
    EXPECT_TRUE(last.ended);
    EXPECT_EQ(last.evidence["peak_requests_per_minute"], 3000);
    EXPECT_EQ(last.evidence["discovers"], 3000);
    EXPECT_EQ(last.evidence["distinct_clients"], 3000);
    EXPECT_EQ(last.evidence["senders"], DhcpFlood::kMaxSenders);
    EXPECT_EQ(last.evidence["requests_from_other_senders"], 3000 - DhcpFlood::kMaxSenders);
    EXPECT_EQ(last.evidence["busiest_senders"].size(), 8u);
}

TEST(DhcpFlood, OneBrokenClientIsNamed) {
    Fixture fx;
    const std::string client = "00:0d:0b:41:22:7e";
    for (int i = 0; i < 900; ++i) {
        if (i % 30 == 0) fx.advance(kSecond);
        fx.feed(client_message(i % 2 ? 3 : 1, client, client));
    }
    fx.flood.on_finish(fx.now);
    auto f = fx.sink.of_kind("dhcp-flood");
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f.back()->subject_mac, MacAddress::parse(client));
    EXPECT_NE(f.back()->summary.find("one device"), std::string::npos) << f.back()->summary;
    EXPECT_EQ(f.back()->evidence["requests"], 450);
    EXPECT_EQ(f.back()->evidence["distinct_clients"], 1);
    EXPECT_TRUE(f.back()->ended);  // the capture stopped: so did the incident, as far as known
}

TEST(DhcpFlood, AWholeClinicBootingAtOnceIsQuiet) {
    Fixture fx;
    // 120 devices, each DISCOVER + REQUEST and a retry of both, all within one minute; the
    // server's replies are not client requests.
    for (int round = 0; round < 2; ++round)
        for (std::uint64_t d = 0; d < 120; ++d) {
            std::string m = mac_text(0x00a0de000000 + d);
            fx.feed(client_message(1, m, m));
            fx.feed(client_message(3, m, m));
            Frame offer = dhcp_message(2, m, "192.168.100.50", {{53, {2}}});
            fx.feed(udp("ff:ff:ff:ff:ff:ff", "00:a0:de:6e:21:4c", "192.168.100.1",
                        "255.255.255.255", 67, 68, offer));
            fx.now += 200'000;
        }
    fx.advance(120 * kSecond);
    fx.flood.on_finish(fx.now);
    EXPECT_TRUE(fx.sink.of_kind("dhcp-flood").empty());
}

TEST(DhcpFlood, ABurstAtOneInstantIsAlerted) {
    // Tools write captures with one timestamp for every frame.
    Fixture fx;
    for (int i = 0; i < 10000; ++i)
        fx.feed(client_message(1, "de:ad:be:ef:aa:bb", "de:ad:be:ef:aa:bb"));
    fx.flood.on_finish(fx.now);
    auto f = fx.sink.of_kind("dhcp-flood");
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f.back()->evidence["peak_requests_per_minute"], 10000);
    EXPECT_EQ(f.back()->first_seen, kT0);
}

}  // namespace
}  // namespace clinicwatch
