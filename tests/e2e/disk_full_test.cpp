// The database on a small filesystem made by the test (tmpfs with a size limit): filling it
// gives a clear logged error, capture and analysis go on with findings held in memory, and
// writing resumes when space returns; nothing already stored is lost. Needs root.
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

int count_assets(const std::string& db) {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    return d.execAndGet("SELECT count(*) FROM assets WHERE mac LIKE '00:00:5e:01:%'").getInt();
}

void write_capture(const std::string& path, int first, int count, int conflicts = 0) {
    PcapWriter w(path);
    std::int64_t ts = 1'795'129'200'000'000;
    for (int i = 0; i < count; ++i)
        w.write(ts += 100, arp_reply_frame_wide(static_cast<std::uint16_t>(first + i)));
    // Address conflicts: a second device (00:00:5e:02:..) claims each address just claimed,
    // one ip-conflict alert per address. More alerts than the queue may hold.
    for (int i = 0; i < conflicts; ++i) {
        auto first_claim = arp_reply_frame_wide(static_cast<std::uint16_t>(4000 + i));
        auto second_claim = first_claim;
        second_claim[9] = second_claim[25] = 0x02;  // source and sender MAC
        w.write(ts += 100, first_claim);
        w.write(ts += 100, second_claim);
    }
}

// The largest number in the log after `marker` ("at most N entries").
long number_after(const std::string& text, const std::string& marker) {
    auto at = text.find(marker);
    if (at == std::string::npos) return -1;
    return std::strtol(text.c_str() + at + marker.size(), nullptr, 10);
}

constexpr int kQueueCap = 200;
constexpr int kDevices = 100;
constexpr int kConflicts = 300;
}  // namespace

TEST(DiskFull, FindingsAreHeldAndWrittenWhenSpaceReturns) {
    if (geteuid() != 0) GTEST_SKIP() << "mounting a size-limited tmpfs needs root";
    if (run_command("command -v ip") != 0 || run_command("command -v tcpreplay") != 0)
        GTEST_SKIP() << "needs iproute2 and tcpreplay";
    TempDir dir;
    auto mnt = dir / "small";
    std::filesystem::create_directory(mnt);
    std::string out;
    if (run_command("mount -t tmpfs -o size=8m tmpfs " + mnt.string(), &out) != 0)
        GTEST_SKIP() << "cannot mount tmpfs: " << out;
    struct Unmount {
        std::string path;
        ~Unmount() { run_command("umount -l " + path); }
    } unmount{mnt.string()};
    std::string ns = "cwdisk" + std::to_string(getpid());
    ASSERT_EQ(run_command("ip netns add " + ns), 0);
    struct DeleteNs {
        std::string name;
        ~DeleteNs() { run_command("ip netns del " + name); }
    } delete_ns{ns};
    auto in_ns = [&](const std::string& c) { return "ip netns exec " + ns + " " + c; };
    ASSERT_EQ(run_command(in_ns("ip link add cwa type veth peer name cwb") + " && " +
                          in_ns("ip link set cwa up") + " && " + in_ns("ip link set cwb up")),
              0);

    // A small queue, so the flood of findings during the spell must meet its bound.
    std::ofstream(dir / "empty.yaml") << "store:\n  max_queued_findings: " << kQueueCap << "\n";
    std::string db = (mnt / "clinic.db").string(), log = (dir / "daemon.log").string();
    std::string before = (dir / "before.pcap").string(), during = (dir / "during.pcap").string();
    write_capture(before, 0, 50);
    write_capture(during, 50, kDevices, kConflicts);

    Child daemon({"ip", "netns", "exec", ns, CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", (dir / "empty.yaml").string()},
                 log);
    ASSERT_TRUE(wait_for_log(log, "capturing on", 60s)) << read_file(log);
    ASSERT_EQ(run_command(in_ns("tcpreplay -q -i cwb --pps 1000 " + before)), 0);
    for (int i = 0; i < 100 && count_assets(db) < 50; ++i) std::this_thread::sleep_for(100ms);
    ASSERT_EQ(count_assets(db), 50) << read_file(log);

    // Fill the filesystem to the last byte, then bring new devices and address conflicts.
    run_command("dd if=/dev/zero of=" + (mnt / "filler").string() + " bs=4k 2>/dev/null");
    ASSERT_EQ(run_command(in_ns("tcpreplay -q -i cwb --pps 3000 " + during)), 0);
    EXPECT_TRUE(wait_for_log(log, "findings are held in memory", 20s)) << read_file(log);
    std::this_thread::sleep_for(1500ms);  // more writes fail meanwhile (retried with backoff)
    EXPECT_FALSE(daemon.wait(0ms).has_value()) << "the daemon exited on a full disk\n"
                                               << read_file(log);
    EXPECT_EQ(count_assets(db), 50) << "stored devices must stay readable";

    std::filesystem::remove(mnt / "filler");
    // Retried with backoff (at most a few seconds apart), not given up.
    EXPECT_TRUE(wait_for_log(log, "database writes resumed", 15s)) << read_file(log);
    // Writing resumed: every device is stored (devices are never dropped: they wait in the
    // device table, a few hundred new ones per write while they say nothing more).
    const int expected = 50 + kDevices + kConflicts;
    for (int i = 0; i < 100 && count_assets(db) < expected; ++i) std::this_thread::sleep_for(100ms);
    EXPECT_EQ(count_assets(db), expected);
    daemon.signal(SIGTERM);
    auto code = daemon.wait(15s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << read_file(log);
    // The memory bound: never more than the batch being written plus a full queue (and the
    // little room kept for sensor-limit alerts).
    std::string text = read_file(log);
    long peak = number_after(text, "at most ");
    EXPECT_GT(peak, 0) << text;
    EXPECT_LE(peak, 2 * kQueueCap + 64) << text;
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    EXPECT_EQ(d.execAndGet("SELECT integrity_check FROM pragma_integrity_check").getString(), "ok");
    EXPECT_EQ(count_assets(db), expected);
    // Findings that found the queue full are counted and reported, not silently lost: each
    // conflict is either stored or counted as dropped.
    SQLite::Statement limit(d,
                            "SELECT json_extract(evidence, '$.dropped_total') FROM alerts "
                            "WHERE key = 'sensor-limit:held-findings'");
    ASSERT_TRUE(limit.executeStep()) << "no sensor-limit alert for held findings\n" << text;
    std::int64_t dropped = limit.getColumn(0).getInt64();
    EXPECT_GT(dropped, 0);
    std::int64_t conflicts =
        d.execAndGet("SELECT count(*) FROM alerts WHERE kind = 'ip-conflict'").getInt64();
    EXPECT_GE(conflicts + dropped, kConflicts) << conflicts << " stored, " << dropped << " dropped";
}
