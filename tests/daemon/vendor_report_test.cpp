// The vendor's handover report (issue 17) on the generated clinic capture with its incidents
// (a home router with its own DHCP server, TeamViewer from the reception PC, RDP from the
// internet, staff phones with randomised MACs) plus one device whose DHCP host name is a
// spreadsheet formula: replayed by the real binary into a fresh database, then written as CSV,
// JSON and HTML in both languages and read back by independent readers.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "bench/clinic_capture.hpp"
#include "bench/clinic_payloads.hpp"
#include "tests/daemon/language_scan.hpp"
#include "tests/support/test_support.hpp"

constexpr const char* kDebianPython = "/usr/bin/python3";

namespace clinicwatch {
namespace {

using test::run_command;
using test::TempDir;

const char* kClinic = "さくら内科クリニック";
const std::string kFormulaName = "=HYPERLINK(\"http://x\",\"Open\")";
const char* kFormulaMac = "00:00:5e:00:53:66";

[[maybe_unused]] std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// One replayed clinic capture: its folder, database, configuration and ground truth.
struct Replayed {
    TempDir dir;
    bench::ClinicCaptureTruth truth;
    std::string db() const { return (dir / "clinic.db").string(); }
    std::string config(const std::string& lang) const {
        return (dir / ("clinic-" + lang + ".yaml")).string();
    }
};

// A DHCP REQUEST whose host name option (12) is a spreadsheet formula, then the device's ARP.
void write_hostile_dhcp(bench::PcapFileWriter& w, std::int64_t ts) {
    auto mac = *MacAddress::parse(kFormulaMac);
    const std::uint32_t ip = bench::ip4(192, 168, 100, 66);
    bench::DhcpMessage m;
    m.xid = 0x6666;
    m.chaddr = mac;
    bench::DhcpOptions o;
    o.add_u8(53, 3).add(12, kFormulaName).add_ip(50, ip);
    auto dhcp = bench::dhcp_payload(m, o);
    auto udp = bench::udp4(0, 0xffffffff, 68, 67, dhcp);
    bench::Ipv4Header h;
    h.src = 0;
    h.dst = 0xffffffff;
    h.protocol = 17;
    w.write(ts, bench::ethernet(bench::kBroadcastMac, mac, 0x0800, bench::ipv4(h, udp)));
    w.write(ts + 1000,
            bench::ethernet(bench::kBroadcastMac, mac, 0x0806,
                            bench::arp(1, mac, ip, MacAddress{}, bench::ip4(192, 168, 100, 1))));
}

std::unique_ptr<Replayed> replay_clinic(std::uint64_t packets) {
    auto r = std::make_unique<Replayed>();
    bench::ClinicCaptureOptions o;
    o.packets = packets;
    {
        bench::PcapFileWriter w((r->dir / "clinic.pcap").string());
        r->truth = bench::generate_clinic_capture(
            o, [&](std::int64_t ts, bench::ByteView f) { w.write(ts, f); });
        write_hostile_dhcp(w, r->truth.last_us + 1'000'000);
        w.close();
    }
    for (const char* lang : {"ja", "en"}) {
        std::ifstream demo(std::string(CLINICWATCH_SOURCE_DIR) + "/config/demo.yaml");
        std::ofstream out(r->config(lang));
        out << demo.rdbuf() << "\ninventory:\n  learning_days: 0\n\nreport:\n  clinic_name: \""
            << kClinic << "\"\n  language: " << lang << "\n\ndigest:\n  language: " << lang
            << "\n\n"
            << bench::register_yaml(r->truth);
    }
    std::string out;
    EXPECT_EQ(run_command(std::string(CLINICWATCH_BINARY) + " replay " +
                              (r->dir / "clinic.pcap").string() + " --db " + r->db() +
                              " --config " + r->config("ja") + " --no-progress",
                          &out),
              0)
        << out;
    return r;
}

class VendorReport : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        ::setenv("CLINICWATCH_TEMPLATES", CLINICWATCH_SOURCE_DIR "/daemon/report/templates", 1);
        ::setenv("TZ", "Asia/Tokyo", 1);
        clinic_ = replay_clinic(20'000).release();
    }
    static void TearDownTestSuite() {
        delete clinic_;
        clinic_ = nullptr;
    }
    // Runs the binary on the replayed database; stdout only.
    static std::string cli(const std::string& args, const std::string& lang = "ja") {
        std::string out;
        int code = run_command(std::string(CLINICWATCH_BINARY) + " " + args + " --db " +
                                   clinic_->db() + " --config " + clinic_->config(lang) +
                                   " 2>/dev/null",
                               &out);
        EXPECT_EQ(code, 0) << args << "\n" << out;
        return out;
    }
    static std::filesystem::path report(const std::string& format, const std::string& lang) {
        auto path = clinic_->dir / ("report." + lang + "." + format);
        if (!std::filesystem::exists(path))
            cli("report --format " + format + " --lang " + lang + " --out " + path.string(), lang);
        return path;
    }
    static Replayed* clinic_;
};
Replayed* VendorReport::clinic_ = nullptr;

// Python's csv reader, as a spreadsheet import would split the cells.
nlohmann::json csv_rows(const std::filesystem::path& file) {
    std::string out;
    int rc = run_command(std::string(kDebianPython) + " " + CLINICWATCH_SOURCE_DIR +
                             "/tests/daemon/report_checks.py csv " + file.string(),
                         &out);
    EXPECT_EQ(rc, 0) << out;
    auto j = nlohmann::json::parse(out, nullptr, false);
    return j.is_object() ? j["rows"] : nlohmann::json::array();
}

// Every cell a spreadsheet would run as a formula starts with an apostrophe; the hostile name
// is still there to read.
void expect_no_formula_cells(const nlohmann::json& rows, const std::string& what) {
    bool hostile_seen = false;
    for (const auto& row : rows)
        for (const auto& cell : row) {
            std::string c = cell.get<std::string>();
            if (c.find("HYPERLINK") != std::string::npos) hostile_seen = true;
            if (c.empty()) continue;
            bool number = std::regex_match(c, std::regex(R"([+-]?[0-9]+(\.[0-9]+)?)"));
            EXPECT_TRUE(number || std::string("=+-@\t\r").find(c[0]) == std::string::npos)
                << what << ": a live formula cell: " << c;
        }
    EXPECT_TRUE(hostile_seen) << what << " does not show the hostile device";
}

TEST_F(VendorReport, CsvFormulaCellsAreNeutralised) {
    for (const char* lang : {"ja", "en"}) {
        auto rows = csv_rows(report("csv", lang));
        ASSERT_GT(rows.size(), 2u);
        expect_no_formula_cells(rows, std::string("report csv ") + lang);
        bool found = false;
        for (const auto& row : rows)
            for (const auto& cell : row)
                found |= cell == "'" + kFormulaName;
        EXPECT_TRUE(found) << "the host name is shown with its apostrophe";
    }
    // The query commands' --csv go through the same writer.
    for (std::string command : {"assets --csv", "alerts --csv"}) {
        auto path = clinic_->dir / "query.csv";
        std::ofstream(path) << cli(command);
        expect_no_formula_cells(csv_rows(path), command);
    }
}

}  // namespace
}  // namespace clinicwatch
