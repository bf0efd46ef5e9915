// SIGHUP on a live sensor: a reload is built and validated in full before anything is swapped.
// A configuration whose only fault is in the egress rules (a service name the rules do not
// know) is refused with its file, line and key while the daemon goes on capturing and storing;
// a good one is applied, and an open loop incident survives it. Needs root, `ip netns` and
// tcpreplay (the test makes its own namespace and veth pair); skips with the reason otherwise.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <functional>
#include <thread>

#include "analyzers/egress.hpp"
#include "tests/analyzers/frame_builder.hpp"
#include "tests/support/live_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch::test;
using namespace std::chrono_literals;

namespace {

// The loop settings stay the same in every version, so the loop detector keeps running.
const char* kCommon =
    "loop:\n"
    "  quiet_seconds: 120\n"
    "egress:\n"
    "  roles:\n"
    "    reception-pc:\n";

void write_config(const std::string& path, const std::string& service, bool register_device) {
    std::ofstream out(path);
    out << kCommon << "      services: [" << service << "]\n";
    if (register_device)
        out << "register:\n"
               "  - mac: \"00:00:5e:00:53:65\"\n"
               "    name: RECEPTION-1\n"
               "    role: reception-pc\n"
               "    responsible: clinic\n";
}

// The same five broadcast frames again and again: a layer-2 loop as the mirror port sees it.
void write_loop_capture(const std::string& path) {
    PcapWriter w(path);
    std::int64_t ts = 1'795'129'200'000'000;
    for (int r = 0; r < 60; ++r)
        for (int h = 1; h <= 5; ++h)
            w.write(ts += 100, arp_reply_frame(static_cast<std::uint8_t>(h)));
}

void write_hosts_capture(const std::string& path, int first, int last) {
    PcapWriter w(path);
    std::int64_t ts = 1'795'129'300'000'000;
    for (int r = 0; r < 3; ++r)
        for (int h = first; h <= last; ++h)
            w.write(ts += 1000, arp_reply_frame(static_cast<std::uint8_t>(h)));
}

std::int64_t query(const std::string& db, const std::string& sql) {
    try {
        SQLite::Database d(db, SQLite::OPEN_READONLY);
        d.setBusyTimeout(2000);
        return d.execAndGet(sql).getInt64();
    } catch (const std::exception&) {
        return -1;
    }
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (condition()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return condition();
}

}  // namespace

TEST(LiveReload, RulesFaultIsRefusedAndAGoodReloadKeepsOpenIncidents) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    Namespace ns;
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "reload.db").string(), config = (dir / "clinicwatch.yaml").string(),
                log = (dir / "daemon.log").string();
    std::string loop = (dir / "loop.pcap").string(), before = (dir / "before.pcap").string(),
                after = (dir / "after.pcap").string();
    write_loop_capture(loop);
    write_hosts_capture(before, 101, 110);
    write_hosts_capture(after, 101, 101);
    write_config(config, "windows-update", false);

    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", config},
                 log);
    ASSERT_TRUE(wait_until_capturing(log, 60s)) << read_file(log);
    ASSERT_EQ(run_command(ns.exec("tcpreplay -q -i cwb --pps 3000 " + loop)), 0);
    ASSERT_TRUE(eventually(
        [&] { return query(db, "SELECT count(*) FROM alerts WHERE kind = 'l2-loop'") == 1; }, 10s))
        << "no loop incident from the repeated frames\n"
        << read_file(log);

    // A fault only the rules can show: check-config refuses it (exit 3) ...
    write_config(config, "no-such-service", false);
    std::string out;
    EXPECT_EQ(
        run_command(std::string(CLINICWATCH_BINARY) + " check-config " + config + " 2>&1", &out), 3)
        << out;
    EXPECT_NE(out.find("no-such-service"), std::string::npos) << out;
    // ... and a reload with it is refused, with file, line and key; the daemon runs on.
    daemon.signal(SIGHUP);
    ASSERT_TRUE(wait_for_log(log, "reload refused", 10s)) << read_file(log);
    std::string text = read_file(log);
    EXPECT_NE(text.find(config + ":6: egress.roles.reception-pc.services: unknown service "
                                 "'no-such-service'"),
              std::string::npos)
        << text;
    EXPECT_FALSE(daemon.wait(0ms).has_value()) << "the daemon stopped on a refused reload\n"
                                               << text;
    ASSERT_EQ(run_command(ns.exec("tcpreplay -q -i cwb --pps 1000 " + before)), 0);
    EXPECT_TRUE(eventually(
        [&] {
            return query(db,
                         "SELECT count(*) FROM assets WHERE mac BETWEEN '00:00:5e:00:53:65' "
                         "AND '00:00:5e:00:53:6e'") == 10;
        },
        10s))
        << "the daemon stopped storing after the refused reload\n"
        << read_file(log);

    // A good file is applied; the open loop incident goes on.
    write_config(config, "windows-update", true);
    daemon.signal(SIGHUP);
    ASSERT_TRUE(wait_for_log(log, "reload: configuration from", 10s)) << read_file(log);
    ASSERT_EQ(run_command(ns.exec("tcpreplay -q -i cwb --pps 1000 " + after)), 0);
    EXPECT_TRUE(eventually(
        [&] {
            return query(db,
                         "SELECT count(*) FROM assets WHERE mac = '00:00:5e:00:53:65' AND "
                         "registered = 1 AND register_name = 'RECEPTION-1'") == 1;
        },
        10s))
        << "the new register was not applied\n"
        << read_file(log);
    EXPECT_EQ(query(db,
                    "SELECT count(*) FROM alerts WHERE kind = 'l2-loop' AND "
                    "ended_at IS NULL"),
              1)
        << "the good reload ended the open loop incident\n"
        << read_file(log);

    daemon.signal(SIGTERM);
    auto code = daemon.wait(20s);
    ASSERT_TRUE(code.has_value()) << "clinicwatch did not exit after SIGTERM";
    EXPECT_EQ(*code, 0) << read_file(log);
}

// A reload that rebuilds egress and lan-hygiene (the network section changed) goes on with what
// they learned: the day's per-device destination count (capped at
// Egress::kMaxSummaryDestinations rows a device a day, the rest lumped) and each device's next
// hop to the internet (no gateway configured), so a spoofer the device moves to after the
// reload is a move away from the router, not its first hop.
TEST(LiveReload, RebuiltEgressAndHygieneKeepTheDaysCountsAndNextHops) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    Namespace ns("e");
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "reload.db").string(), config = (dir / "clinicwatch.yaml").string(),
                log = (dir / "daemon.log").string();
    auto write_network = [&](const std::string& networks) {
        std::ofstream(config) << "network:\n  internal_networks: [" << networks << "]\n";
    };
    write_network("192.168.77.0/24");
    const std::string pc = "00:00:5e:00:53:14", pc_ip = "192.168.77.20";
    const std::string router = "00:00:5e:00:53:01", spoofer = "00:00:5e:00:53:66";
    const std::string marker = "00:00:5e:00:53:30";
    // The PC's datagrams to destinations first..last (distinct internet addresses), via `hop`.
    auto browse = [&](PcapWriter& w, std::int64_t& ts, const std::string& hop, int first,
                      int last) {
        for (int i = first; i <= last; ++i)
            w.write(ts += 1000,
                    udp(hop, pc, pc_ip,
                        "45.76." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250),
                        50000, 9999, Frame(8, 1)));
    };
    const int kBefore = 1000, kAfter = 100;
    std::int64_t ts = 1'795'129'200'000'000;
    {
        PcapWriter w(dir / "before.pcap");
        w.write(ts += 1000, arp(2, router, "192.168.77.1", pc, pc_ip));
        browse(w, ts, router, 0, kBefore - 1);
        // Seen in the inventory only once everything before it was analysed.
        w.write(ts += 1000, arp(2, marker, "192.168.77.30", pc, pc_ip));
    }
    {
        PcapWriter w(dir / "after.pcap");
        w.write(ts += 1000, arp(2, spoofer, "192.168.77.1", pc, pc_ip));
        browse(w, ts, spoofer, kBefore, kBefore + kAfter - 1);
    }

    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", config},
                 log);
    ASSERT_TRUE(wait_until_capturing(log, 60s)) << read_file(log);
    ASSERT_EQ(
        run_command(ns.exec("tcpreplay -q -i cwb --pps 4000 " + (dir / "before.pcap").string())),
        0);
    ASSERT_TRUE(eventually(
        [&] { return query(db, "SELECT count(*) FROM assets WHERE mac = '" + marker + "'") == 1; },
        20s))
        << read_file(log);

    write_network("192.168.77.0/24, 172.16.0.0/12");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(wait_for_log(log, "reload: configuration from", 10s)) << read_file(log);
    std::string text = read_file(log);
    std::string applied = text.substr(text.find("reload: configuration from"));
    applied = applied.substr(0, applied.find('\n'));
    ASSERT_NE(applied.find(", egress"), std::string::npos) << applied;
    ASSERT_NE(applied.find(", lan-hygiene"), std::string::npos) << applied;
    ASSERT_EQ(
        run_command(ns.exec("tcpreplay -q -i cwb --pps 4000 " + (dir / "after.pcap").string())), 0);
    EXPECT_TRUE(eventually(
        [&] {
            return query(db, "SELECT count(*) FROM alerts WHERE kind = 'gateway-mac-change'") == 1;
        },
        20s))
        << "the move to the spoofer after the reload was not seen\n"
        << read_file(log);
    daemon.signal(SIGTERM);
    auto code = daemon.wait(20s);
    ASSERT_TRUE(code.has_value()) << "clinicwatch did not exit after SIGTERM";
    EXPECT_EQ(*code, 0) << read_file(log);

    // Every destination arrived (the lumped row counts the rest), and the cap held across the
    // reload: without carrying the day's count over, the PC would have kBefore + kAfter rows.
    EXPECT_EQ(
        query(db, "SELECT count(*) FROM boundary_flows WHERE mac = '" + pc + "' AND port != 0"),
        static_cast<std::int64_t>(clinicwatch::Egress::kMaxSummaryDestinations))
        << read_file(log);
    EXPECT_EQ(query(db, "SELECT sum(flows) FROM boundary_flows WHERE mac = '" + pc + "'"),
              kBefore + kAfter);
    EXPECT_EQ(
        query(db, "SELECT sum(flows) FROM boundary_flows WHERE mac = '" + pc +
                      "' AND name = '(other destinations)'"),
        kBefore + kAfter - static_cast<std::int64_t>(clinicwatch::Egress::kMaxSummaryDestinations));
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    auto evidence =
        d.execAndGet("SELECT evidence FROM alerts WHERE kind = 'gateway-mac-change'").getString();
    EXPECT_NE(evidence.find("\"expected_mac\":\"" + router + "\""), std::string::npos) << evidence;
}
