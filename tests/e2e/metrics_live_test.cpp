// Health metrics from a live run: `clinicwatch run` on a veth pair in a namespace the test makes
// writes the Prometheus textfile (export.metrics_path); Debian's promtool accepts it, and the
// packet counters move when tcpreplay sends a capture into the other end.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/support/live_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch::test;
using namespace std::chrono_literals;

namespace {

// The value of the sample whose name and labels start with `series` (e.g.
// `clinicwatch_dropped_packets_total{stage="ring"}`), or nothing.
std::optional<double> sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line.rfind(series, 0) != 0) continue;
        char next = line[series.size()];
        if (next != ' ' && next != '{' && series.back() != '}') continue;
        return std::stod(line.substr(line.rfind(' ') + 1));
    }
    return std::nullopt;
}

bool have_promtool() {
    return run_command("command -v promtool >/dev/null 2>&1") == 0;
}

}  // namespace

TEST(HealthMetrics, LiveRunWritesATextfilePromtoolAcceptsAndCountersMove) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    Namespace ns("m");
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "live.db").string(), pcap = (dir / "hosts.pcap").string();
    std::string prom = (dir / "clinicwatch.prom").string(), log = (dir / "daemon.log").string();
    {
        PcapWriter w(pcap);
        std::int64_t ts = 1'795'129'200'000'000;
        for (int r = 0; r < 100; ++r)
            for (int h = 1; h <= 10; ++h)
                w.write(ts += 1000, arp_reply_frame(static_cast<std::uint8_t>(h)));
    }
    std::string config = (dir / "clinicwatch.yaml").string();
    std::ofstream(config) << "export:\n  metrics_path: " << prom
                          << "\n  metrics_interval_seconds: 1\n";

    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", config},
                 log);
    ASSERT_TRUE(wait_until_capturing(log, 60s)) << read_file(log);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!std::filesystem::exists(prom) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(std::filesystem::exists(prom)) << read_file(log);
    std::string first = read_file(prom);
    ASSERT_TRUE(sample(first, "clinicwatch_captured_packets_total")) << first;
    EXPECT_EQ(*sample(first, "clinicwatch_build_info"), 1.0);

    std::string out;
    ASSERT_EQ(run_command(ns.exec("tcpreplay -q -i cwb --pps 2000 " + pcap), &out), 0) << out;
    // Counters move: the next writes (every second here) count the 1000 frames.
    std::string text;
    deadline = std::chrono::steady_clock::now() + 15s;
    do {
        std::this_thread::sleep_for(250ms);
        text = read_file(prom);
        // The capture thread publishes its counters every 1024 frames or when the wire is
        // idle, so the captured count may trail the analysed one for a moment.
    } while ((sample(text, "clinicwatch_analysed_packets_total").value_or(0) < 1000 ||
              sample(text, "clinicwatch_captured_packets_total").value_or(0) < 1000) &&
             std::chrono::steady_clock::now() < deadline);
    EXPECT_GE(sample(text, "clinicwatch_captured_packets_total").value_or(0), 1000) << text;
    EXPECT_GE(sample(text, "clinicwatch_analysed_packets_total").value_or(0), 1000) << text;
    EXPECT_GE(sample(text, "clinicwatch_captured_bytes_total").value_or(0), 1000 * 42.0) << text;
    EXPECT_GE(sample(text, "clinicwatch_active_devices").value_or(0), 10) << text;
    EXPECT_EQ(sample(text, "clinicwatch_dropped_packets_total{stage=\"ring\"}"), 0.0) << text;
    EXPECT_TRUE(sample(text, "clinicwatch_table_dropped_entries_total{table=\"hosts\"}")) << text;
    EXPECT_GT(sample(text, "clinicwatch_database_size_bytes").value_or(0), 0) << text;
    EXPECT_TRUE(sample(text, "clinicwatch_open_alerts{severity=\"critical\"}")) << text;

    bool promtool = have_promtool();
    if (promtool) {
        std::string lint;
        EXPECT_EQ(run_command("promtool check metrics < " + prom + " 2>&1", &lint), 0)
            << lint << text;
    }

    daemon.signal(SIGTERM);
    auto code = daemon.wait(10s);
    ASSERT_TRUE(code.has_value()) << "clinicwatch did not exit within 10 s of SIGTERM";
    EXPECT_EQ(*code, 0) << read_file(log);
    // The last write at stop has the final counters; no temporary file is left behind.
    EXPECT_GE(sample(read_file(prom), "clinicwatch_analysed_packets_total").value_or(0), 1000);
    EXPECT_FALSE(std::filesystem::exists(prom + ".tmp"));
    if (!promtool)
        GTEST_SKIP() << "promtool not installed (Debian package prometheus): format "
                        "not checked";
}
