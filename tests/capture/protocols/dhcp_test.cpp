#include "capture/protocols/dhcp.hpp"

#include <gtest/gtest.h>

#include "tests/capture/protocols/frames.hpp"

namespace clinicwatch {
namespace {

TEST(Dhcp, ParsesServerAckWithAddressesAndOptions) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kDhcpAck, storage, p);
    ASSERT_TRUE(p.udp);
    EXPECT_EQ(p.udp->src_port, dhcp::kServerPort);
    auto m = dhcp::parse(p.payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->op, 2);
    EXPECT_EQ(m->message_type, dhcp::kAck);
    EXPECT_EQ(m->xid, 0x696ddc66u);
    EXPECT_EQ(m->yiaddr.to_string(), "192.168.1.10");
    ASSERT_TRUE(m->chaddr_is_ethernet);
    EXPECT_EQ(m->chaddr.to_string(), "00:0c:29:59:fd:21");
    ASSERT_TRUE(m->server_id);
    EXPECT_EQ(m->server_id->to_string(), "192.168.1.5");
    ASSERT_EQ(m->routers.size(), 1u);
    EXPECT_EQ(m->routers[0].to_string(), "192.168.1.254");
    ASSERT_EQ(m->dns_servers.size(), 2u);
    EXPECT_EQ(m->dns_servers[1].to_string(), "192.168.1.2");
    EXPECT_EQ(dhcp::message_type_name(m->message_type), "ACK");
}

TEST(Dhcp, ParsesWindowsXpDiscoverFingerprint) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kDhcpDiscoverXp, storage, p);
    auto m = dhcp::parse(p.payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->message_type, dhcp::kDiscover);
    EXPECT_EQ(m->host_name, "DJP95S0J");
    EXPECT_EQ(m->vendor_class, "MSFT 5.0");
    EXPECT_EQ(dhcp::parameter_list_text(*m), "1,15,3,6,44,46,47,31,33,249,43");
    ASSERT_TRUE(m->requested_ip);
    EXPECT_EQ(m->requested_ip->to_string(), "192.168.1.249");
    ASSERT_EQ(m->client_id.size(), 7u);
    EXPECT_EQ(m->client_id[0], 1);  // hardware type Ethernet, then the MAC
    EXPECT_EQ(m->chaddr.to_string(), "00:04:23:57:a5:7a");
}

TEST(Dhcp, ParsesServerVendorClass) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kDhcpOfferAruba, storage, p);
    auto m = dhcp::parse(p.payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->message_type, dhcp::kOffer);
    EXPECT_EQ(m->yiaddr.to_string(), "128.2.6.97");
    EXPECT_EQ(m->vendor_class, "ArubaAP");
    EXPECT_EQ(m->server_id->to_string(), "128.2.6.152");
}

TEST(Dhcp, Fqdn81InWireAndAsciiForm) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kDhcpDiscoverXp, storage, p);
    std::vector<std::uint8_t> msg(p.payload.begin(), p.payload.end());
    // Replace the end option with option 81 (E flag, wire form "pc1.clinic") and an end.
    auto end = std::find(msg.begin() + 240, msg.end(), std::uint8_t{255});
    msg.erase(end, msg.end());
    std::vector<std::uint8_t> opt = {81, 15,  0x05, 0,   0,   3,   'p', 'c', '1',
                                     6,  'c', 'l',  'i', 'n', 'i', 'c', 0,   255};
    msg.insert(msg.end(), opt.begin(), opt.end());
    auto m = dhcp::parse(msg);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->fqdn, "pc1.clinic");
    msg.resize(msg.size() - opt.size());
    std::vector<std::uint8_t> ascii = {81, 6, 0x00, 0, 0, 'p', 'c', '2', 255};
    msg.insert(msg.end(), ascii.begin(), ascii.end());
    m = dhcp::parse(msg);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->fqdn, "pc2");
}

TEST(Dhcp, RejectsNonDhcpAndTruncatedInput) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kDhcpAck, storage, p);
    std::vector<std::uint8_t> msg(p.payload.begin(), p.payload.end());
    EXPECT_FALSE(dhcp::parse(Bytes(msg.data(), 239)));
    msg[236] = 0;  // no magic cookie: plain BOOTP or something else
    EXPECT_FALSE(dhcp::parse(msg));
    EXPECT_FALSE(dhcp::parse({}));
    // Options cut mid-way keep what came before.
    std::vector<std::uint8_t> cut(p.payload.begin(), p.payload.begin() + 246);
    auto m = dhcp::parse(cut);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->message_type, dhcp::kAck);
    EXPECT_FALSE(m->server_id);
}

}  // namespace
}  // namespace clinicwatch
