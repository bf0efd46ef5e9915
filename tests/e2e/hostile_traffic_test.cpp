// Hostile traffic against the sensor, as bench/run-hostile.sh runs it but smaller: each kind of
// flood (bench/hostile_capture.hpp) is replayed by the real binary. The replay must finish,
// stay under the memory budget, and report the table the flood aims at as a sensor-limit
// finding. Packets/s is printed next to normal traffic's for the record; the speed target is
// checked by the benchmark, not here.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "bench/clinic_capture.hpp"
#include "bench/hostile_capture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kPackets = 100'000;
constexpr long kBudgetMb = 128;

struct Replayed {
    double pps = 0;
    long peak_rss_mb = 0;
    std::map<std::string, std::uint64_t> limits;  // sensor-limit table -> dropped
};

Replayed replay(const TempDir& dir, const std::string& name, const std::string& pcap) {
    std::string db = (dir / (name + ".db")).string(), config = (dir / "hostile.yaml").string();
    std::ofstream(config) << "network:\n  internal_networks: [192.168.100.0/24]\n"
                             "  gateway_ip: 192.168.100.1\nlimits:\n  memory_megabytes: "
                          << kBudgetMb << "\n";
    auto start = std::chrono::steady_clock::now();
    Child child(
        {CLINICWATCH_BINARY, "replay", pcap, "--db", db, "--config", config, "--no-progress"},
        (dir / (name + ".log")).string());
    auto code = child.wait(300s);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(code, std::optional<int>(0)) << name;
    Replayed r;
    r.pps = static_cast<double>(kPackets) / seconds;
    r.peak_rss_mb = child.peak_rss_kb() / 1024;
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement st(d, "SELECT evidence FROM alerts WHERE kind = 'sensor-limit'");
    while (st.executeStep()) {
        auto e = nlohmann::json::parse(st.getColumn(0).getString());
        r.limits[e.value("table", "")] = e.value("dropped_total", std::uint64_t{0});
    }
    return r;
}

}  // namespace

TEST(HostileTraffic, EveryFloodStaysBoundedAndReportsTheTableItFills) {
    TempDir dir;
    std::string normal = (dir / "normal.pcap").string();
    {
        bench::PcapFileWriter w(normal);
        bench::ClinicCaptureOptions o;
        o.packets = kPackets;
        bench::generate_clinic_capture(o,
                                       [&](std::int64_t ts, bench::ByteView f) { w.write(ts, f); });
    }
    Replayed base = replay(dir, "normal", normal);
    EXPECT_TRUE(base.limits.empty()) << "normal traffic filled " << base.limits.begin()->first;
    std::printf("%-13s %10.0f pps\n", "normal", base.pps);

    const std::map<bench::HostileKind, std::string> aims = {
        {bench::HostileKind::mac_flood, "hosts"},
        {bench::HostileKind::ip_flood, "device-lists"},
        {bench::HostileKind::destinations, "flows"},  // the one flow table fills first
        {bench::HostileKind::fragments, ""},
        {bench::HostileKind::broadcasts, "loop-frame-signatures"},
        // Its answers answer no query: they never reach the names table, only the read budget.
        {bench::HostileKind::dns_huge, "dns-responses"},
        {bench::HostileKind::syn_scan, "device-lists"}};
    for (bench::HostileKind kind : bench::all_hostile_kinds()) {
        std::string name(bench::to_string(kind));
        std::string pcap = (dir / (name + ".pcap")).string();
        {
            bench::PcapFileWriter w(pcap);
            bench::HostileOptions o;
            o.kind = kind;
            o.packets = kPackets;
            bench::generate_hostile_capture(
                o, [&](std::int64_t ts, bench::ByteView f) { w.write(ts, f); });
        }
        Replayed r = replay(dir, name, pcap);
        std::printf("%-13s %10.0f pps (%.2f of normal), peak RSS %ld MB, tables full:",
                    name.c_str(), r.pps, r.pps / base.pps, r.peak_rss_mb);
        for (const auto& [table, dropped] : r.limits)
            std::printf(" %s:%llu", table.c_str(), static_cast<unsigned long long>(dropped));
        std::printf("\n");
        if (!kSanitizedBuild) {
            EXPECT_LT(r.peak_rss_mb, kBudgetMb) << name;
        }
        const std::string& aim = aims.at(kind);
        if (!aim.empty()) {
            ASSERT_TRUE(r.limits.count(aim)) << name << " did not report " << aim;
            EXPECT_GT(r.limits[aim], 0u) << name;
        }
        std::filesystem::remove(pcap);
    }
}
