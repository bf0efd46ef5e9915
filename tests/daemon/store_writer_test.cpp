// The store writer thread with a real database file: findings merged by key while queued, the
// hard cap with counted drops (sensor-limit alerts still get in), devices merely seen again
// written as a last_seen update, and facts merged with what earlier runs stored.
#include "daemon/store/store_writer.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::TempDir;

namespace {

AlertUpdate conflict(int n, std::uint64_t count = 1, const char* kind = "ip-conflict") {
    AlertUpdate a;
    a.kind = kind;
    a.key = std::string(kind) + ":10.0.0." + std::to_string(n);
    a.subject = "10.0.0." + std::to_string(n);
    a.summary = "two devices";
    a.first_seen = 1000 + n;
    a.last_seen = 2000 + n;
    a.count = count;
    a.evidence = {{"n", n}};
    return a;
}

std::int64_t scalar(const std::string& db, const std::string& sql) {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    return d.execAndGet(sql).getInt64();
}

auto soon() {
    return std::chrono::steady_clock::now() + std::chrono::seconds(5);
}

// One collect by a writer of its own, stopped (everything it queued written) before returning.
void collect_and_stop(Store& store, HostTable& hosts, bool final) {
    StoreWriter writer(store, {});
    writer.start();
    writer.collect(hosts, final);
    EXPECT_EQ(writer.stop(soon()), "");
}

}  // namespace

TEST(StoreWriter, QueuedUpdatesOfOneAlertAreMergedIntoOneWrite) {
    TempDir dir;
    std::string db = (dir / "c.db").string();
    Store store(db);
    StoreWriter writer(store, {});
    writer.alert(conflict(1, 2));
    writer.alert(conflict(1, 3));
    AlertUpdate later = conflict(1, 4);
    later.last_seen = 9000;
    later.evidence = nullptr;  // keeps the queued evidence
    writer.alert(later);
    writer.alert(conflict(2));
    EXPECT_EQ(writer.queued(), 2u);
    writer.start();
    EXPECT_EQ(writer.stop(soon()), "");
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM alerts"), 2);
    EXPECT_EQ(scalar(db, "SELECT count FROM alerts WHERE key = 'ip-conflict:10.0.0.1'"), 9);
    EXPECT_EQ(scalar(db, "SELECT last_seen FROM alerts WHERE key = 'ip-conflict:10.0.0.1'"), 9000);
    EXPECT_EQ(scalar(db, "SELECT revision FROM alerts WHERE key = 'ip-conflict:10.0.0.1'"), 1);
    EXPECT_EQ(scalar(db,
                     "SELECT json_extract(evidence, '$.n') FROM alerts WHERE key = "
                     "'ip-conflict:10.0.0.1'"),
              1);
}

TEST(StoreWriter, FullQueueDropsAndCountsButLetsSensorLimitIn) {
    TempDir dir;
    std::string db = (dir / "c.db").string();
    Store store(db);
    StoreWriterLimits limits;
    limits.max_entries = 16;
    StoreWriter writer(store, limits);
    for (int i = 0; i < 40; ++i) writer.alert(conflict(i));
    EXPECT_EQ(writer.queued(), 16u);
    EXPECT_EQ(writer.dropped(), 24u);
    writer.alert(conflict(3, 5));  // a queued key still merges
    EXPECT_EQ(writer.dropped(), 24u);
    writer.alert(conflict(1, 1, "sensor-limit"));
    EXPECT_EQ(writer.queued(), 17u);
    EXPECT_LE(writer.peak_entries(), 16u + 64u);
    writer.start();
    EXPECT_EQ(writer.stop(soon()), "");
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM alerts WHERE kind = 'ip-conflict'"), 16);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM alerts WHERE kind = 'sensor-limit'"), 1);
    EXPECT_EQ(scalar(db, "SELECT count FROM alerts WHERE key = 'ip-conflict:10.0.0.3'"), 6);
}

TEST(StoreWriter, DeviceSeenAgainUpdatesLastSeenAndKeepsItsFacts) {
    TempDir dir;
    std::string db = (dir / "c.db").string();
    Store store(db);
    HostTable hosts(8);
    auto mac = *MacAddress::parse("00:00:5e:00:53:01");
    Host* h = hosts.touch(mac, 0, 1'000'000);
    h->frames = 5;
    h->observe_address("192.168.1.5", "arp", 1'000'000);
    h->observe_name("RECEPTION-1", "dhcp", 1'000'000);
    collect_and_stop(store, hosts, true);
    EXPECT_FALSE(h->dirty);
    hosts.touch(mac, 0, 7'000'000);  // seen again, nothing new
    h->frames = 9;
    collect_and_stop(store, hosts, true);
    EXPECT_EQ(scalar(db, "SELECT last_seen FROM assets"), 7'000'000);
    EXPECT_EQ(scalar(db, "SELECT frames FROM assets"), 9);
    EXPECT_EQ(scalar(db, "SELECT json_extract(names, '$[0].value') = 'RECEPTION-1' FROM assets"),
              1);
}

TEST(StoreWriter, AtTheEndADeviceThatKeptTalkingIsWrittenWithItsFactsLastSeen) {
    // While a device merely keeps talking, only its last_seen is written; the last-seen times of
    // its names, addresses and evidence go with the final write (a stop, the end of a replay),
    // so what is stored does not depend on when the writer last ran.
    TempDir dir;
    std::string db = (dir / "c.db").string();
    Store store(db);
    HostTable hosts(8);
    auto mac = *MacAddress::parse("00:00:5e:00:53:01");
    Host* h = hosts.touch(mac, 0, 1'000'000);
    h->observe_name("RECEPTION-1", "dhcp", 1'000'000);
    h->observe_evidence("60=MSFT 5.0", "dhcp", 1'000'000);
    auto name_last_seen = [&] {
        return scalar(db, "SELECT json_extract(names, '$[0].last_seen') FROM assets");
    };
    auto evidence_last_seen = [&] {
        return scalar(db, "SELECT json_extract(evidence, '$[0].last_seen') FROM assets");
    };
    collect_and_stop(store, hosts, false);
    ASSERT_FALSE(h->dirty);
    // The same name and evidence an hour later: nothing new, so the device is not changed.
    hosts.touch(mac, 0, 3'601'000'000);
    EXPECT_FALSE(h->observe_name("RECEPTION-1", "dhcp", 3'601'000'000));
    EXPECT_FALSE(h->observe_evidence("60=MSFT 5.0", "dhcp", 3'601'000'000));
    EXPECT_FALSE(h->dirty);
    EXPECT_EQ(name_last_seen(), 1'000'000);
    collect_and_stop(store, hosts, true);
    EXPECT_EQ(scalar(db, "SELECT last_seen FROM assets"), 3'601'000'000);
    EXPECT_EQ(name_last_seen(), 3'601'000'000);
    EXPECT_EQ(evidence_last_seen(), 3'601'000'000);
}

TEST(StoreWriter, ANewRunsDeviceIsMergedWithWhatWasStored) {
    TempDir dir;
    std::string db = (dir / "c.db").string();
    Store store(db);
    auto mac = *MacAddress::parse("00:00:5e:00:53:02");
    {
        HostTable hosts(8);
        Host* h = hosts.touch(mac, 0, 1'000'000);
        h->observe_name("EHR-SERVER", "nbns", 1'000'000);
        h->observe_service(445);
        h->os_family = "Windows";
        h->os_version = "Server 2012 R2";
        h->os_confidence = 0.9;
        store.flush(hosts);
    }
    // A later run that has only seen the device's ARP (its in-memory host starts empty).
    HostTable hosts(8);
    Host* h = hosts.touch(mac, 0, 5'000'000);
    h->observe_address("192.168.1.10", "arp", 5'000'000);
    store.flush(hosts);
    auto loaded = store.load_hosts(10);
    ASSERT_EQ(loaded.size(), 1u);
    const Host& l = loaded[0];
    EXPECT_EQ(l.first_seen, 1'000'000);
    EXPECT_EQ(l.last_seen, 5'000'000);
    ASSERT_EQ(l.names.size(), 1u);
    EXPECT_EQ(l.names[0].value, "EHR-SERVER");
    ASSERT_EQ(l.addresses.size(), 1u);
    EXPECT_EQ(l.tcp_services, std::vector<std::uint16_t>{445});
    EXPECT_EQ(l.os_family, "Windows");
    EXPECT_EQ(l.os_version, "Server 2012 R2");
    EXPECT_FALSE(l.dirty);
    // Loaded back into a table, it is known, not a newcomer.
    HostTable restored(8);
    EXPECT_TRUE(restored.restore(l));
    EXPECT_EQ(restored.newcomers(), 0u);
    EXPECT_FALSE(restored.restore(l));
}
