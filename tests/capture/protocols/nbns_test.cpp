#include "capture/protocols/nbns.hpp"

#include <gtest/gtest.h>

#include "tests/capture/protocols/frames.hpp"

namespace clinicwatch {
namespace {

TEST(Nbns, DecodesFirstLevelEncoding) {
    auto n = nbns::decode_name("EEEFFDFECACACACACACACACACACACAAA");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->name, "DEST");  // hand check: D=0x44 -> "EE", E=0x45 -> "EF" ...
    EXPECT_EQ(n->suffix, 0x00);
    auto lower = nbns::decode_name("fhepfcelehfcepfffacacacacacacabn.corp");
    ASSERT_TRUE(lower);
    EXPECT_EQ(lower->name, "WORKGROUP");
    EXPECT_EQ(lower->suffix, 0x1d);
    EXPECT_EQ(lower->scope, "corp");
    EXPECT_FALSE(nbns::decode_name("EEEF"));
    EXPECT_FALSE(nbns::decode_name("ZZEFFDFEEMCACACACACACACACACACAAA"));
}

TEST(Nbns, ParsesRegistrationFromWindowsXp) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kNbnsRegistration, storage, p);
    ASSERT_TRUE(p.udp);
    EXPECT_EQ(p.udp->dst_port, nbns::kPort);
    auto m = nbns::parse(p.payload);
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->response);
    EXPECT_EQ(m->opcode, nbns::kRegistration);
    ASSERT_EQ(m->questions.size(), 1u);
    EXPECT_EQ(m->questions[0].name, "DJP95S0J");
    ASSERT_EQ(m->bindings.size(), 1u);
    EXPECT_EQ(m->bindings[0].name.name, "DJP95S0J");
    EXPECT_EQ(m->bindings[0].name.suffix, nbns::kWorkstation);
    EXPECT_FALSE(m->bindings[0].group);
    EXPECT_EQ(m->bindings[0].address.to_string(), "169.254.67.194");
    EXPECT_EQ(nbns::suffix_name(m->bindings[0].name.suffix), "workstation");
}

TEST(Nbns, ParsesPositiveAnswer) {
    // Response to a query for DJP95S0J<20>: flags 0x8500 (response, authoritative), one NB
    // answer with two addresses, the second one a group entry.
    std::string hex =
        "1234 8500 0000 0001 0000 0000"
        "20 4545454b4641444a444646444441454b4341434143414341434143414341434100"
        "0020 0001 00000e10 000c 0000 c0a86401 8000 c0a86402";
    auto bytes = test::from_hex(hex);
    auto m = nbns::parse(bytes);
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->response);
    ASSERT_EQ(m->bindings.size(), 2u);
    EXPECT_EQ(m->bindings[0].name.name, "DJP95S0J");
    EXPECT_EQ(m->bindings[0].name.suffix, 0x20);
    EXPECT_EQ(m->bindings[0].address.to_string(), "192.168.100.1");
    EXPECT_TRUE(m->bindings[1].group);
    // A negative answer (rcode 3) binds nothing.
    bytes[3] = 0x03;
    m = nbns::parse(bytes);
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->bindings.empty());
}

TEST(Nbns, RejectsGarbage) {
    EXPECT_FALSE(nbns::parse({}));
    auto bytes = test::from_hex("0000 0000 0001 0000 0000 0000 05 4142434445");
    EXPECT_FALSE(nbns::parse(bytes));
}

}  // namespace
}  // namespace clinicwatch
