#include "capture/address.hpp"

#include <gtest/gtest.h>

using namespace clinicwatch;

TEST(MacAddress, ParsesCommonSpellings) {
    auto a = MacAddress::parse("00:A0:DE:12:34:56");
    auto b = MacAddress::parse("00-a0-de-12-34-56");
    auto c = MacAddress::parse("00a0.de12.3456");
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(*a, *c);
    EXPECT_EQ(a->to_string(), "00:a0:de:12:34:56");
    EXPECT_FALSE(MacAddress::parse("00:a0:de:12:34"));
    EXPECT_FALSE(MacAddress::parse("00:a0:de:12:34:5g"));
}

TEST(MacAddress, Flags) {
    EXPECT_TRUE(MacAddress::parse("ff:ff:ff:ff:ff:ff")->is_broadcast());
    EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:fb")->is_multicast());
    EXPECT_TRUE(MacAddress::parse("ae:08:d3:52:6b:19")->is_locally_administered());
    EXPECT_FALSE(MacAddress::parse("00:a0:de:6e:21:4c")->is_locally_administered());
}

// The number is stored (known devices) and matched against vendor prefixes, so it must read the
// bytes in wire order whatever the host's byte order.
TEST(MacAddress, AsNumberReadsTheBytesInWireOrder) {
    EXPECT_EQ(MacAddress::parse("00:a0:de:12:34:56")->as_u64(), 0x00a0de123456ULL);
    EXPECT_EQ(MacAddress::parse("fe:dc:ba:98:76:01")->as_u64(), 0xfedcba987601ULL);
    EXPECT_TRUE(MacAddress{}.is_zero());
    EXPECT_FALSE(MacAddress::parse("00:00:00:00:00:01")->is_zero());
    EXPECT_FALSE(MacAddress::parse("ff:ff:ff:ff:ff:fe")->is_broadcast());
}

TEST(IpNetwork, ContainsByPrefix) {
    auto net = IpNetwork::parse("192.168.100.0/24");
    ASSERT_TRUE(net);
    EXPECT_TRUE(net->contains(*IpAddress::parse("192.168.100.200")));
    EXPECT_FALSE(net->contains(*IpAddress::parse("192.168.101.1")));
    EXPECT_FALSE(net->contains(*IpAddress::parse("fe80::1")));
    auto odd = IpNetwork::parse("172.16.0.0/12");
    EXPECT_TRUE(odd->contains(*IpAddress::parse("172.31.255.255")));
    EXPECT_FALSE(odd->contains(*IpAddress::parse("172.32.0.1")));
    auto ula = IpNetwork::parse("fc00::/7");
    EXPECT_TRUE(ula->contains(*IpAddress::parse("fd12::1")));
    EXPECT_FALSE(IpNetwork::parse("10.0.0.0/33"));
    EXPECT_FALSE(IpNetwork::parse("10.0.0.0/x"));
    EXPECT_EQ(IpNetwork::parse("10.0.0.0/8")->to_string(), "10.0.0.0/8");
}

TEST(IpAddress, PrintsEveryIpv4OctetWidthAsInetNtopDoes) {
    for (const char* text :
         {"0.0.0.0", "9.10.99.100", "192.168.100.1", "255.255.255.255", "10.0.200.7", "1.2.3.4"})
        EXPECT_EQ(IpAddress::parse(text)->to_string(), text);
    EXPECT_EQ(IpAddress::v4(0xc0a86401u).to_string(), "192.168.100.1");
    EXPECT_EQ(IpAddress::parse("fe80::1")->to_string(), "fe80::1");
}
