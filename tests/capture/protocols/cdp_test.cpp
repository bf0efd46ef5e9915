#include "capture/protocols/cdp.hpp"

#include <gtest/gtest.h>

#include "tests/capture/protocols/frames.hpp"

namespace clinicwatch {
namespace {

TEST(Cdp, ParsesCisco3560) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kCdpSwitch, storage, p);
    ASSERT_TRUE(p.llc);
    ASSERT_TRUE(p.llc->snap);
    EXPECT_EQ(p.llc->snap_oui, cdp::kSnapOui);
    EXPECT_EQ(p.llc->snap_type, cdp::kSnapType);
    auto m = cdp::parse(p.l3_payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->version, 2);
    EXPECT_EQ(m->device_id, "Switch");
    EXPECT_EQ(m->platform, "cisco WS-C3560G-24PS");
    EXPECT_EQ(m->port_id, "GigabitEthernet0/5");
    EXPECT_NE(m->software_version.find("12.2(25)SEB4"), std::string::npos);
    ASSERT_EQ(m->addresses.size(), 1u);
    EXPECT_EQ(m->addresses[0].to_string(), "192.168.0.1");
    EXPECT_EQ(cdp::capabilities_text(m->capabilities), "switch,igmp");
}

TEST(Cdp, RejectsBadVersionAndTruncation) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kCdpSwitch, storage, p);
    std::vector<std::uint8_t> pdu(p.l3_payload.begin(), p.l3_payload.end());
    EXPECT_FALSE(cdp::parse(Bytes(pdu.data(), 3)));
    auto cut = cdp::parse(Bytes(pdu.data(), 20));  // device id complete, version cut
    ASSERT_TRUE(cut);
    EXPECT_EQ(cut->device_id, "Switch");
    EXPECT_TRUE(cut->software_version.empty());
    pdu[0] = 7;
    EXPECT_FALSE(cdp::parse(pdu));
}

}  // namespace
}  // namespace clinicwatch
