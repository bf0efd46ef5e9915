// The command line as the README promises it: exit codes and messages that say what is wrong
// and what would be right. Each case runs the real binary on a small generated capture.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bench/clinic_capture.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch {
namespace {

using test::run_command;
using test::TempDir;

class CliPromises : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        test::shared_fixture("cli-promises", dir_->path(), [](const std::filesystem::path&) {
            bench::ClinicCaptureOptions o;
            o.packets = 20'000;
            bench::PcapFileWriter w((*dir_ / "clinic.pcap").string());
            bench::generate_clinic_capture(
                o, [&](std::int64_t ts, bench::ByteView f) { w.write(ts, f); });
            w.close();
            std::string out;
            int code = run("replay " + pcap() + " --db " + db() + " --no-progress", &out);
            EXPECT_EQ(code, 0) << out;
            return code == 0;
        });
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    static std::string pcap() { return (*dir_ / "clinic.pcap").string(); }
    static std::string db() { return (*dir_ / "clinic.db").string(); }
    static int run(const std::string& args, std::string* out) {
        return run_command("CLINICWATCH_TEMPLATES=" + std::string(CLINICWATCH_SOURCE_DIR) +
                               "/daemon/report/templates " + CLINICWATCH_BINARY + " " + args +
                               " 2>&1",
                           out);
    }
    static std::int64_t frames() {
        SQLite::Database d(db(), SQLite::OPEN_READONLY);
        return d.execAndGet("SELECT sum(frames) FROM minute_stats").getInt64();
    }
    static TempDir* dir_;
};
TempDir* CliPromises::dir_ = nullptr;

TEST_F(CliPromises, MissingCaptureFileExitsFour) {
    std::string out;
    EXPECT_EQ(
        run("replay " + (*dir_ / "nope.pcap").string() + " --db " + (*dir_ / "other.db").string(),
            &out),
        4)
        << out;
    EXPECT_NE(out.find("nope.pcap"), std::string::npos) << out;
}

TEST_F(CliPromises, CheckConfigOnADirectoryIsAnError) {
    std::string out;
    EXPECT_EQ(run("check-config " + dir_->path().string(), &out), 3) << out;
    EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
}

TEST_F(CliPromises, AssetsWhyAcceptsAnAddressOrAName) {
    std::string by_ip, by_name, by_mac;
    ASSERT_EQ(run("assets --why 192.168.100.110 --db " + db(), &by_ip), 0) << by_ip;
    ASSERT_EQ(run("assets --why uketsuke-pc --db " + db(), &by_name), 0) << by_name;
    EXPECT_NE(by_ip.find("UKETSUKE-PC"), std::string::npos) << by_ip;
    EXPECT_EQ(by_ip, by_name);
    std::string mac = by_ip.substr(0, 17);
    ASSERT_EQ(run("assets --why " + mac + " --db " + db(), &by_mac), 0) << by_mac;
    EXPECT_EQ(by_mac, by_ip);
    std::string none;
    EXPECT_EQ(run("assets --why no-such-pc --db " + db(), &none), 2);
    EXPECT_NE(none.find("no device with the MAC, IP address or name"), std::string::npos) << none;
}

TEST_F(CliPromises, UnknownCommandAndAlertKindListTheValidOnes) {
    std::string out;
    EXPECT_EQ(run("frobnicate", &out), 2);
    EXPECT_NE(out.find("unknown command 'frobnicate'"), std::string::npos) << out;
    EXPECT_NE(out.find("incidents"), std::string::npos) << out;
    EXPECT_NE(out.find("replay"), std::string::npos) << out;
    EXPECT_EQ(run("register frob", &out), 2);
    EXPECT_NE(out.find("draft"), std::string::npos) << out;
    EXPECT_EQ(run("alerts --kind l2-lop --db " + db(), &out), 2);
    EXPECT_NE(out.find("no alert kind 'l2-lop'"), std::string::npos) << out;
    EXPECT_NE(out.find(" l2-loop "), std::string::npos) << out;
    EXPECT_EQ(run("alerts --kind l2-loop --db " + db(), &out), 0) << out;
}

TEST_F(CliPromises, EmptyTimeRangeSaysWhatTheDatabaseHolds) {
    std::string out;
    EXPECT_EQ(run("stats --since 2030-01-01 --db " + db(), &out), 0);
    EXPECT_NE(
        out.find("no minute statistics in that range; the database holds 2026-11-20 08:00:00"),
        std::string::npos)
        << out;
    EXPECT_EQ(run("egress --since 2030-01-01 --db " + db(), &out), 0);
    EXPECT_NE(out.find("no internet traffic recorded since 2030-01-01 00:00:00; the database "
                       "holds 2026-11-20 08:"),
              std::string::npos)
        << out;
}

TEST_F(CliPromises, ReplayingTheSameFileTwiceDoesNotDoubleTheMinutes) {
    std::int64_t once = frames();
    EXPECT_EQ(once, 20'000);
    std::string out;
    ASSERT_EQ(run("replay " + pcap() + " --db " + db() + " --no-progress", &out), 0) << out;
    EXPECT_EQ(frames(), once);
    // A copy under another name (as a vendor's USB stick brings it back) is the same capture.
    auto copy = *dir_ / "copy-of-clinic.pcap";
    std::filesystem::copy_file(pcap(), copy);
    ASSERT_EQ(run("replay " + copy.string() + " --db " + db() + " --no-progress", &out), 0) << out;
    EXPECT_EQ(frames(), once);
}

TEST_F(CliPromises, ReportIntoAMissingFolderExitsSixWithoutATmpPath) {
    std::string out;
    auto target = *dir_ / "no-such-folder" / "report.html";
    EXPECT_EQ(run("report --out " + target.string() + " --db " + db(), &out), 6) << out;
    EXPECT_NE(out.find("does not exist"), std::string::npos) << out;
    EXPECT_EQ(out.find(".tmp"), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(target.parent_path()));
}

TEST_F(CliPromises, IncidentsHelpExplainsTheGrouping) {
    std::string out;
    EXPECT_EQ(run("incidents --help", &out), 0);
    for (const char* word :
         {"foreign-router", "inbound-exposure", "device-conditions", "--json", "Exit codes"})
        EXPECT_NE(out.find(word), std::string::npos) << word << "\n" << out;
}

}  // namespace
}  // namespace clinicwatch
