// Syslog forwarding end to end: the test starts Debian's rsyslogd itself (its own configuration
// and work folder, an imudp listener on a free loopback port, writing what it parsed to a file),
// replays a generated clinic capture with export.syslog_target set, and finds every event of the
// JSON-lines log among the messages rsyslog received and parsed as RFC 5424.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/clinic_capture.hpp"
#include "tests/support/live_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch {
namespace {

using namespace std::chrono_literals;
using test::run_command;
using test::TempDir;

std::string rsyslogd_path() {
    for (const char* p : {"/usr/sbin/rsyslogd", "/sbin/rsyslogd"})
        if (access(p, X_OK) == 0) return p;
    return "";
}

int free_udp_port() {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

void send_udp(int port, const std::string& message) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    close(fd);
}

std::vector<std::string> lines_of(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

// Splits rsyslog's output line "f1|#|f2|#|...": the template below.
std::vector<std::string> fields_of(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (int i = 0; i < 6; ++i) {
        auto bar = line.find("|#|", start);
        if (bar == std::string::npos) break;
        out.push_back(line.substr(start, bar - start));
        start = bar + 3;
    }
    out.push_back(line.substr(start));
    return out;
}

}  // namespace

TEST(SyslogForwarding, RsyslogReceivesEveryEventOfAReplayAsRfc5424) {
    std::string rsyslogd = rsyslogd_path();
    if (rsyslogd.empty()) GTEST_SKIP() << "rsyslogd not installed (Debian package rsyslog)";
    TempDir dir;
    std::filesystem::create_directories(dir / "work");
    int port = free_udp_port();
    auto received = dir / "received.log";
    std::ofstream(dir / "rsyslog.conf")
        << "global(workDirectory=\"" << (dir / "work").string() << "\" maxMessageSize=\"16k\")\n"
        << "module(load=\"imudp\")\n"
        << "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" << port
        << "\" rcvbufSize=\"8m\")\n"
        // What rsyslog's RFC 5424 parser made of each message, one line each.
        << "template(name=\"fields\" type=\"string\" string=\"%syslogfacility-text%|#|"
           "%syslogseverity-text%|#|%hostname%|#|%app-name%|#|%msgid%|#|%structured-data%|#|"
           "%msg%\\n\")\n"
        << "action(type=\"omfile\" file=\"" << received.string() << "\" template=\"fields\")\n";
    std::string out;
    ASSERT_EQ(run_command(rsyslogd + " -N1 -f " + (dir / "rsyslog.conf").string() + " 2>&1", &out),
              0)
        << out;
    test::Child rsyslog({rsyslogd, "-n", "-f", (dir / "rsyslog.conf").string(), "-i",
                         (dir / "rsyslogd.pid").string()},
                        (dir / "rsyslogd.log").string());
    // Ready when a probe comes through.
    bool ready = false;
    for (int i = 0; i < 100 && !ready; ++i) {
        send_udp(port, "<14>1 - probe test - - - ready");
        std::this_thread::sleep_for(100ms);
        ready = !lines_of(received).empty();
    }
    ASSERT_TRUE(ready) << test::read_file((dir / "rsyslogd.log").string());
    auto probes = lines_of(received).size();

    // A generated clinic capture, replayed with both the JSON-lines log and syslog on.
    auto pcap = dir / "clinic.pcap";
    bench::ClinicCaptureOptions o;
    o.packets = 15'000;
    o.seed = 11;
    bench::PcapFileWriter w(pcap.string());
    bench::generate_clinic_capture(o, [&](std::int64_t ts, bench::ByteView f) { w.write(ts, f); });
    w.close();
    auto events = dir / "events.jsonl";
    std::ofstream(dir / "clinicwatch.yaml")
        << "network:\n  internal_networks: [192.168.100.0/24]\n  gateway_ip: 192.168.100.1\n"
        << "inventory:\n  learning_days: 0\n"
        << "export:\n  events_path: " << events.string()
        << "\n  syslog_target: udp://127.0.0.1:" << port << "\n  syslog_facility: local3\n";
    ASSERT_EQ(run_command(std::string(CLINICWATCH_BINARY) + " replay " + pcap.string() + " --db " +
                              (dir / "clinic.db").string() + " --config " +
                              (dir / "clinicwatch.yaml").string() + " --no-progress 2>&1",
                          &out),
              0)
        << out;

    auto json_lines = lines_of(events);
    ASSERT_GE(json_lines.size(), 10u) << "the replay should open alerts and discover devices";
    std::vector<std::string> messages;
    for (int i = 0; i < 100; ++i) {
        auto all = lines_of(received);
        messages.assign(all.begin() + static_cast<std::ptrdiff_t>(probes), all.end());
        if (messages.size() >= json_lines.size()) break;
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(messages.size(), json_lines.size()) << "one syslog message per event";

    // Same events, same order: kind, action, the alert key or the device's MAC, the text.
    int alerts = 0, assets = 0;
    for (std::size_t i = 0; i < json_lines.size(); ++i) {
        auto e = nlohmann::json::parse(json_lines[i]);
        auto f = fields_of(messages[i]);
        ASSERT_EQ(f.size(), 7u) << messages[i];
        EXPECT_EQ(f[0], "local3") << messages[i];
        EXPECT_EQ(f[3], "clinicwatch") << messages[i];
        std::string kind = e["event"]["kind"];
        EXPECT_EQ(f[4], kind) << messages[i];
        const std::string& sd = f[5];
        EXPECT_EQ(
            sd.rfind(
                "[clinicwatch@32473 action=\"" + e["event"]["action"].get<std::string>() + "\"", 0),
            0u)
            << messages[i];
        if (kind == "alert") {
            ++alerts;
            std::string key = e["clinicwatch"]["alert"]["key"];
            EXPECT_NE(sd.find("kind=\"" + e["clinicwatch"]["alert"]["kind"].get<std::string>()),
                      std::string::npos)
                << messages[i];
            EXPECT_NE(f[6].find(e["message"].get<std::string>()), std::string::npos) << messages[i];
            if (key.find_first_of("\"\\]") == std::string::npos) {
                EXPECT_NE(sd.find("key=\"" + key + "\""), std::string::npos) << messages[i];
            }
            if (e["clinicwatch"]["alert"]["severity"] == "critical") {
                EXPECT_EQ(f[1], "crit") << messages[i];
            }
        } else {
            ++assets;
            EXPECT_NE(sd.find("mac=\"" + e["source"]["mac"].get<std::string>() + "\""),
                      std::string::npos)
                << messages[i];
        }
    }
    EXPECT_GT(alerts, 0);
    EXPECT_GT(assets, 0);
    rsyslog.signal(SIGTERM);
    EXPECT_TRUE(rsyslog.wait(10s).has_value());
}

}  // namespace clinicwatch
