// NDP (RFC 4861, RFC 8106) and DHCPv6 (RFC 8415) parsers on real message layouts: a Yamaha
// router's RA on FLET'S IPoE, a neighbour advertisement, stateless and stateful DHCPv6; and
// cut or hostile variants, which must give "not parsed", never a read past the end.
#include <gtest/gtest.h>

#include "capture/protocols/dhcpv6.hpp"
#include "capture/protocols/ndp.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::from_hex;

namespace {

// RA: hop limit 64, O flag, lifetime 1800 s; source link-layer 00:a0:de:6a:10:01; MTU 1460
// (MAP-E); prefix 2409:10:a0:1200::/64 (L, A; valid 30 days, preferred 7); RDNSS the router.
const char* kYamahaRa =
    "86003c4a404007080000000000000000"
    "010100a0de6a1001"
    "05010000000005b4"
    "030440c000278d0000093a8000000000"
    "2409001000a012000000000000000000"
    "1903000000000708fe8000000000000002a0defffe6a1001";

TEST(Ndp, RouterAdvertOfAYamahaRouter) {
    auto bytes = from_hex(kYamahaRa);
    auto ra = ndp::parse_router_advert(bytes);
    ASSERT_TRUE(ra);
    EXPECT_EQ(ra->hop_limit, 64);
    EXPECT_FALSE(ra->managed);
    EXPECT_TRUE(ra->other);
    EXPECT_EQ(ra->preference, 0);
    EXPECT_EQ(ra->router_lifetime, 1800);
    ASSERT_TRUE(ra->source_mac);
    EXPECT_EQ(ra->source_mac->to_string(), "00:a0:de:6a:10:01");
    ASSERT_TRUE(ra->mtu);
    EXPECT_EQ(*ra->mtu, 1460u);
    ASSERT_EQ(ra->prefix_count, 1);
    EXPECT_EQ(ra->prefixes[0].prefix.to_string(), "2409:10:a0:1200::/64");
    EXPECT_TRUE(ra->prefixes[0].on_link);
    EXPECT_TRUE(ra->prefixes[0].autonomous);
    EXPECT_EQ(ra->prefixes[0].valid_lifetime, 2592000u);
    EXPECT_EQ(ra->prefixes[0].preferred_lifetime, 604800u);
    ASSERT_EQ(ra->dns_count, 1);
    EXPECT_EQ(ra->dns[0].to_string(), "fe80::2a0:deff:fe6a:1001");
    EXPECT_EQ(ra->dns_lifetime, 1800u);
    EXPECT_STREQ(ndp::flags_text(ra->managed, ra->other), "O");
    // Not another message type.
    EXPECT_FALSE(ndp::parse_neighbour_advert(bytes));
    EXPECT_FALSE(ndp::parse_router_solicit(bytes));
}

TEST(Ndp, CutOrHostileRouterAdvertsAreNotParsed) {
    auto bytes = from_hex(kYamahaRa);
    // Every truncation inside an option, and the fixed header cut short.
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto ra = ndp::parse_router_advert(Bytes(bytes.data(), n));
        bool at_option_boundary = n == 16 || n == 24 || n == 32 || n == 64;
        EXPECT_EQ(ra.has_value(), at_option_boundary) << n;
    }
    // An option of length 0 would loop forever: discarded (RFC 4861 4.6).
    auto zero = bytes;
    zero[17] = 0;
    EXPECT_FALSE(ndp::parse_router_advert(zero));
    // A prefix length over 128 is clamped, not used to shift past the address.
    auto wide = bytes;
    wide[34] = 200;
    auto ra = ndp::parse_router_advert(wide);
    ASSERT_TRUE(ra);
    EXPECT_EQ(ra->prefixes[0].prefix.prefix, 128);
    // More prefixes than kept: counted.
    std::vector<std::uint8_t> many(bytes.begin(), bytes.begin() + 16);
    for (int i = 0; i < 10; ++i) many.insert(many.end(), bytes.begin() + 32, bytes.begin() + 64);
    ra = ndp::parse_router_advert(many);
    ASSERT_TRUE(ra);
    EXPECT_EQ(ra->prefix_count, ndp::RouterAdvert::kMaxPrefixes);
    EXPECT_EQ(ra->options_not_kept, 2);
}

TEST(Ndp, NeighbourMessagesAndRedirect) {
    // NA: router, solicited, override; target the router's link-local; TLLA.
    auto na = ndp::parse_neighbour_advert(
        from_hex("88000000e0000000fe8000000000000002a0defffe6a1001020100a0de6a1001"));
    ASSERT_TRUE(na);
    EXPECT_TRUE(na->router);
    EXPECT_TRUE(na->solicited);
    EXPECT_TRUE(na->override_flag);
    EXPECT_EQ(na->target.to_string(), "fe80::2a0:deff:fe6a:1001");
    ASSERT_TRUE(na->target_mac);
    EXPECT_EQ(na->target_mac->to_string(), "00:a0:de:6a:10:01");
    // DAD: NS from :: without options.
    auto ns =
        ndp::parse_neighbour_solicit(from_hex("8700000000000000240900100a01200000000000000000a1"));
    ASSERT_TRUE(ns);
    EXPECT_EQ(ns->target.to_string(), "2409:10:a01:2000::a1");
    EXPECT_FALSE(ns->source_mac);
    auto rs =
        ndp::parse_router_solicit(from_hex("8500000000000000"
                                           "0101001b21c00020"));
    ASSERT_TRUE(rs);
    EXPECT_EQ(rs->source_mac->to_string(), "00:1b:21:c0:00:20");
    auto redirect =
        ndp::parse_redirect(from_hex("8900000000000000"
                                     "fe800000000000000000000000000001"
                                     "2a0011c0004800030000000000000153"
                                     "0201b827eb660003"));
    ASSERT_TRUE(redirect);
    EXPECT_EQ(redirect->destination.to_string(), "2a00:11c0:48:3::153");
    EXPECT_EQ(redirect->target_mac->to_string(), "b8:27:eb:66:00:03");
    EXPECT_FALSE(ndp::parse_neighbour_advert(from_hex("8800000060000000fe80")));
    EXPECT_FALSE(ndp::parse_neighbour_advert(
        from_hex("88010000e0000000fe8000000000000002a0defffe6a1001020100a0de6a1001")));  // code 1
}

TEST(Dhcpv6, StatelessInformationRequestAndReply) {
    auto req =
        dhcpv6::parse(from_hex("0b1234560001000a00030001001b21c000200008000200000006000400170018"));
    ASSERT_TRUE(req);
    EXPECT_EQ(req->type, dhcpv6::kInformationRequest);
    EXPECT_EQ(req->transaction_id, 0x123456u);
    EXPECT_FALSE(req->from_server());
    EXPECT_EQ(req->client_mac->to_string(), "00:1b:21:c0:00:20");
    auto reply = dhcpv6::parse(
        from_hex("071234560001000a00030001001b21c000200002000a0003000100a0de6a100100170010"
                 "fe8000000000000002a0defffe6a1001"));
    ASSERT_TRUE(reply);
    EXPECT_TRUE(reply->from_server());
    EXPECT_EQ(reply->server_mac->to_string(), "00:a0:de:6a:10:01");
    ASSERT_EQ(reply->dns_count, 1);
    EXPECT_EQ(reply->dns[0].to_string(), "fe80::2a0:deff:fe6a:1001");
    EXPECT_EQ(dhcpv6::message_type_name(reply->type), "reply");
}

TEST(Dhcpv6, AdvertiseWithAddressAndPrefixDelegation) {
    // Advertise: server DUID-LLT, IA_NA with one IAADDR, IA_PD with one /56 IAPREFIX.
    auto adv =
        dhcpv6::parse(from_hex("024a1b2c"
                               "0002000e0001000100000000106f3fc0ff01"
                               "000300280e00155d00000e1000001518"
                               "00050018fdc21a2b3c4d0001000000000000100000001c2000001d4c"
                               "0019002900000001000000000000000000"
                               "1a001900000800000010003824090010"
                               "00a0ff000000000000000000"));
    ASSERT_TRUE(adv);
    EXPECT_EQ(adv->type, dhcpv6::kAdvertise);
    EXPECT_EQ(adv->server_mac->to_string(), "10:6f:3f:c0:ff:01");
    EXPECT_TRUE(adv->has_ia_na);
    ASSERT_EQ(adv->address_count, 1);
    EXPECT_EQ(adv->addresses[0].to_string(), "fdc2:1a2b:3c4d:1::1000");
    EXPECT_TRUE(adv->has_ia_pd);
    ASSERT_EQ(adv->prefix_count, 1);
    EXPECT_EQ(adv->prefixes[0].to_string(), "2409:10:a0:ff00::/56");
}

TEST(Dhcpv6, CutMessagesAreNotParsed) {
    auto bytes = from_hex(
        "071234560001000a00030001001b21c000200002000a0003000100a0de6a100100170010"
        "fe8000000000000002a0defffe6a1001");
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        bool boundary = n == 4 || n == 18 || n == 32;
        EXPECT_EQ(dhcpv6::parse(Bytes(bytes.data(), n)).has_value(), boundary) << n;
    }
    EXPECT_FALSE(dhcpv6::parse(from_hex("00123456")));  // type 0
    EXPECT_FALSE(dhcpv6::parse(from_hex("ff123456")));  // unknown type
}

}  // namespace
