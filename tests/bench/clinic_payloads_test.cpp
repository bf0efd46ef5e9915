// Application payloads of the synthetic capture, checked against the protocols' own layouts.
#include "bench/clinic_payloads.hpp"

#include <gtest/gtest.h>

#include "capture/protocols/dns.hpp"

namespace clinicwatch::bench {
namespace {

TEST(ClinicPayloads, NetbiosNameEncodingIsRfc1001) {
    // RFC 1001 14.1: "FRED" padded with spaces encodes as EGFCEFEECACA...
    EXPECT_EQ(netbios_encode("FRED", 0x20), "EGFCEFEECACACACACACACACACACACACA");
    Frame reg = nbns_registration(0x1234, "nurse-pc", 0x00, false, 0xc0a86465);
    EXPECT_EQ((reg[2] << 8) | reg[3], 0x2910);
    EXPECT_EQ(reg.size(), 12u + 34 + 4 + 2 + 10 + 6);
    EXPECT_EQ(Frame(reg.end() - 4, reg.end()), (Frame{0xc0, 0xa8, 0x64, 0x65}));
}

TEST(ClinicPayloads, DhcpOptionsFollowTheMagicCookie) {
    DhcpMessage m;
    m.xid = 0xdeadbeef;
    m.chaddr = *MacAddress::parse("98:e7:43:00:00:01");
    DhcpOptions o;
    o.add_u8(53, 1).add(12, "SHINSATSU-1").add(60, "MSFT 5.0");
    Frame f = dhcp_payload(m, o);
    ASSERT_EQ(f.size(), 300u);
    EXPECT_EQ(load_be32(&f[4]), 0xdeadbeefu);
    EXPECT_EQ(f[28], 0x98);
    EXPECT_EQ(load_be32(&f[236]), 0x63825363u);
    EXPECT_EQ(f[240], 53);
    EXPECT_EQ(f[242], 1);
    EXPECT_EQ(f[243], 12);
    EXPECT_EQ(f[244], 11);
    EXPECT_EQ(f[240 + 3 + 13 + 10], 255);  // end after option 60
}

TEST(ClinicPayloads, DnsAnswerWithCnameChainParses) {
    DnsAnswerChain a{"outlook.office365.com",
                     {"outlook.ha.office365.com", "outlook.ms-acdc.office.com"},
                     {0x3462cf02},
                     300};
    auto m = dns::parse(dns_response(0x77, a));
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->is_response());
    ASSERT_EQ(m->answers.size(), 3u);
    EXPECT_EQ(m->answers[0].target, "outlook.ha.office365.com");
    EXPECT_EQ(m->answers[1].name, "outlook.ha.office365.com");
    EXPECT_EQ(m->answers[2].name, "outlook.ms-acdc.office.com");
    EXPECT_EQ(m->answers[2].address.to_string(), "52.98.207.2");
}

TEST(ClinicPayloads, ClientHelloCarriesTheServerName) {
    Frame random(32, 0xab);
    for (int style : {0, 1, 2}) {
        Frame r = tls_client_hello(style, "www.mhlw.go.jp", random);
        ASSERT_GT(r.size(), 60u);
        EXPECT_EQ(r[0], 0x16);
        EXPECT_EQ(std::size_t{load_be16(&r[3])}, r.size() - 5);
        EXPECT_EQ(r[5], 0x01);
        EXPECT_EQ(load_be16(&r[9]), style == 0 ? 0x0301 : 0x0303);
        std::string text(r.begin(), r.end());
        EXPECT_NE(text.find("www.mhlw.go.jp"), std::string::npos);
        EXPECT_EQ(text.find("\x00\x2b", 0, 2) != std::string::npos && style == 2, style == 2);
    }
}

TEST(ClinicPayloads, Smb2MessagesHaveNetbiosLengthAndHeader) {
    Frame guid(16, 1);
    Frame req = smb2_negotiate_request(0, true, guid);
    EXPECT_EQ(load_be32(&req[0]), req.size() - 4);
    EXPECT_EQ(Frame(req.begin() + 4, req.begin() + 8), (Frame{0xfe, 'S', 'M', 'B'}));
    EXPECT_EQ(load_le16(&req[4 + 64]), 36);     // NEGOTIATE request structure size
    EXPECT_EQ(load_le16(&req[4 + 64 + 2]), 4);  // dialect count
    Frame data(1000, 7);
    Frame resp = smb2_read_response(5, 9, 3, data);
    EXPECT_EQ(load_le16(&resp[4 + 12]), 8);  // READ
    EXPECT_EQ(load_le32(&resp[4 + 64 + 4]), 1000u);
    EXPECT_EQ(resp.size(), 4u + 64 + 16 + 1000);
}

TEST(ClinicPayloads, DicomPdusDeclareTheirLengths) {
    Frame rq = dicom_associate(false, "PACS01", "FCR_CONSOLE");
    EXPECT_EQ(rq[0], 0x01);
    EXPECT_EQ(load_be32(&rq[2]), rq.size() - 6);
    Frame cmd = dicom_cstore_command(false, 1, "1.2.3");
    EXPECT_EQ(load_le32(&cmd[8]), cmd.size() - 12);  // command group length
    Frame p = dicom_pdata(cmd, true, true);
    EXPECT_EQ(p[11], 0x03);
    EXPECT_EQ(load_be32(&p[2]), p.size() - 6);
}

}  // namespace
}  // namespace clinicwatch::bench
