// Stopping is bounded from the first moment: a SIGTERM while `clinicwatch run` is still
// starting (here: waiting for a database another program holds the write lock on, as a backup
// or the sqlite3 shell would) ends the process at once with exit 0, without capturing and
// without writing anything half. Needs root and `ip netns` (the capture opens on a veth pair
// in a namespace the test makes); skips with the reason otherwise.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "daemon/store/store.hpp"
#include "tests/support/live_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;
using namespace std::chrono_literals;

TEST(StartUpStop, SigtermWhileStartingExitsZeroAndWritesNothing) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    Namespace ns("s");
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "clinic.db").string(), config = (dir / "clinicwatch.yaml").string(),
                log = (dir / "daemon.log").string();
    std::ofstream(config) << "network:\n  internal_networks: [192.168.77.0/24]\n";
    {
        // A database from an earlier run, with a run its killed process left 'running' (whose
        // closing is start-up work that writes) and one fact to find again.
        Store store(db);
        store.set_meta("earlier", "kept");
        RunRecord killed;
        killed.mode = "live";
        killed.source = "cwa";
        store.begin_run(killed);
        store.db().exec("UPDATE runs SET pid = NULL");
    }
    // Another program holds the write lock for as long as the test wants.
    SQLite::Database holder(db, SQLite::OPEN_READWRITE);
    holder.exec("BEGIN IMMEDIATE");

    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", config},
                 log);
    // Generous: under ASan on a busy machine the rules alone take seconds to load.
    ASSERT_TRUE(wait_for_log(log, "is busy (another program is writing it)", 60s))
        << read_file(log);
    daemon.signal(SIGTERM);
    // The lock is still held: without a prompt stop the daemon would wait for it (5 s), then
    // fail. The bound is far above what a stop takes; it only keeps a broken build from hanging.
    auto code = daemon.wait(20s);
    ASSERT_TRUE(code.has_value()) << "clinicwatch did not exit after SIGTERM\n" << read_file(log);
    std::string text = read_file(log);
    EXPECT_EQ(*code, 0) << text;
    EXPECT_NE(text.find("signal during start-up: stopped before capturing"), std::string::npos)
        << text;
    EXPECT_EQ(text.find("capturing on"), std::string::npos) << text;
    holder.exec("ROLLBACK");

    // Intact, and nothing of the start-up written: the killed run is still to be closed by the
    // next start, and no new run row exists.
    SQLite::Database check(db, SQLite::OPEN_READONLY);
    EXPECT_EQ(check.execAndGet("PRAGMA integrity_check").getString(), "ok");
    EXPECT_EQ(check.execAndGet("SELECT value FROM meta WHERE key = 'earlier'").getString(), "kept");
    EXPECT_EQ(check.execAndGet("SELECT count(*) FROM runs").getInt(), 1);
    EXPECT_EQ(check.execAndGet("SELECT outcome FROM runs").getString(), "running");
}
