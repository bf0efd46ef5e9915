// Acceptance: the loop detector on the synthetic clinic capture (../shared/bench) and on real
// public captures (../shared/pcaps). Skipped when the shared folder is absent.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "capture/packet_source.hpp"
#include "daemon/config.hpp"
#include "daemon/loop_rules.hpp"
#include "tests/analyzers/loop_frames.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

constexpr Timestamp kS = kMicrosPerSecond;

// Reads a capture through the same decode + Dispatcher path as the pipeline.
void replay(const std::filesystem::path& file, LoopHarness& h) {
    auto source = open_capture_files({file.string()});
    RawFrame f;
    while (source->next(f) == PacketSource::Next::frame)
        h.feed(f.link, f.ts, f.wire_length, f.data);
    h.finish();
}

bool any_incident(const RecordingSink& sink) {
    for (const auto& r : sink.raised)
        if (r.update.kind == "l2-loop" || r.update.kind == "broadcast-storm") return true;
    return false;
}

// Generated on first use (ctest runs each test in its own process): the default capture,
// --no-incidents, and --duplicate-mirror --no-incidents.
class ClinicCapture : public ::testing::Test {
  protected:
    static void TearDownTestSuite() {
        delete tmp_;
        tmp_ = nullptr;
    }
    void SetUp() override {
        auto dir = shared_dir();
        if (!dir || !std::filesystem::exists(*dir / "bench" / "make-clinic-pcap"))
            GTEST_SKIP() << "../shared/bench/make-clinic-pcap not present";
        generator_ = (*dir / "bench" / "make-clinic-pcap").string();
        if (!tmp_) tmp_ = new TempDir();
    }
    static std::filesystem::path pcap(const std::string& name) {
        auto path = *tmp_ / (name + ".pcap");
        if (std::filesystem::exists(path)) return path;
        std::string flags = name == "quiet"    ? "--no-incidents"
                            : name == "mirror" ? "--duplicate-mirror --no-incidents"
                                               : "";
        std::string cmd = "python3 " + generator_ + " --out " + path.string() + " --truth " +
                          (*tmp_ / (name + ".json")).string() + " " + flags;
        std::string out;
        EXPECT_EQ(run_command(cmd, &out), 0) << cmd << ": " << out;
        return path;
    }
    static nlohmann::json truth(const std::string& name) {
        pcap(name);
        std::ifstream in(*tmp_ / (name + ".json"));
        return nlohmann::json::parse(in);
    }
    static nlohmann::json loop_truth() {
        auto t = truth("default");
        for (const auto& i : t["incidents"])
            if (i["kind"] == "l2-loop") return i;
        return {};
    }

    static inline TempDir* tmp_ = nullptr;
    static inline std::string generator_;
};

}  // namespace

TEST_F(ClinicCapture, LoopAlertedWithinTwoSecondsAndEndedWithinTen) {
    auto inc = loop_truth();
    ASSERT_FALSE(inc.is_null());
    const Timestamp start = inc["start_us"], end = inc["end_us"];
    LoopHarness h(loop_detector_settings(LoopConfig{}));
    replay(pcap("default"), h);
    auto loops = h.sink.of_kind("l2-loop");
    ASSERT_FALSE(loops.empty());
    EXPECT_LE(loops.front().at, start + 2 * kS);
    EXPECT_LE(std::abs(loops.front().update.first_seen - start), 2 * kS);
    const auto& last = loops.back();
    ASSERT_TRUE(last.update.ended);
    EXPECT_LE(last.at, end + 10 * kS);
    EXPECT_LE(std::abs(last.update.last_seen - end), 10 * kS);
    for (const auto& r : loops) EXPECT_EQ(r.update.key, loops.front().update.key);
    EXPECT_EQ(h.detector->stats().incidents, 1u);
    EXPECT_TRUE(h.sink.of_kind("broadcast-storm").empty());

    // The right peak and the right repeated frames.
    const auto& ev = last.update.evidence;
    double rate = inc["details"]["frames_per_second"];
    EXPECT_NEAR(ev["peak_repeated_frames_per_second"].get<double>(), rate, rate * 0.05);
    std::map<std::string, double> copies;
    for (const auto& f : ev["top_repeated_frames"])
        copies[f["src_mac"]] += f["copies"].get<double>();
    std::map<std::string, double> expected;
    for (const auto& f : inc["details"]["frames"])
        expected[f["src_mac"]] += f["copies"].get<double>();
    ASSERT_EQ(copies.size(), expected.size());
    for (const auto& [mac, n] : expected) EXPECT_NEAR(copies[mac], n, n * 0.02) << mac;
    EXPECT_NEAR(ev["repeated_frames"].get<double>(),
                inc["details"]["repeated_frames"].get<double>(),
                inc["details"]["repeated_frames"].get<double>() * 0.02);
    // The core switch announced a topology change during the loop.
    EXPECT_GE(ev["stp_topology_changes"].size(), 1u);
    EXPECT_FALSE(h.sink.of_kind("stp-topology-change").empty());
}

TEST_F(ClinicCapture, LoopStoredByReplay) {
    auto inc = loop_truth();
    TempDir db_dir;
    auto db = (db_dir / "c.db").string();
    std::string out;
    ASSERT_EQ(run_command(std::string(CLINICWATCH_BINARY) + " replay --db " + db + " " +
                              pcap("default").string(),
                          &out),
              0)
        << out;
    ASSERT_EQ(run_command("(" + std::string(CLINICWATCH_BINARY) +
                              " alerts --kind l2-loop --json --db " + db + " 2>/dev/null)",
                          &out),
              0)
        << out;
    auto alerts = nlohmann::json::parse(out);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0]["severity"], "critical");
    EXPECT_FALSE(alerts[0]["ended_at"].is_null());
    const auto& ev = alerts[0]["evidence"];
    EXPECT_LE(std::abs(ev["start_us"].get<Timestamp>() - inc["start_us"].get<Timestamp>()), 2 * kS);
    EXPECT_LE(std::abs(ev["end_us"].get<Timestamp>() - inc["end_us"].get<Timestamp>()), 10 * kS);
    EXPECT_EQ(alerts[0]["count"].get<double>(), ev["repeated_frames"].get<double>());
}

TEST_F(ClinicCapture, NoIncidentsCaptureRaisesNoLoopOrStorm) {
    LoopHarness h(loop_detector_settings(LoopConfig{}));
    replay(pcap("quiet"), h);
    EXPECT_FALSE(any_incident(h.sink));
    EXPECT_TRUE(h.sink.of_kind("arp-storm").empty());
    EXPECT_TRUE(h.sink.of_kind("duplicate-capture").empty());
}

TEST_F(ClinicCapture, DuplicateMirrorCaptureRaisesNoLoopOrStorm) {
    LoopHarness h(loop_detector_settings(LoopConfig{}));
    replay(pcap("mirror"), h);
    EXPECT_FALSE(any_incident(h.sink));
    EXPECT_TRUE(h.sink.of_kind("arp-storm").empty());
    EXPECT_FALSE(h.sink.of_kind("duplicate-capture").empty());
}

namespace {
RecordingSink replay_shared(const std::string& name, LoopHarness& h) {
    auto path = shared_pcap(name);
    if (path) replay(*path, h);
    return h.sink;
}
}  // namespace

TEST(LoopRealCaptures, RstpTopologyChange) {
    if (!shared_pcap("stp_rstp_topology_change.pcap")) GTEST_SKIP() << "../shared/pcaps absent";
    LoopHarness h;
    auto sink = replay_shared("stp_rstp_topology_change.pcap", h);
    auto stp = sink.of_kind("stp-topology-change");
    ASSERT_FALSE(stp.empty());
    EXPECT_EQ(stp.front().update.subject, "bridge 32769/00:19:06:ea:b8:80");
    EXPECT_EQ(stp.back().update.evidence["tc_bpdus"], 3);
    EXPECT_EQ(stp.back().update.evidence["protocol"], "RSTP");
    EXPECT_TRUE(stp.back().update.ended);
    EXPECT_FALSE(any_incident(sink));
}

TEST(LoopRealCaptures, Windows7CaptureTopologyChange) {
    if (!shared_pcap("win7_browser_cryptoapi_ua_stp_tc_llmnr.pcap"))
        GTEST_SKIP() << "../shared/pcaps absent";
    LoopHarness h;
    auto sink = replay_shared("win7_browser_cryptoapi_ua_stp_tc_llmnr.pcap", h);
    auto stp = sink.of_kind("stp-topology-change");
    ASSERT_FALSE(stp.empty());
    EXPECT_EQ(stp.front().update.subject_mac->to_string(), "fe:54:00:10:75:93");
    EXPECT_EQ(stp.back().update.evidence["tc_bpdus"], 11);
    EXPECT_FALSE(any_incident(sink));
}

TEST(LoopRealCaptures, ClassicStpWithoutChangeIsQuiet) {
    if (!shared_pcap("stp_8021d_config_bpdu.pcap")) GTEST_SKIP() << "../shared/pcaps absent";
    LoopHarness h;
    auto sink = replay_shared("stp_8021d_config_bpdu.pcap", h);
    EXPECT_TRUE(sink.raised.empty());
}

TEST(LoopRealCaptures, UnicastCapturedTwiceIsNotALoop) {
    if (!shared_pcap("iis6_server_header_duplicated_frames.pcap"))
        GTEST_SKIP() << "../shared/pcaps absent";
    LoopHarness h;
    auto sink = replay_shared("iis6_server_header_duplicated_frames.pcap", h);
    EXPECT_FALSE(any_incident(sink));
    auto dup = sink.of_kind("duplicate-capture");
    ASSERT_FALSE(dup.empty());
    EXPECT_EQ(dup.back().update.severity, Severity::low);
    EXPECT_EQ(h.detector->stats().duplicate_captures, 113u);
}
