// Names from the wire are attacker bytes: a device may call itself "\x1b]0;...\x07" (a
// terminal title change) or "\x1b[2J" (clear screen), or a spreadsheet formula. Through the
// query commands' table output no ESC (or other control) byte reaches the terminal.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <fstream>

#include "capture/protocols/text.hpp"
#include "daemon/store/store.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch {
namespace {

using test::run_command;
using test::TempDir;

const std::string kTitle = "\x1b]0;owned\x07PC-1";
const std::string kClear = "\x1b[2J\x1b[31mRECEPTION";
const std::string kCsi =
    "NAS\xc2\x9b"
    "2J";  // C1 CSI (U+009B) then "2J"
const std::string kFormula = "=HYPERLINK(\"http://evil.example\",\"click\")";

void fill(const std::string& db) {
    Store store(db);
    HostTable hosts(16);
    auto mac = MacAddress::parse("00:00:5e:00:53:21");
    Host* h = hosts.touch(*mac, 0, 1'795'129'200'000'000);
    h->observe_address("192.168.100.21", "arp", 1'795'129'200'000'000);
    h->observe_name(kTitle, "dhcp", 1'795'129'200'000'000);
    h->observe_name(kFormula, "mdns", 1'795'129'200'000'000);
    h->vendor = kCsi;
    h->os_family = kClear;
    AlertUpdate a;
    a.kind = "unregistered-device";
    a.key = "unregistered-device:00:00:5e:00:53:21";
    a.subject_mac = mac;
    a.subject = kTitle;
    a.summary = "Device not in the register: " + kClear + " " + kFormula;
    a.first_seen = a.last_seen = 1'795'129'200'000'000;
    a.evidence = {{"mac", "00:00:5e:00:53:21"}};
    store.alert(a);
    BoundaryFlowSummary f;
    f.mac = *mac;
    f.day = "2026-11-20";
    f.direction = "egress";
    f.address = *IpAddress::parse("203.0.113.9");
    f.name = kClear + ".example";
    f.name_source = "tls-sni";
    f.port = 443;
    f.protocol = 6;
    f.verdict = "observed";
    f.flows = f.packets = 1;
    f.first_seen = f.last_seen = 1'795'129'200'000'000;
    store.boundary_flows({f});
    store.flush(hosts);
}

TEST(HostileNames, TableOutputCarriesNoControlBytes) {
    TempDir dir;
    std::string db = (dir / "hostile.db").string();
    fill(db);
    std::ofstream(dir / "empty.yaml") << "# defaults\n";
    for (std::string command : {"assets", "alerts", "egress --since 2026-11-01"}) {
        std::string out;
        ASSERT_EQ(run_command(std::string(CLINICWATCH_BINARY) + " " + command + " --db " + db +
                                  " --config " + (dir / "empty.yaml").string() + " 2>&1",
                              &out),
                  0)
            << command << ": " << out;
        EXPECT_EQ(out.find('\x1b'), std::string::npos) << command << " printed an ESC byte";
        EXPECT_EQ(out.find('\x07'), std::string::npos) << command << " printed a BEL byte";
        EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos) << command << " printed a C1 CSI";
        // What was there is still shown, escaped, so the vendor can see the device is hostile.
        EXPECT_NE(out.find("\\x1b"), std::string::npos) << command << ": " << out;
    }
}

// Where names are parsed they are made safe once: control characters replaced, valid UTF-8
// (Japanese names) kept, length capped on a character boundary.
TEST(HostileNames, SafeNameReplacesControlsAndCapsLength) {
    EXPECT_EQ(text::safe_name(kTitle, 64), "?]0;owned?PC-1");
    EXPECT_EQ(text::safe_name("受付PC-1", 64), "受付PC-1");
    EXPECT_EQ(text::safe_name(kCsi, 64), "NAS?2J");
    EXPECT_EQ(text::safe_name("\xff\xfe"
                              "abc",
                              64),
              "??abc");
    // "受" is three bytes: a cap inside it drops the whole character.
    EXPECT_EQ(text::safe_name("ab受", 4), "ab");
}

}  // namespace
}  // namespace clinicwatch
