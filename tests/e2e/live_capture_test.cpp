// Live capture for real: the test makes its own network namespace with a veth pair, runs
// `clinicwatch run` on one end and sends a generated capture into the other with tcpreplay.
// Needs root, `ip netns` and tcpreplay; skips with the reason otherwise.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/live_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch::test;
using namespace std::chrono_literals;

namespace {

std::string status_field(pid_t pid, const std::string& field) {
    std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
    return "";
}

void write_hosts_capture(const std::string& path, int hosts, int rounds) {
    PcapWriter w(path);
    std::int64_t ts = 1'795'129'200'000'000;
    for (int r = 0; r < rounds; ++r)
        for (int h = 1; h <= hosts; ++h)
            w.write(ts += 1000, arp_reply_frame(static_cast<std::uint8_t>(h)));
}

// Tests never read the machine's /etc/clinicwatch/clinicwatch.yaml.
std::string empty_config(const TempDir& dir) {
    std::string path = (dir / "empty.yaml").string();
    std::ofstream(path) << "# defaults\n";
    return path;
}

}  // namespace

TEST(LiveCapture, ReplayedTrafficOnVethIsStoredAndSigtermExitsCleanly) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    Namespace ns;
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "live.db").string(), pcap = (dir / "hosts.pcap").string();
    write_hosts_capture(pcap, 20, 100);  // 2000 frames

    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", empty_config(dir)},
                 (dir / "daemon.log").string());
    ASSERT_TRUE(wait_until_capturing((dir / "daemon.log").string(), 60s))
        << read_file((dir / "daemon.log").string());
    std::string out;
    ASSERT_EQ(run_command(ns.exec("tcpreplay -q -i cwb --pps 2000 " + pcap), &out), 0) << out;
    std::this_thread::sleep_for(1500ms);
    daemon.signal(SIGTERM);
    auto code = daemon.wait(10s);
    ASSERT_TRUE(code.has_value()) << "clinicwatch did not exit within 10 s of SIGTERM";
    EXPECT_EQ(*code, 0) << read_file((dir / "daemon.log").string());

    SQLite::Database d(db, SQLite::OPEN_READONLY);
    EXPECT_EQ(d.execAndGet("SELECT integrity_check FROM pragma_integrity_check").getString(), "ok");
    int with_address = d.execAndGet(
                            "SELECT count(*) FROM assets WHERE mac LIKE '00:00:5e:00:53:%' "
                            "AND addresses LIKE '%192.168.77.%'")
                           .getInt();
    EXPECT_EQ(with_address, 20);
    SQLite::Statement run(d, "SELECT packets, ring_drops, outcome FROM runs");
    ASSERT_TRUE(run.executeStep());
    EXPECT_GE(run.getColumn(0).getInt64(), 2000);
    EXPECT_EQ(run.getColumn(1).getInt64(), 0) << "ring drops at 2000 packets/s";
    EXPECT_EQ(run.getColumn(2).getString(), "ok");
}

TEST(LiveCapture, DropsToUnprivilegedUserWithNoEffectiveCapabilities) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    if (run_command("id nobody") != 0) GTEST_SKIP() << "no user 'nobody' on this machine";
    Namespace ns;
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
    std::string db = (dir / "drop.db").string();
    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--user", "nobody", "--config", empty_config(dir)},
                 (dir / "daemon.log").string());
    ASSERT_TRUE(wait_until_capturing((dir / "daemon.log").string(), 60s))
        << read_file((dir / "daemon.log").string());
    std::string uid = status_field(daemon.pid(), "Uid");
    std::string cap_eff = status_field(daemon.pid(), "CapEff");
    std::string no_new_privs = status_field(daemon.pid(), "NoNewPrivs");
    daemon.signal(SIGTERM);
    auto code = daemon.wait(10s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << read_file((dir / "daemon.log").string());
    std::istringstream ids(uid);
    std::string real, effective, saved, fs;
    ids >> real >> effective >> saved >> fs;
    EXPECT_EQ(real, "65534");
    EXPECT_EQ(effective, "65534");
    EXPECT_EQ(saved, "65534");
    EXPECT_NE(cap_eff.find("0000000000000000"), std::string::npos) << cap_eff;
    EXPECT_NE(no_new_privs.find("1"), std::string::npos) << no_new_privs;
}

TEST(LiveCapture, InterfaceDownIsAGapNotAnExit) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    Namespace ns;
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "gap.db").string(), first = (dir / "a.pcap").string(),
                second = (dir / "b.pcap").string();
    write_hosts_capture(first, 5, 20);
    {
        PcapWriter w(second);
        for (int i = 0; i < 50; ++i) w.write(1'795'129'300'000'000 + i * 1000, arp_reply_frame(99));
    }
    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", empty_config(dir)},
                 (dir / "daemon.log").string());
    ASSERT_TRUE(wait_until_capturing((dir / "daemon.log").string(), 60s))
        << read_file((dir / "daemon.log").string());
    ASSERT_EQ(run_command(ns.exec("tcpreplay -q -i cwb --pps 500 " + first)), 0);
    // Take the capture interface away and bring it back.
    ASSERT_EQ(run_command(ns.exec("ip link set cwa down")), 0);
    std::this_thread::sleep_for(1500ms);
    EXPECT_FALSE(daemon.wait(0ms).has_value()) << "the daemon exited when the interface went down";
    ASSERT_EQ(run_command(ns.exec("ip link set cwa up")), 0);
    std::this_thread::sleep_for(3000ms);  // backoff, then re-open
    ASSERT_EQ(run_command(ns.exec("tcpreplay -q -i cwb --pps 500 " + second)), 0);
    std::this_thread::sleep_for(1500ms);
    daemon.signal(SIGTERM);
    auto code = daemon.wait(10s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << read_file((dir / "daemon.log").string());
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    EXPECT_EQ(d.execAndGet("SELECT count(*) FROM assets WHERE mac = '00:00:5e:00:53:63'").getInt(),
              1)
        << "frames sent after the interface came back were not captured\n"
        << read_file((dir / "daemon.log").string());
    EXPECT_GE(d.execAndGet("SELECT count(*) FROM alerts WHERE kind = 'capture-interrupted' AND "
                           "ended_at IS NOT NULL")
                  .getInt(),
              1);
}

TEST(LiveCapture, SighupReloadsGoodConfigAndRefusesBadOne) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    Namespace ns;
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "hup.db").string(), config = (dir / "c.yaml").string(),
                log = (dir / "daemon.log").string();
    auto write_config = [&](const std::string& text) {
        std::ofstream out(config);
        out << text;
    };
    write_config("capture:\n  interface: cwa\nstore:\n  path: " + db + "\n");
    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--config", config},
                 log);
    ASSERT_TRUE(wait_until_capturing(log, 60s)) << read_file(log);

    write_config("capture:\n  interface: cwa\n  snaplenn: 5\n");  // a typo
    daemon.signal(SIGHUP);
    EXPECT_TRUE(wait_for_log(log, "reload refused", 15s)) << read_file(log);
    EXPECT_FALSE(daemon.wait(0ms).has_value()) << "a bad reload stopped the daemon";
    EXPECT_NE(read_file(log).find("capture.snaplenn"), std::string::npos) << read_file(log);

    write_config("capture:\n  interface: cwa\nstore:\n  path: " + db +
                 "\nnetwork:\n  internal_networks: [192.168.77.0/24]\n");
    daemon.signal(SIGHUP);
    ASSERT_EQ(run_command(ns.exec("tcpreplay -q -i cwb --pps 1000 " +
                                  [&] {
                                      std::string p = (dir / "h.pcap").string();
                                      write_hosts_capture(p, 3, 10);
                                      return p;
                                  }())),
              0);
    EXPECT_TRUE(wait_for_log(log, "configuration from " + config + " applied", 15s))
        << read_file(log);
    daemon.signal(SIGTERM);
    auto code = daemon.wait(10s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << read_file(log);
}
