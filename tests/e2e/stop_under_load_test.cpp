// SIGTERM under load ends the daemon within 5 s, every time: the capture stops, the ring is
// drained, what is queued is written, exit 0. The traffic runs on (10,000 frames/s, as in the
// crash test: more than an ASan build on a busy machine analyses) and two busy loops compete
// for the CPU, as a parallel ctest does.
// Before, the analysis thread looked at the stop flag only when the ring ran empty, which under
// such load it never did. Needs root, `ip netns` and tcpreplay; skips with the reason otherwise.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "daemon/sanitized_build.hpp"
#include "tests/support/live_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch::test;
using namespace std::chrono_literals;

namespace {
// The product's bound is 5 s. An ASan build is several times slower and runs a leak check over
// its whole heap at exit, so it gets twice that.
#if defined(CLINICWATCH_ASAN_BUILD)
constexpr double kStopBoundSeconds = 10.0;
constexpr int kRounds = 2;  // its start-up alone takes seconds
#else
constexpr int kRounds = 4;
constexpr double kStopBoundSeconds = 5.0;
#endif
}  // namespace

TEST(StopUnderLoad, SigtermExitsWithinFiveSecondsWhileTrafficFloods) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    Namespace ns;
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string pcap = (dir / "devices.pcap").string(), config = (dir / "empty.yaml").string();
    {
        PcapWriter w(pcap);
        for (int i = 0; i < 2000; ++i)
            w.write(1'795'129'200'000'000 + i * 100,
                    arp_reply_frame_wide(static_cast<std::uint16_t>(i % 500)));
    }
    std::ofstream(config) << "# defaults\n";
    Child traffic({"ip", "netns", "exec", ns.name(), "tcpreplay", "-q", "-i", "cwb", "--loop", "0",
                   "--pps", "10000", "--pps-multi", "100", pcap},
                  (dir / "tcpreplay.log").string());
    std::vector<std::unique_ptr<Child>> busy;
    for (int i = 0; i < 2; ++i)
        busy.push_back(
            std::make_unique<Child>(std::vector<std::string>{"sh", "-c", "while :; do :; done"}));

    for (int round = 0; round < kRounds; ++round) {
        std::string db = (dir / ("stop" + std::to_string(round) + ".db")).string();
        std::string log = (dir / ("daemon" + std::to_string(round) + ".log")).string();
        Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface",
                      "cwa", "--db", db, "--config", config},
                     log);
        // Running: rules and registry loaded, signals handled (start-up under ASan and this
        // load takes a while; SIGTERM is about a running sensor).
        ASSERT_TRUE(wait_for_log(log, "capturing on", 60s)) << read_file(log);
        std::this_thread::sleep_for(1500ms);
        auto sent = std::chrono::steady_clock::now();
        daemon.signal(SIGTERM);
        auto code = daemon.wait(20s);
        auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        ASSERT_TRUE(code.has_value()) << "round " << round << ": no exit 20 s after SIGTERM\n"
                                      << read_file(log);
        EXPECT_EQ(*code, 0) << read_file(log);
        EXPECT_LT(took, kStopBoundSeconds)
            << "round " << round << ": SIGTERM took " << took << " s\n"
            << read_file(log);
        std::cout << "[ stop     ] round " << round + 1 << ": exit " << *code << " after " << took
                  << " s" << std::endl;
        SQLite::Database d(db, SQLite::OPEN_READONLY);
        EXPECT_EQ(d.execAndGet("SELECT outcome FROM runs").getString(), "ok");
        EXPECT_GT(d.execAndGet("SELECT packets FROM runs").getInt64(), 0);
    }
}
