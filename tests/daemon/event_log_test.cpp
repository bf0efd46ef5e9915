// The JSON-lines event export: one parsable line per alert opened/updated/ended and per asset
// discovered/changed, written after the store committed them; rotation by size.
#include "daemon/export/event_log.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "daemon/store/store.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::TempDir;

namespace {
std::vector<nlohmann::json> read_lines(const std::filesystem::path& path) {
    std::vector<nlohmann::json> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
    return out;
}

// Like read_lines, but a line that is not JSON fails the test (shortened) instead of throwing.
std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& path) {
    std::vector<nlohmann::json> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (nlohmann::json::accept(line))
            out.push_back(nlohmann::json::parse(line));
        else
            ADD_FAILURE() << "not JSON: " << line.substr(0, 60) << " ... "
                          << line.substr(line.size() > 60 ? line.size() - 60 : 0);
    }
    return out;
}

AlertUpdate rogue_dhcp(bool ended) {
    AlertUpdate a;
    a.kind = "rogue-dhcp";
    a.key = "rogue-dhcp:34:3d:c4:88:12:5a";
    a.severity = Severity::high;
    a.subject_mac = MacAddress::parse("34:3d:c4:88:12:5a");
    a.subject = "192.168.11.1";
    a.summary = "a DHCP server that is not the clinic's answered";
    a.first_seen = 1'795'129'200'000'000;
    a.last_seen = a.first_seen + 5'000'000;
    a.evidence = {{"offers", 3}};
    a.ended = ended;
    return a;
}
}  // namespace

TEST(EventLog, AlertsAndAssetsBecomeEcsLines) {
    TempDir dir;
    auto path = dir / "events.jsonl";
    EventLog events(EventLogOptions{path.string(), 1 << 20, 3, "sensor-1"});
    Store store((dir / "c.db").string(),
                StoreOptions{std::chrono::milliseconds(1000), 2000, false, &events});
    HostTable hosts(10);
    Host& h = *hosts.touch(*MacAddress::parse("00:a0:de:6e:21:4c"), 0, 1'795'129'200'000'000);
    h.observe_address("192.168.100.1", "arp", h.first_seen);
    store.alert(rogue_dhcp(false));
    store.flush(hosts);
    store.alert(rogue_dhcp(false));
    hosts.touch(h.key.mac, 0, h.first_seen + 1'000'000);  // last-seen only: no asset event
    store.flush(hosts);
    h.observe_name("RTX830", "lldp", h.first_seen + 2'000'000);
    store.alert(rogue_dhcp(true));
    store.flush(hosts);

    auto lines = read_lines(path);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0]["event"]["kind"], "alert");
    EXPECT_EQ(lines[0]["event"]["action"], "opened");
    EXPECT_EQ(lines[0]["source"]["mac"], "34:3d:c4:88:12:5a");
    EXPECT_EQ(lines[0]["observer"]["name"], "sensor-1");
    EXPECT_EQ(lines[0]["clinicwatch"]["alert"]["kind"], "rogue-dhcp");
    EXPECT_EQ(lines[0]["clinicwatch"]["alert"]["evidence"]["offers"], 3);
    EXPECT_TRUE(lines[0].contains("@timestamp"));
    EXPECT_EQ(lines[1]["event"]["kind"], "asset");
    EXPECT_EQ(lines[1]["event"]["action"], "discovered");
    EXPECT_EQ(lines[1]["clinicwatch"]["asset"]["addresses"][0], "192.168.100.1");
    EXPECT_EQ(lines[2]["event"]["action"], "updated");
    EXPECT_EQ(lines[3]["event"]["action"], "ended");
    EXPECT_TRUE(lines[3]["event"].contains("end"));
    EXPECT_EQ(lines[4]["event"]["action"], "changed");
    EXPECT_EQ(lines[4]["clinicwatch"]["asset"]["names"][0], "RTX830");
}

TEST(EventLog, RotatesBySizeKeepingTheConfiguredNumber) {
    TempDir dir;
    auto path = dir / "events.jsonl";
    EventLog events(EventLogOptions{path.string(), 2000, 2, "s"});
    for (int i = 0; i < 100; ++i) events.alert(rogue_dhcp(false), "updated");
    events.flush();
    EXPECT_TRUE(std::filesystem::exists(path));
    EXPECT_TRUE(std::filesystem::exists(dir / "events.jsonl.1"));
    EXPECT_TRUE(std::filesystem::exists(dir / "events.jsonl.2"));
    EXPECT_FALSE(std::filesystem::exists(dir / "events.jsonl.3"));
    EXPECT_LE(std::filesystem::file_size(path), 2000u);
    for (const auto& line : read_lines(path)) EXPECT_EQ(line["event"]["action"], "updated");
    EXPECT_EQ(events.write_errors(), 0u);
}

// A sensor killed in the middle of writing an event leaves half a line; the next start must not
// glue its first event onto it (found by the kill -9 tests in tests/e2e/crash_safety_test.cpp).
TEST(EventLog, UnfinishedLineLeftByACrashIsRemovedBeforeAppending) {
    TempDir dir;
    auto path = dir / "events.jsonl";
    std::string complete = R"({"event":{"action":"opened"}})";
    std::string filler(5000, 'x');  // the cut-off line is longer than one read block
    std::ofstream(path) << complete << "\n"
                        << R"({"message":")" << filler;
    {
        EventLog events(EventLogOptions{path.string(), 1 << 20, 2, "s"});
        events.alert(rogue_dhcp(true), "ended");
        events.flush();
        EXPECT_EQ(events.write_errors(), 0u);
    }
    auto lines = read_json_lines(path);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0]["event"]["action"], "opened");
    EXPECT_EQ(lines[1]["event"]["action"], "ended");

    // Only a half line, no complete one before it: the file starts again empty.
    std::ofstream(path) << R"({"message":"half)";
    {
        EventLog events(EventLogOptions{path.string(), 1 << 20, 2, "s"});
        events.alert(rogue_dhcp(false), "opened");
    }
    lines = read_json_lines(path);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["event"]["action"], "opened");
}
