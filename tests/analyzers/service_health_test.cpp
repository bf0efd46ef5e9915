// The service-health unit's server table (issue 22): when full, the server quiet longest gives
// its place to a newcomer (counted like every bounded table), a table of busy servers refuses
// newcomers (counted), and the learned baseline goes out as JSON and comes back.
#include <gtest/gtest.h>

#include <set>

#include "analyzers/packet_context.hpp"
#include "analyzers/service_health.hpp"
#include "tests/analyzers/frame_builder.hpp"
#include "tests/analyzers/recording_sink.hpp"

namespace clinicwatch {
namespace {

using test::decode;
using test::RecordingSink;

constexpr Timestamp kSecond = kMicrosPerSecond;
constexpr Timestamp kMinute = 60 * kSecond;
constexpr Timestamp kStart = 1'795'129'200'000'000;

const char* kClientMac = "00:1b:21:aa:bb:21";
const char* kServerMac = "00:15:5d:10:00:0a";

// One connection from the client to `server` at `ts`, answered (SYN, SYN-ACK).
void connect(ServiceHealth& h, const std::string& server, Timestamp ts, std::uint16_t port) {
    ApplicationLayer app;
    Packet syn =
        decode(test::tcp(kServerMac, kClientMac, "192.168.100.21", server, port, 80, 0x02), ts);
    h.on_packet(syn, app.begin(syn));
    Packet syn_ack = decode(
        test::tcp(kClientMac, kServerMac, server, "192.168.100.21", 80, port, 0x12), ts + 1000);
    h.on_packet(syn_ack, app.begin(syn_ack));
    h.on_tick(ts + 1000);
}

std::set<std::string> followed(const ServiceHealth& h) {
    std::set<std::string> out;
    nlohmann::json baseline = h.baseline();
    for (const auto& s : baseline["servers"]) out.insert(s["ip"].get<std::string>());
    return out;
}

std::uint64_t servers_dropped(const ServiceHealth& h) {
    std::vector<TableUse> use;
    h.table_use(use);
    for (const auto& t : use)
        if (t.table == "service-servers") return t.dropped;
    return ~0ull;
}

TEST(ServiceHealthTable, FullTableEvictsTheServerQuietLongest) {
    RecordingSink sink;
    ServiceHealthSettings settings;
    settings.max_servers = 4;
    ServiceHealth h(sink, settings);
    // Four servers; .11 is used first and never again, the others every minute.
    connect(h, "192.168.100.11", kStart, 50000);
    for (int m = 0; m < 8; ++m)
        for (int s = 12; s <= 14; ++s)
            connect(h, "192.168.100." + std::to_string(s), kStart + m * kMinute + s * kSecond,
                    static_cast<std::uint16_t>(50001 + m * 10 + s));
    EXPECT_EQ(followed(h), (std::set<std::string>{"192.168.100.11", "192.168.100.12",
                                                  "192.168.100.13", "192.168.100.14"}));
    EXPECT_EQ(servers_dropped(h), 0u);
    // A fifth server: .11, quiet for seven minutes, gives way; the busy ones stay.
    connect(h, "192.168.100.15", kStart + 8 * kMinute, 51000);
    EXPECT_EQ(followed(h), (std::set<std::string>{"192.168.100.12", "192.168.100.13",
                                                  "192.168.100.14", "192.168.100.15"}));
    EXPECT_EQ(servers_dropped(h), 1u) << "an eviction is counted like every bounded table";
    // A sixth at once: every server was busy within five minutes, so it is refused and counted.
    connect(h, "192.168.100.16", kStart + 8 * kMinute + 20 * kSecond, 51001);
    EXPECT_EQ(followed(h).count("192.168.100.16"), 0u);
    EXPECT_EQ(servers_dropped(h), 2u);
}

TEST(ServiceHealthTable, BaselineGoesOutAndComesBack) {
    RecordingSink sink;
    ServiceHealthSettings settings;
    std::string recorded;
    settings.record_baseline = [&](const std::string& s) { recorded = s; };
    {
        ServiceHealth h(sink, settings);
        for (int m = 0; m < 3; ++m) connect(h, "192.168.100.10", kStart + m * kMinute, 50000 + m);
        h.on_finish(kStart + 4 * kMinute);
    }
    auto stored = nlohmann::json::parse(recorded);
    ASSERT_EQ(stored["servers"].size(), 1u);
    EXPECT_EQ(stored["servers"][0]["ip"], "192.168.100.10");
    EXPECT_NE(stored["servers"][0]["clients"].get<std::uint64_t>(), 0u);
    // 08:00 JST is hour 8: learned from the answered minutes.
    EXPECT_TRUE(stored["servers"][0]["fail_share"][8].is_number());
    ServiceHealth again(sink, settings);
    again.restore_baseline(stored);
    EXPECT_EQ(again.baseline()["servers"], stored["servers"]);
    // Unreadable input changes nothing.
    ServiceHealth fresh(sink, settings);
    fresh.restore_baseline(nlohmann::json::parse("{\"version\": 7}"));
    fresh.restore_baseline(nlohmann::json::parse("[1, 2]"));
    EXPECT_TRUE(fresh.baseline()["servers"].empty());
}

}  // namespace
}  // namespace clinicwatch
