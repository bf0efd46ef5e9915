// Remote-access sessions found by their protocol on any port, and sessions already running when
// capture starts, with the signatures from rules/remote-access.yaml itself.
#include "analyzers/remote_access.hpp"
#include "analyzers/packet_context.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "daemon/config.hpp"
#include "daemon/egress_rules.hpp"
#include "tests/analyzers/frames.hpp"
#include "tests/analyzers/recording_sink.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

const MacAddress kRouter = *MacAddress::parse("00:a0:de:6e:21:4c");
const MacAddress kEhr = *MacAddress::parse("98:e7:43:0c:55:21");
const MacAddress kVendorPc = *MacAddress::parse("f4:6e:24:19:c2:7b");
const IpAddress kEhrIp = *IpAddress::parse("192.168.100.10");
const IpAddress kVendorPcIp = *IpAddress::parse("192.168.100.109");
const IpAddress kOutside = *IpAddress::parse("203.0.113.45");
constexpr Timestamp kT0 = 1'795'130'000'000'000;

// The client's X.224 Connection Request from zeek's public capture
// testing/btest/Traces/rdp/rdp-proprietary-encryption.pcap (BSD), cookie "mstshash=FTBCO\A70".
const std::string kRdpConnectionRequest =
    "0300002f2ae00000000000436f6f6b69653a206d737473686173683d465442434f5c4137300d0a010008000100"
    "0000";
// An X.224 Data TPDU from the same capture (slow-path PDU of a running session).
const std::string kRdpData = "0300000c02f0800401000100";

class Harness {
  public:
    Harness()
        : unit(sink, {*IpNetwork::parse("192.168.100.0/24")},
               load_egress_rules(CLINICWATCH_SOURCE_DIR "/rules")) {}

    void tcp(const MacAddress& sm, const IpAddress& s, std::uint16_t sp, const MacAddress& dm,
             const IpAddress& d, std::uint16_t dp, std::uint8_t flags, const Frame& payload = {}) {
        send(ipv4_frame(sm, dm, s, d, 6, tcp_segment(sp, dp, flags, payload)));
    }
    void send(const Frame& f) {
        now += 1000;
        decode_packet(LinkType::ethernet, now, static_cast<std::uint32_t>(f.size()), f, packet);
        unit.on_packet(packet, app.begin(packet));
    }
    const AlertUpdate* only() const {
        auto found = sink.of_kind("remote-access");
        EXPECT_EQ(found.size(), 1u);
        return found.empty() ? nullptr : found[0];
    }

    RecordingSink sink;
    RemoteAccessSessions unit;
    Packet packet;
    ApplicationLayer app;
    Timestamp now = kT0;
};

Frame text(const std::string& s) {
    return Frame(s.begin(), s.end());
}

Frame random_payload(std::mt19937& rng, std::size_t n) {
    Frame f(n);
    for (auto& b : f) b = static_cast<std::uint8_t>(rng());
    return f;
}

}  // namespace

TEST(RemoteAccessSessions, RdpOnANonStandardPortByItsConnectionRequest) {
    Harness h;
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, TcpView::kSyn);
    h.tcp(kEhr, kEhrIp, 13389, kVendorPc, kVendorPcIp, 51000, TcpView::kSyn | TcpView::kAck);
    EXPECT_TRUE(h.sink.alerts.empty());  // a handshake on an unknown port says nothing yet
    h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, kPa, from_hex(kRdpConnectionRequest));
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "RDP");
    EXPECT_EQ(a->evidence["scope"], "lan");
    EXPECT_EQ(a->evidence["server_ip"], "192.168.100.10");
    EXPECT_EQ(a->evidence["client_ip"], "192.168.100.109");
    EXPECT_EQ(a->evidence["port"], 13389);
    EXPECT_EQ(a->evidence["recognised_by"], "handshake");
    EXPECT_EQ(a->subject_mac, kEhr);
    EXPECT_EQ(a->severity, Severity::low);
    // Egress's key for LAN sessions: one session, one alert, however it was found.
    EXPECT_EQ(a->key.rfind("remote-access|lan|" + kEhr.to_string() + "|192.168.100.109|13389|", 0),
              0u)
        << a->key;
    // The rest of the session raises nothing more.
    for (int i = 0; i < 20; ++i)
        h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, kPa, from_hex(kRdpData));
    EXPECT_EQ(h.sink.alerts.size(), 1u);
}

TEST(RemoteAccessSessions, VncOnANonStandardPortByItsBanner) {
    Harness h;
    // Real bytes: the server's and client's version strings in zeek's vnc-mac-to-linux.pcap.
    h.tcp(kEhr, kEhrIp, 6200, kVendorPc, kVendorPcIp, 49256, TcpView::kAck | TcpView::kPsh,
          text("RFB 003.008\n"));
    h.tcp(kVendorPc, kVendorPcIp, 49256, kEhr, kEhrIp, 6200, TcpView::kAck | TcpView::kPsh,
          text("RFB 003.003\n"));
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "VNC");
    EXPECT_EQ(a->evidence["server_ip"], "192.168.100.10");
    EXPECT_EQ(a->evidence["port"], 6200);
}

TEST(RemoteAccessSessions, TeamViewerAlreadyRunningOnAnotherPortByItsFraming) {
    Harness h;
    std::mt19937 rng(7);
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    // No SYN: the session was up before capture began. TeamViewer messages start 0x17 0x24.
    for (int i = 0; i < 4; ++i) {
        Frame msg = {0x17, 0x24};
        Frame body = random_payload(rng, 60);
        msg.insert(msg.end(), body.begin(), body.end());
        if (i % 2 == 0)
            h.tcp(kVendorPc, kVendorPcIp, 50500, kRouter, kOutside, 8443, kPa, msg);
        else
            h.tcp(kRouter, kOutside, 8443, kVendorPc, kVendorPcIp, 50500, kPa, msg);
        if (i < 3) {
            EXPECT_TRUE(h.sink.alerts.empty()) << "one packet alone is not enough";
        }
    }
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "TeamViewer");
    EXPECT_EQ(a->evidence["scope"], "boundary");
    EXPECT_EQ(a->evidence["recognised_by"], "protocol framing");
    EXPECT_EQ(a->evidence["client_ip"], "192.168.100.109");
    EXPECT_EQ(a->evidence["port"], 8443);
    EXPECT_EQ(a->severity, Severity::high);
    EXPECT_EQ(a->subject_mac, kVendorPc);
}

TEST(RemoteAccessSessions, RandomEncryptedTrafficDoesNotLookLikeTeamViewer) {
    Harness h;
    std::mt19937 rng(11);
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    // A long encrypted transfer whose payloads now and then start 0x17 0x24 by chance.
    for (int i = 0; i < 3000; ++i) {
        Frame p = random_payload(rng, 40);
        if (i % 400 == 0) p[0] = 0x17, p[1] = 0x24;
        h.tcp(kVendorPc, kVendorPcIp, 50600, kRouter, kOutside, 9000, kPa, p);
    }
    EXPECT_TRUE(h.sink.of_kind("remote-access").empty());
}

TEST(RemoteAccessSessions, RdpAlreadyRunningInTheLanIsFoundByItsPort) {
    Harness h;
    std::mt19937 rng(3);
    // A TLS-protected RDP session (nothing readable) that began before the sensor started.
    Frame tls = {0x17, 0x03, 0x03, 0x00, 0x40};
    Frame body = random_payload(rng, 64);
    tls.insert(tls.end(), body.begin(), body.end());
    h.tcp(kEhr, kEhrIp, 3389, kVendorPc, kVendorPcIp, 52000, TcpView::kAck | TcpView::kPsh, tls);
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "RDP");
    EXPECT_EQ(a->evidence["server_ip"], "192.168.100.10");
    EXPECT_EQ(a->evidence["recognised_by"], "port, session already running");
}

TEST(RemoteAccessSessions, RdpWithoutTlsAlreadyRunningOnAnotherPortByItsDataTpdus) {
    Harness h;
    for (int i = 0; i < 4; ++i)
        h.tcp(kVendorPc, kVendorPcIp, 51500, kEhr, kEhrIp, 23389, TcpView::kAck | TcpView::kPsh,
              from_hex(kRdpData));
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "RDP");
    EXPECT_EQ(a->evidence["server_ip"], "192.168.100.10");  // the lower port serves
}

TEST(RemoteAccessSessions, SshBannerOnAnyPort) {
    Harness h;
    h.tcp(kEhr, kEhrIp, 2222, kVendorPc, kVendorPcIp, 53000, TcpView::kAck | TcpView::kPsh,
          text("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"));
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "SSH");
    EXPECT_EQ(a->evidence["port"], 2222);
}

TEST(RemoteAccessSessions, OrdinaryTrafficRaisesNothing) {
    Harness h;
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    h.tcp(kVendorPc, kVendorPcIp, 50000, kEhr, kEhrIp, 445, kPa, from_hex("000000a4fe534d42"));
    h.tcp(kVendorPc, kVendorPcIp, 50001, kRouter, kOutside, 443, kPa,
          from_hex("1603010200010001fc0303"));
    h.tcp(kVendorPc, kVendorPcIp, 50002, kEhr, kEhrIp, 80, kPa, text("GET / HTTP/1.1\r\n\r\n"));
    EXPECT_TRUE(h.sink.alerts.empty());
    std::vector<TableUse> use;
    h.unit.table_use(use);
    ASSERT_EQ(use.size(), 2u);
    EXPECT_EQ(use[0].capacity, RemoteAccessSessions::kSessionSlots);
    EXPECT_EQ(use[1].table, "remote-sessions-by-handshake");
    EXPECT_EQ(use[1].dropped, 0u);
}

TEST(RemoteAccessRules, HandshakesAreReadWithTheirSourcesAndBadOnesRefused) {
    auto rules = load_egress_rules(CLINICWATCH_SOURCE_DIR "/rules");
    std::size_t with_handshakes = 0;
    for (const auto& t : rules.tools)
        for (const auto& h : t.handshakes) {
            ++with_handshakes;
            EXPECT_FALSE(h.source.empty()) << t.name;
            EXPECT_FALSE(h.bytes.empty()) << t.name;
        }
    EXPECT_GE(with_handshakes, 7u);

    TempDir dir;
    auto write = [&](const std::string& name, const std::string& body) {
        std::ofstream(dir.path() / name) << body;
    };
    write("remote-access.yaml",
          "tools:\n  - name: X\n    handshakes:\n      - {hex: \"03 0g\", source: s}\n"
          "      - {text: \"ab\", hex: \"01\", source: s}\n      - {text: \"SSH-\"}\n"
          "    source: s\n");
    write("well-known-services.yaml", "services: []\n");
    write("risky-protocols.yaml", "protocols: []\n");
    try {
        load_egress_rules(dir.path().string());
        FAIL() << "bad handshakes accepted";
    } catch (const ConfigError& e) {
        ASSERT_EQ(e.problems().size(), 3u);
        EXPECT_NE(e.problems()[0].find("hex must be hex digits"), std::string::npos)
            << e.problems()[0];
        EXPECT_NE(e.problems()[1].find("either hex or text"), std::string::npos) << e.problems()[1];
        EXPECT_NE(e.problems()[2].find("entry without 'source'"), std::string::npos)
            << e.problems()[2];
    }
}

// The remote-maintenance log (issue 17): a LAN session found by its handshake is handed over
// from its first recognised packet to its FIN, with the device that accepted it, the other
// device, and the bytes each side sent.
TEST(RemoteAccessSessions, LanSessionIsLoggedFromItsStartToItsEnd) {
    Harness h;
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, TcpView::kSyn);
    h.tcp(kEhr, kEhrIp, 13389, kVendorPc, kVendorPcIp, 51000, TcpView::kSyn | TcpView::kAck);
    h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, kPa, from_hex(kRdpConnectionRequest));
    const Timestamp start = h.now;
    ASSERT_FALSE(h.sink.sessions.empty());
    EXPECT_TRUE(h.sink.sessions.back().ongoing);
    std::uint64_t from_server = 0, from_client = h.packet.wire_length;
    for (int i = 0; i < 30; ++i) {
        h.now += 2 * kMicrosPerSecond;  // a minute of work
        h.tcp(kEhr, kEhrIp, 13389, kVendorPc, kVendorPcIp, 51000, kPa, from_hex(kRdpData));
        from_server += h.packet.wire_length;
        h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, kPa, from_hex(kRdpData));
        from_client += h.packet.wire_length;
    }
    h.unit.on_tick(h.now);  // handed over again while it goes on
    EXPECT_TRUE(h.sink.sessions.back().ongoing);
    h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, TcpView::kFin | TcpView::kAck);
    const Timestamp end = h.now;
    h.unit.on_finish(h.now);

    const RemoteSession& r = h.sink.sessions.back();
    EXPECT_FALSE(r.ongoing);
    EXPECT_EQ(r.tool, "RDP");
    EXPECT_EQ(r.direction, "lan");
    EXPECT_EQ(r.mac, kEhr);
    EXPECT_EQ(r.address, kEhrIp);
    EXPECT_EQ(r.remote_address, kVendorPcIp);
    ASSERT_TRUE(r.remote_mac);
    EXPECT_EQ(*r.remote_mac, kVendorPc);
    EXPECT_EQ(r.port, 13389);
    EXPECT_EQ(r.start, start);
    EXPECT_EQ(r.end, end);
    EXPECT_EQ(r.bytes_out, from_server);
    EXPECT_EQ(r.bytes_in, from_client);
    EXPECT_EQ(r.recognised_by, "handshake");
    EXPECT_EQ(r.verdict, "lan");
    // One session: every hand-over under the same key.
    for (const auto& s : h.sink.sessions) EXPECT_EQ(s.key, r.key);
}

// A session still open when the input ends is stored with end = its last packet, ongoing; one
// that went quiet for longer than kSessionIdle ends where it was last seen.
TEST(RemoteAccessSessions, SessionOpenAtTheEndIsLoggedAsOngoing) {
    Harness h;
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, kPa, from_hex(kRdpConnectionRequest));
    h.tcp(kEhr, kEhrIp, 13389, kVendorPc, kVendorPcIp, 51000, kPa, from_hex(kRdpData));
    const Timestamp last = h.now;
    h.unit.on_finish(h.now + kMicrosPerSecond);
    ASSERT_FALSE(h.sink.sessions.empty());
    EXPECT_TRUE(h.sink.sessions.back().ongoing);
    EXPECT_EQ(h.sink.sessions.back().end, last);

    Harness quiet;
    quiet.tcp(kVendorPc, kVendorPcIp, 51001, kEhr, kEhrIp, 13389, kPa,
              from_hex(kRdpConnectionRequest));
    const Timestamp quiet_last = quiet.now;
    quiet.unit.on_tick(quiet.now + RemoteAccessSessions::kSessionIdle + kMicrosPerSecond);
    ASSERT_FALSE(quiet.sink.sessions.empty());
    EXPECT_FALSE(quiet.sink.sessions.back().ongoing);
    EXPECT_EQ(quiet.sink.sessions.back().end, quiet_last);
    std::size_t handed = quiet.sink.sessions.size();
    quiet.unit.on_finish(quiet.now + 200 * kMicrosPerSecond);
    EXPECT_EQ(quiet.sink.sessions.size(), handed);  // ended once, not again
}
