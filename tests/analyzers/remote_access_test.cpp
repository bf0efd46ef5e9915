// Remote-access sessions found by their protocol on any port, and sessions already running when
// capture starts, with the signatures from rules/remote-access.yaml itself.
#include "analyzers/remote_access.hpp"
#include "analyzers/packet_context.hpp"

#include "analyzers/legacy_handshakes.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "daemon/config.hpp"
#include "daemon/egress_rules.hpp"
#include "daemon/incidents/describe.hpp"
#include "daemon/incidents/incidents.hpp"
#include "daemon/report/template.hpp"
#include "tests/analyzers/alert_records.hpp"
#include "tests/analyzers/frames.hpp"
#include "tests/analyzers/recording_sink.hpp"
#include "tests/capture/vpn_messages.hpp"
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
               load_egress_rules(CLINICWATCH_SOURCE_DIR "/rules")) {
        app.flows().set_on_end([this](Flow& f) {
            unit.on_flow_end(f);
            if (also) also->on_flow_end(f);
        });
    }

    void tcp(const MacAddress& sm, const IpAddress& s, std::uint16_t sp, const MacAddress& dm,
             const IpAddress& d, std::uint16_t dp, std::uint8_t flags, const Frame& payload = {}) {
        send(ipv4_frame(sm, dm, s, d, 6, tcp_segment(sp, dp, flags, payload)));
    }
    void udp(const MacAddress& sm, const IpAddress& s, std::uint16_t sp, const MacAddress& dm,
             const IpAddress& d, std::uint16_t dp, const Frame& payload) {
        send(ipv4_frame(sm, dm, s, d, 17, udp_datagram(sp, dp, payload)));
    }
    void send(const Frame& f) {
        now += 1000;
        decode_packet(LinkType::ethernet, now, static_cast<std::uint32_t>(f.size()), f, packet);
        PacketContext& context = app.begin(packet);
        unit.on_packet(packet, context);
        if (also) also->on_packet(packet, context);
    }
    const AlertUpdate* only() const {
        auto found = sink.of_kind("remote-access");
        EXPECT_EQ(found.size(), 1u);
        return found.empty() ? nullptr : found[0];
    }

    RecordingSink sink;
    RemoteAccessSessions unit;
    Analyzer* also = nullptr;  // another unit shown the same packets
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
            EXPECT_TRUE(!h.bytes.empty() || h.recognise) << t.name;
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
TEST(RemoteAccessSessions, ASessionWhoseFlowLeavesTheFlowTableIsLoggedAsEnded) {
    // The session is an entry of its flow in the one flow table: when the flow goes (here idle
    // past its timeout; also evicted, or its ports reused), the session ends where last seen.
    Harness h;
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, TcpView::kSyn);
    h.tcp(kEhr, kEhrIp, 13389, kVendorPc, kVendorPcIp, 51000, TcpView::kSyn | TcpView::kAck);
    h.tcp(kVendorPc, kVendorPcIp, 51000, kEhr, kEhrIp, 13389, kPa, from_hex(kRdpConnectionRequest));
    h.tcp(kEhr, kEhrIp, 13389, kVendorPc, kVendorPcIp, 51000, kPa, from_hex(kRdpData));
    const Timestamp last = h.now;
    ASSERT_FALSE(h.sink.sessions.empty());
    ASSERT_TRUE(h.sink.sessions.back().ongoing);
    const std::size_t handed_over = h.sink.sessions.size();
    h.app.flows().expire(last + FlowTableSettings{}.idle_tcp + 1);
    ASSERT_EQ(h.app.flows().size(), 0u);
    ASSERT_EQ(h.sink.sessions.size(), handed_over + 1);
    EXPECT_FALSE(h.sink.sessions.back().ongoing);
    EXPECT_EQ(h.sink.sessions.back().end, last);
    // Nothing is left to hand over at the end.
    h.unit.on_finish(last + FlowTableSettings{}.idle_tcp + 2);
    EXPECT_EQ(h.sink.sessions.size(), handed_over + 1);
}

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

// issue 19: VPNs and remote-desktop tools by their first messages, on ports that are not theirs,
// and tunnels already running when capture started; look-alikes stay quiet.
namespace vm = clinicwatch::test::vpn_messages;

TEST(RemoteAccessVpn, OpenVpnOverUdpOnAnotherPortToTheInternet) {
    Harness h;
    // A PC opens an OpenVPN tunnel to a server on udp/443 (not OpenVPN's 1194).
    h.udp(kVendorPc, kVendorPcIp, 40001, kRouter, kOutside, 443, vm::openvpn_client_reset());
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "OpenVPN");
    EXPECT_EQ(a->evidence["scope"], "boundary");
    EXPECT_EQ(a->evidence["protocol"], "udp");
    EXPECT_EQ(a->evidence["port"], 443);
    EXPECT_EQ(a->evidence["server_ip"], "203.0.113.45");
    EXPECT_EQ(a->evidence["client_ip"], "192.168.100.109");
    // The texts name the party across the boundary, not the PC itself.
    EXPECT_EQ(a->evidence["destination_ip"], "203.0.113.45");
    EXPECT_EQ(a->evidence["recognised_by"], "handshake");
    EXPECT_EQ(a->severity, Severity::high);
    EXPECT_EQ(a->subject_mac, kVendorPc);
    EXPECT_NE(a->summary.find("OpenVPN"), std::string::npos);
    // The server's reset adds nothing; the tunnel goes into the remote-maintenance log.
    h.udp(kRouter, kOutside, 443, kVendorPc, kVendorPcIp, 40001, vm::openvpn_server_reset());
    EXPECT_EQ(h.sink.of_kind("remote-access").size(), 1u);
    h.unit.on_finish(h.now);
    ASSERT_FALSE(h.sink.sessions.empty());
    const RemoteSession& r = h.sink.sessions.back();
    EXPECT_EQ(r.tool, "OpenVPN");
    EXPECT_EQ(r.direction, "egress");
    EXPECT_EQ(r.remote_address, kOutside);
    EXPECT_EQ(r.mac, kVendorPc);
}

TEST(RemoteAccessVpn, OpenVpnOverTcpAlreadyRunningIsFoundByItsFraming) {
    Harness h;
    std::mt19937 rng(21);
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    for (int i = 0; i < 8; ++i) {
        Frame data{0x48, 0x00, 0x00, 0x01};  // P_DATA_V2, key 0, peer id 1
        Frame body = random_payload(rng, 80 + i);
        data.insert(data.end(), body.begin(), body.end());
        const Frame framed = vm::tcp_framed(data);
        if (i % 2)
            h.tcp(kRouter, kOutside, 8080, kVendorPc, kVendorPcIp, 50900, kPa, framed);
        else
            h.tcp(kVendorPc, kVendorPcIp, 50900, kRouter, kOutside, 8080, kPa, framed);
        if (i < 7) {
            EXPECT_TRUE(h.sink.alerts.empty()) << i;
        }
    }
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "OpenVPN");
    EXPECT_EQ(a->evidence["recognised_by"], "protocol framing");
    EXPECT_EQ(a->evidence["server_ip"], "203.0.113.45");  // the lower port serves
}

// An OpenVPN data packet over UDP (P_DATA_V2, AEAD): opcode 9 and key id, 24-bit peer id, the
// packet id, the 16-byte tag and the ciphertext (random here, as on the wire).
Frame openvpn_data(std::uint8_t key_id, std::uint32_t peer_id, std::uint32_t packet_id,
                   std::mt19937& rng, std::size_t ciphertext) {
    Frame f = {
        static_cast<std::uint8_t>(9 << 3 | key_id), static_cast<std::uint8_t>(peer_id >> 16),
        static_cast<std::uint8_t>(peer_id >> 8),    static_cast<std::uint8_t>(peer_id),
        static_cast<std::uint8_t>(packet_id >> 24), static_cast<std::uint8_t>(packet_id >> 16),
        static_cast<std::uint8_t>(packet_id >> 8),  static_cast<std::uint8_t>(packet_id)};
    Frame rest = random_payload(rng, 16 + ciphertext);
    f.insert(f.end(), rest.begin(), rest.end());
    return f;
}

// The most common tunnel a vendor leaves running: OpenVPN over UDP, up long before the sensor
// started, so no handshake is ever seen. Its data packets show it: each side repeats its opcode
// and peer id, and its packet id counts up (with gaps where packets were lost).
TEST(RemoteAccessVpn, OpenVpnOverUdpAlreadyRunningIsFoundByItsDataPackets) {
    Harness h;
    std::mt19937 rng(31);
    std::uint32_t out_id = 81'233, in_id = 90'871;
    for (int i = 0; i < 40 && h.sink.of_kind("remote-access").empty(); ++i) {
        out_id += 1 + (i % 7 == 0 ? 3 : 0);
        in_id += 1;
        h.udp(kVendorPc, kVendorPcIp, 40001, kRouter, kOutside, 443,
              openvpn_data(1, 3, out_id, rng, 40 + rng() % 1300));
        h.udp(kRouter, kOutside, 443, kVendorPc, kVendorPcIp, 40001,
              openvpn_data(1, 3, in_id, rng, 40 + rng() % 1300));
    }
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "OpenVPN");
    EXPECT_EQ(a->evidence["recognised_by"], "protocol framing");
    EXPECT_EQ(a->evidence["protocol"], "udp");
    EXPECT_EQ(a->evidence["port"], 443);
    EXPECT_EQ(a->evidence["destination_ip"], "203.0.113.45");
    EXPECT_EQ(a->subject_mac, kVendorPc);
    // Found after eight data packets that continue their side's framing, not on the first.
    EXPECT_GE(h.sink.alerts.size(), 1u);
    EXPECT_GT(out_id, 81'233u + 4);
}

// What starts like an OpenVPN data packet but is not a tunnel: QUIC short headers (the first
// byte varies, the connection id stays, nothing counts), SSDP's text ("NOTIFY", "M-SEARCH" and
// "HTTP/1.1" start with 0x48-0x4f too), IPsec's ESP in UDP, and datagrams with OpenVPN's first
// bytes whose packet id does not count up.
TEST(RemoteAccessVpn, LookAlikesOfOpenVpnDataAreNotTakenForATunnel) {
    Harness h;
    std::mt19937 rng(32);
    const Frame dcid = random_payload(rng, 8);
    for (int i = 0; i < 2000; ++i) {
        Frame quic = {static_cast<std::uint8_t>(0x40 | (rng() & 0x3f))};
        quic.insert(quic.end(), dcid.begin(), dcid.end());
        Frame rest = random_payload(rng, 30 + rng() % 1200);
        quic.insert(quic.end(), rest.begin(), rest.end());
        if (i % 2)
            h.udp(kVendorPc, kVendorPcIp, 55000, kRouter, kOutside, 443, quic);
        else
            h.udp(kRouter, kOutside, 443, kVendorPc, kVendorPcIp, 55000, quic);
    }
    const IpAddress ssdp = *IpAddress::parse("239.255.255.250");
    const MacAddress ssdp_mac = *MacAddress::parse("01:00:5e:7f:ff:fa");
    for (int i = 0; i < 200; ++i) {
        h.udp(kEhr, kEhrIp, 1900, ssdp_mac, ssdp, 1900,
              text("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n"
                   "NTS: ssdp:alive\r\nUSN: uuid:" +
                   std::to_string(i) + "\r\n\r\n"));
        h.udp(kVendorPc, kVendorPcIp, 50123, ssdp_mac, ssdp, 1900,
              text("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\""
                   "\r\nMX: 2\r\nST: ssdp:all\r\n\r\n"));
    }
    // IPsec ESP in UDP 4500 (RFC 3948): an SPI that happens to start like OpenVPN's header, then
    // a sequence number counting up: IPsec's port, so not OpenVPN.
    for (std::uint32_t seq = 1; seq <= 200; ++seq) {
        Frame esp = {0x4a,
                     0x00,
                     0x3c,
                     0x91,
                     static_cast<std::uint8_t>(seq >> 24),
                     static_cast<std::uint8_t>(seq >> 16),
                     static_cast<std::uint8_t>(seq >> 8),
                     static_cast<std::uint8_t>(seq)};
        Frame rest = random_payload(rng, 16 + 100 + seq % 64);
        esp.insert(esp.end(), rest.begin(), rest.end());
        h.udp(kVendorPc, kVendorPcIp, 4500, kRouter, kOutside, 4500, esp);
    }
    for (int i = 0; i < 400; ++i) {  // opcode and peer id right, packet id at random
        Frame p = openvpn_data(0, 1, static_cast<std::uint32_t>(rng() | 1), rng, 100);
        h.udp(kVendorPc, kVendorPcIp, 56000, kRouter, kOutside, 5000, p);
    }
    EXPECT_TRUE(h.sink.of_kind("remote-access").empty());
}

TEST(RemoteAccessVpn, WireGuardHandshakeInsideTheLanOnAnotherPort) {
    Harness h;
    std::mt19937 rng(22);
    h.udp(kVendorPc, kVendorPcIp, 41000, kEhr, kEhrIp, 40000, vm::wireguard(1, rng));
    EXPECT_TRUE(h.sink.alerts.empty()) << "an initiation alone is not yet a tunnel";
    h.udp(kEhr, kEhrIp, 40000, kVendorPc, kVendorPcIp, 41000, vm::wireguard(2, rng));
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "WireGuard VPN");
    EXPECT_EQ(a->evidence["scope"], "lan");
    EXPECT_EQ(a->evidence["server_ip"], "192.168.100.10");  // the responder
    EXPECT_EQ(a->evidence["port"], 40000);
    EXPECT_EQ(a->subject_mac, kEhr);
}

TEST(RemoteAccessVpn, WireGuardTunnelAlreadyRunningIsFoundByItsTransportData) {
    Harness h;
    std::mt19937 rng(23);
    for (int i = 0; i < 4; ++i) {
        if (i % 2)
            h.udp(kRouter, kOutside, 3478, kVendorPc, kVendorPcIp, 41000,
                  vm::wireguard(4, rng, 16 * (3 + i)));
        else
            h.udp(kVendorPc, kVendorPcIp, 41000, kRouter, kOutside, 3478,
                  vm::wireguard(4, rng, 16 * (3 + i)));
    }
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "WireGuard VPN");
    EXPECT_EQ(a->evidence["recognised_by"], "protocol framing");
    EXPECT_EQ(a->evidence["destination_ip"], "203.0.113.45");
}

TEST(RemoteAccessVpn, IkeOnAnotherPortAndARunningTunnelsLivenessCheck) {
    Harness h;
    h.udp(kVendorPc, kVendorPcIp, 500, kRouter, kOutside, 10500, vm::ike_sa_init());
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "IPsec VPN");
    EXPECT_EQ(a->evidence["server_ip"], "203.0.113.45");
    EXPECT_EQ(a->evidence["port"], 10500);

    // Already running (no IKE_SA_INIT seen): an INFORMATIONAL request and its response.
    Harness running;
    vm::Msg req = vm::ike_sa_init();
    req[8] = 0x5a, req[18] = 37, req[16] = 46, req[23] = 4;
    vm::Msg resp = req;
    resp[19] = 0x20;
    vm::Msg marker = vm::hex("00000000");
    vm::Msg natt_req = marker, natt_resp = marker;
    vm::append(natt_req, req);
    vm::append(natt_resp, resp);
    running.udp(kVendorPc, kVendorPcIp, 45000, kRouter, kOutside, 14500, natt_req);
    EXPECT_TRUE(running.sink.alerts.empty());
    running.udp(kRouter, kOutside, 14500, kVendorPc, kVendorPcIp, 45000, natt_resp);
    const AlertUpdate* r = running.only();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->evidence["tool"], "IPsec VPN");
}

TEST(RemoteAccessVpn, L2tpTunnelRequestAndARunningTunnelsHello) {
    Harness h;
    h.udp(kVendorPc, kVendorPcIp, 41701, kRouter, kOutside, 11701, vm::l2tp_sccrq());
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "L2TP VPN");
    EXPECT_EQ(a->evidence["port"], 11701);  // the lower port of the two serves

    Harness running;
    running.udp(kRouter, kOutside, 11701, kVendorPc, kVendorPcIp, 51702, vm::l2tp_hello());
    const AlertUpdate* r = running.only();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->evidence["tool"], "L2TP VPN");
}

TEST(RemoteAccessVpn, PptpControlConnectionAndARunningOnesEchoes) {
    Harness h;
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    h.tcp(kVendorPc, kVendorPcIp, 52100, kRouter, kOutside, 11723, kPa, vm::pptp_sccrq());
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "PPTP VPN");
    EXPECT_EQ(a->evidence["server_ip"], "203.0.113.45");
    EXPECT_EQ(a->evidence["port"], 11723);

    Harness running;
    running.tcp(kVendorPc, kVendorPcIp, 52101, kRouter, kOutside, 11723, kPa, vm::pptp_echo());
    EXPECT_TRUE(running.sink.alerts.empty());
    running.tcp(kRouter, kOutside, 11723, kVendorPc, kVendorPcIp, 52101, kPa, vm::pptp_echo());
    ASSERT_TRUE(running.only());
}

TEST(RemoteAccessTools, RadminAndNoMachineByTheirFirstMessagesOnOtherPorts) {
    Harness h;
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    h.tcp(kVendorPc, kVendorPcIp, 53100, kEhr, kEhrIp, 14899, kPa,
          from_hex("01000000010000000808"));
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "Radmin");
    EXPECT_EQ(a->evidence["server_ip"], "192.168.100.10");
    EXPECT_EQ(a->evidence["port"], 14899);

    Harness nx;
    nx.tcp(kVendorPc, kVendorPcIp, 53200, kEhr, kEhrIp, 14000, kPa, text("NXSH-8.11.3\n"));
    const AlertUpdate* n = nx.only();
    ASSERT_TRUE(n);
    EXPECT_EQ(n->evidence["tool"], "NoMachine");
    EXPECT_EQ(n->evidence["server_ip"], "192.168.100.10");
    // A longer line that merely starts the same way is something else.
    Harness longer;
    longer.tcp(kVendorPc, kVendorPcIp, 53300, kEhr, kEhrIp, 14000, kPa,
               text("NXSH-and-then-a-much-longer-line\n"));
    EXPECT_TRUE(longer.sink.alerts.empty());
}

TEST(RemoteAccessVpn, DnsTlsAndRandomUdpAreNotTakenForAVpn) {
    Harness h;
    std::mt19937 rng(24);
    constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;
    // DNS questions and answers, a TLS ClientHello and application data on odd ports.
    for (int i = 0; i < 50; ++i) {
        h.send(ipv4_frame(kVendorPc, kRouter, kVendorPcIp, kOutside, 17,
                          udp_datagram(static_cast<std::uint16_t>(50000 + i), 53,
                                       dns_response("www.example.com", 1, {}))));
        h.tcp(kVendorPc, kVendorPcIp, static_cast<std::uint16_t>(51000 + i), kRouter, kOutside,
              8443, kPa, client_hello("portal.example.jp"));
    }
    // DNS over TCP: the same 16-bit length in front of every message, many on one connection.
    for (int i = 0; i < 40; ++i) {
        Frame q = dns_response("host" + std::to_string(i) + ".clinic.local", 1, {},
                               static_cast<std::uint16_t>(0x2000 + i * 97));
        Frame framed = {static_cast<std::uint8_t>(q.size() >> 8),
                        static_cast<std::uint8_t>(q.size())};
        framed.insert(framed.end(), q.begin(), q.end());
        if (i % 2)
            h.tcp(kRouter, kOutside, 53, kVendorPc, kVendorPcIp, 52999, kPa, framed);
        else
            h.tcp(kVendorPc, kVendorPcIp, 52999, kRouter, kOutside, 53, kPa, framed);
    }
    // A long random UDP stream (a video call) whose datagrams now and then start like a VPN.
    for (int i = 0; i < 3000; ++i) {
        Frame p = random_payload(rng, 16 * (2 + rng() % 60));
        if (i % 300 == 0) p[0] = 0x04, p[1] = p[2] = p[3] = 0;
        if (i % 500 == 0) p[0] = 0x38;
        if (i % 2)
            h.udp(kVendorPc, kVendorPcIp, 62000, kRouter, kOutside, 19302, p);
        else
            h.udp(kRouter, kOutside, 19302, kVendorPc, kVendorPcIp, 62000, p);
    }
    EXPECT_TRUE(h.sink.of_kind("remote-access").empty());
}

TEST(RemoteAccessRules, UnknownRecogniserIsRefusedWithTheKnownNames) {
    TempDir dir;
    auto write = [&](const std::string& name, const std::string& body) {
        std::ofstream(dir.path() / name) << body;
    };
    write("remote-access.yaml",
          "tools:\n  - name: X\n    handshakes:\n"
          "      - {transport: udp, recogniser: wireguard-handshake, source: s}\n"
          "      - {transport: udp, recogniser: wireguard-initiation, source: s}\n"
          "    source: s\n");
    write("well-known-services.yaml", "services: []\n");
    write("risky-protocols.yaml", "protocols: []\n");
    try {
        load_egress_rules(dir.path().string());
        FAIL() << "an unknown recogniser accepted";
    } catch (const ConfigError& e) {
        ASSERT_EQ(e.problems().size(), 1u);
        EXPECT_NE(e.problems()[0].find("unknown recogniser 'wireguard-handshake'"),
                  std::string::npos)
            << e.problems()[0];
        EXPECT_NE(e.problems()[0].find("wireguard-initiation"), std::string::npos);
    }
}

TEST(RemoteAccessTools, AnyDeskInsideTheLanOnAnotherPortByItsAlpn) {
    Harness h;
    // OpenSSL 3.0.19's TLS 1.2 ClientHello offering ALPN "anydesk/6.2.0/linux" (the bytes of
    // Egress.AnyDeskRelayOn443IsFoundByItsAlpn), here to a LAN PC on tcp/17070.
    const Frame hello = from_hex(
        "16030100d1010000cd03030f5eded5b9145cfb52ad6369d4a4bfdb57d80be08ed44d3177"
        "7577f84008656d000038c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0"
        "270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff0100006c000b0004"
        "03000102000a000c000a001d0017001e001900180023000000100016001413616e79646573"
        "6b2f362e322e302f6c696e75780016000000170000000d002a002804030503060308070808"
        "0809080a080b080408050806040105010601030303010302040205020602");
    h.tcp(kVendorPc, kVendorPcIp, 53400, kEhr, kEhrIp, 17070, TcpView::kAck | TcpView::kPsh, hello);
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "AnyDesk");
    EXPECT_EQ(a->evidence["server_ip"], "192.168.100.10");
    EXPECT_EQ(a->evidence["port"], 17070);
    // An ordinary ClientHello (no ALPN of a tool) says nothing.
    Harness plain;
    plain.tcp(kVendorPc, kVendorPcIp, 53401, kEhr, kEhrIp, 17070, TcpView::kAck | TcpView::kPsh,
              client_hello("ehr.clinic.local"));
    EXPECT_TRUE(plain.sink.alerts.empty());
}

TEST(RemoteAccessTools, SslVpnPortalRequestedInClearText) {
    Harness h;
    h.tcp(kVendorPc, kVendorPcIp, 53500, kRouter, kOutside, 80, TcpView::kAck | TcpView::kPsh,
          text("GET /remote/login?lang=en HTTP/1.1\r\nHost: vpn.vendor.example\r\n\r\n"));
    const AlertUpdate* a = h.only();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->evidence["tool"], "SSL-VPN appliance");
    EXPECT_EQ(a->evidence["destination_ip"], "203.0.113.45");
}

// What people read: a VPN tunnel to the internet and the legacy handshakes become incidents
// whose texts name the tunnel (its protocol and the party across the boundary) or the old
// protocol, in Japanese and in English.
TEST(RemoteAccessVpn, TunnelsAndLegacyHandshakesAreToldInJapaneseAndEnglish) {
    Harness h;
    LegacyHandshakes legacy(h.sink, {*IpNetwork::parse("192.168.100.0/24")});
    h.also = &legacy;
    h.udp(kVendorPc, kVendorPcIp, 40001, kRouter, kOutside, 443, vm::openvpn_client_reset());
    h.tcp(kEhr, kEhrIp, 2022, kVendorPc, kVendorPcIp, 50100, TcpView::kAck | TcpView::kPsh,
          text("SSH-1.5-OpenSSH_3.4p1\n"));
    auto incidents = correlate(alert_records(h.sink.alerts));
    // The SSH-1 server is also an SSH session inside the LAN (remote-access).
    ASSERT_EQ(incidents.size(), 3u);
    nlohmann::json assets = nlohmann::json::array({{{"mac", kVendorPc.to_string()},
                                                    {"register_name", "UKETSUKE-PC"},
                                                    {"registered", "yes"},
                                                    {"name", "UKETSUKE-PC"},
                                                    {"addresses", nlohmann::json::array()}},
                                                   {{"mac", kEhr.to_string()},
                                                    {"register_name", "EHR-SRV"},
                                                    {"registered", "yes"},
                                                    {"name", "EHR-SRV"},
                                                    {"addresses", nlohmann::json::array()}}});
    int tunnels = 0;
    for (const char* language : {"ja", "en"}) {
        auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", language);
        DeviceNames names(messages, assets);
        for (const auto& in : incidents) {
            auto d = describe_incident(in, 1, messages, names);
            const std::string title = d["title"], detail = d["detail"], action = d["action"];
            EXPECT_FALSE(title.empty() || action.empty()) << in.kind;
            if (in.kind == "remote-access" && detail.find("SSH") != std::string::npos) {
                EXPECT_NE(detail.find("EHR-SRV"), std::string::npos) << detail;
            } else if (in.kind == "remote-access") {
                ++tunnels;
                EXPECT_NE(detail.find("UKETSUKE-PC"), std::string::npos) << detail;
                EXPECT_NE(detail.find("OpenVPN"), std::string::npos) << detail;
                EXPECT_NE(detail.find("203.0.113.45"), std::string::npos) << detail;
                EXPECT_NE(detail.find("udp/443"), std::string::npos) << detail;
            } else {
                // SSH-1 is a standing condition of the device that speaks it, listed with its
                // other conditions (and counted under checklist 2-⑥).
                EXPECT_EQ(in.kind, "device-conditions");
                EXPECT_EQ(d["device_mac"], kEhr.to_string());
                EXPECT_NE(title.find("SSH-1"), std::string::npos) << title;
                ASSERT_EQ(d["conditions"].size(), 1u) << d.dump(1);
                EXPECT_EQ(d["conditions"][0]["kind"], "legacy-ssh");
                const std::string condition = d["conditions"][0]["text"];
                EXPECT_NE(condition.find("SSH-1.5"), std::string::npos) << condition;
                EXPECT_NE(condition.find(std::string(language) == "ja" ? "古いSSH" : "old SSH"),
                          std::string::npos)
                    << condition;
                EXPECT_NE(d["device"].get<std::string>().find("EHR-SRV"), std::string::npos);
                continue;
            }
            if (std::string(language) == "ja") {
                EXPECT_NE(detail.find("が"), std::string::npos) << detail;
            } else {
                EXPECT_EQ(detail.find("が"), std::string::npos) << detail;
            }
        }
    }
    EXPECT_EQ(tunnels, 2);  // once per language
}
