#include "capture/protocols/dns.hpp"

#include <gtest/gtest.h>

#include "capture/packet.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::from_hex;

namespace {
// wireshark.org A answer (dns_query_response.pcapng, Chris Sanders): UDP payload only.
const char* kAnswer =
    "18 0f 81 80 00 01 00 01 00 00 00 00 09 77 69 72 65 73 68 61 72 6b 03 6f 72 67 00 00 01 00 01 "
    "c0 0c 00 01 00 01 00 00 38 40 00 04 80 79 32 7a";
}  // namespace

TEST(Dns, ParsesRealAnswerWithCompression) {
    auto bytes = from_hex(kAnswer);
    auto m = dns::parse(Bytes(bytes));
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->is_response());
    EXPECT_EQ(m->rcode(), 0);
    ASSERT_EQ(m->questions.size(), 1u);
    EXPECT_EQ(m->questions[0].name, "wireshark.org");
    ASSERT_EQ(m->answers.size(), 1u);
    EXPECT_EQ(m->answers[0].name, "wireshark.org");
    EXPECT_EQ(m->answers[0].type, dns::kA);
    EXPECT_EQ(m->answers[0].ttl, 0x3840u);
    EXPECT_EQ(m->answers[0].address.to_string(), "128.121.50.122");
}

TEST(Dns, CnameChain) {
    // Response: www.example.jp CNAME cdn.example.net, cdn.example.net A 203.0.113.7.
    auto bytes = from_hex(
        "00 01 81 80 00 01 00 02 00 00 00 00"
        "03 77 77 77 07 65 78 61 6d 70 6c 65 02 6a 70 00 00 01 00 01"
        "c0 0c 00 05 00 01 00 00 00 3c 00 11 03 63 64 6e 07 65 78 61 6d 70 6c 65 03 6e 65 74 00"
        "c0 2c 00 01 00 01 00 00 00 3c 00 04 cb 00 71 07");
    auto m = dns::parse(Bytes(bytes));
    ASSERT_TRUE(m);
    ASSERT_EQ(m->answers.size(), 2u);
    EXPECT_EQ(m->answers[0].type, dns::kCname);
    EXPECT_EQ(m->answers[0].target, "cdn.example.net");
    EXPECT_EQ(m->answers[1].name, "cdn.example.net");
    EXPECT_EQ(m->answers[1].address.to_string(), "203.0.113.7");
}

TEST(Dns, PointerLoopsAndOverrunsAreRejected) {
    // A name that points at itself.
    auto loop = from_hex("00 01 01 00 00 01 00 00 00 00 00 00 c0 0c 00 01 00 01");
    EXPECT_FALSE(dns::parse(Bytes(loop)));
    // Counts that cannot fit in the message.
    auto counts = from_hex("00 01 81 80 ff ff ff ff 00 00 00 00 00");
    EXPECT_FALSE(dns::parse(Bytes(counts)));
    // Every truncation of a real answer is handled (nullopt or a shorter message).
    auto full = from_hex(kAnswer);
    for (std::size_t n = 0; n < full.size(); ++n) {
        std::vector<std::uint8_t> cut(full.begin(), full.begin() + n);
        auto m = dns::parse(Bytes(cut));
        if (m) {
            EXPECT_TRUE(m->answers.empty());
        }
    }
}

TEST(Dns, RecordCountIsBounded) {
    // 200 A records: we keep 64 and say so.
    std::vector<std::uint8_t> msg = from_hex("00 01 81 80 00 00 00 c8 00 00 00 00");
    for (int i = 0; i < 200; ++i)
        for (auto b : from_hex("01 61 00 00 01 00 01 00 00 00 3c 00 04 0a 00 00 01"))
            msg.push_back(b);
    auto m = dns::parse(Bytes(msg));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->answers.size(), dns::kMaxRecordsPerSection);
    EXPECT_TRUE(m->truncated_sections);
}
