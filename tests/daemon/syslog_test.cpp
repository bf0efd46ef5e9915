// Syslog forwarding: RFC 5424 messages built from the event log's events, and delivery to a
// UDP socket on loopback that the test opens itself.
#include "daemon/export/syslog.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/export/event_log.hpp"

using namespace clinicwatch;

namespace {

nlohmann::json alert_event() {
    return nlohmann::json::parse(R"({
      "@timestamp": "2026-11-20T08:15:00.250000+09:00",
      "message": "rogue DHCP server 192.168.100.66 answers on the LAN",
      "event": {"kind": "alert", "category": ["network"], "action": "opened", "severity": 4,
                "start": "2026-11-20T08:14:59.000000+09:00"},
      "observer": {"name": "sensor-sakura", "product": "clinicwatch", "type": "sensor"},
      "source": {"mac": "52:54:00:12:34:56"},
      "clinicwatch": {"alert": {"kind": "rogue-dhcp", "key": "rogue-dhcp|52:54:00:12:34:56",
                                "severity": "critical", "subject": "192.168.100.66 \"x]\\",
                                "count": 3, "evidence": {"offers": 3}}}})");
}

struct UdpReceiver {
    int fd = -1;
    int port = 0;
    UdpReceiver() {
        fd = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~UdpReceiver() { close(fd); }
    std::string receive() {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) return "";
        char buf[65536];
        auto n = recv(fd, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    }
};

}  // namespace

TEST(Syslog, AlertBecomesOneRfc5424MessageWithStructuredData) {
    std::string m = format_syslog_message(alert_event(), syslog_facility("local0"), 4242);
    // local0 (16) * 8 + crit (2) = 130; version 1; packet time; host; app; pid; MSGID.
    EXPECT_EQ(m.rfind("<130>1 2026-11-20T08:15:00.250000+09:00 sensor-sakura clinicwatch 4242 "
                      "alert [clinicwatch@32473 action=\"opened\" "
                      "start=\"2026-11-20T08:14:59.000000+09:00\" mac=\"52:54:00:12:34:56\" "
                      "count=\"3\" key=\"rogue-dhcp|52:54:00:12:34:56\" kind=\"rogue-dhcp\" "
                      "severity=\"critical\" subject=\"192.168.100.66 \\\"x\\]\\\\\" "
                      "evidence=\"{\\\"offers\\\":3}\"] \xEF\xBB\xBFrogue DHCP server",
                      0),
              0u)
        << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
}

TEST(Syslog, AssetSeverityFacilityAndNilFields) {
    nlohmann::json e = {
        {"@timestamp", ""},
        {"message", "asset 00:00:5e:00:53:01 discovered"},
        {"event", {{"kind", "asset"}, {"action", "discovered"}}},
        {"observer", {{"name", "a b"}}},
        {"clinicwatch", {{"asset", {{"addresses", {"192.168.1.5", "fe80::1"}}, {"vlan", 0}}}}}};
    std::string m = format_syslog_message(e, syslog_facility("daemon"), 1);
    EXPECT_EQ(m,
              "<29>1 - a-b clinicwatch 1 asset [clinicwatch@32473 action=\"discovered\" "
              "addresses=\"192.168.1.5,fe80::1\" vlan=\"0\"] \xEF\xBB\xBF"
              "asset 00:00:5e:00:53:01 discovered");
    EXPECT_EQ(syslog_facility("local7"), 23);
    EXPECT_EQ(syslog_facility("kern"), -1);
}

TEST(Syslog, LongEventsDropEvidenceThenCutTheTextOnACharacterBoundary) {
    auto e = alert_event();
    e["clinicwatch"]["alert"]["evidence"] = {{"blob", std::string(3000, 'x')}};
    e["message"] = std::string(100, 'a') + "日本語の長い説明";
    std::string m = format_syslog_message(e, 16, 1, 400);
    EXPECT_EQ(m.find("evidence="), std::string::npos);
    EXPECT_LE(m.size(), 400u);
    // Cut inside the last two Japanese characters (3 bytes each): both go whole.
    auto without = e;
    without["clinicwatch"]["alert"].erase("evidence");
    std::string full = format_syslog_message(without, 16, 1, 100000);
    m = format_syslog_message(e, 16, 1, full.size() - 4);
    EXPECT_EQ(m, full.substr(0, full.size() - 6));
}

TEST(Syslog, TargetsParseAndBadOnesSayWhy) {
    std::string why;
    auto t = SyslogTarget::parse("udp://127.0.0.1:5514", &why);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "127.0.0.1");
    EXPECT_EQ(t->port, 5514);
    t = SyslogTarget::parse("udp://[::1]:6514", &why);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "::1");
    t = SyslogTarget::parse("udp://siem.example", &why);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->port, 514);
    t = SyslogTarget::parse("unix:/run/clinicwatch/log", &why);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, SyslogTarget::Kind::unix_datagram);
    EXPECT_FALSE(SyslogTarget::parse("tcp://127.0.0.1:514", &why));
    EXPECT_NE(why.find("datagrams only"), std::string::npos);
    EXPECT_FALSE(SyslogTarget::parse("udp://127.0.0.1:99999", &why));
    EXPECT_FALSE(SyslogTarget::parse("unix:relative", &why));
}

TEST(Syslog, EventLogForwardsEachEventAsOneDatagram) {
    UdpReceiver collector;
    EventLogOptions o;
    o.observer = "sensor-1";
    auto target = SyslogTarget::parse("udp://127.0.0.1:" + std::to_string(collector.port), nullptr);
    EventLog log(o, std::make_unique<SyslogForwarder>(*target, 16));  // no file: syslog only
    AlertUpdate a;
    a.key = "l2-loop|LAN";
    a.kind = "l2-loop";
    a.severity = Severity::critical;
    a.subject = "LAN";
    a.summary = "loop";
    a.first_seen = a.last_seen = 1'795'129'200'000'000;
    log.alert(a, "opened");
    log.alert(a, "ended");
    std::string first = collector.receive(), second = collector.receive();
    EXPECT_NE(first.find(" sensor-1 clinicwatch "), std::string::npos) << first;
    EXPECT_NE(first.find("action=\"opened\""), std::string::npos) << first;
    EXPECT_NE(second.find("action=\"ended\""), std::string::npos) << second;
    EXPECT_EQ(log.syslog_errors(), 0u);
}

TEST(Syslog, NoCollectorListeningIsCountedNotFatal) {
    int port;
    {
        UdpReceiver gone;
        port = gone.port;
    }  // closed: nothing listens on the port any more
    SyslogForwarder f(*SyslogTarget::parse("udp://127.0.0.1:" + std::to_string(port), nullptr), 16);
    for (int i = 0; i < 3; ++i) f.send(alert_event());
    // The first datagram leaves; the ICMP port-unreachable makes the next sends fail.
    EXPECT_GE(f.send_errors(), 1u);
    EXPECT_LT(f.sent(), 3u);
    SyslogForwarder unix_gone(*SyslogTarget::parse("unix:/nonexistent/socket", nullptr), 16);
    unix_gone.send(alert_event());
    EXPECT_EQ(unix_gone.send_errors(), 1u);
}
