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

#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch::test;
using namespace std::chrono_literals;

namespace {
std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

int count_assets(const std::string& db) {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    return d.execAndGet("SELECT count(*) FROM assets WHERE mac LIKE '00:00:5e:01:%'").getInt();
}

void write_capture(const std::string& path, int first, int count) {
    PcapWriter w(path);
    for (int i = 0; i < count; ++i)
        w.write(1'795'129'200'000'000 + i * 100,
                arp_reply_frame_wide(static_cast<std::uint16_t>(first + i)));
}
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

    std::ofstream(dir / "empty.yaml") << "# defaults\n";
    std::string db = (mnt / "clinic.db").string(), log = (dir / "daemon.log").string();
    std::string before = (dir / "before.pcap").string(), during = (dir / "during.pcap").string();
    write_capture(before, 0, 50);
    write_capture(during, 50, 3000);

    Child daemon(
        {"ip", "netns", "exec", ns, CLINICWATCH_BINARY, "run", "--interface", "cwa", "--db", db, "--config", (dir / "empty.yaml").string()},
        log);
    std::this_thread::sleep_for(1500ms);
    ASSERT_EQ(run_command(in_ns("tcpreplay -q -i cwb --pps 1000 " + before)), 0);
    std::this_thread::sleep_for(1500ms);
    ASSERT_EQ(count_assets(db), 50) << read_file(log);

    // Fill the filesystem to the last byte, then bring 3000 new devices.
    run_command("dd if=/dev/zero of=" + (mnt / "filler").string() + " bs=4k 2>/dev/null");
    ASSERT_EQ(run_command(in_ns("tcpreplay -q -i cwb --pps 3000 " + during)), 0);
    std::this_thread::sleep_for(2500ms);
    EXPECT_FALSE(daemon.wait(0ms).has_value()) << "the daemon exited on a full disk\n"
                                               << read_file(log);
    EXPECT_NE(read_file(log).find("findings are held in memory"), std::string::npos)
        << read_file(log);
    EXPECT_EQ(count_assets(db), 50) << "stored devices must stay readable";

    std::filesystem::remove(mnt / "filler");
    std::this_thread::sleep_for(2500ms);
    EXPECT_NE(read_file(log).find("database writes resumed"), std::string::npos) << read_file(log);
    daemon.signal(SIGTERM);
    auto code = daemon.wait(15s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << read_file(log);
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    EXPECT_EQ(d.execAndGet("SELECT integrity_check FROM pragma_integrity_check").getString(), "ok");
    EXPECT_EQ(count_assets(db), 3050);
}
