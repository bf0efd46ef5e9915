#include "analyzers/host_table.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace clinicwatch;

namespace {
MacAddress mac_of(std::uint64_t v) {
    MacAddress m;
    for (int i = 5; i >= 0; --i, v >>= 8) m.bytes[i] = static_cast<std::uint8_t>(v);
    return m;
}
}  // namespace

TEST(HostTable, TouchFindsOrCreates) {
    HostTable t(10);
    bool created = false;
    Host* h = t.touch(mac_of(1), 0, 100, &created);
    ASSERT_NE(h, nullptr);
    EXPECT_TRUE(created);
    EXPECT_EQ(h->first_seen, 100);
    EXPECT_EQ(t.touch(mac_of(1), 0, 200, &created), h);
    EXPECT_FALSE(created);
    EXPECT_EQ(t.find(mac_of(1), 0)->last_seen, 200);
    EXPECT_EQ(t.find(mac_of(1), 5), nullptr);  // VLAN is part of the key
    EXPECT_TRUE(t.touch(mac_of(0x020000000001), 0, 1)->randomized_mac);
    EXPECT_EQ(t.newcomers(), 2u);
    EXPECT_EQ(t.refused(), 0u);
}

TEST(HostTable, FloodOfOneFrameMacsKeepsEveryDeviceAlreadyKnown) {
    HostTable t(1000);
    for (int i = 0; i < 10; ++i) t.touch(mac_of(0x00a0de000000 + i), 0, 0)->pinned = true;
    for (int i = 0; i < 990; ++i) t.touch(mac_of(0x00005e000000 + i), 0, 0);  // not registered
    std::mt19937_64 rng(7);
    for (int i = 0; i < 1'000'000; ++i)
        EXPECT_EQ(t.touch(mac_of(rng() & 0xfeffffffffffULL), 0, i + 1), nullptr) << i;
    EXPECT_EQ(t.size(), 1000u);
    EXPECT_EQ(t.evictions(), 0u);
    EXPECT_EQ(t.refused(), 1'000'000u);
    // Every flood MAC is a newcomer (a few pairs of them share a probation slot and key).
    EXPECT_GE(t.newcomers(), 1000u + 1'000'000u - 10u);
    for (int i = 0; i < 10; ++i) EXPECT_NE(t.find(mac_of(0x00a0de000000 + i), 0), nullptr) << i;
    for (int i = 0; i < 990; ++i) EXPECT_NE(t.find(mac_of(0x00005e000000 + i), 0), nullptr) << i;
}

TEST(HostTable, FullTableAdmitsAMacOnItsSecondFrameWithinTheWindow) {
    HostTable t(4);
    for (int i = 0; i < 4; ++i) t.touch(mac_of(i + 1), 0, 1000 + i);
    bool created = true;
    EXPECT_EQ(t.touch(mac_of(99), 0, 2000, &created), nullptr);
    EXPECT_FALSE(created);
    Host* h = t.touch(mac_of(99), 0, 2000 + HostTable::kProbationWindow, &created);
    ASSERT_NE(h, nullptr);
    EXPECT_TRUE(created);
    EXPECT_EQ(h->first_seen, 2000 + HostTable::kProbationWindow);
    EXPECT_EQ(t.size(), 4u);
    EXPECT_EQ(t.evictions(), 1u);
    EXPECT_EQ(t.refused(), 1u);
    EXPECT_EQ(t.newcomers(), 5u);
    // A second frame after the window starts the wait again.
    EXPECT_EQ(t.touch(mac_of(77), 0, 10'000), nullptr);
    const Timestamp again = 10'001 + HostTable::kProbationWindow;
    EXPECT_EQ(t.touch(mac_of(77), 0, again), nullptr);
    // Too soon after: a tool sending two frames at once from each forged MAC stays out.
    EXPECT_EQ(t.touch(mac_of(77), 0, again + 1000), nullptr);
    EXPECT_NE(t.touch(mac_of(77), 0, again + HostTable::kProbationMinGap), nullptr);
    // The same MAC on another VLAN is another device, with its own wait.
    EXPECT_EQ(t.touch(mac_of(99), 7, 20'000), nullptr);
}

TEST(HostTable, FloodOfTwoFrameMacsKeepsCapAndPinnedHosts) {
    HostTable t(1000);
    for (int i = 0; i < 10; ++i) t.touch(mac_of(0x00a0de000000 + i), 0, 0)->pinned = true;
    std::mt19937_64 rng(7);
    for (int i = 0; i < 500'000; ++i) {
        MacAddress m = mac_of(rng() & 0xfeffffffffffULL);
        t.touch(m, 0, i + 1);
        t.touch(m, 0, i + 1 + HostTable::kProbationMinGap);
    }
    EXPECT_EQ(t.size(), 1000u);
    EXPECT_GE(t.evictions(), 500'000u - 1000u);
    for (int i = 0; i < 10; ++i) EXPECT_NE(t.find(mac_of(0x00a0de000000 + i), 0), nullptr) << i;
}

TEST(HostTable, EvictionPrefersStaleHostsAndReportsThem) {
    HostTable t(100);
    std::vector<MacAddress> evicted;
    t.set_eviction_handler([&](const Host& h) { evicted.push_back(h.key.mac); });
    for (int i = 0; i < 100; ++i) t.touch(mac_of(i + 1), 0, 1000 + i);
    EXPECT_EQ(t.touch(mac_of(5000), 0, 5000), nullptr);
    EXPECT_TRUE(evicted.empty());
    ASSERT_NE(t.touch(mac_of(5000), 0, 5000 + HostTable::kProbationMinGap), nullptr);
    ASSERT_EQ(evicted.size(), 1u);
    EXPECT_EQ(t.size(), 100u);
    EXPECT_EQ(t.find(evicted[0], 0), nullptr);
    // The victim is the stalest of its sample: statistically among the older hosts.
    EXPECT_LT(evicted[0].as_u64(), 90u);
}

TEST(Host, ObservationsAreBoundedAndDeduplicated) {
    Host h;
    EXPECT_TRUE(h.observe_address("192.168.1.2", "arp", 1));
    EXPECT_FALSE(h.observe_address("192.168.1.2", "arp", 2));
    EXPECT_EQ(h.addresses[0].last_seen, 2);
    for (int i = 0; i < 100; ++i) h.observe_name("name" + std::to_string(i), "dhcp", i);
    EXPECT_EQ(h.names.size(), Host::kMaxNames);
    for (int p = 0; p < 1000; ++p) h.observe_service(static_cast<std::uint16_t>(p));
    EXPECT_EQ(h.tcp_services.size(), Host::kMaxServices);
    EXPECT_TRUE(std::is_sorted(h.tcp_services.begin(), h.tcp_services.end()));
}
