// The SQLite store with a real database file: round trips, alert deduplication, migration
// from an older schema, and a reader in parallel with the writer (WAL).
#include "daemon/store/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::TempDir;

namespace {
AlertUpdate loop_update(Timestamp first, Timestamp last, std::uint64_t count, bool ended) {
    AlertUpdate a;
    a.kind = "l2-loop";
    a.key = "l2-loop:LAN:1000";
    a.severity = Severity::critical;
    a.subject = "LAN";
    a.summary = "frames repeat";
    a.first_seen = first;
    a.last_seen = last;
    a.count = count;
    a.evidence = {{"peak", count}};
    a.ended = ended;
    return a;
}
}  // namespace

TEST(Store, CreatesSchemaInWalMode) {
    TempDir dir;
    Store store((dir / "c.db").string());
    EXPECT_EQ(Store::schema_version(store.db()), Store::kSchemaVersion);
    EXPECT_EQ(store.db().execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(Store, AlertsAreMergedByKey) {
    TempDir dir;
    Store store((dir / "c.db").string());
    HostTable hosts(10);
    store.alert(loop_update(1000, 2000, 5, false));
    store.flush(hosts);
    store.alert(loop_update(1000, 9000, 7, true));
    AlertUpdate no_evidence = loop_update(500, 8000, 1, true);
    no_evidence.evidence = nullptr;  // keep what is stored
    store.alert(no_evidence);
    store.flush(hosts);
    SQLite::Statement st(store.db(),
                         "SELECT count(*), min(first_seen), max(last_seen), sum(count), "
                         "max(evidence), max(ended_at), max(revision) FROM alerts");
    ASSERT_TRUE(st.executeStep());
    EXPECT_EQ(st.getColumn(0).getInt(), 1);
    EXPECT_EQ(st.getColumn(1).getInt64(), 500);
    EXPECT_EQ(st.getColumn(2).getInt64(), 9000);
    EXPECT_EQ(st.getColumn(3).getInt64(), 13);
    EXPECT_EQ(st.getColumn(4).getString(), R"({"peak":7})");
    EXPECT_EQ(st.getColumn(5).getInt64(), 8000);
    EXPECT_EQ(st.getColumn(6).getInt(), 3);
}

TEST(Store, HostsAndMinutesRoundTrip) {
    TempDir dir;
    Store store((dir / "c.db").string());
    HostTable hosts(10);
    Host& h = *hosts.touch(*MacAddress::parse("00:a0:de:01:02:03"), 0, 1'000'000);
    h.observe_address("192.168.100.1", "arp", 1'000'000);
    h.observe_name("RTX830", "lldp", 1'000'000);
    h.frames = 42;
    MinuteStats m;
    m.minute = 60'000'000;
    m.frames = 100;
    m.broadcast_frames = 7;
    store.minute(m);
    store.flush(hosts);
    EXPECT_FALSE(h.dirty);
    // A second flush of the same minute adds up (a restart in the middle of a minute).
    store.minute(m);
    hosts.touch(h.key.mac, 0, 5'000'000);
    store.flush(hosts);

    SQLite::Statement a(store.db(), "SELECT addresses, names, frames, last_seen FROM assets");
    ASSERT_TRUE(a.executeStep());
    EXPECT_NE(a.getColumn(0).getString().find("192.168.100.1"), std::string::npos);
    EXPECT_NE(a.getColumn(1).getString().find("RTX830"), std::string::npos);
    EXPECT_EQ(a.getColumn(2).getInt64(), 42);
    EXPECT_EQ(a.getColumn(3).getInt64(), 5'000'000);
    EXPECT_EQ(store.db().execAndGet("SELECT frames FROM minute_stats").getInt64(), 200);
}

TEST(Store, EvictedHostsAreStillWritten) {
    TempDir dir;
    Store store((dir / "c.db").string());
    HostTable hosts(2);
    hosts.set_eviction_handler([&](const Host& h) { store.host_evicted(h); });
    for (int i = 1; i <= 5; ++i) {
        MacAddress m;
        m.bytes[5] = static_cast<std::uint8_t>(i);
        hosts.touch(m, 0, i);  // the first frame of a new MAC in a full table is on probation
        hosts.touch(m, 0, i + HostTable::kProbationMinGap)
            ->observe_address("10.0.0." + std::to_string(i), "arp", i);
    }
    store.flush(hosts);
    EXPECT_EQ(store.db().execAndGet("SELECT count(*) FROM assets").getInt(), 5);
}

TEST(Store, MigratesFromVersionOneKeepingData) {
    TempDir dir;
    auto path = (dir / "old.db").string();
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        Store::migrate(db, 1);
        ASSERT_EQ(Store::schema_version(db), 1);
        db.exec(
            "INSERT INTO alerts (key, kind, severity, first_seen, last_seen) "
            "VALUES ('k', 'rogue-dhcp', 3, 1, 2)");
        db.exec(
            "INSERT INTO assets (mac, first_seen, last_seen) VALUES ('00:11:22:33:44:55', 1, 2)");
    }
    Store store(path);
    EXPECT_EQ(Store::schema_version(store.db()), Store::kSchemaVersion);
    EXPECT_EQ(store.db().execAndGet("SELECT kind FROM alerts").getString(), "rogue-dhcp");
    EXPECT_EQ(store.db().execAndGet("SELECT revision FROM alerts").getInt(), 1);
    EXPECT_EQ(store.db().execAndGet("SELECT count(*) FROM assets").getInt(), 1);
    EXPECT_EQ(store.db().execAndGet("SELECT count(*) FROM runs").getInt(), 0);
}

TEST(Store, RefusesNewerSchemaAndMissingDirectory) {
    TempDir dir;
    auto path = (dir / "new.db").string();
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA user_version = 999");
    }
    EXPECT_THROW(Store s(path), StoreError);
    try {
        Store s((dir / "no" / "such" / "dir.db").string());
        FAIL();
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
    }
    EXPECT_THROW(open_for_reading((dir / "absent.db").string()), StoreError);
}

TEST(Store, ReaderSeesCommittedDataWhileWriterIsOpen) {
    TempDir dir;
    auto path = (dir / "c.db").string();
    Store store(path);
    HostTable hosts(10);
    store.alert(loop_update(1, 2, 1, false));
    store.flush(hosts);
    auto reader = open_for_reading(path);
    EXPECT_EQ(reader->execAndGet("SELECT count(*) FROM alerts").getInt(), 1);
    // An open read transaction does not block the writer in WAL mode.
    SQLite::Transaction read_tx(*reader);
    reader->execAndGet("SELECT count(*) FROM alerts");
    AlertUpdate other = loop_update(3, 4, 1, false);
    other.key = "l2-loop:LAN:2000";
    store.alert(other);
    EXPECT_NO_THROW(store.flush(hosts));
}

TEST(Store, RunsAreRecorded) {
    TempDir dir;
    Store store((dir / "c.db").string());
    RunRecord run;
    run.mode = "replay";
    run.source = "x.pcap";
    run.id = store.begin_run(run);
    run.packets = 123;
    run.outcome = "ok";
    store.end_run(run);
    EXPECT_EQ(store.db().execAndGet("SELECT packets FROM runs").getInt(), 123);
    EXPECT_EQ(store.db().execAndGet("SELECT outcome FROM runs").getString(), "ok");
}

// A kill -9 during a loop leaves the loop alert open; the next start ends it where it was last
// seen (the digest must not report a loop "still going" days later), and leaves standing
// alerts (an unregistered device) open. While another run is alive, nothing is ended.
TEST(Store, EpisodesLeftOpenByAKilledRunEndWhereLastSeen) {
    TempDir dir;
    Store store((dir / "c.db").string());
    RunRecord run;
    run.mode = "live";
    run.source = "eth0";
    std::int64_t killed = store.begin_run(run);
    StoreBatch batch;
    AlertUpdate loop;
    loop.kind = "l2-loop";
    loop.key = "l2-loop:LAN:1000";
    loop.first_seen = 1000;
    loop.last_seen = 5'000'000;
    batch.alerts.push_back(loop);
    AlertUpdate device;
    device.kind = "unregistered-device";
    device.key = "unregistered-device:00:11:22:33:44:55";
    device.first_seen = 1000;
    device.last_seen = 6'000'000;
    batch.alerts.push_back(device);
    store.write(batch);
    auto ended_at = [&](const std::string& key) {
        SQLite::Statement st(store.db(), "SELECT ended_at FROM alerts WHERE key = ?");
        st.bind(1, key);
        EXPECT_TRUE(st.executeStep()) << key;
        return st.getColumn(0).isNull() ? std::int64_t{-1} : st.getColumn(0).getInt64();
    };

    // This process is alive: its own run is not interrupted, so nothing ends.
    std::int64_t alive = store.begin_run(run);
    EXPECT_EQ(ended_at(loop.key), -1);
    store.db().exec("UPDATE runs SET outcome = 'ok' WHERE id = " + std::to_string(alive));

    store.db().exec("UPDATE runs SET pid = 2147483646 WHERE id = " + std::to_string(killed));
    store.begin_run(run);
    EXPECT_EQ(ended_at(loop.key), 5'000'000);
    EXPECT_EQ(ended_at(device.key), -1);
    EXPECT_EQ(store.db()
                  .execAndGet("SELECT revision FROM alerts WHERE key = '" + loop.key + "'")
                  .getInt(),
              2);
}

TEST(Store, RunsOfProcessesThatAreGoneAreClosedAsInterrupted) {
    TempDir dir;
    Store store((dir / "c.db").string());
    RunRecord run;
    run.mode = "replay";
    run.source = "a.pcap";
    std::int64_t killed = store.begin_run(run);
    std::int64_t other_boot = store.begin_run(run);
    std::int64_t live = store.begin_run(run);
    // As a kill -9 or a power cut leaves them: one process no longer exists, one ran before
    // the last reboot; the third is this process, still running.
    store.db().exec("UPDATE runs SET pid = 2147483646 WHERE id = " + std::to_string(killed));
    store.db().exec("UPDATE runs SET boot_id = 'earlier-boot' WHERE id = " +
                    std::to_string(other_boot));
    std::int64_t next = store.begin_run(run);
    auto outcome = [&](std::int64_t id) {
        return store.db()
            .execAndGet("SELECT outcome FROM runs WHERE id = " + std::to_string(id))
            .getString();
    };
    EXPECT_EQ(outcome(killed), "interrupted");
    EXPECT_EQ(outcome(other_boot), "interrupted");
    EXPECT_EQ(outcome(live), "running");
    EXPECT_EQ(outcome(next), "running");
}

// The map keeps what earlier runs learned: a later run that has not yet seen the router's
// internet traffic does not turn "internet" back to false, and lists only gain entries.
TEST(Store, TopologyFactsAccumulateAcrossRuns) {
    TempDir dir;
    Store store((dir / "c.db").string());
    StoreBatch first;
    first.topology.push_back({"subnet",
                              0,
                              "192.168.100.0/24",
                              {{"internet", true}, {"routers", {"00:a0:de:7a:1c:30"}}},
                              {"arp"},
                              100,
                              200});
    store.write(first);
    StoreBatch later;
    later.topology.push_back({"subnet",
                              0,
                              "192.168.100.0/24",
                              {{"internet", false}, {"routers", {"34:3d:c4:36:e5:b9"}}},
                              {"dhcp"},
                              300,
                              400});
    store.write(later);
    auto row = store.db().execAndGet(
        "SELECT attributes || '|' || evidence || '|' || first_seen "
        "|| '|' || last_seen FROM topology");
    EXPECT_EQ(row.getString(),
              R"({"internet":true,"routers":["00:a0:de:7a:1c:30","34:3d:c4:36:e5:b9"]}|)"
              R"(["arp","dhcp"]|100|400)");
}
