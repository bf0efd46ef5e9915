// The metrics textfile: every family has HELP and TYPE, figures come from the health snapshot
// and from a real database (open alerts by severity, the last digest the mail server accepted),
// and the file is replaced whole.
#include "daemon/export/metrics.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/store/store.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::TempDir;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l))
        if (l == line) return true;
    return false;
}

std::string database_with_alerts_and_a_digest(const TempDir& dir) {
    std::string path = (dir / "clinic.db").string();
    { Store store(path); }  // creates and migrates the schema
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    auto alert = [&](const char* key, int severity, const char* status) {
        SQLite::Statement s(db,
                            "INSERT INTO alerts (key, kind, severity, first_seen, last_seen, "
                            "status) VALUES (?, 'test', ?, 1, 2, ?)");
        s.bind(1, key);
        s.bind(2, severity);
        s.bind(3, status);
        s.exec();
    };
    alert("a", static_cast<int>(Severity::critical), "open");
    alert("b", static_cast<int>(Severity::high), "open");
    alert("c", static_cast<int>(Severity::high), "open");
    alert("d", static_cast<int>(Severity::high), "resolved");
    db.exec(
        "INSERT INTO mails (kind, created_wall, message_id, subject, recipients, message, status, "
        "next_attempt_wall, accepted_wall) VALUES "
        "('digest', 1, '<1@x>', 's', '[]', x'00', 'sent', 1, 1795000000),"
        "('digest', 1, '<2@x>', 's', '[]', x'00', 'sent', 1, 1795086400),"
        "('digest', 1, '<3@x>', 's', '[]', x'00', 'pending', 1, NULL)");
    return path;
}

}  // namespace

TEST(Metrics, TextfileHasEveryFamilyWithHelpTypeAndTheDatabaseFigures) {
    TempDir dir;
    std::string db = database_with_alerts_and_a_digest(dir);
    MetricsWriter writer({(dir / "clinicwatch.prom").string(), db, true, 1795100000.0});
    SensorHealth h;
    h.captured_packets = 1234;
    h.captured_bytes = 99999;
    h.analysed_packets = 1200;
    h.kernel_drops = 7;
    h.ring_drops = 34;
    h.devices = 12;
    h.store_write_errors = 2;
    h.tables.push_back({"hosts", "devices", 20000, 5});
    h.tables.push_back({"boundary-flows", "flows \"crossing\" the boundary", 65536, 0});
    std::string text = writer.render(h, 1795100090.5);

    EXPECT_TRUE(has_line(text, "# TYPE clinicwatch_captured_packets_total counter")) << text;
    EXPECT_TRUE(has_line(text, "clinicwatch_captured_packets_total 1234"));
    EXPECT_TRUE(has_line(text, "clinicwatch_captured_bytes_total 99999"));
    EXPECT_TRUE(has_line(text, "clinicwatch_analysed_packets_total 1200"));
    EXPECT_TRUE(has_line(text, "clinicwatch_dropped_packets_total{stage=\"kernel\"} 7"));
    EXPECT_TRUE(has_line(text, "clinicwatch_dropped_packets_total{stage=\"ring\"} 34"));
    EXPECT_TRUE(has_line(text, "clinicwatch_active_devices 12"));
    EXPECT_TRUE(has_line(text, "clinicwatch_store_write_errors_total 2"));
    EXPECT_TRUE(has_line(text, "clinicwatch_table_dropped_entries_total{table=\"hosts\"} 5"));
    EXPECT_TRUE(
        has_line(text, "clinicwatch_table_capacity_entries{table=\"boundary-flows\"} 65536"));
    EXPECT_TRUE(has_line(text, "clinicwatch_uptime_seconds 90.500"));
    EXPECT_TRUE(has_line(text, "clinicwatch_open_alerts{severity=\"critical\"} 1"));
    EXPECT_TRUE(has_line(text, "clinicwatch_open_alerts{severity=\"high\"} 2"));  // not resolved
    EXPECT_TRUE(has_line(text, "clinicwatch_open_alerts{severity=\"low\"} 0"));
    // The newest digest the mail server accepted, not the one still pending.
    EXPECT_TRUE(has_line(text, "clinicwatch_digest_last_sent_timestamp_seconds 1795086400"));
    EXPECT_TRUE(has_line(text, "clinicwatch_digest_configured 1"));
    EXPECT_TRUE(has_line(text, "clinicwatch_build_info{version=\"" CLINICWATCH_VERSION
                               "\",architecture=\"" +
                                   build_architecture() + "\"} 1"));

    // Every sample's family has HELP and TYPE lines before it.
    std::istringstream in(text);
    std::string line, typed;
    while (std::getline(in, line)) {
        if (line.rfind("# TYPE ", 0) == 0) typed = line.substr(7, line.find(' ', 7) - 7);
        if (line.empty() || line[0] == '#') continue;
        std::string name = line.substr(0, line.find_first_of("{ "));
        EXPECT_EQ(name, typed) << line;
    }
    EXPECT_NE(text.find("# HELP clinicwatch_database_size_bytes "), std::string::npos);
}

TEST(Metrics, WriteReplacesTheFileWholeAndLeavesNoTemporaryFile) {
    TempDir dir;
    std::string db = database_with_alerts_and_a_digest(dir);
    std::string prom = (dir / "clinicwatch.prom").string();
    std::ofstream(prom) << "old\n";
    MetricsWriter writer({prom, db, false, 1795100000.0});
    SensorHealth h;
    h.analysed_packets = 42;
    writer.write(h, 1795100001.0);
    std::ifstream f(prom);
    std::string text((std::istreambuf_iterator<char>(f)), {});
    EXPECT_TRUE(has_line(text, "clinicwatch_analysed_packets_total 42")) << text;
    EXPECT_FALSE(has_line(text, "old"));
    EXPECT_FALSE(std::filesystem::exists(prom + ".tmp"));
    EXPECT_EQ(std::filesystem::status(prom).permissions() & std::filesystem::perms::others_read,
              std::filesystem::perms::others_read)
        << "node_exporter runs as another user";

    // A folder that does not exist is an error the service logs, not a crash.
    MetricsWriter nowhere({(dir / "missing" / "x.prom").string(), db, false, 0});
    EXPECT_THROW(nowhere.write(h, 1), std::runtime_error);
}

TEST(Metrics, MissingDatabaseLeavesItsFiguresOut) {
    TempDir dir;
    MetricsWriter writer({(dir / "x.prom").string(), (dir / "none.db").string(), false, 0});
    std::string text = writer.render(SensorHealth{}, 10);
    EXPECT_EQ(text.find("clinicwatch_open_alerts"), std::string::npos);
    EXPECT_TRUE(has_line(text, "clinicwatch_captured_packets_total 0"));
    EXPECT_TRUE(has_line(text, "clinicwatch_digest_configured 0"));
}
