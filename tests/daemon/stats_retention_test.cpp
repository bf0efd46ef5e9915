// The network-health timeline: minute statistics written by a replay, kept for
// store.retention_days, and printed by `clinicwatch stats` (table, --json, --csv, --since,
// --until). Also the `loop:` config section and the loop-detection frame rules file.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "daemon/config.hpp"
#include "daemon/loop_rules.hpp"
#include "daemon/pipeline.hpp"
#include "daemon/store/store.hpp"
#include "tests/analyzers/loop_frames.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {
constexpr Timestamp kS = kMicrosPerSecond;
constexpr Timestamp kDay = 86400 * kS;
// 2026-11-20T00:00:00Z
constexpr Timestamp kMidnight = 1'795'132'800LL * kS;

std::int64_t count_minutes(const std::string& db) {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    return d.execAndGet("SELECT count(*) FROM minute_stats").getInt64();
}
}  // namespace

TEST(LoopConfig, ReadsAndValidatesTheSection) {
    Config c = parse_config("loop:\n  repeat_threshold: 30\n  storm_floor: 5000\n", "t.yaml");
    EXPECT_EQ(c.loop.repeat_threshold, 30);
    EXPECT_EQ(c.loop.storm_floor, 5000);
    EXPECT_EQ(c.loop.quiet_seconds, 5);
    auto s = loop_detector_settings(c.loop);
    EXPECT_EQ(s.repeat_threshold, 30u);
    EXPECT_EQ(s.storm_floor, 5000);
    try {
        parse_config("loop:\n  repeat_threshold: 1\n  stormfloor: 3\n", "t.yaml");
        FAIL() << "accepted a bad loop section";
    } catch (const ConfigError& e) {
        ASSERT_EQ(e.problems().size(), 2u);
        EXPECT_NE(e.problems()[0].find("t.yaml:3: loop.stormfloor: unknown setting"),
                  std::string::npos)
            << e.problems()[0];
        EXPECT_NE(e.problems()[1].find("t.yaml:2: loop.repeat_threshold: must be from 3"),
                  std::string::npos)
            << e.problems()[1];
    }
}

TEST(LoopRules, ShippedFileLoads) {
    std::ifstream in(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/loop-detect-frames.yaml");
    ASSERT_TRUE(in);
    std::stringstream text;
    text << in.rdbuf();
    auto rules = parse_loop_detect_frames(text.str(), "loop-detect-frames.yaml");
    ASSERT_EQ(rules.size(), 1u);
    EXPECT_EQ(rules[0].vendor, "Allied Telesis");
    EXPECT_EQ(rules[0].ethertype, 0x9000);
    ASSERT_TRUE(rules[0].dst_mac);
    EXPECT_EQ(rules[0].dst_mac->to_string(), "cf:00:00:00:00:00");
    EXPECT_FALSE(rules[0].source.empty());
}

TEST(LoopRules, BadEntriesNameTheirLine) {
    try {
        parse_loop_detect_frames(
            "frames:\n  - vendor: X\n    ethertype: 0x9000\n    dst_mac: zz\n"
            "  - vendor: Y\n    ethertype: 12\n    source: s\n",
            "r.yaml");
        FAIL() << "accepted bad rules";
    } catch (const ConfigError& e) {
        std::string all = e.what();
        EXPECT_NE(all.find("r.yaml:2: frames.source: missing"), std::string::npos) << all;
        EXPECT_NE(all.find("r.yaml:4: frames.dst_mac"), std::string::npos) << all;
        EXPECT_NE(all.find("r.yaml:5: frames.ethertype"), std::string::npos) << all;
    }
}

TEST(Retention, CutoffUsesPacketTimeCappedByWallClock) {
    // Replaying an old capture keeps its minutes: the cutoff follows packet time.
    EXPECT_EQ(retention_cutoff(kMidnight, kMidnight + 700 * kDay, 400), kMidnight - 400 * kDay);
    // A bogus future timestamp cannot push the cutoff past the wall clock.
    EXPECT_EQ(retention_cutoff(kMidnight + 3650 * kDay, kMidnight, 400), kMidnight - 400 * kDay);
}

TEST(Retention, StoreDeletesOnlyOlderMinutes) {
    TempDir dir;
    std::string db = (dir / "s.db").string();
    HostTable hosts(16);
    Store store(db);
    for (int i = 0; i < 5; ++i) {
        MinuteStats m;
        m.minute = kMidnight + i * 60 * kS;
        m.frames = 10;
        store.minute(m);
    }
    store.flush(hosts);
    EXPECT_EQ(store.delete_minutes_before(kMidnight + 120 * kS), 2u);
    EXPECT_EQ(count_minutes(db), 3);
    EXPECT_EQ(store.delete_minutes_before(kMidnight), 0u);
}

// A replay writes one row per minute; rows older than retention_days are deleted; `stats`
// prints the window asked for in each format.
TEST(StatsCommand, ReplayRetentionAndFormats) {
    TempDir dir;
    std::string db = (dir / "c.db").string();
    {
        // Minutes from long ago, as if the sensor had run then.
        HostTable hosts(16);
        Store store(db);
        for (Timestamp old :
             {kMidnight - 500 * kDay, kMidnight - 40 * kDay, kMidnight - 10 * kDay}) {
            MinuteStats m;
            m.minute = old;
            m.frames = 1;
            store.minute(m);
        }
        store.flush(hosts);
    }
    ASSERT_EQ(count_minutes(db), 3);

    // Three minutes of traffic: minute 0 has 3 frames (2 broadcast), minute 1 has 2 (1
    // multicast), minute 2 has 1.
    auto pcap = dir / "t.pcap";
    {
        PcapWriter w(pcap);
        auto arp = arp_request(0x00155d000001ULL, 0xc0a8640au, 0xc0a86401u);
        auto ssdp = ssdp_msearch(0x00155d000002ULL, 0xc0a8640bu, 50000, "ssdp:all", 1);
        auto unicast = udp_frame(0x00155d000001ULL, 0x00155d000002ULL, 0xc0a8640bu, 0xc0a8640au,
                                 5000, 5001, Frame(10, 1), 2);
        w.write(kMidnight + 1 * kS, arp);
        w.write(kMidnight + 2 * kS, arp);
        w.write(kMidnight + 3 * kS, unicast);
        w.write(kMidnight + 61 * kS, ssdp);
        w.write(kMidnight + 62 * kS, unicast);
        w.write(kMidnight + 130 * kS, unicast);
        w.close();
    }
    auto config = dir / "c.yaml";
    std::ofstream(config) << "store:\n  retention_days: 30\n";
    std::string bin = CLINICWATCH_BINARY;
    std::string common = " --config " + config.string() + " --db " + db;
    std::string out;
    ASSERT_EQ(run_command(bin + " replay" + common + " " + pcap.string(), &out), 0) << out;
    // Kept: the minute 10 days back and the three new ones; gone: 40 and 500 days back.
    EXPECT_EQ(count_minutes(db), 4);

    auto stats = [&](const std::string& args) {
        std::string text;
        int rc =
            run_command("(TZ=UTC " + bin + " stats" + common + " " + args + " 2>/dev/null)", &text);
        EXPECT_EQ(rc, 0) << text;
        return text;
    };
    auto all = nlohmann::json::parse(stats("--since 2026-11-19T23:00:00Z --json"));
    ASSERT_EQ(all.size(), 3u);
    // Times are printed in the clinic's time zone (digest.timezone, Asia/Tokyo by default).
    EXPECT_EQ(all[0]["minute"], "2026-11-20T09:00:00.000000+09:00");
    EXPECT_EQ(all[0]["frames"], 3);
    EXPECT_EQ(all[0]["broadcast_frames"], 2);
    EXPECT_EQ(all[1]["multicast_frames"], 1);
    EXPECT_EQ(all[2]["frames"], 1);
    EXPECT_EQ(all[0]["active_hosts"], 2);

    // --since is inclusive, --until exclusive, both in any of the documented forms.
    auto one = nlohmann::json::parse(
        stats("--since 2026-11-20T09:01:00+09:00 --until 2026-11-20T00:02:00Z --json"));
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0]["frames"], 2);

    std::string csv = stats("--since 2026-11-20 --until 2026-11-20T00:01:00Z --csv");
    EXPECT_EQ(csv,
              "MINUTE,FRAMES,BYTES,BROADCAST,MULTICAST,UNDECODABLE,CAPTURE DROPS,RING DROPS,"
              "ACTIVE HOSTS\r\n2026-11-20 09:00:00,3,180,2,0,0,0,0,2\r\n");
    std::string table = stats("--since 2026-11-20T00:02:00Z");
    EXPECT_NE(table.find("MINUTE"), std::string::npos);
    EXPECT_NE(table.find("2026-11-20 09:02:00"), std::string::npos);
    EXPECT_EQ(table.find("2026-11-20 09:01:00"), std::string::npos);

    // Nothing in the window: an empty list, not an error.
    EXPECT_EQ(nlohmann::json::parse(stats("--since 2027-01-01 --json")).size(), 0u);
    // A bad time is a usage error that says what is accepted.
    EXPECT_EQ(run_command(bin + " stats" + common + " --since yesterday", &out), 2);
    EXPECT_NE(out.find("--since"), std::string::npos);
}

// The same files replayed again into the same database replace their minutes of statistics
// instead of adding to them (the replay's bookkeeping runs on the run's own connection).
TEST(StatsCommand, ReplayingTheSameFilesAgainReplacesTheirMinutes) {
    TempDir dir;
    std::string db = (dir / "c.db").string();
    auto pcap = dir / "t.pcap";
    {
        PcapWriter w(pcap);
        auto arp = arp_request(0x00155d000001ULL, 0xc0a8640au, 0xc0a86401u);
        w.write(kMidnight + 1 * kS, arp);
        w.write(kMidnight + 2 * kS, arp);
        w.write(kMidnight + 61 * kS, arp);
        w.close();
    }
    auto frames = [&] {
        SQLite::Database d(db);
        return d.execAndGet("SELECT coalesce(sum(frames), 0) FROM minute_stats").getInt64();
    };
    std::string bin = CLINICWATCH_BINARY;
    std::string out;
    ASSERT_EQ(run_command(bin + " replay --db " + db + " " + pcap.string() + " 2>&1", &out), 0)
        << out;
    EXPECT_EQ(frames(), 3);
    EXPECT_EQ(out.find("replayed before"), std::string::npos) << out;
    ASSERT_EQ(run_command(bin + " replay --db " + db + " " + pcap.string() + " 2>&1", &out), 0)
        << out;
    EXPECT_EQ(frames(), 3) << out;
    EXPECT_NE(out.find("replayed before"), std::string::npos) << out;
    SQLite::Database d(db);
    EXPECT_EQ(d.execAndGet("SELECT count(*) FROM runs WHERE mode = 'replay'").getInt64(), 2);
}
