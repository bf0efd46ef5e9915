// Parser tests with real bytes: TCP/UDP payloads copied (tshark -T fields -e tcp.payload) from
// the public captures listed in ../shared/pcaps/CATALOG.md. The captures themselves are not in
// the repository; only these few payloads are.
#include <gtest/gtest.h>

#include <cstring>

#include "capture/protocols/http.hpp"
#include "capture/protocols/netbios_browser.hpp"
#include "capture/protocols/ntlmssp.hpp"
#include "capture/protocols/smb.hpp"
#include "capture/protocols/ssh.hpp"
#include "capture/protocols/tls.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::from_hex;

namespace {

// winxp_browser_dhcp_eapol.pcap frame first HostAnnouncement (udp.payload)
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
// winxp_sp2_win2000_smb1_native_os.pcap frame 7 (tcp.payload)
const char* kSmb1SessionSetupXpRequest =
    "64006f0077007300200032003000300032002000530065007200760069006300650020005000610063006b00200032"
    "00"
    "200032003600300030000000570069006e0064006f007700730020003200300030003200200035002e003100000000"
    "00";
// winxp_sp2_win2000_smb1_native_os.pcap frame 8 (tcp.payload)
const char* kSmb1SessionSetup2000Response =
    "00000190ff534d42730000000098078800001c4caacfd028705100000000fffe0008803804ff00000000000b016501"
    "a1"
    "82010730820103a0030a0100a27d047b607906092a864886f71201020202006f6a3068a003020105a10302010fa25c"
    "30"
    "5aa003020117a2530451613c8db882a1c4dae0ca4e6f530c0adb6501a67eb1ac0cb93aab9aa364daa30cbf20fdbad6"
    "35"
    "334d2dbac01a48709e1170ef388d78505e36e8edd536af2f4a757a1fe116356910cd188efce28303a90d84a37d047b"
    "60"
    "7906092a864886f71201020202006f6a3068a003020105a10302010fa25c305aa003020117a2530451613c8db882a1"
    "c4"
    "dae0ca4e6f530c0adb6501a67eb1ac0cb93aab9aa364daa30cbf20fdbad635334d2dbac01a48709e1170ef388d7850"
    "5e"
    "36e8edd536af2f4a757a1fe116356910cd188efce28303a90d84570069006e0064006f0077007300200035002e0030"
    "00"
    "0000570069006e0064006f00770073002000320030003000300020004c0041004e0020004d0061006e006100670065"
    "00"
    "7200000048004f005500530049004e0047000000";
// server2008r2_smb1_native_os_ntlmssp.pcap frame 7 (tcp.payload)
const char* kSmb1SessionSetup2008R2Response =
    "000001b4ff534d4273160000c0980548000000000000000000000000ffffc00a0008000004ff00b401000031018901"
    "a1"
    "82012d30820129a0030a0101a10c060a2b06010401823702020aa28201120482010e4e544c4d535350000200000014"
    "00"
    "140038000000358289e256849d0e7dd50dc50000000000000000c200c2004c0000000601b11d0000000f50004f0044"
    "00"
    "540052004f004e004900430053000200140050004f004400540052004f004e0049004300530001001a0050004f0044"
    "00"
    "540052004f004e004900430053002d004400430004001c0070006f006400740072006f006e006900630073002e006f"
    "00"
    "720067000300380050006f006400740072006f006e006900630073002d00440043002e0070006f006400740072006f"
    "00"
    "6e006900630073002e006f007200670005001c0070006f006400740072006f006e006900630073002e006f00720067"
    "00"
    "07000800917a6b88cae0d3010000000057696e646f7773205365727665722032303038205232205374616e64617264"
    "20"
    "373630312053657276696365205061636b20310057696e646f7773205365727665722032303038205232205374616e"
    "64"
    "61726420362e3100";
// vista_2008_ntlmssp_6001_smb2.pcap frame 5 (tcp.payload)
const char* kSmb2Frame5 =
    "000000ecfe534d42400000000000000000000100010000000000000000000000000000000000000000000000000000"
    "00"
    "00000000000000000000000000000000000000004100010002020000199afae60fc5c149b76be5fbd1c6f112010000"
    "00"
    "00000100000001000000010058df7b2f54b4cc01944509a653b4cc0180006c00204c4d20606a06062b0601050502a0"
    "60"
    "305ea030302e06092a864882f71201020206092a864886f712010202060a2a864886f71201020203060a2b06010401"
    "82"
    "3702020aa32a3028a0261b246e6f745f646566696e65645f696e5f5246433431373840706c656173655f69676e6f72"
    "65";
// vista_2008_ntlmssp_6001_smb2.pcap frame 6 (tcp.payload)
const char* kSmb2Frame6 =
    "000000a2fe534d4240000000000000000100080000000000000000000100000000000000fffe000000000000000000"
    "00"
    "000000000000000000000000000000000000000019000001010000000000000058004a000000000000000000604806"
    "06"
    "2b0601050502a03e303ca00e300c060a2b06010401823702020aa22a04284e544c4d5353500001000000978208e200"
    "00"
    "0000000000000000000000000000060071170000000f";
// vista_2008_ntlmssp_6001_smb2.pcap frame 7 (tcp.payload)
const char* kSmb2Frame7 =
    "00000147fe534d4240000000160000c00100080001000000000000000100000000000000fffe000000000000050000"
    "00"
    "0004000000000000000000000000000000000000090000004800ff00a181fc3081f9a0030a0101a10c060a2b060104"
    "01"
    "823702020aa281e30481e04e544c4d53535000020000000e000e0038000000158289e2f3d5ab7a0dab57c400000000"
    "00"
    "0000009a009a0046000000060071170000000f43004f004e0054004f0053004f0002000e0043004f004e0054004f00"
    "53"
    "004f00010012005300450052005600450052003000300032000400160063006f006e0074006f0073006f002e006300"
    "6f"
    "006d0003002a005300450052005600450052003000300032002e0063006f006e0074006f0073006f002e0063006f00"
    "6d"
    "000500160063006f006e0074006f0073006f002e0063006f006d000700080058df7b2f54b4cc0100000000";
// vista_2008_ntlmssp_6001_smb2.pcap frame 8 (tcp.payload)
const char* kSmb2Frame8 =
    "00000243fe534d4240000000000000000100010000000000000000000200000000000000fffe000000000000050000"
    "00"
    "00040000000000000000000000000000000000001900000101000000000000005800eb010000000000000000a18201"
    "e7"
    "308201e3a0030a0101a28201c6048201c24e544c4d535350000300000018001800900000000a010a01a80000000e00"
    "0e"
    "00580000001a001a0066000000100010008000000010001000b2010000158288e2060071170000000fecace01b091d"
    "d7"
    "8758e49fd88562804443004f004e0054004f0053004f00410064006d0069006e006900730074007200610074006f00"
    "72"
    "00530045005200560045005200300031000000000000000000000000000000000000000000000000000f842a7e66fa"
    "9a"
    "6b76ee3fc96a2fa7f6010100000000000058df7b2f54b4cc019893fd6eaaccc5740000000002000e0043004f004e00"
    "54"
    "004f0053004f00010012005300450052005600450052003000300032000400160063006f006e0074006f0073006f00"
    "2e"
    "0063006f006d0003002a005300450052005600450052003000300032002e0063006f006e0074006f0073006f002e00"
    "63"
    "006f006d000500160063006f006e0074006f0073006f002e0063006f006d000700080058df7b2f54b4cc0106000400"
    "02"
    "0000000800300030000000000000000000000000300000a74aafecff55a2e6a2329bd6588c7964edac7378e2eb6289"
    "c1"
    "b679aef6b80f0300000000000000000000000052f655e3be2e928da15806d7d528af4fa31204100100000065983b70"
    "a7"
    "097b9300000000";
// tls13_clienthello.pcap frame 4 (tcp.payload)
const char* kTls13ClientHello =
    "16030300c7010000c30303c6e550c8939853f74bb084d6f54e6e450b980bf96a3119f4bd5bc8ab82ec562000000213"
    "02"
    "010000980033004700450017004104a664a53c214d4bf17548d86c6d86d36413fd2d9b9fd3fe9e9e0adeeb422476cc"
    "5c"
    "9399970c001b39e33b91928f00f496c98090a7571bf31e6a90f6717efa9021002b000706030403030302000d002000"
    "1e"
    "06030503040302030806080b0805080a0804080906010501040103010201000b00020100000a0010000e0019001800"
    "17"
    "001500130010010000170000";
// tls13_clienthello.pcap frame 6 (tcp.payload)
const char* kTls13ServerHello =
    "160303007b0200007703036bba3137df6e1c4c68565243a7fbab5f5c6bdf1ab11a1800c3c6ca64786fbdbd00130200"
    "00"
    "4f003300450017004104f6b563a3ba8e4d9a945bcb83eb8be292b04724749724b0ebbb6ab726ac9cc82a41268a7523"
    "26"
    "b1118a099d9f43b27027f224ed1a719b3762acfcb93fa2dc9461002b00020304";
// win7_firefox_useragent_http.pcapng frame 4 (tcp.payload)
const char* kHttpFirefoxWin7 =
    "474554202f20485454502f312e310d0a486f73743a207777772e676f6f676c652e636f6d0d0a557365722d4167656e"
    "74"
    "3a204d6f7a696c6c612f352e30202857696e646f77733b20553b2057696e646f7773204e5420362e313b20656e2d55"
    "53"
    "3b2072763a312e392e312e3729204765636b6f2f32303039313232312046697265666f782f332e352e370d0a416363"
    "65"
    "70743a20746578742f68746d6c2c6170706c69636174696f6e2f7868746d6c2b786d6c2c6170706c69636174696f6e"
    "2f"
    "786d6c3b713d302e392c2a2f2a3b713d302e380d0a4163636570742d4c616e67756167653a20656e2d75732c656e3b"
    "71"
    "3d302e350d0a4163636570742d456e636f64696e673a20677a69702c6465666c6174650d0a4163636570742d436861"
    "72"
    "7365743a2049534f2d383835392d312c7574662d383b713d302e372c2a3b713d302e370d0a4b6565702d416c697665"
    "3a"
    "203330300d0a436f6e6e656374696f6e3a206b6565702d616c6976650d0a436f6f6b69653a20505245463d49443d32"
    "35"
    "37393133613933386536633234383a553d323637633839366235663339666230623a46463d343a4c443d656e3a4e52"
    "3d"
    "31303a544d3d313236303733303635343a4c4d3d313236353437393333363a474d3d313a533d68315542476f6e5475"
    "57"
    "55334432334c3b204e49443d33313d5a2d6e68774d6a55503633653074594d54702d33543169674d53506e4e533165"
    "4d"
    "316b4e315f4455726e4f327a573163504d344a4533414a656339625f76472d594669624658737a4f41706662684241"
    "31"
    "424f5834644b78344c385a446465694b7771656b6750355f6b7a454c7443326d55487837524878335049747463755a"
    "0d"
    "0a0d0a";

Bytes span(const std::vector<std::uint8_t>& v) {
    return Bytes(v.data(), v.size());
}

std::vector<std::uint8_t> bytes_of(std::string_view s) {
    return {s.begin(), s.end()};
}

}  // namespace

TEST(NetbiosBrowser, XpHostAnnouncement) {
    auto raw = from_hex(kBrowserXp);
    auto a = browser::parse_datagram(span(raw));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->opcode, browser::kHostAnnouncement);
    EXPECT_EQ(a->mailslot, "\\MAILSLOT\\BROWSE");
    EXPECT_EQ(a->server_name, "DJP95S0J");
    EXPECT_EQ(a->os_major, 5);
    EXPECT_EQ(a->os_minor, 1);
    EXPECT_TRUE(a->server_type & browser::kNt);
    EXPECT_FALSE(a->is_windows_server());
    EXPECT_FALSE(a->is_samba());
}

TEST(NetbiosBrowser, RejectsTruncationAtEveryLength) {
    auto raw = from_hex(kBrowserXp);
    // The mailslot data runs to the end of the datagram: any cut loses part of it.
    for (std::size_t n = 0; n < raw.size(); ++n)
        EXPECT_FALSE(browser::parse_datagram(Bytes(raw.data(), n))) << n;
    raw[0] = 0x13;  // not a data-carrying datagram type
    EXPECT_FALSE(browser::parse_datagram(span(raw)));
}

TEST(Smb, Smb1SessionSetupNativeOsAscii) {
    // Frame 7 of that capture is the second segment of the XP client's request: only the first
    // segment of a message is parsed, so it is not an SMB message on its own.
    auto req = from_hex(kSmb1SessionSetupXpRequest);
    EXPECT_FALSE(smb::parse(span(req)));
    auto resp = from_hex(kSmb1SessionSetup2000Response);
    auto r = smb::parse(span(resp));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, smb::Kind::smb1_session_setup_response);
    EXPECT_TRUE(r->response);
    EXPECT_EQ(r->native_os, "Windows 5.0");
    EXPECT_EQ(r->native_lanman, "Windows 2000 LAN Manager");
}

TEST(Smb, Smb1SessionSetupUnicodeWithNtlmsspChallenge) {
    auto raw = from_hex(kSmb1SessionSetup2008R2Response);
    auto m = smb::parse(span(raw));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, smb::Kind::smb1_session_setup_response);
    EXPECT_EQ(m->native_os, "Windows Server 2008 R2 Standard 7601 Service Pack 1");
    EXPECT_EQ(m->native_lanman, "Windows Server 2008 R2 Standard 6.1");
    auto n = ntlmssp::find(m->security_blob);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->type, ntlmssp::kChallenge);
    ASSERT_TRUE(n->version);
    EXPECT_EQ(n->version->major, 6);
    EXPECT_EQ(n->version->minor, 1);
    EXPECT_EQ(n->version->build, 7601);
    EXPECT_FALSE(n->from_client());
}

TEST(Smb, Smb2NegotiateResponseAndNtlmssp6001) {
    auto f5 = from_hex(kSmb2Frame5);
    auto neg = smb::parse(span(f5));
    ASSERT_TRUE(neg);
    EXPECT_EQ(neg->kind, smb::Kind::smb2_negotiate_response);
    EXPECT_EQ(neg->dialect_revision, 0x0202);

    auto f6 = from_hex(kSmb2Frame6);
    auto setup = smb::parse(span(f6));
    ASSERT_TRUE(setup);
    EXPECT_EQ(setup->kind, smb::Kind::smb2_session_setup_request);
    auto n1 = ntlmssp::find(setup->security_blob);
    ASSERT_TRUE(n1);
    EXPECT_EQ(n1->type, ntlmssp::kNegotiate);
    ASSERT_TRUE(n1->version);
    EXPECT_EQ(n1->version->build, 6001);

    auto f7 = from_hex(kSmb2Frame7);
    auto n2 = ntlmssp::find(smb::parse(span(f7))->security_blob);
    ASSERT_TRUE(n2 && n2->version);
    EXPECT_EQ(n2->type, ntlmssp::kChallenge);
    EXPECT_EQ(n2->version->major, 6);
    EXPECT_EQ(n2->version->minor, 0);

    auto f8 = from_hex(kSmb2Frame8);
    auto n3 = ntlmssp::find(smb::parse(span(f8))->security_blob);
    ASSERT_TRUE(n3 && n3->version);
    EXPECT_EQ(n3->type, ntlmssp::kAuthenticate);
    EXPECT_EQ(n3->version->build, 6001);
    EXPECT_EQ(n3->workstation, "SERVER01");
    EXPECT_EQ(n3->domain, "CONTOSO");
}

TEST(Smb, Smb1NegotiateDialectsAndSmb2Request) {
    // SMB1 multi-protocol NEGOTIATE as Windows 7 sends it (MS-CIFS 2.2.4.52.1).
    std::vector<std::uint8_t> smb1 = {0xff, 'S', 'M', 'B', 0x72};
    smb1.resize(32, 0);
    smb1[10] = 0x01;
    smb1[11] = 0xc8;    // flags2 with unicode
    smb1.push_back(0);  // word count
    std::vector<std::uint8_t> dialects;
    for (const char* d : {"PC NETWORK PROGRAM 1.0", "NT LM 0.12", "SMB 2.002", "SMB 2.???"}) {
        dialects.push_back(0x02);
        dialects.insert(dialects.end(), d, d + std::strlen(d) + 1);
    }
    smb1.push_back(static_cast<std::uint8_t>(dialects.size()));
    smb1.push_back(0);
    smb1.insert(smb1.end(), dialects.begin(), dialects.end());
    std::vector<std::uint8_t> frame = {0, 0, 0, static_cast<std::uint8_t>(smb1.size())};
    frame.insert(frame.end(), smb1.begin(), smb1.end());
    auto m = smb::parse(span(frame));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, smb::Kind::smb1_negotiate_request);
    ASSERT_EQ(m->dialect_names.size(), 4u);
    EXPECT_EQ(m->dialect_names[1], "NT LM 0.12");
    EXPECT_EQ(m->dialect_names.back(), "SMB 2.???");

    // SMB2 NEGOTIATE request with 3.1.1 and two contexts (MS-SMB2 2.2.3).
    std::vector<std::uint8_t> h(64, 0);
    h[0] = 0xfe;
    h[1] = 'S';
    h[2] = 'M';
    h[3] = 'B';
    h[4] = 64;
    std::vector<std::uint8_t> body(36, 0);
    body[0] = 36;
    body[2] = 3;  // dialect count
    for (std::uint16_t d : {0x0202, 0x0300, 0x0311}) {
        body.push_back(static_cast<std::uint8_t>(d));
        body.push_back(static_cast<std::uint8_t>(d >> 8));
    }
    std::size_t ctx_off = 64 + body.size();
    ctx_off = (ctx_off + 7) & ~std::size_t{7};
    body.resize(ctx_off - 64, 0);
    body[28] = static_cast<std::uint8_t>(ctx_off);
    body[32] = 2;  // context count
    for (std::uint16_t type : {1, 8}) {
        std::vector<std::uint8_t> ctx = {
            static_cast<std::uint8_t>(type), 0, 4, 0, 0, 0, 0, 0, 1, 0, 2, 0};
        body.insert(body.end(), ctx.begin(), ctx.end());
        while ((64 + body.size()) % 8) body.push_back(0);
    }
    h.insert(h.end(), body.begin(), body.end());
    auto m2 = smb::parse_message(span(h));
    ASSERT_TRUE(m2);
    EXPECT_EQ(m2->kind, smb::Kind::smb2_negotiate_request);
    EXPECT_EQ(m2->dialects, (std::vector<std::uint16_t>{0x0202, 0x0300, 0x0311}));
    EXPECT_EQ(m2->context_types, (std::vector<std::uint16_t>{1, 8}));
    EXPECT_EQ(smb::dialect_name(0x0311), "3.1.1");
}

TEST(Smb, TruncatedMessagesNeverCrash) {
    for (const char* hex :
         {kSmb1SessionSetup2008R2Response, kSmb2Frame8, kSmb1SessionSetupXpRequest}) {
        auto raw = from_hex(hex);
        for (std::size_t n = 0; n <= raw.size(); ++n) {
            auto m = smb::parse(Bytes(raw.data(), n));
            if (m) ntlmssp::find(m->security_blob);
        }
    }
}

TEST(Ntlmssp, HttpAuthorizationHeader) {
    // NEGOTIATE message with VERSION 6.1.7601 (MS-NLMP 2.2.1.1), as base64 in an HTTP header.
    auto raw = from_hex(
        "4e544c4d5353500001000000978208e2000000000000000000000000000000000601b11d0000000f");
    std::string b64;
    static const char* kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < raw.size(); i += 3) {
        std::uint32_t v = raw[i] << 16;
        if (i + 1 < raw.size()) v |= raw[i + 1] << 8;
        if (i + 2 < raw.size()) v |= raw[i + 2];
        b64 += kAlphabet[(v >> 18) & 63];
        b64 += kAlphabet[(v >> 12) & 63];
        b64 += i + 1 < raw.size() ? kAlphabet[(v >> 6) & 63] : '=';
        b64 += i + 2 < raw.size() ? kAlphabet[v & 63] : '=';
    }
    auto m = ntlmssp::parse_http_auth("NTLM " + b64);
    ASSERT_TRUE(m && m->version);
    EXPECT_EQ(m->type, ntlmssp::kNegotiate);
    EXPECT_EQ(m->version->build, 7601);
    EXPECT_FALSE(ntlmssp::parse_http_auth("Basic dXNlcjpwYXNz"));
    EXPECT_FALSE(ntlmssp::parse_http_auth("NTLM !!!"));
    // Without the VERSION flag the field is not read.
    raw[15] = 0x00;
    raw[14] &= 0xfd;
    auto no_version = ntlmssp::parse(span(raw));
    ASSERT_TRUE(no_version);
    EXPECT_FALSE(no_version->version);
}

TEST(Http, RequestWithUserAgentFromWin7Firefox) {
    auto raw = from_hex(kHttpFirefoxWin7);
    auto m = http::parse(span(raw));
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->request);
    EXPECT_EQ(m->method, "GET");
    EXPECT_EQ(m->host, "www.google.com");
    EXPECT_EQ(m->user_agent,
              "Mozilla/5.0 (Windows; U; Windows NT 6.1; en-US; rv:1.9.1.7) Gecko/20091221 "
              "Firefox/3.5.7");
    EXPECT_TRUE(m->headers_complete);
}

TEST(Http, ResponseServerAndSsdpNotify) {
    auto resp =
        bytes_of("HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/7.5\r\nContent-Length: 0\r\n\r\n");
    auto m = http::parse(span(resp));
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->request);
    EXPECT_EQ(m->status, 200);
    EXPECT_EQ(m->server, "Microsoft-IIS/7.5");
    // SSDP senders often use bare LF.
    auto notify = bytes_of(
        "NOTIFY * HTTP/1.1\nHost: 239.255.255.250:1900\nServer: Microsoft-Windows-NT/5.1 UPnP/1.0 "
        "UPnP-Device-Host/1.0\nOPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\n01-NLS: abc\n\n");
    auto n = http::parse(span(notify));
    ASSERT_TRUE(n);
    EXPECT_EQ(n->method, "NOTIFY");
    EXPECT_EQ(n->server, "Microsoft-Windows-NT/5.1 UPnP/1.0 UPnP-Device-Host/1.0");
    EXPECT_TRUE(n->nls);
    EXPECT_FALSE(http::parse(span(bytes_of("GET / HTTP/1.1"))));  // no line end: cut
    EXPECT_FALSE(http::parse(span(bytes_of("HELLO world\r\n"))));
}

TEST(Tls, ClientHelloJa3MatchesTshark) {
    auto raw = from_hex(kTls13ClientHello);
    auto ch = tls::parse_client_hello(span(raw));
    ASSERT_TRUE(ch);
    EXPECT_EQ(ch->handshake_version, tls::kTls12);
    EXPECT_EQ(ch->supported_versions, (std::vector<std::uint16_t>{0x0304, 0x0303, 0x0302}));
    EXPECT_EQ(ch->highest_version(), tls::kTls13);
    // tshark 4.0.17: tls.handshake.ja3_full / tls.handshake.ja3 of this frame.
    EXPECT_EQ(ch->ja3(), "771,4866,51-43-13-11-10-23,25-24-23-21-19-16-256,0");
    EXPECT_EQ(ch->ja3_hash(), "39cef737bf0cabc32c28f95d09b97702");
    auto server_hello = from_hex(kTls13ServerHello);
    auto sh = tls::parse_server_hello(span(server_hello));
    ASSERT_TRUE(sh);
    ASSERT_TRUE(sh->supported_version);
    EXPECT_EQ(sh->negotiated_version(), tls::kTls13);
    EXPECT_EQ(sh->handshake_version, tls::kTls12);  // the record alone would say 1.2
}

TEST(Tls, Md5KnownAnswers) {
    auto md5 = [](std::string_view s) { return tls::md5_hex(span(bytes_of(s))); };
    EXPECT_EQ(md5(""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(md5("abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(
        md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
        "57edf4a22be3c955ac49da2e2107b67a");
    EXPECT_TRUE(tls::is_grease(0x0a0a));
    EXPECT_FALSE(tls::is_grease(0x0a0b));
}

TEST(Tls, SniAndTruncation) {
    auto raw = from_hex(kTls13ClientHello);
    for (std::size_t n = 0; n < raw.size(); ++n) tls::parse_client_hello(Bytes(raw.data(), n));
    auto cut = tls::parse_client_hello(Bytes(raw.data(), raw.size() - 10));
    ASSERT_TRUE(cut);
    EXPECT_TRUE(cut->extensions_truncated);
}

TEST(Ssh, CiscoBanners) {
    auto cisco = from_hex("5353482d312e39392d436973636f2d312e32350a");
    auto a = ssh::parse_banner(span(cisco));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->proto_version, "1.99");
    EXPECT_EQ(a->software, "Cisco-1.25");
    auto ubuntu = bytes_of("SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5\r\n");
    auto b = ssh::parse_banner(span(ubuntu));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->software, "OpenSSH_8.2p1");
    EXPECT_EQ(b->comments, "Ubuntu-4ubuntu0.5");
    EXPECT_EQ(b->line, "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5");
    EXPECT_FALSE(ssh::parse_banner(span(bytes_of("SSH-2.0-OpenSSH"))));  // no line end
    EXPECT_FALSE(ssh::parse_banner(span(bytes_of("SSH-\n"))));
}
