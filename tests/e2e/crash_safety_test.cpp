// kill -9 at random moments during a replay: the database must pass integrity_check every time
// and the next run continues with the same inventory (nothing already stored is lost).
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <random>
#include <set>
#include <thread>

#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch::test;
using namespace std::chrono_literals;

namespace {
std::set<std::string> asset_macs(const std::string& db) {
    std::set<std::string> macs;
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement st(d, "SELECT mac FROM assets");
    while (st.executeStep()) macs.insert(st.getColumn(0).getString());
    return macs;
}
}  // namespace

TEST(CrashSafety, KillNineDuringReplayNeverCorruptsTheDatabase) {
    TempDir dir;
    std::string pcap = (dir / "busy.pcap").string(), db = (dir / "crash.db").string();
    {
        // 250 hosts, 400k frames: long enough (about 0.3-1 s) to be killed mid-way.
        PcapWriter w(pcap);
        std::int64_t ts = 1'795'129'200'000'000;
        for (int i = 0; i < 400'000; ++i)
            w.write(ts += 100, arp_reply_frame(static_cast<std::uint8_t>(1 + i % 250)));
    }
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> delay_ms(20, 400);
    std::set<std::string> stored;
    constexpr int kKills = 12;
    for (int i = 0; i < kKills; ++i) {
        Child replay({CLINICWATCH_BINARY, "replay", pcap, "--db", db, "--no-progress"},
                     (dir / "replay.log").string());
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        replay.signal(SIGKILL);
        replay.wait(10s);
        SQLite::Database d(db, SQLite::OPEN_READONLY);
        ASSERT_EQ(d.execAndGet("SELECT integrity_check FROM pragma_integrity_check").getString(),
                  "ok")
            << "after kill " << i;
        auto now = asset_macs(db);
        for (const auto& mac : stored)
            EXPECT_TRUE(now.count(mac)) << mac << " lost after kill " << i;
        stored = now;
    }
    // A run to the end afterwards completes and has everything.
    Child last({CLINICWATCH_BINARY, "replay", pcap, "--db", db, "--no-progress"});
    auto code = last.wait(60s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0);
    EXPECT_EQ(asset_macs(db).size(), 250u);
}
