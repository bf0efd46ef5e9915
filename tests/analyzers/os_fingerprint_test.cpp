// The OS fingerprint analyzer on packets: unit tests with built frames, then acceptance runs of
// the clinicwatch binary on the bench generator's capture and on the public captures (both
// skipped when ../shared is absent).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "analyzers/cleartext_login.hpp"
#include "analyzers/dispatcher.hpp"
#include "analyzers/legacy_protocols.hpp"
#include "analyzers/os_fingerprint.hpp"
#include "daemon/config.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::from_hex;

namespace {

struct CollectingSink : FindingSink {
    std::vector<AlertUpdate> alerts;
    void alert(AlertUpdate a) override { alerts.push_back(std::move(a)); }
    void minute(const MinuteStats&) override {}
    std::vector<AlertUpdate> of(const std::string& kind) const {
        std::vector<AlertUpdate> out;
        for (const auto& a : alerts)
            if (a.kind == kind) out.push_back(a);
        return out;
    }
};

OsRules load_rules() {
    return OsRules::load(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-fingerprints.yaml",
                         std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-eol.yaml");
}

// Ethernet + IPv4 + UDP/TCP around a payload (checksums are not checked by the decoder).
std::vector<std::uint8_t> frame(const char* src_mac, const char* dst_mac, const char* src_ip,
                                const char* dst_ip, bool tcp, std::uint16_t sport,
                                std::uint16_t dport, const std::vector<std::uint8_t>& payload,
                                std::uint8_t flags = 0x18, std::uint8_t ttl = 128) {
    std::vector<std::uint8_t> f;
    auto put_mac = [&](const char* m) {
        auto a = *MacAddress::parse(m);
        f.insert(f.end(), a.bytes.begin(), a.bytes.end());
    };
    put_mac(dst_mac);
    put_mac(src_mac);
    f.push_back(0x08);
    f.push_back(0x00);
    std::size_t l4 = tcp ? 20 : 8;
    std::size_t total = 20 + l4 + payload.size();
    std::uint8_t ip[20] = {0x45,
                           0,
                           static_cast<std::uint8_t>(total >> 8),
                           static_cast<std::uint8_t>(total),
                           0,
                           1,
                           0x40,
                           0,
                           ttl,
                           static_cast<std::uint8_t>(tcp ? 6 : 17),
                           0,
                           0};
    auto s = *IpAddress::parse(src_ip), d = *IpAddress::parse(dst_ip);
    std::copy(s.bytes.begin(), s.bytes.begin() + 4, ip + 12);
    std::copy(d.bytes.begin(), d.bytes.begin() + 4, ip + 16);
    f.insert(f.end(), ip, ip + 20);
    f.push_back(static_cast<std::uint8_t>(sport >> 8));
    f.push_back(static_cast<std::uint8_t>(sport));
    f.push_back(static_cast<std::uint8_t>(dport >> 8));
    f.push_back(static_cast<std::uint8_t>(dport));
    if (tcp) {
        std::uint8_t rest[16] = {0, 0, 0, 1, 0, 0, 0, 1, 0x50, flags, 0x20, 0x00, 0, 0, 0, 0};
        f.insert(f.end(), rest, rest + 16);
    } else {
        std::size_t len = 8 + payload.size();
        f.push_back(static_cast<std::uint8_t>(len >> 8));
        f.push_back(static_cast<std::uint8_t>(len));
        f.push_back(0);
        f.push_back(0);
    }
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
}

std::vector<std::uint8_t> text(std::string_view s) {
    return {s.begin(), s.end()};
}

// winxp_browser_dhcp_eapol.pcap, first HostAnnouncement (UDP 138 payload): DJP95S0J, OS 5.1.
const char* kBrowserXp =
    "110e8933a9fe43c2008a00bb0000204545454b4641444a444646444441454b43414341434143414341434143414341"
    "00"
    "204542464345434546454a4645464445484643464646414641454643414341424e00ff534d42250000000000000000"
    "00"
    "00000000000000000000000000000000000011000021000000000000000000e8030000000000000000210056000300"
    "01"
    "000000020032005c4d41494c534c4f545c42524f57534500010080fc0a00444a50393553304a000000000000010005"
    "01"
    "031001000f0155aa00";

constexpr Timestamp kNov20 = 1'795'132'800LL * kMicrosPerSecond;  // 2026-11-20 00:00 UTC

struct Rig {
    HostTable hosts{1000};
    CollectingSink sink;
    Dispatcher dispatcher{hosts};
    OsFingerprint* os = nullptr;
    Packet packet;
    explicit Rig(OsFingerprintSettings settings = {}) {
        OsRules rules = load_rules();
        LegacyProtocolsSettings legacy = legacy_protocols_settings(rules);
        legacy.internal_networks = settings.internal_networks;
        auto login = std::make_unique<CleartextLogin>(hosts, sink, rules.cleartext_logins,
                                                      settings.internal_networks);
        auto a =
            std::make_unique<OsFingerprint>(hosts, sink, std::move(rules), std::move(settings));
        os = a.get();
        auto l = std::make_unique<LegacyProtocols>(hosts, sink, std::move(legacy));
        os->publish_to(l.get());
        dispatcher.add(std::move(a));
        dispatcher.add(std::move(l));
        dispatcher.add(std::move(login));
    }
    void feed(Timestamp ts, const std::vector<std::uint8_t>& f) {
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(f.size()),
                      Bytes(f.data(), f.size()), packet);
        dispatcher.on_packet(packet);
    }
    Host* host(const char* mac) { return hosts.find(*MacAddress::parse(mac), 0); }
};

}  // namespace

TEST(OsFingerprint, SupportIsJudgedNoEarlierThanTheDayGiven) {
    // An XP announcement captured in 2010, replayed on 2026-11-20: supported then, past now.
    constexpr Timestamp kIn2010 = 1'262'304'000LL * kMicrosPerSecond;  // 2010-01-01
    auto payload = from_hex(kBrowserXp);
    auto f = frame("00:04:23:57:a5:7a", "ff:ff:ff:ff:ff:ff", "192.168.1.249", "192.168.1.255",
                   false, 138, 138, payload);
    for (Timestamp judge_from : {Timestamp{0}, kNov20}) {
        OsFingerprintSettings settings;
        settings.judge_support_no_earlier_than = judge_from;
        Rig rig(settings);
        rig.feed(kIn2010, f);
        rig.feed(kIn2010 + 2 * kMicrosPerSecond, f);  // the tick evaluates
        Host* h = rig.host("00:04:23:57:a5:7a");
        ASSERT_TRUE(h);
        EXPECT_EQ(h->os_version, "Windows XP");
        EXPECT_EQ(h->os_support, judge_from ? "past" : "supported");
        auto legacy = rig.sink.of("legacy-os");
        ASSERT_EQ(legacy.size(), judge_from ? 1u : 0u);
        if (judge_from) {
            EXPECT_EQ(legacy[0].evidence["support"]["days_past"], 4609);
        }
    }
}

TEST(OsFingerprint, BrowserAnnouncementNamesXpAndRaisesLegacyOsAtPacketTime) {
    Rig rig;
    auto payload = from_hex(kBrowserXp);
    auto f = frame("00:04:23:57:a5:7a", "ff:ff:ff:ff:ff:ff", "192.168.1.249", "192.168.1.255",
                   false, 138, 138, payload);
    rig.feed(kNov20, f);
    rig.feed(kNov20 + 2 * kMicrosPerSecond, f);  // the tick evaluates
    Host* h = rig.host("00:04:23:57:a5:7a");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->os_family, "windows");
    EXPECT_EQ(h->os_version, "Windows XP");
    EXPECT_EQ(h->os_support, "past");
    EXPECT_EQ(h->os_support_end, "2014-04-08");
    auto legacy = rig.sink.of("legacy-os");
    ASSERT_EQ(legacy.size(), 1u);
    EXPECT_EQ(legacy[0].severity, Severity::high);  // browser alone: 0.70, medium confidence
    EXPECT_EQ(legacy[0].evidence["support"]["days_past"], 4609);
    EXPECT_NE(legacy[0].summary.find("Windows XP"), std::string::npos);
    bool named = false;
    for (const auto& n : h->names) named |= n.value == "DJP95S0J";
    EXPECT_TRUE(named);
}

TEST(OsFingerprint, EvaluatesAtMostOncePerSecondPerHost) {
    Rig rig;
    auto ua = [](int i) {
        return text("GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: Microsoft-CryptoAPI/6.1\r\nX: " +
                    std::to_string(i) + "\r\n\r\n");
    };
    for (int i = 0; i < 5000; ++i)
        rig.feed(kNov20 + i * 100,
                 frame("f4:6e:24:19:c2:7b", "00:a0:de:6e:21:4c", "192.168.100.109", "23.54.157.30",
                       true, 50000, 80, ua(i)));
    // 5000 packets over half a second of packet time: at most one evaluation so far.
    EXPECT_LE(rig.os->evaluations(), 1u);
    rig.dispatcher.finish();
    EXPECT_EQ(rig.os->evaluations(), 1u);
    EXPECT_EQ(rig.host("f4:6e:24:19:c2:7b")->os_version, "Windows 7 or Server 2008 R2");
}

TEST(OsFingerprint, IgnoresEvidenceFromRoutedAddresses) {
    Rig rig;
    auto resp = text("HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/6.0\r\n\r\n");
    // CATALOG iis6 capture: the IIS 6.0 server is on the internet, behind the gateway's MAC.
    rig.feed(kNov20, frame("00:19:e3:e7:5d:23", "00:08:74:38:01:b4", "208.111.129.62",
                           "192.168.1.105", true, 80, 50000, resp));
    rig.dispatcher.finish();
    Host* gw = rig.host("00:19:e3:e7:5d:23");
    ASSERT_TRUE(gw);
    EXPECT_TRUE(gw->evidence.empty());
    EXPECT_EQ(gw->os_family, "");
}

TEST(OsFingerprint, TelnetLoginIsReportedWithoutThePassword) {
    Rig rig;
    const char* client = "00:a0:cc:3b:bf:fa";
    const char* server = "58:38:79:a2:10:6f";
    rig.feed(kNov20,
             frame(server, client, "192.168.0.1", "192.168.0.2", true, 23, 1050, text("login: ")));
    rig.feed(kNov20 + 1,
             frame(client, server, "192.168.0.2", "192.168.0.1", true, 1050, 23, text("fake\r\n")));
    EXPECT_TRUE(rig.sink.of("cleartext-login").empty());
    rig.feed(kNov20 + 2, frame(server, client, "192.168.0.1", "192.168.0.2", true, 23, 1050,
                               text("Password:")));
    rig.feed(kNov20 + 3,
             frame(client, server, "192.168.0.2", "192.168.0.1", true, 1050, 23, text("user\r\n")));
    rig.feed(kNov20 + 4,
             frame(client, server, "192.168.0.2", "192.168.0.1", true, 1050, 23, text("ls\r\n")));
    auto a = rig.sink.of("cleartext-login");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].evidence["protocol"], "Telnet");
    EXPECT_EQ(a[0].subject_mac->to_string(), server);
    EXPECT_EQ(a[0].evidence.dump().find("user\\r"), std::string::npos);
}

TEST(OsFingerprint, FtpLoginKeepsUserNotPassword) {
    Rig rig;
    const char* c = "00:0c:29:12:34:56";
    const char* s = "00:0c:29:87:65:43";
    rig.feed(kNov20, frame(c, s, "10.0.0.5", "10.0.0.9", true, 40000, 21, text("USER admin\r\n")));
    rig.feed(kNov20 + 1,
             frame(c, s, "10.0.0.5", "10.0.0.9", true, 40000, 21, text("PASS ricoh2020\r\n")));
    auto a = rig.sink.of("cleartext-login");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].evidence["user"], "admin");
    EXPECT_EQ(a[0].evidence.dump().find("ricoh2020"), std::string::npos);
    EXPECT_EQ(a[0].summary.find("ricoh2020"), std::string::npos);
}

TEST(OsFingerprint, HeaderBytesThatAreNotUtf8AreStoredSafely) {
    // A User-Agent a rule understands, with a byte that is not UTF-8 (0x91) and long enough to
    // be cut (the cut used to fall inside a character too): the evidence is stored made safe,
    // and judging the host no longer throws from the explanation's JSON (found by the
    // app_layer fuzz target; the exception ended the analysis thread).
    Rig rig;
    std::string ua = "Mozilla/5.0 (Windows NT 6.1; \x91";
    for (int i = 0; i < 40; ++i) ua += "\xe3\x81\x82";  // a Japanese character, 3 bytes
    rig.feed(kNov20, frame("f4:6e:24:19:c2:7b", "00:a0:de:6e:21:4c", "192.168.100.109",
                           "23.54.157.30", true, 50000, 80,
                           text("GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: " + ua + "\r\n\r\n")));
    EXPECT_NO_THROW(rig.dispatcher.finish());
    const Host* h = rig.host("f4:6e:24:19:c2:7b");
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->os_family, "windows");
    bool found = false;
    for (const auto& e : h->evidence) {
        if (e.source != "http-ua") continue;
        found = true;
        EXPECT_EQ(e.value.rfind("Mozilla/5.0 (Windows NT 6.1; ?", 0), 0u) << e.value;
        EXPECT_NO_THROW((void)nlohmann::json(e.value).dump()) << e.value;
    }
    EXPECT_TRUE(found);
}

TEST(OsFingerprint, InternetExplorerAndSmb1Findings) {
    Rig rig;
    rig.feed(kNov20,
             frame("12:a9:86:6c:77:de", "52:54:00:36:3e:ff", "192.168.100.206", "8.8.8.8", true,
                   50001, 80,
                   text("GET / HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (Windows NT 6.1; Trident/7.0; "
                        "rv:11.0) like Gecko\r\nHost: x\r\n\r\n")));
    ASSERT_EQ(rig.sink.of("internet-explorer").size(), 1u);
    // The client has spoken before (the dispatcher knows a host once it sends).
    rig.feed(kNov20 + 9, frame("0a:00:27:00:00:00", "08:00:27:46:28:0b", "192.168.56.1",
                               "192.168.56.101", true, 49000, 445, {}, 0x10));
    // An SMB1 NEGOTIATE response: the server chose an SMB1 dialect.
    std::vector<std::uint8_t> smb = {0xff, 'S', 'M', 'B', 0x72, 0, 0, 0, 0, 0x98};
    smb.resize(32, 0);
    smb.push_back(17);
    smb.push_back(5);  // dialect index
    smb.resize(smb.size() + 33, 0);
    std::vector<std::uint8_t> nbss = {0, 0, 0, static_cast<std::uint8_t>(smb.size())};
    nbss.insert(nbss.end(), smb.begin(), smb.end());
    rig.feed(kNov20 + 10, frame("08:00:27:46:28:0b", "0a:00:27:00:00:00", "192.168.56.101",
                                "192.168.56.1", true, 445, 49000, nbss));
    auto smb1 = rig.sink.of("smb1-in-use");
    ASSERT_EQ(smb1.size(), 2u);  // the server and its client
}

// ---- acceptance with the clinicwatch binary

namespace {

nlohmann::json run_json(const std::string& args) {
    std::string out;
    int rc = clinicwatch::test::run_command(std::string(CLINICWATCH_BINARY) + " " + args, &out);
    EXPECT_EQ(rc, 0) << out;
    auto start = out.find('[');
    return nlohmann::json::parse(start == std::string::npos ? std::string("[]") : out.substr(start),
                                 nullptr, false);
}

struct Replayed {
    nlohmann::json assets, alerts;
    const nlohmann::json* asset(const std::string& mac) const {
        for (const auto& a : assets)
            if (a["mac"] == mac) return &a;
        return nullptr;
    }
    std::string os(const std::string& mac) const {
        auto* a = asset(mac);
        return a ? (*a)["os_family"].get<std::string>() + "|" +
                       (*a)["os_version"].get<std::string>()
                 : "(absent)";
    }
    std::vector<nlohmann::json> alerts_of(const std::string& kind, const std::string& mac) const {
        std::vector<nlohmann::json> out;
        for (const auto& a : alerts)
            if (a["kind"] == kind && (mac.empty() || a["subject_mac"] == mac)) out.push_back(a);
        return out;
    }
};

Replayed replay(const clinicwatch::test::TempDir& dir, const std::string& pcap) {
    std::string db = (dir / "os.db").string();
    std::filesystem::remove(db);
    std::string out;
    int rc = clinicwatch::test::run_command(
        std::string(CLINICWATCH_BINARY) + " replay --no-progress --db " + db + " '" + pcap + "'",
        &out);
    EXPECT_EQ(rc, 0) << out;
    return {run_json("assets --json --db " + db), run_json("alerts --json --db " + db)};
}

}  // namespace

TEST(OsFingerprintAcceptance, ClinicBenchEveryFamilyAndLegacyFlags) {
    auto shared = clinicwatch::test::shared_dir();
    if (!shared || !std::filesystem::exists(*shared / "bench/make-clinic-pcap"))
        GTEST_SKIP() << "../shared/bench/make-clinic-pcap is not available";
    clinicwatch::test::TempDir dir;
    std::string out;
    ASSERT_EQ(clinicwatch::test::run_command(
                  "python3 '" + (*shared / "bench/make-clinic-pcap").string() + "' --out " +
                      (dir / "clinic.pcap").string() + " --truth " + (dir / "truth.json").string(),
                  &out),
              0)
        << out;
    std::ifstream truth_in(dir / "truth.json");
    auto truth = nlohmann::json::parse(truth_in);
    Replayed r = replay(dir, (dir / "clinic.pcap").string());
    // Hosts that send nothing but ARP (and, for the gateway, DNS and DHCP server answers) carry
    // no OS evidence until the inventory supplies their vendor name (rule vendor-*).
    const std::set<std::string> no_evidence_roles = {"router", "spare-router", "label-printer"};
    int guessed = 0;
    for (const auto& h : truth["hosts"]) {
        std::string mac = h["mac"];
        const auto* a = r.asset(mac);
        ASSERT_TRUE(a) << mac;
        std::string family = (*a)["os_family"];
        if (family.empty()) {
            EXPECT_TRUE(no_evidence_roles.count(h["role"].get<std::string>()))
                << mac << " " << h["role"];
            continue;
        }
        ++guessed;
        EXPECT_EQ(family, h["os_family"].get<std::string>())
            << mac << " " << h["os"] << " -> " << r.os(mac);
        bool legacy_alert = !r.alerts_of("legacy-os", mac).empty();
        if (!h["legacy"].get<bool>()) {
            EXPECT_FALSE(legacy_alert) << mac << " " << h["os"] << " is in support";
        }
    }
    EXPECT_GE(guessed, 23);
    auto version_of = [&](const std::string& role) {
        for (const auto& h : truth["hosts"])
            if (h["role"] == role) return std::string(h["mac"]);
        return std::string();
    };
    std::string reception = version_of("reception"), ehr = version_of("ehr-server");
    EXPECT_EQ(r.os(reception), "windows|Windows 7 (build 7601)");
    EXPECT_EQ(r.os(ehr), "windows|Windows Server 2008 R2 (build 7601)");
    for (const auto& mac : {reception, ehr}) {
        auto legacy = r.alerts_of("legacy-os", mac);
        ASSERT_EQ(legacy.size(), 1u) << mac;
        EXPECT_EQ(legacy[0]["severity"], "high");
        EXPECT_NE(legacy[0]["evidence"]["version"].get<std::string>().find("7"), std::string::npos);
    }
    // Windows 10 22H2 is past support, with the paid-ESU note.
    for (const auto& h : truth["hosts"])
        if (h["os"] == "Windows 10 Pro 22H2") {
            auto legacy = r.alerts_of("legacy-os", h["mac"]);
            ASSERT_EQ(legacy.size(), 1u);
            EXPECT_NE(legacy[0]["summary"].get<std::string>().find("Extended Security Updates"),
                      std::string::npos);
        }
    EXPECT_FALSE(r.alerts_of("cleartext-login", "").empty());
    EXPECT_FALSE(r.alerts_of("legacy-tls", reception).empty());
    // assets --why prints the evidence.
    std::string why;
    ASSERT_EQ(clinicwatch::test::run_command(std::string(CLINICWATCH_BINARY) + " assets --db " +
                                                 (dir / "os.db").string() + " --why " + ehr,
                                             &why),
              0);
    EXPECT_NE(why.find("Windows Server 2008 R2"), std::string::npos) << why;
    EXPECT_NE(why.find("[ntlmssp] 6.1.7601 challenge"), std::string::npos) << why;
    EXPECT_NE(why.find("2020-01-14"), std::string::npos) << why;
}

TEST(OsFingerprintAcceptance, PublicCapturesFromCatalog) {
    if (!clinicwatch::test::shared_pcap("CATALOG.md"))
        GTEST_SKIP() << "../shared/pcaps is not available";
    clinicwatch::test::TempDir dir;
    auto run = [&](const char* name) {
        return replay(dir, clinicwatch::test::shared_pcap(name)->string());
    };
    {
        auto r = run("winxp_browser_dhcp_eapol.pcap");
        EXPECT_EQ(r.os("00:04:23:57:a5:7a"), "windows|Windows XP");
        // Captured in 2004, when XP was still supported; judged today, it is past its end.
        EXPECT_EQ(r.alerts_of("legacy-os", "00:04:23:57:a5:7a").size(), 1u);
        EXPECT_EQ((*r.asset("00:04:23:57:a5:7a"))["os_support"], "past");
    }
    {
        auto r = run("winxp_smb1_ntlmssp_browser.pcap");
        EXPECT_EQ(r.os("08:00:27:46:28:0b"), "windows|Windows XP (build 2600)");
        // The trap: a Mac sending NTLMSSP 6.1.7600 is not Windows 7.
        EXPECT_EQ(r.os("0a:00:27:00:00:00").rfind("macos|", 0), 0u) << r.os("0a:00:27:00:00:00");
        EXPECT_TRUE(r.alerts_of("legacy-os", "0a:00:27:00:00:00").empty());
        EXPECT_EQ(r.alerts_of("legacy-os", "08:00:27:46:28:0b").size(), 1u);
        EXPECT_FALSE(r.alerts_of("smb1-in-use", "08:00:27:46:28:0b").empty());
    }
    {
        auto r = run("winxp_sp2_win2000_smb1_native_os.pcap");
        // The client's Native OS spans two segments (first segments only are parsed): XP comes
        // from its SMB1-only dialect list and SYN shape.
        EXPECT_EQ(r.os("00:0f:1f:81:2f:18"), "windows|Windows XP");
        EXPECT_EQ(r.os("00:0e:62:eb:22:01"), "windows|Windows 2000");
        for (const char* mac : {"00:0f:1f:81:2f:18", "00:0e:62:eb:22:01"})
            EXPECT_EQ(r.alerts_of("legacy-os", mac).size(), 1u) << mac;
    }
    {
        auto r = run("vista_2008_ntlmssp_6001_smb2.pcap");
        for (const char* mac : {"00:0c:29:6b:99:0f", "00:0c:29:4e:b0:d0"}) {
            EXPECT_NE(r.os(mac).find("(build 6001)"), std::string::npos) << r.os(mac);
            EXPECT_TRUE(r.os(mac).find("Vista") != std::string::npos ||
                        r.os(mac).find("2008") != std::string::npos);
            EXPECT_EQ(r.alerts_of("legacy-os", mac).size(), 1u) << mac;
        }
    }
    {
        auto r = run("server2008r2_smb1_native_os_ntlmssp.pcap");
        EXPECT_EQ(r.os("00:1d:09:5b:d6:84"), "windows|Windows Server 2008 R2 (build 7601)");
        EXPECT_EQ(r.alerts_of("legacy-os", "00:1d:09:5b:d6:84").size(), 1u);
        EXPECT_TRUE(r.alerts_of("legacy-os", "00:08:02:1c:47:ae").empty());
        EXPECT_EQ(r.os("00:08:02:1c:47:ae").rfind("linux|", 0), 0u) << r.os("00:08:02:1c:47:ae");
    }
    {
        auto r = run("win7_browser_cryptoapi_ua_stp_tc_llmnr.pcap");
        EXPECT_EQ(r.os("12:a9:86:6c:77:de"), "windows|Windows 7");
        EXPECT_EQ(r.alerts_of("legacy-os", "12:a9:86:6c:77:de").size(), 1u);
        EXPECT_EQ(r.alerts_of("internet-explorer", "12:a9:86:6c:77:de").size(), 1u);
        EXPECT_EQ(r.os("52:54:00:36:3e:ff").find("windows"), std::string::npos);  // the gateway
    }
    {
        auto r = run("winxp_win2000_browser_dhcp_smb_to_internet.pcap");
        EXPECT_EQ(r.os("00:60:97:0f:ee:72"), "windows|Windows XP");
        EXPECT_EQ(r.os("00:e0:ed:01:6e:bd"), "windows|Windows 2000");
        for (const char* mac : {"00:60:97:0f:ee:72", "00:e0:ed:01:6e:bd"})
            EXPECT_EQ(r.alerts_of("legacy-os", mac).size(), 1u) << mac;
    }
    {
        auto r = run("winxp_ie6_useragent_http.pcapng");
        EXPECT_EQ(r.os("00:0c:29:07:ae:27"), "windows|Windows XP");
        EXPECT_EQ(r.alerts_of("internet-explorer", "00:0c:29:07:ae:27").size(), 1u);
    }
    {
        auto r = run("win2003_nt52_useragent_http.pcap");
        EXPECT_EQ(r.os("00:26:ca:1f:cd:40"), "windows|Windows XP x64 or Server 2003");
        EXPECT_EQ(r.alerts_of("legacy-os", "00:26:ca:1f:cd:40").size(), 1u);
    }
    {
        auto r = run("win7_firefox_useragent_http.pcapng");
        EXPECT_EQ(r.os("00:21:6a:5b:7d:4a"), "windows|Windows 7 or Server 2008 R2");
        EXPECT_EQ(r.alerts_of("legacy-os", "00:21:6a:5b:7d:4a").size(), 1u);
    }
    {
        auto r = run("iis6_server_header_duplicated_frames.pcap");
        EXPECT_EQ(r.os("00:19:e3:e7:5d:23").find("2003"), std::string::npos);  // internet server
        EXPECT_EQ(r.os("00:08:74:38:01:b4").rfind("windows|", 0), 0u) << r.os("00:08:74:38:01:b4");
    }
    {
        auto r = run("tls10_clienthello.pcap");
        EXPECT_EQ(r.alerts_of("legacy-tls", "68:a8:6d:18:69:0e").size(), 1u);
        auto r11 = run("tls11_clienthello.pcap");
        EXPECT_EQ(r11.alerts_of("legacy-tls", "78:31:c1:c6:3f:c2").size(), 1u);
        auto r13 = run("tls13_clienthello.pcap");
        EXPECT_TRUE(r13.alerts_of("legacy-tls", "").empty());
    }
    {
        auto r = run("telnet_session.pcap");
        auto a = r.alerts_of("cleartext-login", "");
        ASSERT_EQ(a.size(), 1u);
        EXPECT_EQ(a[0]["evidence"]["protocol"], "Telnet");
        EXPECT_EQ(a[0].dump().find("\"user\""), std::string::npos);
    }
    {
        auto r = run("ssh_cisco_ssh199_banner.pcap");
        EXPECT_EQ(r.os("fa:16:3e:14:a2:ab").rfind("embedded|", 0), 0u) << r.os("fa:16:3e:14:a2:ab");
    }
}

TEST(OsFingerprintConfig, SectionIsValidated) {
    auto c = parse_config("os_fingerprint:\n  enabled: false\n  rules_dir: /tmp/rules\n", "t.yaml");
    EXPECT_FALSE(c.os_fingerprint.enabled);
    EXPECT_EQ(c.os_fingerprint.rules_dir, "/tmp/rules");
    try {
        parse_config("os_fingerprint:\n  enabled: maybe\n  colour: red\n", "t.yaml");
        FAIL() << "accepted a bad os_fingerprint section";
    } catch (const ConfigError& e) {
        std::string all = e.what();
        EXPECT_NE(all.find("t.yaml:2: os_fingerprint.enabled"), std::string::npos) << all;
        EXPECT_NE(all.find("os_fingerprint.colour: unknown setting"), std::string::npos) << all;
    }
}
