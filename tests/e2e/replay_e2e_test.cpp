// End to end: a generated clinic capture through `clinicwatch replay` into a fresh database,
// checked against the generator's ground truth with SQL.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "bench/clinic_capture.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch {
namespace {

using bench::ClinicCaptureTruth;
using test::run_command;
using test::TempDir;

// Writes the capture and returns its truth plus where each record starts in the file.
ClinicCaptureTruth write_capture(const std::filesystem::path& path, std::uint64_t packets,
                                 std::vector<std::uint64_t>* record_offsets = nullptr) {
    bench::ClinicCaptureOptions o;
    o.packets = packets;
    o.seed = 5;
    bench::PcapFileWriter w(path.string());
    std::uint64_t offset = 24;
    auto truth = bench::generate_clinic_capture(o, [&](std::int64_t ts, bench::ByteView f) {
        if (record_offsets) record_offsets->push_back(offset);
        offset += 16 + f.size();
        w.write(ts, f);
    });
    w.close();
    return truth;
}

void write_config(const std::filesystem::path& path) {
    std::ofstream(path) << "network:\n"
                           "  internal_networks: [192.168.100.0/24]\n"
                           "  gateway_ip: 192.168.100.1\n"
                           "  gateway_mac: 00:a0:de:7a:1c:30\n";
}

std::string replay_command(const TempDir& dir, const std::filesystem::path& pcap) {
    return std::string(CLINICWATCH_BINARY) + " replay " + pcap.string() + " --db " +
           (dir / "clinic.db").string() + " --config " + (dir / "demo.yaml").string() +
           " --no-progress";
}

std::int64_t scalar(SQLite::Database& db, const std::string& sql) {
    return db.execAndGet(sql).getInt64();
}

TEST(ReplayEndToEnd, AssetsCountersAndRunMatchTheGroundTruth) {
    TempDir dir;
    auto pcap = dir / "clinic.pcap";
    auto truth = write_capture(pcap, 25'000);
    write_config(dir / "demo.yaml");
    std::string output;
    ASSERT_EQ(run_command(replay_command(dir, pcap), &output), 0) << output;

    SQLite::Database db((dir / "clinic.db").string(), SQLite::OPEN_READONLY);
    ASSERT_GE(truth.hosts.size(), 15u);
    for (const auto& h : truth.hosts) {
        SQLite::Statement st(db, "SELECT addresses FROM assets WHERE mac = ?");
        st.bind(1, h.mac.to_string());
        ASSERT_TRUE(st.executeStep())
            << "no asset row for " << h.hostname << " " << h.mac.to_string();
        auto addresses = nlohmann::json::parse(st.getColumn(0).getString());
        bool found = false;
        for (const auto& a : addresses) found |= a["value"] == bench::ip4_text(h.ip);
        EXPECT_TRUE(found) << h.hostname << " should have " << bench::ip4_text(h.ip) << ", has "
                           << addresses.dump();
    }
    EXPECT_EQ(scalar(db, "SELECT sum(frames) FROM minute_stats"), 25'000);
    EXPECT_EQ(scalar(db, "SELECT sum(bytes) FROM minute_stats"),
              static_cast<std::int64_t>(truth.bytes));
    EXPECT_EQ(scalar(db, "SELECT sum(undecodable_frames) FROM minute_stats"), 0);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM runs"), 1);
    EXPECT_EQ(scalar(db, "SELECT packets FROM runs"), 25'000);
    EXPECT_EQ(scalar(db, "SELECT first_packet FROM runs"), truth.first_us);
    EXPECT_EQ(scalar(db, "SELECT last_packet FROM runs"), truth.last_us);
    EXPECT_EQ(db.execAndGet("SELECT outcome FROM runs").getString(), "ok");
}

// A capture made on a tunnel or exported as raw IP (LINKTYPE_RAW) has no MAC addresses: it is
// read to the end, its connections and findings are kept, and no device is invented from the
// missing addresses (no asset, no "00:00:00:00:00:00" in what people read).
TEST(ReplayEndToEnd, RawIpCaptureKeepsFindingsWithoutInventingDevices) {
    TempDir dir;
    bench::ClinicCaptureOptions o;
    o.packets = 20'000;
    o.seed = 5;
    std::uint64_t ip_frames = 0;
    {
        test::PcapWriter w(dir / "raw.pcap", 101);
        bench::generate_clinic_capture(o, [&](std::int64_t ts, bench::ByteView f) {
            if (f.size() < 14) return;
            const std::uint16_t type = static_cast<std::uint16_t>(f[12] << 8 | f[13]);
            if (type != 0x0800 && type != 0x86dd) return;  // ARP, STP ... have no IP form
            w.write(ts, std::vector<std::uint8_t>(f.begin() + 14, f.end()));
            ++ip_frames;
        });
    }
    write_config(dir / "demo.yaml");
    std::string output;
    ASSERT_EQ(run_command(replay_command(dir, dir / "raw.pcap"), &output), 0) << output;
    SQLite::Database db((dir / "clinic.db").string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(scalar(db, "SELECT packets FROM runs"), static_cast<std::int64_t>(ip_frames));
    EXPECT_EQ(scalar(db, "SELECT sum(undecodable_frames) FROM minute_stats"), 0);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM assets"), 0);
    EXPECT_GT(scalar(db, "SELECT count(*) FROM alerts WHERE kind = 'remote-access'"), 0);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM alerts WHERE subject_mac = '00:00:00:00:00:00'"), 0);
    std::string incidents;
    ASSERT_EQ(
        run_command(std::string(CLINICWATCH_BINARY) + " incidents --json --db " +
                        (dir / "clinic.db").string() + " --config " + (dir / "demo.yaml").string(),
                    &incidents),
        0)
        << incidents;
    EXPECT_NE(incidents.find("remote-access"), std::string::npos) << incidents.substr(0, 400);
    EXPECT_EQ(incidents.find("00:00:00:00:00:00"), std::string::npos) << incidents;
}

// What one device's row says about it: names, OS verdict and services.
struct StoredFacts {
    std::set<std::string> names;
    std::string os_family, os_version;
    std::set<std::int64_t> services;
    std::int64_t first_seen = 0;
};

std::map<std::string, StoredFacts> stored_facts(const std::filesystem::path& db_path) {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
    SQLite::Statement st(db,
                         "SELECT mac, vlan, names, os_family, os_version, services, first_seen "
                         "FROM assets");
    std::map<std::string, StoredFacts> out;
    while (st.executeStep()) {
        StoredFacts f;
        for (const auto& n : nlohmann::json::parse(st.getColumn(2).getString()))
            f.names.insert(n["value"].get<std::string>() + "/" + n["source"].get<std::string>());
        f.os_family = st.getColumn(3).getString();
        f.os_version = st.getColumn(4).getString();
        for (const auto& p : nlohmann::json::parse(st.getColumn(5).getString()))
            f.services.insert(p.get<std::int64_t>());
        f.first_seen = st.getColumn(6).getInt64();
        out[st.getColumn(0).getString() + "/" + st.getColumn(1).getString()] = std::move(f);
    }
    return out;
}

// A restart must not erase the inventory: the second run sees only ARP from the same devices
// (as after a reboot, before any of them renews its DHCP lease or announces its name), and
// every device keeps its names, OS verdict, services and first-seen time.
TEST(ReplayEndToEnd, SecondRunWithOnlyArpKeepsEveryDevicesFacts) {
    TempDir dir;
    auto pcap = dir / "clinic.pcap";
    auto truth = write_capture(pcap, 25'000);
    write_config(dir / "demo.yaml");
    std::string output;
    ASSERT_EQ(run_command(replay_command(dir, pcap), &output), 0) << output;
    auto before = stored_facts(dir / "clinic.db");

    auto arp_only = dir / "arp-only.pcap";
    {
        bench::PcapFileWriter w(arp_only.string());
        std::int64_t ts = truth.last_us + 3600LL * 1'000'000;  // an hour after the first run
        for (int round = 0; round < 3; ++round)
            for (const auto& h : truth.hosts) {
                auto frame = bench::arp(2, h.mac, h.ip, truth.gateway_mac, truth.gateway_ip);
                w.write(ts,
                        bench::ethernet(truth.gateway_mac, h.mac, bench::ethertype::arp, frame));
                ts += 100'000;
            }
        w.close();
    }
    ASSERT_EQ(run_command(replay_command(dir, arp_only), &output), 0) << output;
    auto after = stored_facts(dir / "clinic.db");

    std::size_t with_names = 0, with_os = 0, with_services = 0;
    for (const auto& [asset, was] : before) {
        auto it = after.find(asset);
        ASSERT_NE(it, after.end()) << asset << " disappeared";
        const StoredFacts& now = it->second;
        for (const auto& name : was.names)
            EXPECT_TRUE(now.names.count(name)) << asset << " lost its name " << name;
        EXPECT_EQ(now.os_family, was.os_family) << asset;
        EXPECT_EQ(now.os_version, was.os_version) << asset;
        for (auto port : was.services)
            EXPECT_TRUE(now.services.count(port)) << asset << " lost service " << port;
        EXPECT_EQ(now.first_seen, was.first_seen) << asset;
        with_names += !was.names.empty();
        with_os += !was.os_family.empty();
        with_services += !was.services.empty();
    }
    // The first run learned enough for the comparison to mean something.
    EXPECT_GE(with_names, 10u);
    EXPECT_GE(with_os, 5u);
    EXPECT_GE(with_services, 2u);
    SQLite::Database db((dir / "clinic.db").string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM runs"), 2);
}

// Staff phones (randomised MACs) are summarised once a day; a restart in the middle of the day
// continues the day's count and list instead of starting them over.
TEST(ReplayEndToEnd, RandomizedDeviceSummaryContinuesAcrossARestart) {
    TempDir dir;
    std::ofstream(dir / "demo.yaml") << "network:\n"
                                        "  internal_networks: [192.168.100.0/24]\n"
                                        "inventory:\n"
                                        "  learning_days: 0\n";
    const std::uint32_t router_ip = 0xc0a86401;
    // Phones announce themselves by ARP every 10 s for three minutes (past the settle time).
    auto phones_capture = [&](const std::filesystem::path& path, std::int64_t start,
                              int first_phone, int phones) {
        bench::PcapFileWriter w(path.string());
        for (std::int64_t ts = start; ts < start + 180'000'000; ts += 10'000'000)
            for (int i = first_phone; i < first_phone + phones; ++i) {
                MacAddress phone{{0x6a, 0x3f, 0x91, 0xc4, 0x08, static_cast<std::uint8_t>(i)}};
                auto frame = bench::arp(1, phone, router_ip + 100 + i, MacAddress{}, router_ip);
                w.write(ts + i * 1000,
                        bench::ethernet(bench::kBroadcastMac, phone, bench::ethertype::arp, frame));
            }
        w.close();
    };
    auto summary = [&]() {
        SQLite::Database db((dir / "clinic.db").string(), SQLite::OPEN_READONLY);
        SQLite::Statement st(db,
                             "SELECT evidence FROM alerts WHERE key LIKE "
                             "'unregistered-device:randomized:%'");
        EXPECT_TRUE(st.executeStep());
        return nlohmann::json::parse(st.getColumn(0).getString());
    };
    const std::int64_t morning = *bench::parse_iso_time("2026-11-20T08:00:00+09:00");
    phones_capture(dir / "morning.pcap", morning, 1, 3);
    std::string output;
    ASSERT_EQ(run_command(replay_command(dir, dir / "morning.pcap"), &output), 0) << output;
    EXPECT_EQ(summary()["devices_total"], 3);

    // The sensor restarts at noon; the same three phones and two new ones.
    phones_capture(dir / "noon.pcap", morning + 4 * 3600'000'000LL, 1, 5);
    ASSERT_EQ(run_command(replay_command(dir, dir / "noon.pcap"), &output), 0) << output;
    auto day = summary();
    EXPECT_EQ(day["devices_total"], 5) << day.dump();
    EXPECT_EQ(day["devices"].size(), 5u) << day.dump();
    EXPECT_EQ(day["date"], "2026-11-20");
}

// What lan-hygiene learned about the routers survives a restart: the gateway MAC learned for
// the configured gateway address, and (without one) each device's next hop to the internet.
// The second run sees only the attack, which is judged right only with the first run's state:
// without it, the spoofer's MAC would be the first one learned (the "router").
TEST(ReplayEndToEnd, LearnedGatewayAndNextHopsSurviveARestart) {
    const MacAddress router{{0x00, 0xa0, 0xde, 0x7a, 0x1c, 0x30}};
    const MacAddress spoofer{{0x00, 0x25, 0xb3, 0xbf, 0x91, 0xee}};
    const MacAddress pc{{0x00, 0x21, 0x70, 0xc0, 0x56, 0xf0}};
    const std::uint32_t gateway_ip = bench::ip4(192, 168, 100, 1),
                        pc_ip = bench::ip4(192, 168, 100, 20);
    const std::int64_t morning = *bench::parse_iso_time("2026-11-20T08:00:00+09:00");
    // `hop` gets `n` SYNs from the PC to internet addresses, 100 ms apart.
    auto browse = [&](bench::PcapFileWriter& w, std::int64_t& ts, const MacAddress& hop, int n) {
        for (int i = 0; i < n; ++i) {
            bench::TcpHeader h;
            h.src_port = static_cast<std::uint16_t>(50000 + i);
            h.dst_port = 443;
            h.flags = bench::tcpflag::syn;
            h.window = 64240;
            std::uint32_t dst = bench::ip4(93, 184, 216, static_cast<std::uint8_t>(1 + i));
            auto seg = bench::tcp4(pc_ip, dst, h, {});
            auto ip = bench::ipv4(bench::Ipv4Header{pc_ip, dst, 6, 128, 1, true, 0}, seg);
            w.write(ts += 100'000, bench::ethernet(hop, pc, bench::ethertype::ipv4, ip));
        }
    };
    auto claim = [&](bench::PcapFileWriter& w, std::int64_t& ts, const MacAddress& by) {
        auto frame = bench::arp(2, by, gateway_ip, pc, pc_ip);
        w.write(ts += 100'000, bench::ethernet(pc, by, bench::ethertype::arp, frame));
    };
    auto gateway_changes = [](const std::filesystem::path& db_path) {
        SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
        SQLite::Statement st(db, "SELECT evidence FROM alerts WHERE kind = 'gateway-mac-change'");
        std::vector<nlohmann::json> out;
        while (st.executeStep()) out.push_back(nlohmann::json::parse(st.getColumn(0).getString()));
        return out;
    };
    for (bool configured_gateway : {true, false}) {
        SCOPED_TRACE(configured_gateway ? "gateway_ip configured" : "no gateway configured");
        TempDir dir;
        std::ofstream(dir / "demo.yaml")
            << "network:\n  internal_networks: [192.168.100.0/24]\n"
            << (configured_gateway ? "  gateway_ip: 192.168.100.1\n" : "");
        // Run 1: the router answers for the gateway and carries the PC's internet traffic.
        std::int64_t ts = morning;
        {
            bench::PcapFileWriter w((dir / "first.pcap").string());
            claim(w, ts, router);
            browse(w, ts, router, 10);
            w.close();
        }
        std::string output;
        ASSERT_EQ(run_command(replay_command(dir, dir / "first.pcap"), &output), 0) << output;
        EXPECT_TRUE(gateway_changes(dir / "clinic.db").empty());
        // Run 2, an hour later: a spoofer claims the gateway's address and the PC follows it.
        ts += 3600'000'000LL;
        {
            bench::PcapFileWriter w((dir / "second.pcap").string());
            claim(w, ts, spoofer);
            browse(w, ts, spoofer, 30);
            w.close();
        }
        ASSERT_EQ(run_command(replay_command(dir, dir / "second.pcap"), &output), 0) << output;
        auto changes = gateway_changes(dir / "clinic.db");
        ASSERT_EQ(changes.size(), 1u) << "the first run's router was forgotten\n" << output;
        EXPECT_EQ(changes[0]["new_mac"], spoofer.to_string());
        EXPECT_EQ(changes[0]["expected_mac"], router.to_string());
        EXPECT_EQ(changes[0]["expected_mac_from"],
                  configured_gateway ? "learned earlier" : "the device's earlier internet traffic");
        // Run 3: the spoofing goes on after another restart. The open alert (and so its
        // incident) continues: still one, still open, not a new one.
        ts += 3600'000'000LL;
        {
            bench::PcapFileWriter w((dir / "third.pcap").string());
            claim(w, ts, spoofer);
            browse(w, ts, spoofer, 30);
            w.close();
        }
        ASSERT_EQ(run_command(replay_command(dir, dir / "third.pcap"), &output), 0) << output;
        SQLite::Database db((dir / "clinic.db").string(), SQLite::OPEN_READONLY);
        EXPECT_EQ(scalar(db,
                         "SELECT count(*) FROM alerts WHERE kind = 'gateway-mac-change' AND "
                         "status = 'open' AND ended_at IS NULL"),
                  1);
        EXPECT_EQ(scalar(db, "SELECT count(*) FROM alerts WHERE kind = 'gateway-mac-change'"), 1);
    }
}

TEST(ReplayEndToEnd, TruncatedCaptureExitsWithFourAndKeepsWhatWasRead) {
    TempDir dir;
    auto pcap = dir / "cut.pcap";
    std::vector<std::uint64_t> offsets;
    write_capture(pcap, 20'000, &offsets);
    write_config(dir / "demo.yaml");
    // Cut in the middle of record 12,345's frame bytes.
    const std::size_t kept = 12'345;
    const std::uint64_t cut_record = offsets[kept];
    const std::uint64_t record_length = offsets[kept + 1] - offsets[kept];
    std::filesystem::resize_file(pcap, cut_record + 16 + (record_length - 16) / 2);

    std::string output;
    EXPECT_EQ(run_command(replay_command(dir, pcap), &output), 4) << output;
    EXPECT_NE(output.find(pcap.string()), std::string::npos) << output;
    EXPECT_NE(output.find("byte offset " + std::to_string(cut_record)), std::string::npos)
        << output;

    SQLite::Database db((dir / "clinic.db").string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(scalar(db, "SELECT packets FROM runs"), static_cast<std::int64_t>(kept));
    EXPECT_EQ(scalar(db, "SELECT sum(frames) FROM minute_stats"), static_cast<std::int64_t>(kept));
    EXPECT_NE(db.execAndGet("SELECT outcome FROM runs").getString().find("error"),
              std::string::npos);
    EXPECT_GT(scalar(db, "SELECT count(*) FROM assets"), 10);
}

}  // namespace
}  // namespace clinicwatch
