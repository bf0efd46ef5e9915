// The units split out of the OS fingerprint: legacy protocol versions (SMBv1, TLS 1.0/1.1,
// Internet Explorer) and clear-text logins, on frames built by bench/frame_builder; and the
// rules they read (rules/os-fingerprints.yaml cleartext_logins and not_windows, os-eol.yaml's
// Internet Explorer), with the loader rejecting bad entries by file and line and a broken rule
// stopping check-config/reload.
#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyzers/cleartext_login.hpp"
#include "analyzers/dispatcher.hpp"
#include "analyzers/legacy_protocols.hpp"
#include "analyzers/os_fingerprint.hpp"
#include "analyzers/os_inference.hpp"
#include "bench/clinic_payloads.hpp"
#include "bench/frame_builder.hpp"
#include "daemon/config.hpp"
#include "daemon/prepared_config.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
namespace fb = clinicwatch::bench;

namespace {

constexpr Timestamp kT0 = 1'795'132'800LL * kMicrosPerSecond;  // 2026-11-20

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const OsRules& shipped() {
    static const OsRules r =
        OsRules::load(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-fingerprints.yaml",
                      std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-eol.yaml");
    return r;
}

class Sink : public FindingSink {
  public:
    void alert(AlertUpdate u) override { alerts.push_back(std::move(u)); }
    void minute(const MinuteStats&) override {}
    std::vector<AlertUpdate> of(const std::string& kind) const {
        std::vector<AlertUpdate> out;
        for (const auto& a : alerts)
            if (a.kind == kind) out.push_back(a);
        return out;
    }
    std::vector<AlertUpdate> alerts;
};

MacAddress mac(const char* text) {
    return *MacAddress::parse(text);
}

// A TCP segment from (src_mac, src_ip:sport) to (dst_mac, dst_ip:dport), PSH+ACK.
fb::Frame tcp(const char* dst_mac, const char* src_mac, std::uint32_t src_ip, std::uint32_t dst_ip,
              std::uint16_t sport, std::uint16_t dport, const fb::Frame& payload,
              std::uint8_t flags = fb::tcpflag::psh | fb::tcpflag::ack) {
    fb::TcpHeader h;
    h.src_port = sport;
    h.dst_port = dport;
    h.seq = 1000;
    h.ack = 2000;
    h.flags = flags;
    h.window = 64240;
    fb::Ipv4Header ip;
    ip.src = src_ip;
    ip.dst = dst_ip;
    ip.protocol = fb::ipproto::tcp;
    return fb::ethernet(mac(dst_mac), mac(src_mac), fb::ethertype::ipv4,
                        fb::ipv4(ip, fb::tcp4(src_ip, dst_ip, h, payload)));
}

fb::Frame text(const std::string& s) {
    return fb::Frame(s.begin(), s.end());
}

// A ServerHello choosing `version` (no extensions): handshake type 2 in a TLS record.
fb::Frame server_hello(std::uint16_t version) {
    fb::Frame body;
    fb::put8(body, 2);
    fb::put8(body, 0);
    fb::put16(body, 38);  // length: version 2 + random 32 + session id 1 + suite 2 + method 1
    fb::put16(body, version);
    for (int i = 0; i < 32; ++i) fb::put8(body, static_cast<std::uint8_t>(i * 7));
    fb::put8(body, 0);        // no session id
    fb::put16(body, 0x002f);  // TLS_RSA_WITH_AES_128_CBC_SHA
    fb::put8(body, 0);        // no compression
    fb::Frame record = fb::tls_record(22, body);
    record[1] = static_cast<std::uint8_t>(version >> 8);
    record[2] = static_cast<std::uint8_t>(version);
    return record;
}

struct Rig {
    HostTable hosts{100};
    Sink sink;
    Dispatcher dispatcher{hosts};
    Packet packet;
    LegacyProtocols* legacy = nullptr;
    explicit Rig(const OsRules& rules) {
        auto os = std::make_unique<OsFingerprint>(hosts, sink, rules, OsFingerprintSettings{});
        auto l = std::make_unique<LegacyProtocols>(hosts, sink, legacy_protocols_settings(rules));
        legacy = l.get();
        os->publish_to(legacy);
        dispatcher.add(std::move(os));
        dispatcher.add(std::move(l));
        dispatcher.add(std::make_unique<CleartextLogin>(hosts, sink, rules.cleartext_logins,
                                                        std::vector<IpNetwork>{}));
    }
    void feed(Timestamp ts, const fb::Frame& f) {
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(f.size()),
                      Bytes(f.data(), f.size()), packet);
        dispatcher.on_packet(packet);
    }
};

constexpr const char* kPc = "00:15:5d:00:01:14";
constexpr const char* kServer = "00:0c:29:00:00:05";
constexpr std::uint32_t kPcIp = fb::ip4(192, 168, 100, 20), kServerIp = fb::ip4(192, 168, 100, 5);

}  // namespace

TEST(LegacyProtocols, ServerHelloChoosingTls10FlagsBothEndsOnce) {
    Rig rig(shipped());
    // Both have spoken (the dispatcher learns a device from its frames).
    rig.feed(kT0, tcp(kServer, kPc, kPcIp, kServerIp, 50000, 443, {}, fb::tcpflag::syn));
    rig.feed(kT0 + 1, tcp(kPc, kServer, kServerIp, kPcIp, 443, 50000, {},
                          fb::tcpflag::syn | fb::tcpflag::ack));
    for (int i = 0; i < 3; ++i)
        rig.feed(kT0 + 10 + i,
                 tcp(kPc, kServer, kServerIp, kPcIp, 443, 50000, server_hello(0x0301)));
    auto a = rig.sink.of("legacy-tls");
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0].subject_mac->to_string(), kServer);
    EXPECT_EQ(a[0].evidence["how"], "negotiated as server");
    EXPECT_EQ(a[0].evidence["version"], "TLS 1.0");
    EXPECT_EQ(a[0].summary.find("TLS 1.0 negotiated as server by 192.168.100.5"), 0u);
    EXPECT_EQ(a[1].subject_mac->to_string(), kPc);
    EXPECT_EQ(a[1].evidence["how"], "negotiated as client");
    EXPECT_EQ(a[1].evidence["peer"], "192.168.100.5");
    EXPECT_EQ(a[1].severity, Severity::low);
}

TEST(LegacyProtocols, Tls12ServerHelloIsQuiet) {
    Rig rig(shipped());
    rig.feed(kT0, tcp(kServer, kPc, kPcIp, kServerIp, 50000, 443, {}, fb::tcpflag::syn));
    rig.feed(kT0 + 1, tcp(kPc, kServer, kServerIp, kPcIp, 443, 50000, server_hello(0x0303)));
    EXPECT_TRUE(rig.sink.of("legacy-tls").empty());
}

TEST(LegacyProtocols, ClientHelloOfferingTls10ComesFromTheOsFingerprintsParse) {
    Rig rig(shipped());
    std::array<std::uint8_t, 32> random{};
    random[0] = 0x42;
    fb::Frame hello = fb::tls_client_hello(0, "ehr.example.jp", random);  // Windows 7: TLS 1.0
    rig.feed(kT0, tcp(kServer, kPc, kPcIp, kServerIp, 50001, 443, {}, fb::tcpflag::syn));
    rig.feed(kT0 + 5, tcp(kServer, kPc, kPcIp, kServerIp, 50001, 443, hello));
    auto a = rig.sink.of("legacy-tls");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].evidence["how"], "offered as the highest version");
    EXPECT_EQ(a[0].evidence["sni"], "ehr.example.jp");
    EXPECT_EQ(a[0].subject_mac->to_string(), kPc);
    // The OS evidence stays with the OS fingerprint, on the device.
    Host* pc = rig.hosts.find(mac(kPc), 0);
    ASSERT_TRUE(pc);
    bool tls_evidence = false;
    for (const auto& e : pc->evidence) tls_evidence |= e.source == "tls-client";
    EXPECT_TRUE(tls_evidence);
}

TEST(LegacyProtocols, InternetExplorerRetirementDateComesFromTheRules) {
    const std::string ua = "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko";
    auto request = text("GET / HTTP/1.1\r\nUser-Agent: " + ua + "\r\nHost: portal\r\n\r\n");
    {
        Rig rig(shipped());
        rig.feed(kT0, tcp(kServer, kPc, kPcIp, kServerIp, 50002, 80, {}, fb::tcpflag::syn));
        rig.feed(kT0 + 1, tcp(kServer, kPc, kPcIp, kServerIp, 50002, 80, request));
        rig.feed(kT0 + 2, tcp(kServer, kPc, kPcIp, kServerIp, 50002, 80, request));
        auto a = rig.sink.of("internet-explorer");
        ASSERT_EQ(a.size(), 1u);
        EXPECT_EQ(a[0].summary,
                  "Internet Explorer in use on 192.168.100.20 (retired 2022-06-15; unsupported "
                  "browser engine)");
        EXPECT_EQ(a[0].evidence["user_agent"], ua);
        EXPECT_EQ(a[0].evidence["host"], "portal");
    }
    // Another date in os-eol.yaml is the date in the text; none gives no date.
    std::string eol = read(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-eol.yaml");
    std::string fp = read(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-fingerprints.yaml");
    auto pos = eol.find("end_of_support: 2022-06-15");
    ASSERT_NE(pos, std::string::npos);
    std::string moved = eol;
    moved.replace(pos, 26, "end_of_support: 2022-06-16");
    OsRules rules = OsRules::parse(fp, "fp.yaml", moved, "eol.yaml");
    ASSERT_EQ(legacy_protocols_settings(rules).internet_explorer_retired, parse_day("2022-06-16"));
    Rig rig(rules);
    rig.feed(kT0, tcp(kServer, kPc, kPcIp, kServerIp, 50002, 80, {}, fb::tcpflag::syn));
    rig.feed(kT0 + 1, tcp(kServer, kPc, kPcIp, kServerIp, 50002, 80, request));
    auto a = rig.sink.of("internet-explorer");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_NE(a[0].summary.find("(retired 2022-06-16; unsupported"), std::string::npos);
    LegacyProtocolsSettings none;
    EXPECT_FALSE(none.internet_explorer_retired);
}

TEST(CleartextLogin, PortsAndStyleComeFromTheRules) {
    std::string eol = read(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-eol.yaml");
    OsRules rules = OsRules::parse(
        "cleartext_logins:\n"
        "  - {protocol: FTP, port: 2121, style: ftp, source: test}\n",
        "fp.yaml", eol, "eol.yaml");
    ASSERT_EQ(rules.cleartext_logins.size(), 1u);
    Rig rig(rules);
    // FTP on the standard port is not in these rules: nothing.
    rig.feed(kT0, tcp(kServer, kPc, kPcIp, kServerIp, 40000, 21, text("USER admin\r\n")));
    rig.feed(kT0 + 1, tcp(kServer, kPc, kPcIp, kServerIp, 40000, 21, text("PASS x\r\n")));
    EXPECT_TRUE(rig.sink.of("cleartext-login").empty());
    rig.feed(kT0 + 2, tcp(kServer, kPc, kPcIp, kServerIp, 40001, 2121, text("USER scan\r\n")));
    rig.feed(kT0 + 3, tcp(kPc, kServer, kServerIp, kPcIp, 2121, 40001, text("331 Password\r\n")));
    rig.feed(kT0 + 4, tcp(kServer, kPc, kPcIp, kServerIp, 40001, 2121, text("PASS s3cret\r\n")));
    auto a = rig.sink.of("cleartext-login");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].key, std::string("cleartext-login:") + kServer + ":FTP");
    EXPECT_EQ(a[0].evidence["server_port"], 2121);
    EXPECT_EQ(a[0].evidence["user"], "scan");
    EXPECT_EQ(a[0].summary,
              "FTP login in clear text from 192.168.100.20 to 192.168.100.5 (the password "
              "crossed the network unencrypted)");
    EXPECT_EQ(a[0].evidence.dump().find("s3cret"), std::string::npos);
}

TEST(CleartextLogin, AnAttemptLivesWithItsConnectionAndTheTableStaysBounded) {
    Rig rig(shipped());
    auto prompt = [&](Timestamp ts, std::uint16_t port) {
        rig.feed(ts, tcp(kPc, kServer, kServerIp, kPcIp, 23, port, text("Password: ")));
    };
    auto answer = [&](Timestamp ts, std::uint16_t port) {
        rig.feed(ts, tcp(kServer, kPc, kPcIp, kServerIp, port, 23, text("x\r\n")));
    };
    // A prompt, then the connection goes quiet until the flow table forgets it: the answer on
    // the same ports later belongs to a connection never seen prompting.
    prompt(kT0, 41000);
    rig.feed(kT0 + 400 * kMicrosPerSecond, tcp(kServer, kPc, kPcIp, kServerIp, 41001, 80, {}));
    answer(kT0 + 401 * kMicrosPerSecond, 41000);
    EXPECT_TRUE(rig.sink.of("cleartext-login").empty());
    // More attempts under way than the unit follows: one gives way, counted; the newest
    // login is still seen.
    const Timestamp t1 = kT0 + 500 * kMicrosPerSecond;
    for (std::uint16_t i = 0; i < 65; ++i) prompt(t1 + i, static_cast<std::uint16_t>(42000 + i));
    std::vector<TableUse> use;
    rig.dispatcher.table_use(use);
    auto it = std::find_if(use.begin(), use.end(),
                           [](const TableUse& t) { return t.table == "login-flows"; });
    ASSERT_NE(it, use.end());
    EXPECT_EQ(it->capacity, 64u);
    EXPECT_EQ(it->dropped, 1u);
    answer(t1 + 100, 42064);
    EXPECT_EQ(rig.sink.of("cleartext-login").size(), 1u);
}

TEST(CleartextLogin, ShippedRulesNameFtpAndTelnetWithSources) {
    const auto& r = shipped();
    ASSERT_TRUE(r.cleartext_login(21));
    EXPECT_EQ(r.cleartext_login(21)->protocol, "FTP");
    EXPECT_EQ(r.cleartext_login(21)->style, CleartextLoginRule::Style::ftp);
    ASSERT_TRUE(r.cleartext_login(23));
    EXPECT_EQ(r.cleartext_login(23)->protocol, "Telnet");
    EXPECT_EQ(r.cleartext_login(23)->style, CleartextLoginRule::Style::prompt);
    for (const auto& c : r.cleartext_logins) EXPECT_FALSE(c.source.empty()) << c.protocol;
    EXPECT_EQ(r.not_windows.ntlm_build_below, 2000);
    EXPECT_EQ(r.not_windows.browser_type_bits, 0x800u);
    EXPECT_FALSE(r.not_windows.ntlm_source.empty());
    EXPECT_FALSE(r.not_windows.browser_source.empty());
}

TEST(OsRules, NotWindowsRulesDecideSambaAndCifs) {
    auto infer = [](const OsRules& rules, const char* source, const char* value) {
        return infer_os({Observed{value, source, 0, 0}}, {}, rules);
    };
    // Shipped: NTLM build 0 is Samba or Linux CIFS; SV_TYPE_SERVER_UNIX is Samba.
    EXPECT_EQ(infer(shipped(), "ntlmssp", "6.1.0 challenge").family, "linux");
    EXPECT_EQ(infer(shipped(), "browser", "os=4.9 type=0x00809a03").family, "linux");
    EXPECT_EQ(infer(shipped(), "ntlmssp", "6.1.7601 challenge").family, "windows");
    // Without the entries nothing in code calls them Samba.
    std::string eol = read(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-eol.yaml");
    std::string fp = read(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-fingerprints.yaml");
    auto from = fp.find("not_windows:");
    auto to = fp.find("cleartext_logins:");
    ASSERT_NE(from, std::string::npos);
    ASSERT_NE(to, std::string::npos);
    OsRules without =
        OsRules::parse(fp.substr(0, from) + fp.substr(to), "fp.yaml", eol, "eol.yaml");
    EXPECT_EQ(infer(without, "ntlmssp", "6.1.0 challenge").family, "windows");
    EXPECT_EQ(infer(without, "browser", "os=4.9 type=0x00809a03").family, "windows");
}

TEST(OsRules, RejectsBadLoginAndNotWindowsEntriesWithFileAndLine) {
    std::string eol = read(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-eol.yaml");
    std::string fp =
        "cleartext_logins:\n"
        "  - {protocol: FTP, port: 70000, style: ftp, source: s}\n"      // 2
        "  - {protocol: Telnet, port: 23, style: banner, source: s}\n"   // 3
        "  - {protocol: Rlogin, port: 513, style: prompt}\n"             // 4
        "  - {protocol: Telnet2, port: 23, style: prompt, source: s}\n"  // 5
        "not_windows:\n"
        "  ntlm_build_below: {build: 2000, family: martian, version: x, source: s}\n"        // 7
        "  browser_server_type: {bits: '0x0', family: linux, version: Samba, source: s}\n";  // 8
    try {
        OsRules::parse(fp, "fp.yaml", eol, "eol.yaml");
        FAIL() << "bad rules were accepted";
    } catch (const RulesError& e) {
        std::string all = e.what();
        EXPECT_NE(all.find("fp.yaml:2: port must be a TCP port number"), std::string::npos) << all;
        EXPECT_NE(all.find("fp.yaml:3: style must be ftp or prompt, got 'banner'"),
                  std::string::npos)
            << all;
        EXPECT_NE(all.find("fp.yaml:4: missing 'source'"), std::string::npos) << all;
        EXPECT_NE(all.find("fp.yaml:5: port 23 is listed twice"), std::string::npos) << all;
        EXPECT_NE(all.find("fp.yaml:7: unknown family 'martian'"), std::string::npos) << all;
        EXPECT_NE(all.find("fp.yaml:8: bits must be a non-zero 32-bit number"), std::string::npos)
            << all;
    }
}

TEST(OsRules, BrokenNewRuleStopsCheckConfigNamingTheFile) {
    test::TempDir dir;
    std::filesystem::copy_file(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-eol.yaml",
                               dir / "os-eol.yaml");
    std::string fp = read(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-fingerprints.yaml");
    auto pos = fp.find("style: prompt");
    ASSERT_NE(pos, std::string::npos);
    fp.replace(pos, 13, "style: promtp");
    std::ofstream(dir / "os-fingerprints.yaml") << fp;
    int line = 1 + static_cast<int>(std::count(fp.begin(), fp.begin() + pos, '\n'));
    Config c =
        parse_config("os_fingerprint:\n  rules_dir: " + dir.path().string() + "\n", "t.yaml");
    try {
        prepare_config(c);
        FAIL() << "a broken cleartext_logins entry was accepted";
    } catch (const ConfigError& e) {
        std::string all = e.what();
        EXPECT_NE(all.find((dir / "os-fingerprints.yaml").string() + ":" + std::to_string(line) +
                           ": style must be ftp or prompt, got 'promtp'"),
                  std::string::npos)
            << all;
    }
}

TEST(OsRules, KnownNtVersionsComeFromTheRules) {
    // NT 4.0 is known because windows_versions maps it to a product (os-eol.yaml windows-nt-4).
    EXPECT_TRUE(shipped().known_nt("4.0"));
    EXPECT_TRUE(shipped().known_nt("10.0"));
    EXPECT_FALSE(shipped().known_nt("7.3"));
    auto v = infer_os({Observed{"os=4.0 type=0x00001003", "browser", 0, 0}}, {}, shipped());
    EXPECT_EQ(v.family, "windows");
    EXPECT_EQ(v.nt, "4.0");
    EXPECT_EQ(v.product, "windows-nt-4");
}
