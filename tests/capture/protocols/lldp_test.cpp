#include "capture/protocols/lldp.hpp"

#include <gtest/gtest.h>

#include "tests/capture/protocols/frames.hpp"

namespace clinicwatch {
namespace {

TEST(Lldp, ParsesCiscoSwitch) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kLldpS2, storage, p);
    ASSERT_EQ(p.ethertype, lldp::kEtherType);
    auto m = lldp::parse(p.l3_payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->chassis_id_subtype, 4);
    EXPECT_EQ(m->chassis_id, "00:19:2f:a7:b2:8d");
    EXPECT_EQ(m->port_id, "Uplink to S1");
    EXPECT_EQ(m->ttl, 120);
    EXPECT_EQ(m->system_name, "S2.cisco.com");
    EXPECT_NE(m->system_description.find("Version 12.2(44)SE"), std::string::npos);
    EXPECT_EQ(m->port_description, "GigabitEthernet0/13");
    EXPECT_EQ(lldp::capabilities_text(m->enabled_capabilities), "bridge");
    EXPECT_EQ(lldp::capabilities_text(m->capabilities), "bridge,router");
}

TEST(Lldp, ParsesManagementAddress) {
    // Chassis (MAC), port (ifname "1"), TTL 120, system name "ap", mgmt 192.168.100.3, end.
    auto bytes = test::from_hex(
        "0207 04 ac44f21d73a8  0402 05 31  0602 0078  0a02 6170"
        "100c 05 01 c0a86403 02 00000001 00  0000");
    auto m = lldp::parse(bytes);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->system_name, "ap");
    ASSERT_EQ(m->management_addresses.size(), 1u);
    EXPECT_EQ(m->management_addresses[0].to_string(), "192.168.100.3");
}

TEST(Lldp, RejectsMissingMandatoryTlvsAndTruncation) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kLldpS2, storage, p);
    EXPECT_FALSE(lldp::parse(p.l3_payload.first(10)));  // chassis + part of port id
    auto wrong_order = test::from_hex("0402 05 31 0207 04 ac44f21d73a8 0602 0078 0000");
    EXPECT_FALSE(lldp::parse(wrong_order));
    EXPECT_FALSE(lldp::parse({}));
    // Cut inside the system description: the mandatory part and system name are kept.
    auto m = lldp::parse(p.l3_payload.first(60));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->system_name, "S2.cisco.com");
}

}  // namespace
}  // namespace clinicwatch
