// Legacy protocol versions flagged wherever a handshake shows them (issue 19): SSH-1 banners on
// any port and NTLMv1 logins in SMB and HTTP; SSH-1.99, SSH-2 and NTLMv2 are not flagged.
#include "analyzers/legacy_handshakes.hpp"
#include "analyzers/packet_context.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/incidents/describe.hpp"
#include "daemon/incidents/incidents.hpp"
#include "daemon/report/template.hpp"
#include "tests/analyzers/alert_records.hpp"
#include "tests/analyzers/frames.hpp"
#include "tests/analyzers/recording_sink.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

const MacAddress kRouter = *MacAddress::parse("00:a0:de:6e:21:4c");
const MacAddress kNas = *MacAddress::parse("00:11:32:aa:bb:cc");
const MacAddress kPc = *MacAddress::parse("f4:6e:24:19:c2:7b");
const IpAddress kNasIp = *IpAddress::parse("192.168.100.20");
const IpAddress kPcIp = *IpAddress::parse("192.168.100.109");
const IpAddress kOutside = *IpAddress::parse("203.0.113.45");
constexpr std::uint8_t kPa = TcpView::kAck | TcpView::kPsh;

class Harness {
  public:
    Harness() : unit(sink, {*IpNetwork::parse("192.168.100.0/24")}) {}
    void tcp(const MacAddress& sm, const IpAddress& s, std::uint16_t sp, const MacAddress& dm,
             const IpAddress& d, std::uint16_t dp, const Frame& payload) {
        Frame f = ipv4_frame(sm, dm, s, d, 6, tcp_segment(sp, dp, kPa, payload));
        now += 1000;
        decode_packet(LinkType::ethernet, now, static_cast<std::uint32_t>(f.size()), f, packet);
        unit.on_packet(packet, app.begin(packet));
    }
    RecordingSink sink;
    LegacyHandshakes unit;
    Packet packet;
    ApplicationLayer app;
    Timestamp now = 1'795'130'000'000'000;
};

Frame text(const std::string& s) {
    return Frame(s.begin(), s.end());
}

void le16(Frame& f, std::size_t v) {
    f.push_back(static_cast<std::uint8_t>(v));
    f.push_back(static_cast<std::uint8_t>(v >> 8));
}
void le32(Frame& f, std::size_t v) {
    le16(f, v & 0xffff);
    le16(f, v >> 16);
}

// An NTLMSSP AUTHENTICATE_MESSAGE laid out as MS-NLMP 2.2.1.3 gives it: signature, type 3,
// six (length, max length, offset) fields, flags, VERSION (Windows 6.1.7601), MIC, then the
// payload: LM response, NT response (24 bytes: NTLMv1; NTLMv2's is longer), domain, user,
// workstation (UTF-16LE).
Frame authenticate(std::size_t nt_length) {
    auto utf16 = [](const std::string& s) {
        Frame f;
        for (char c : s) f.push_back(static_cast<std::uint8_t>(c)), f.push_back(0);
        return f;
    };
    const Frame lm(24, 0x11), nt(nt_length, 0x22),
        domain = utf16("CLINIC"), user = utf16("reception"), ws = utf16("UKETSUKE-PC");
    Frame m = text(std::string("NTLMSSP") + '\0');
    le32(m, 3);
    std::size_t at = 88;  // header 64 + VERSION 8 + MIC 16
    for (const Frame* field : {&lm, &nt, &domain, &user, &ws}) {
        le16(m, field->size());
        le16(m, field->size());
        le32(m, at);
        at += field->size();
    }
    le16(m, 0), le16(m, 0), le32(m, at);  // no session key
    le32(m, 0xe2888215);                  // flags: unicode, NTLM, version, ...
    for (std::uint8_t b : {6, 1, 0xb1, 0x1d, 0, 0, 0, 0x0f}) m.push_back(b);  // 6.1.7601
    m.insert(m.end(), 16, 0);                                                 // MIC
    for (const Frame* field : {&lm, &nt, &domain, &user, &ws})
        m.insert(m.end(), field->begin(), field->end());
    return m;
}

// An SMB2 SESSION_SETUP request (MS-SMB2 2.2.5) over NetBIOS session service carrying `blob`.
Frame smb2_session_setup(const Frame& blob) {
    Frame smb = {0xfe, 'S', 'M', 'B', 64, 0};
    smb.resize(64, 0);
    smb[12] = 0x01;  // command SESSION_SETUP
    Frame body;
    le16(body, 25);  // structure size
    body.push_back(0), body.push_back(1);
    le32(body, 0), le32(body, 0);
    le16(body, 64 + 24), le16(body, blob.size());
    le32(body, 0), le32(body, 0);
    smb.insert(smb.end(), body.begin(), body.end());
    smb.insert(smb.end(), blob.begin(), blob.end());
    Frame nbss = {0, 0, static_cast<std::uint8_t>(smb.size() >> 8),
                  static_cast<std::uint8_t>(smb.size())};
    nbss.insert(nbss.end(), smb.begin(), smb.end());
    return nbss;
}

std::string base64(const Frame& in) {
    static const char* kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::uint32_t v = in[i] << 16;
        if (i + 1 < in.size()) v |= in[i + 1] << 8;
        if (i + 2 < in.size()) v |= in[i + 2];
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
    }
    return out;
}

}  // namespace

TEST(LegacyHandshakes, Ssh1BannerOnAnyPortFlagsTheDeviceOnce) {
    Harness h;
    // An old NAS answering on a non-standard port with an SSH-1-only server.
    h.tcp(kNas, kNasIp, 2022, kPc, kPcIp, 50100, text("SSH-1.5-OpenSSH_3.4p1\n"));
    auto found = h.sink.of_kind("legacy-ssh");
    ASSERT_EQ(found.size(), 1u);
    const AlertUpdate& a = *found[0];
    EXPECT_EQ(a.subject_mac, kNas);
    EXPECT_EQ(a.evidence["version"], "SSH-1.5");
    EXPECT_EQ(a.evidence["software"], "OpenSSH_3.4p1");
    EXPECT_EQ(a.evidence["speaker"], "device");
    EXPECT_EQ(a.evidence["port"], 2022);
    EXPECT_EQ(a.evidence["destination_ip"], "192.168.100.109");
    EXPECT_EQ(a.key, "legacy-ssh:" + kNas.to_string());
    h.tcp(kNas, kNasIp, 2022, kPc, kPcIp, 50101, text("SSH-1.5-OpenSSH_3.4p1\n"));
    EXPECT_EQ(h.sink.alerts.size(), 1u) << "once per device";
}

TEST(LegacyHandshakes, Ssh199AndSsh2AreNotLegacy) {
    Harness h;
    h.tcp(kNas, kNasIp, 22, kPc, kPcIp, 50100, text("SSH-1.99-Cisco-1.25\r\n"));
    h.tcp(kNas, kNasIp, 22, kPc, kPcIp, 50101, text("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"));
    h.tcp(kNas, kNasIp, 22, kPc, kPcIp, 50102, text("SSH-1.5-but no line end"));
    EXPECT_TRUE(h.sink.alerts.empty());
}

TEST(LegacyHandshakes, Ssh1ServerOnTheInternetFlagsTheClinicsClient) {
    Harness h;
    h.tcp(kRouter, kOutside, 22, kPc, kPcIp, 50200, text("SSH-1.5-1.2.27\n"));
    auto found = h.sink.of_kind("legacy-ssh");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0]->subject_mac, kPc);
    EXPECT_EQ(found[0]->evidence["speaker"], "peer");
    EXPECT_EQ(found[0]->evidence["destination_ip"], "203.0.113.45");
}

// A capture without MACs (raw IP): each device is told apart by its address, so a second SSH-1
// device is not taken for the first.
TEST(LegacyHandshakes, DevicesOfARawIpCaptureAreToldApartByAddress) {
    Harness h;
    const MacAddress none;
    const IpAddress other = *IpAddress::parse("192.168.100.21");
    h.tcp(none, kNasIp, 22, none, kPcIp, 50100, text("SSH-1.5-1.2.27\r\n"));
    h.tcp(none, other, 22, none, kPcIp, 50101, text("SSH-1.5-1.2.27\r\n"));
    h.tcp(none, other, 22, none, kPcIp, 50102, text("SSH-1.5-1.2.27\r\n"));
    auto found = h.sink.of_kind("legacy-ssh");
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0]->key, "legacy-ssh:192.168.100.20");
    EXPECT_EQ(found[1]->key, "legacy-ssh:192.168.100.21");
}

TEST(LegacyHandshakes, NtlmV1LoginInSmbIsFlaggedOnTheClient) {
    Harness h;
    h.tcp(kPc, kPcIp, 50300, kNas, kNasIp, 445, smb2_session_setup(authenticate(24)));
    auto found = h.sink.of_kind("ntlmv1");
    ASSERT_EQ(found.size(), 1u);
    const AlertUpdate& a = *found[0];
    EXPECT_EQ(a.subject_mac, kPc);
    EXPECT_EQ(a.evidence["server_ip"], "192.168.100.20");
    EXPECT_EQ(a.evidence["carrier"], "smb");
    EXPECT_EQ(a.evidence["workstation"], "UKETSUKE-PC");
    EXPECT_EQ(a.evidence["domain"], "CLINIC");
    EXPECT_EQ(a.severity, Severity::medium);
}

TEST(LegacyHandshakes, NtlmV2AndOtherSmbAreNotFlagged) {
    Harness h;
    // NTLMv2: NTProofStr (16) and the client's blob make the NT response longer than 24.
    h.tcp(kPc, kPcIp, 50300, kNas, kNasIp, 445, smb2_session_setup(authenticate(16 + 28 + 48)));
    // Anonymous: no NT response at all.
    h.tcp(kPc, kPcIp, 50301, kNas, kNasIp, 445, smb2_session_setup(authenticate(0)));
    EXPECT_TRUE(h.sink.alerts.empty());
}

TEST(LegacyHandshakes, TruncatedLoginIsFlaggedOnlyOnceItsHeaderIsWhole) {
    // Every truncation of the v1 login is read without reading past it (ASan); before the
    // AUTHENTICATE header (64 bytes after NetBIOS 4, SMB2 64 and SESSION_SETUP 24) is whole,
    // the response length is unknown and nothing is flagged.
    const Frame whole = smb2_session_setup(authenticate(24));
    const std::size_t header_end = 4 + 64 + 24 + 64;
    for (std::size_t n = 1; n < whole.size(); ++n) {
        Harness h;
        h.tcp(kPc, kPcIp, 50302, kNas, kNasIp, 445, Frame(whole.begin(), whole.begin() + n));
        EXPECT_EQ(h.sink.of_kind("ntlmv1").size(), n >= header_end ? 1u : 0u) << n;
    }
}

TEST(LegacyHandshakes, NtlmV1InAnHttpAuthorizationHeader) {
    Harness h;
    const std::string request =
        "GET /ehr/login HTTP/1.1\r\nHost: ehr.clinic.local\r\n"
        "Authorization: NTLM " +
        base64(authenticate(24)) + "\r\n\r\n";
    h.tcp(kPc, kPcIp, 50400, kNas, kNasIp, 8080, text(request));
    auto found = h.sink.of_kind("ntlmv1");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0]->evidence["carrier"], "http");
    EXPECT_EQ(found[0]->evidence["port"], 8080);
    std::vector<TableUse> use;
    h.unit.table_use(use);
    ASSERT_EQ(use.size(), 1u);
    EXPECT_EQ(use[0].dropped, 0u);
}

TEST(PacketContext, NtlmsspIsParsedOnceForEveryUnit) {
    // The OS fingerprint (Windows version) and legacy handshakes (NTLMv1) read the same
    // message: the context finds it once and hands both the same result.
    auto decoded = [](const Frame& payload, std::uint16_t port, Packet& packet) {
        static std::vector<Frame> frames;  // the packet points into its frame
        frames.push_back(
            ipv4_frame(kPc, kNas, kPcIp, kNasIp, 6, tcp_segment(50500, port, kPa, payload)));
        decode_packet(LinkType::ethernet, 1'795'130'000'000'000,
                      static_cast<std::uint32_t>(frames.back().size()), frames.back(), packet);
    };
    Packet smb;
    decoded(smb2_session_setup(authenticate(24)), 445, smb);
    PacketContext in_smb(smb);
    const ntlmssp::Message* first = in_smb.ntlmssp();
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(in_smb.ntlmssp(), first);
    EXPECT_EQ(first->type, ntlmssp::kAuthenticate);
    EXPECT_EQ(first->nt_response_length, 24u);
    EXPECT_EQ(in_smb.http_authorization_ntlmssp(), nullptr);  // not an HTTP request

    Packet http;
    decoded(text("GET / HTTP/1.1\r\nHost: ehr\r\nAuthorization: Negotiate " +
                 base64(authenticate(24)) + "\r\n\r\n"),
            80, http);
    PacketContext in_http(http);
    const ntlmssp::Message* auth = in_http.http_authorization_ntlmssp();
    ASSERT_NE(auth, nullptr);
    EXPECT_EQ(in_http.http_authorization_ntlmssp(), auth);
    EXPECT_EQ(auth->type, ntlmssp::kAuthenticate);

    Packet basic;
    decoded(text("GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwdw==\r\n\r\n"), 80, basic);
    PacketContext in_basic(basic);
    EXPECT_EQ(in_basic.http_authorization_ntlmssp(), nullptr);
}

// SSH-1 and NTLMv1 are standing conditions of the device, like SMBv1 and old TLS: one entry per
// device with its conditions, told in each language, and counted under checklist 2-⑥ (security
// updates and settings of every system).
TEST(LegacyHandshakes, AreStandingConditionsOfTheirDevice) {
    EXPECT_TRUE(is_standing_condition("legacy-ssh"));
    EXPECT_TRUE(is_standing_condition("ntlmv1"));
    Harness h;
    h.tcp(kNas, kNasIp, 22, kPc, kPcIp, 50100, text("SSH-1.5-1.2.27\r\n"));
    h.tcp(kPc, kPcIp, 50300, kNas, kNasIp, 445, smb2_session_setup(authenticate(24)));
    ASSERT_EQ(h.sink.alerts.size(), 2u);
    auto incidents = correlate(alert_records(h.sink.alerts));
    ASSERT_EQ(incidents.size(), 2u);
    const nlohmann::json assets = nlohmann::json::array(
        {{{"mac", kNas.to_string()}, {"name", "NAS-01"}, {"addresses", nlohmann::json::array()}},
         {{"mac", kPc.to_string()},
          {"name", "UKETSUKE-PC"},
          {"addresses", nlohmann::json::array()}}});
    const std::map<std::string, std::pair<std::string, std::string>> expected_text = {
        {"ja", {"古いSSH（SSH-1.5）を使用", "古いWindows認証（NTLMv1）を使用"}},
        {"en", {"uses old SSH (SSH-1.5)", "uses old Windows authentication (NTLMv1)"}}};
    for (const auto& [language, texts] : expected_text) {
        auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", language);
        DeviceNames names(messages, assets);
        std::map<std::string, std::string> condition_of;  // device mac -> its condition's text
        for (const auto& in : incidents) {
            EXPECT_EQ(in.kind, "device-conditions");
            auto d = describe_incident(in, 1, messages, names);
            ASSERT_EQ(d["conditions"].size(), 1u) << d.dump(1);
            condition_of[d["device_mac"]] = d["conditions"][0]["text"];
            EXPECT_FALSE(d["title"].get<std::string>().empty());
            EXPECT_FALSE(d["action"].get<std::string>().empty());
        }
        EXPECT_EQ(condition_of[kNas.to_string()], texts.first) << language;
        EXPECT_EQ(condition_of[kPc.to_string()], texts.second) << language;

        bool counted = false;  // the checklist row 2-⑥ counts both kinds
        for (const auto& row : messages["checklist"])
            if (row["id"] == "2-⑥") {
                const auto& kinds = row["kinds"];
                counted = std::find(kinds.begin(), kinds.end(), "legacy-ssh") != kinds.end() &&
                          std::find(kinds.begin(), kinds.end(), "ntlmv1") != kinds.end();
            }
        EXPECT_TRUE(counted) << language;
    }
}
