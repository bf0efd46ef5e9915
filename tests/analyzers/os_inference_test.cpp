// The rules files and the inference rules, without packets: evidence in, verdict out.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyzers/os_inference.hpp"
#include "analyzers/os_rules.hpp"

using namespace clinicwatch;

namespace {

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const OsRules& rules() {
    static const OsRules r =
        OsRules::load(std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-fingerprints.yaml",
                      std::string(CLINICWATCH_SOURCE_DIR) + "/rules/os-eol.yaml");
    return r;
}

Observed ev(std::string source, std::string value) {
    return Observed{std::move(value), std::move(source), 0, 0};
}

OsVerdict infer(std::vector<Observed> evidence, std::vector<std::uint16_t> services = {}) {
    return infer_os(evidence, services, rules());
}

Day day(const char* iso) {
    return *parse_day(iso);
}

}  // namespace

TEST(OsRules, ShippedRulesLoadAndEveryEntryHasASource) {
    const auto& r = rules();
    EXPECT_GT(r.products.size(), 60u);
    EXPECT_GT(r.patterns.size(), 80u);
    EXPECT_GT(r.tcp.size(), 20u);
    for (const auto& p : r.products) EXPECT_FALSE(p.source.empty()) << p.id;
    for (const auto& p : r.patterns) EXPECT_FALSE(p.source.empty()) << p.id;
    for (const auto& t : r.tcp) EXPECT_FALSE(t.source.empty()) << t.label;
    for (const auto& w : r.windows_versions) EXPECT_TRUE(r.product(w.product)) << w.product;
    ASSERT_TRUE(r.product("windows-7"));
    EXPECT_EQ(format_day(*r.product("windows-7")->end_of_support), "2020-01-14");
    EXPECT_EQ(format_day(*r.product("windows-server-2008-r2")->end_of_support), "2020-01-14");
    EXPECT_EQ(format_day(*r.product("windows-10-22h2")->end_of_support), "2025-10-14");
}

TEST(OsRules, RejectsBadEntriesWithFileAndLine) {
    std::string eol =
        "products:\n  - {id: a, name: A, family: windows, end_of_support: 2020-13-01, source: s}\n"
        "  - {id: b, name: B, family: martian, source: s}\n"
        "  - {id: c, name: C, family: linux}\n";
    std::string fp =
        "patterns:\n  - {id: x, evidence: http-ua, regex: '([', os: {family: windows}, source: s}\n"
        "  - {id: y, evidence: http-ua, prefix: a, equals: b, os: {family: windows}, source: s}\n"
        "tcp:\n  - {label: t, family: windows, sig: '*:128:0:*:8192', source: s}\n"
        "windows_versions:\n  - {nt: '6.1', product: nope, source: s}\n";
    try {
        OsRules::parse(fp, "fp.yaml", eol, "eol.yaml");
        FAIL() << "bad rules were accepted";
    } catch (const RulesError& e) {
        std::string all = e.what();
        EXPECT_NE(all.find("eol.yaml:2: 'end_of_support' must be a date"), std::string::npos)
            << all;
        EXPECT_NE(all.find("eol.yaml:3"), std::string::npos) << all;  // unknown family
        EXPECT_NE(all.find("eol.yaml:4: missing 'source'"), std::string::npos) << all;
        EXPECT_NE(all.find("fp.yaml:2"), std::string::npos) << all;  // bad regex
        EXPECT_NE(all.find("fp.yaml:3: give exactly one of"), std::string::npos) << all;
        EXPECT_NE(all.find("fp.yaml:5"), std::string::npos) << all;  // bad signature
        EXPECT_NE(all.find("product 'nope' is not in eol.yaml"), std::string::npos) << all;
    }
}

TEST(OsRules, TcpSignatureGrammar) {
    std::string err;
    auto s = TcpSignature::parse("*:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0", &err);
    ASSERT_TRUE(s) << err;
    EXPECT_EQ(s->ittl, 64);
    EXPECT_EQ(s->window, TcpSignature::Window::mss_multiple);
    EXPECT_EQ(s->wsize, 20);
    EXPECT_EQ(s->scale, 10);
    EXPECT_EQ(s->layout, (std::vector<std::uint8_t>{2, 4, 8, 1, 3}));
    auto eol =
        TcpSignature::parse("*:64:0:*:65535,1:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0", &err);
    ASSERT_TRUE(eol);
    EXPECT_EQ(eol->layout.back(), 0);
    EXPECT_FALSE(TcpSignature::parse("*:64:0:*:65535,1:mss,bogus:df:0", &err));
    EXPECT_FALSE(TcpSignature::parse("*:64:0", &err));
    // Observation round trip and matching: Windows 7's SYN (CATALOG win7 capture).
    TcpObservation o;
    o.ttl = 127;
    o.mss = 1460;
    o.window = 8192;
    o.scale = 8;
    o.layout = {2, 1, 3, 1, 1, 4};
    auto back = TcpObservation::parse(o.to_string());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->layout, o.layout);
    EXPECT_EQ(back->initial_ttl(), 128);
    auto claims = claims_for(Observed{o.to_string(), "tcp-syn", 0, 0}, rules());
    ASSERT_EQ(claims.size(), 1u);
    EXPECT_EQ(claims[0].family, "windows");
    EXPECT_EQ(claims[0].rule, "Windows 7 or 8");
}

TEST(OsRules, ReadsDebianP0fDatabaseWhenInstalled) {
    const std::string path = "/etc/p0f/p0f.fp";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "Debian's p0f package is not installed";
    OsRules r = rules();
    std::size_t before = r.tcp.size();
    std::size_t added = r.add_p0f(read(path), path);
    EXPECT_GT(added, 50u);
    EXPECT_EQ(r.tcp.size(), before + added);
    bool xp = false, linux = false;
    for (const auto& t : r.tcp) {
        xp |= t.from_p0f && t.label == "Windows XP" && !t.response;
        linux |= t.from_p0f && t.family == "linux" && t.response;
    }
    EXPECT_TRUE(xp);
    EXPECT_TRUE(linux);
}

TEST(OsRules, P0fReaderSkipsBadLinesWithLineNumbers) {
    OsRules r = rules();
    std::size_t before = r.tcp.size();
    std::string text =
        "; comment\nclasses = win,unix\n[mtu]\nlabel = Ethernet\nsig = 1500\n[tcp:request]\n"
        "label = s:win:Windows:XP\nsig = *:128:0:*:65535,0:mss,nop,nop,sok:df,id+:0\n"
        "sig = *:128:0:*:65535,0:mss,warp:df,id+:0\nlabel = broken\nsig = *:64:0:*:*,*:mss::0\n"
        "label = s:unix:Linux:2.6.x\nsys = Linux\nsig = "
        "*:64:0:*:mss*4,7:mss,sok,ts,nop,ws:df,id+:0\n"
        "[tcp:response]\nlabel = g:!:NMap:SYN scan\nsig = *:64-:0:1460:1024,0:mss::0\n";
    EXPECT_EQ(r.add_p0f(text, "test.fp"), 2u);
    EXPECT_EQ(r.tcp.size(), before + 2);
    ASSERT_EQ(r.warnings.size(), 3u);
    EXPECT_EQ(r.warnings[0].rfind("test.fp:9:", 0), 0u) << r.warnings[0];
    EXPECT_EQ(r.warnings[1].rfind("test.fp:10:", 0), 0u) << r.warnings[1];
}

TEST(OsInference, Windows7ClientFromBrowserAndNtlm) {
    auto v = infer({ev("browser", "os=6.1 type=0x00011003"), ev("ntlmssp", "6.1.7601 authenticate"),
                    ev("http-ua", "Microsoft-CryptoAPI/6.1")});
    EXPECT_EQ(v.family, "windows");
    EXPECT_EQ(v.product, "windows-7");
    EXPECT_EQ(v.build, 7601);
    EXPECT_EQ(v.role, "client");
    EXPECT_EQ(v.level, "high");
    EXPECT_TRUE(v.conflicts.empty());
    auto s = support_status(v, rules(), day("2026-11-20"));
    EXPECT_EQ(s.state, SupportStatus::State::past);
    EXPECT_EQ(s.days, day("2026-11-20") - day("2020-01-14"));
}

TEST(OsInference, Server2008R2FromBrowserServerBitsOrNativeOs) {
    auto by_bits =
        infer({ev("browser", "os=6.1 type=0x00059003"), ev("ntlmssp", "6.1.7601 challenge")});
    EXPECT_EQ(by_bits.product, "windows-server-2008-r2");
    EXPECT_EQ(by_bits.role, "server");
    auto by_os =
        infer({ev("smb-native-os", "Windows Server 2008 R2 Standard 7601 Service Pack 1")});
    EXPECT_EQ(by_os.product, "windows-server-2008-r2");
    EXPECT_EQ(by_os.build, 7601);
    // Without anything that tells client from server, both are named.
    auto unknown = infer({ev("ntlmssp", "6.1.7601 challenge")});
    EXPECT_EQ(unknown.product, "windows-7-or-2008-r2");
    EXPECT_EQ(unknown.version, "Windows 7 or Server 2008 R2");
}

TEST(OsInference, Windows10Or11WithoutBuildAndBuildsWhenSeen) {
    auto v = infer({ev("http-ua", "Microsoft-CryptoAPI/10.0"), ev("dhcp", "60=MSFT 5.0")});
    EXPECT_EQ(v.family, "windows");
    EXPECT_EQ(v.version, "Windows 10 or 11");
    // 要確認: possibly Windows 10, whose support ended 2025-10-14; the build would settle it.
    auto unsure = support_status(v, rules(), day("2026-11-20"));
    EXPECT_EQ(unsure.state, SupportStatus::State::check);
    EXPECT_EQ(format_day(unsure.end), "2025-10-14");
    EXPECT_EQ(support_status(v, rules(), day("2025-06-01")).state, SupportStatus::State::unknown);
    auto w10 = infer({ev("ntlmssp", "10.0.19045 negotiate")});
    EXPECT_EQ(w10.product, "windows-10-22h2");
    auto s = support_status(w10, rules(), day("2026-11-20"));
    EXPECT_EQ(s.state, SupportStatus::State::past);
    ASSERT_TRUE(s.entry && s.entry->extended_until);  // paid ESU may apply
    EXPECT_EQ(infer({ev("ntlmssp", "10.0.22631 negotiate")}).product, "windows-11-23h2");
    // 19044 is LTSC 2021 (ends 2027-01-12, IoT 2032) or the GA 21H2 that ended 2024-06-11:
    // 要確認 with the earliest end, until the edition is known.
    auto ltsc = infer({ev("ntlmssp", "10.0.19044 negotiate")});
    auto ltsc_state = support_status(ltsc, rules(), day("2026-11-20"));
    EXPECT_EQ(ltsc_state.state, SupportStatus::State::check);
    EXPECT_EQ(format_day(ltsc_state.end), "2024-06-11");
    EXPECT_EQ(support_status(ltsc, rules(), day("2024-01-01")).state,
              SupportStatus::State::supported);
    auto srv2016 = infer({ev("smb-native-os", "Windows Server 2016 Standard 14393")});
    EXPECT_EQ(srv2016.product, "windows-server-2016");
    EXPECT_EQ(support_status(srv2016, rules(), day("2026-11-20")).state,
              SupportStatus::State::ending_soon);
}

TEST(OsInference, SambaChallengeSaysNt61Build0ButIsNotWindows) {
    auto v = infer({ev("ntlmssp", "6.1.0 challenge"), ev("browser", "os=4.9 type=0x00819a03"),
                    ev("ssdp-server", "Synology/DSM/192.168.100.13")});
    EXPECT_EQ(v.family, "linux");
    for (const auto& c : v.support) EXPECT_NE(c.family, "windows");
}

TEST(OsInference, MacSendingNtlm617600IsNotWindows7) {
    // CATALOG winxp_smb1_ntlmssp_browser: Mac OS X 10.10 client with NTLMSSP 6.1.7600.
    auto v = infer({ev("ntlmssp", "6.1.7600 negotiate"), ev("ntlmssp", "6.1.7600 authenticate"),
                    ev("smb-native-os", "Mac OS X 10.10"), ev("smb-native-lanman", "SMBFS 3.0.0"),
                    ev("tcp-syn", "syn 4:64:0:1460:65535,3:mss,nop,ws,nop,nop,ts,sok,eol+0:df:0")});
    EXPECT_EQ(v.family, "macos");
    EXPECT_FALSE(v.conflicts.empty());  // the NTLMSSP claim is shown as a conflict
    EXPECT_LT(v.confidence, 0.95);
}

TEST(OsInference, ConflictingEvidenceLowersConfidenceAndIsShown) {
    auto clean = infer(
        {ev("browser", "os=5.1 type=0x00011003"), ev("dhcp", "55=1,15,3,6,44,46,47,31,33,249,43")});
    auto mixed = infer(
        {ev("browser", "os=5.1 type=0x00011003"), ev("dhcp", "55=1,15,3,6,44,46,47,31,33,249,43"),
         ev("http-ua", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")});
    EXPECT_EQ(clean.product, "windows-xp");
    EXPECT_EQ(mixed.product, "windows-xp");
    EXPECT_LT(mixed.confidence, clean.confidence);
    ASSERT_EQ(mixed.conflicts.size(), 1u);
    EXPECT_EQ(mixed.conflicts[0].family, "linux");
}

TEST(OsInference, TcpAloneStaysLow) {
    auto v = infer({ev("tcp-syn", "syn 4:128:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df:0"),
                    ev("tcp-syn", "synack 4:128:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df:0")});
    EXPECT_EQ(v.family, "windows");
    EXPECT_EQ(v.level, "low");
    EXPECT_LE(v.confidence, 0.5);
    // Samba on Linux with a TTL of 128 (CATALOG server2008r2 capture): SMB says Unix.
    auto samba = infer({ev("tcp-syn", "syn 4:128:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df:0"),
                        ev("smb-native-os", "Unix"), ev("smb-native-lanman", "Samba")});
    EXPECT_EQ(samba.family, "linux");
}

TEST(OsInference, UserAgentsDhcpBannersAndSsdp) {
    EXPECT_EQ(
        infer({ev("http-ua", "Dalvik/2.1.0 (Linux; U; Android 13; SC-51C Build/AP2A.240905.003)")})
            .product,
        "android-13");
    EXPECT_EQ(infer({ev("dhcp", "60=android-dhcp-14")}).product, "android-14");
    EXPECT_EQ(infer({ev("dhcp", "55=1,121,3,6,15,108,114,119,252")}).family, "ios");
    EXPECT_EQ(infer({ev("ssh", "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5")}).product,
              "ubuntu-20.04");
    EXPECT_EQ(infer({ev("http-ua", "Debian APT-HTTP/1.3 (2.4.13)")}).product, "ubuntu-22.04");
    EXPECT_EQ(infer({ev("http-server", "Microsoft-IIS/6.0")}).product, "windows-server-2003");
    EXPECT_EQ(
        infer({ev("http-ua", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)")}).product,
        "windows-xp");
    EXPECT_EQ(
        infer({ev("http-ua", "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko")}).nt,
        "6.1");
    EXPECT_EQ(infer({ev("http-ua", "Microsoft-CryptoAPI/5.131.2600")}).product, "windows-xp");
    EXPECT_EQ(infer({ev("ssh", "SSH-1.99-Cisco-1.25")}).family, "embedded");
    EXPECT_EQ(infer({ev("l2", "stp-bpdu")}).family, "embedded");
    auto nls = infer(
        {ev("ssdp-server", "Microsoft-Windows-NT/5.1 UPnP/1.0 UPnP-Device-Host/1.0 (01-NLS)")});
    EXPECT_EQ(nls.family, "windows");
    EXPECT_NE(nls.nt, "5.1");  // NT/5.1 with 01-NLS is Vista/7, not XP
    EXPECT_EQ(infer({ev("smb-native-os", "Windows 5.0")}).product, "windows-2000");
    EXPECT_EQ(infer({}).family, "");
    EXPECT_EQ(infer({}, {}).level, "");
    EXPECT_EQ(infer_os({}, {}, rules(), "YAMAHA CORPORATION").family, "embedded");
}

TEST(OsInference, ServicesMarkServerRole) {
    auto v = infer({ev("ntlmssp", "10.0.17763 challenge")}, {88, 389, 445});
    EXPECT_EQ(v.product, "windows-server-2019");
}

TEST(OsSupport, DatesAndEndingSoon) {
    EXPECT_EQ(format_day(day("2020-01-14")), "2020-01-14");
    EXPECT_EQ(day("1970-01-01"), 0);
    EXPECT_FALSE(parse_day("2020-1-14"));
    OsVerdict v;
    v.family = "windows";
    v.product = "windows-server-2016";
    auto s = support_status(v, rules(), day("2026-11-24"));
    EXPECT_EQ(s.state, SupportStatus::State::ending_soon);
    EXPECT_EQ(s.days, day("2027-01-12") - day("2026-11-24"));
    // The last day is still supported; the day after is not.
    v.product = "windows-7";
    EXPECT_EQ(support_status(v, rules(), day("2020-01-14")).state,
              SupportStatus::State::ending_soon);
    EXPECT_EQ(support_status(v, rules(), day("2020-01-15")).state, SupportStatus::State::past);
    v.product = "windows-server-2022";
    EXPECT_EQ(support_status(v, rules(), day("2026-11-24")).state, SupportStatus::State::supported);
}

// The cache the OS unit judges with must give the verdicts the rules give, and stay bounded
// whatever values senders invent.
TEST(OsInference, TheClaimsCacheGivesTheSameVerdictsAndStaysBounded) {
    const std::vector<std::vector<Observed>> devices = {
        {ev("smb-native-os", "Windows Server 2008 R2 Standard 7601 Service Pack 1")},
        {ev("http-ua", "Microsoft-CryptoAPI/6.1"), ev("dhcp", "60=MSFT 5.0")},
        {ev("http-ua", "Microsoft-CryptoAPI/10.0"), ev("dhcp", "60=MSFT 5.0")},
        {ev("http-ua", "nothing any rule knows")},
    };
    ClaimsCache cache(3);
    for (int round = 0; round < 2; ++round) {
        for (const auto& evidence : devices) {
            OsVerdict plain = infer_os(evidence, {}, rules(), "YAMAHA CORPORATION");
            OsVerdict cached = infer_os(evidence, {}, rules(), "YAMAHA CORPORATION", &cache);
            EXPECT_EQ(cached.family, plain.family);
            EXPECT_EQ(cached.version, plain.version);
            EXPECT_EQ(cached.build, plain.build);
            EXPECT_DOUBLE_EQ(cached.confidence, plain.confidence);
            EXPECT_EQ(cached.support.size(), plain.support.size());
            EXPECT_EQ(cached.conflicts.size(), plain.conflicts.size());
            EXPECT_LE(cache.size(), 3u);
        }
    }
    EXPECT_EQ(infer_os(devices[0], {}, rules(), {}, &cache).build, 7601);
    // Source and value are both the key: the same text from another source is another claim.
    EXPECT_TRUE(cache.claims(ev("dhcp", "Microsoft-CryptoAPI/6.1"), rules()).empty());
    EXPECT_FALSE(cache.claims(ev("http-ua", "Microsoft-CryptoAPI/6.1"), rules()).empty());
}
