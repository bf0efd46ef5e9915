#include "analyzers/sensor_limits.hpp"

#include <gtest/gtest.h>

#include "analyzers/host_table.hpp"
#include "tests/analyzers/recording_sink.hpp"

using namespace clinicwatch;

namespace {
constexpr Timestamp kStart = 1'795'129'200'000'000;

MacAddress mac_of(std::uint64_t v) {
    MacAddress m;
    for (int i = 5; i >= 0; --i, v >>= 8) m.bytes[static_cast<std::size_t>(i)] = v & 0xff;
    return m;
}
}  // namespace

TEST(SensorLimits, ReportsEachFullTableOncePerMinuteWithTheNewDrops) {
    test::RecordingSink sink;
    std::uint64_t flows_dropped = 0, names_dropped = 0;
    SensorLimits limits(sink, [&](std::vector<TableUse>& out) {
        out.push_back({"boundary-flows", "open connections", 64, flows_dropped});
        out.push_back({"dns-names", "named addresses", 32, names_dropped});
    });
    limits.on_tick(kStart);
    flows_dropped = 10;
    limits.on_tick(kStart + 30 * kMicrosPerSecond);  // within the minute: nothing yet
    EXPECT_TRUE(sink.alerts.empty());
    limits.on_tick(kStart + 60 * kMicrosPerSecond);
    ASSERT_EQ(sink.alerts.size(), 1u);
    const AlertUpdate& a = sink.alerts[0];
    EXPECT_EQ(a.kind, "sensor-limit");
    EXPECT_EQ(a.key, "sensor-limit:boundary-flows");
    EXPECT_EQ(a.count, 10u);
    EXPECT_EQ(a.evidence["capacity"], 64);
    EXPECT_EQ(a.evidence["dropped_total"], 10);
    EXPECT_NE(a.summary.find("(64)"), std::string::npos);

    // Unchanged: no update. More drops: only the difference is added.
    limits.on_tick(kStart + 120 * kMicrosPerSecond);
    EXPECT_EQ(sink.alerts.size(), 1u);
    flows_dropped = 25;
    names_dropped = 3;
    limits.on_finish(kStart + 130 * kMicrosPerSecond);
    ASSERT_EQ(sink.alerts.size(), 3u);
    EXPECT_EQ(sink.alerts[1].count + sink.alerts[2].count, 15u + 3u);
}

TEST(SensorLimits, DropsBeforeItWasMadeAreNotReportedAgain) {
    // After a configuration reload the analyzers are rebuilt but the host table stays: its
    // earlier evictions were already reported by the previous SensorLimits.
    test::RecordingSink sink;
    std::uint64_t dropped = 500;
    SensorLimits limits(sink, [&](std::vector<TableUse>& out) {
        out.push_back({"hosts", "devices", 100, dropped});
    });
    limits.on_finish(kStart);
    EXPECT_TRUE(sink.alerts.empty());
    dropped = 501;
    limits.on_finish(kStart + 1);
    ASSERT_EQ(sink.alerts.size(), 1u);
    EXPECT_EQ(sink.alerts[0].count, 1u);
}

TEST(SensorLimits, HostTableCountsEvictionsAndListOverflows) {
    HostTable hosts(4);
    // Twice each: in a full table a new MAC is admitted on its second frame.
    for (std::uint64_t i = 0; i < 10; ++i)
        for (int frame = 0; frame < 2; ++frame)
            hosts.touch(mac_of(0x0000'5e00'5300 + i), 0,
                        kStart + i + frame * HostTable::kProbationMinGap);
    EXPECT_EQ(hosts.evictions(), 6u);
    EXPECT_EQ(hosts.refused(), 6u);
    Host& h = *hosts.touch(mac_of(0x0000'5e00'5309), 0, kStart + 20);
    for (std::size_t i = 0; i < Host::kMaxAddresses + 5; ++i)
        h.observe_address("10.0.0." + std::to_string(i), "ip", kStart + 30 + i);
    EXPECT_EQ(h.addresses.size(), Host::kMaxAddresses);
    EXPECT_EQ(hosts.list_overflows(), 5u);
    // Evicting that host keeps its overflows in the total (the count never goes back).
    for (std::uint64_t i = 0; i < 8; ++i)
        for (int frame = 0; frame < 2; ++frame)
            hosts.touch(mac_of(0x0000'5e00'6300 + i), 0,
                        kStart + 100 + i + frame * HostTable::kProbationMinGap);
    EXPECT_EQ(hosts.list_overflows(), 5u);
}
