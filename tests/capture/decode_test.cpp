// Decoding with real frames (bytes as captured in public traces) and with damaged ones.
#include "capture/packet.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::from_hex;

namespace {

// ARP who-has 192.168.0.1 tell 192.168.0.114 (arp_resolution.pcapng, Chris Sanders).
const char* kArpRequest =
    "ff ff ff ff ff ff 00 16 ce 6e 8b 24 08 06 00 01 08 00 06 04 00 01 00 16 ce 6e 8b 24 c0 a8 "
    "00 72 00 00 00 00 00 00 c0 a8 00 01";

// Windows 7 Firefox SYN: TTL 128, window 8192, MSS 1460, NOP, WS 2, NOP, NOP, SACK-permitted.
const char* kWin7Syn =
    "00 05 5d 21 99 4c 00 21 6a 5b 7d 4a 08 00 45 00 00 34 40 f2 40 00 80 06 53 5c ac 10 10 80 "
    "4a 7d 5f 68 06 46 00 50 7c 23 5a b7 00 00 00 00 80 02 20 00 0b 30 00 00 02 04 05 b4 01 03 "
    "03 02 01 01 04 02";

// mDNS query over IPv6 (zeek mdns.pcap).
const char* kMdnsV6 =
    "33 33 00 00 00 fb 8a 3c d6 e1 4d c4 86 dd 60 08 90 71 00 35 11 ff fd 52 42 9e c0 3c 82 35 "
    "88 3c d6 ff fe e1 4d c4 ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 fb 14 e9 14 e9 00 35 "
    "c1 d8 00 00 00 00 00 02 00 00 00 00 00 00 04 5f 69 70 70 04 5f 74 63 70 05 6c 6f 63 61 6c "
    "00 00 0c 00 01 05 5f 69 70 70 73 c0 11 00 0c 00 01";

// MSTP BPDU inside an 802.1Q tag (VLAN 0, priority 7), 802.3 length + LLC 42 42 03.
const char* kTaggedBpdu =
    "01 80 c2 00 00 00 00 1e f7 05 a8 92 81 00 e0 00 00 89 42 42 03 00 00 03 02 38 00 00 00 1f "
    "27 b4 7d 80 00 03 0d 40 80 00 00 16 46 b5 8c 80 80 12";

Packet decode(const std::vector<std::uint8_t>& bytes, LinkType link = LinkType::ethernet) {
    Packet p;
    decode_packet(link, 1'700'000'000'000'000, static_cast<std::uint32_t>(bytes.size()),
                  Bytes(bytes), p);
    return p;
}

}  // namespace

TEST(Decode, ArpRequest) {
    auto bytes = from_hex(kArpRequest);
    Packet p = decode(bytes);
    ASSERT_TRUE(p.decoded());
    EXPECT_TRUE(p.l2_broadcast);
    EXPECT_EQ(p.ethertype, 0x0806);
    ASSERT_TRUE(p.arp);
    EXPECT_EQ(p.arp->opcode, 1);
    EXPECT_EQ(p.arp->sender_mac.to_string(), "00:16:ce:6e:8b:24");
    EXPECT_EQ(p.arp->sender_ip.to_string(), "192.168.0.114");
    EXPECT_EQ(p.arp->target_ip.to_string(), "192.168.0.1");
    EXPECT_FALSE(p.arp->is_gratuitous());
    EXPECT_FALSE(p.ip);
}

TEST(Decode, TcpSynOptionsInOrder) {
    auto bytes = from_hex(kWin7Syn);
    Packet p = decode(bytes);
    ASSERT_TRUE(p.decoded());
    ASSERT_TRUE(p.ip && p.tcp);
    EXPECT_EQ(p.ip->src.to_string(), "172.16.16.128");
    EXPECT_EQ(p.ip->dst.to_string(), "74.125.95.104");
    EXPECT_EQ(p.ip->ttl, 128);
    EXPECT_TRUE(p.ip->dont_fragment);
    EXPECT_FALSE(p.ip->is_fragment);
    EXPECT_EQ(p.tcp->src_port, 1606);
    EXPECT_EQ(p.tcp->dst_port, 80);
    EXPECT_TRUE(p.tcp->is_syn_only());
    EXPECT_EQ(p.tcp->window, 8192);
    const auto& o = p.tcp->options;
    EXPECT_FALSE(o.malformed);
    EXPECT_EQ(o.mss, 1460);
    EXPECT_EQ(o.window_scale, 2);
    EXPECT_TRUE(o.sack_permitted);
    EXPECT_FALSE(o.timestamp_value);
    std::vector<std::uint8_t> layout(o.layout.begin(), o.layout.begin() + o.layout_length);
    EXPECT_EQ(layout, (std::vector<std::uint8_t>{2, 1, 3, 1, 1, 4}));
    EXPECT_TRUE(p.payload.empty());
}

TEST(Decode, Ipv6UdpMulticast) {
    auto bytes = from_hex(kMdnsV6);
    Packet p = decode(bytes);
    ASSERT_TRUE(p.decoded());
    EXPECT_TRUE(p.l2_multicast);
    EXPECT_FALSE(p.l2_broadcast);
    ASSERT_TRUE(p.ip && p.udp);
    EXPECT_TRUE(p.ip->src.is_v6());
    EXPECT_EQ(p.ip->dst.to_string(), "ff02::fb");
    EXPECT_EQ(p.ip->ttl, 255);
    EXPECT_EQ(p.udp->dst_port, 5353);
    EXPECT_EQ(p.payload.size(), 0x35u - 8);
}

TEST(Decode, VlanTaggedLlcBpdu) {
    auto bytes = from_hex(kTaggedBpdu);
    Packet p = decode(bytes);
    ASSERT_TRUE(p.decoded());
    EXPECT_EQ(p.vlan_depth, 1);
    EXPECT_EQ(p.vlan, 0);
    ASSERT_TRUE(p.llc);
    EXPECT_EQ(p.llc->dsap, 0x42);
    EXPECT_EQ(p.llc->ssap, 0x42);
    EXPECT_EQ(p.ethertype, 0);
    ASSERT_GE(p.l3_payload.size(), 4u);
    EXPECT_EQ(p.l3_payload[3], 0x02);  // BPDU type: RST/MST
}

TEST(Decode, QinQCarriesBothTags) {
    // Outer 802.1ad tag VLAN 100, inner 802.1Q VLAN 20, then the ARP payload.
    auto arp = from_hex(kArpRequest);
    std::vector<std::uint8_t> f(arp.begin(), arp.begin() + 12);
    for (auto b : from_hex("88 a8 00 64 81 00 00 14 08 06")) f.push_back(b);
    f.insert(f.end(), arp.begin() + 14, arp.end());
    Packet p = decode(f);
    ASSERT_TRUE(p.decoded());
    EXPECT_EQ(p.vlan_depth, 2);
    EXPECT_EQ(p.outer_vlan, 100);
    EXPECT_EQ(p.vlan, 20);
    ASSERT_TRUE(p.arp);
}

TEST(Decode, LinuxCookedSllAndSll2) {
    auto eth = from_hex(kWin7Syn);
    // SLL: packet type 0 (to us), ARPHRD_ETHER, address length 6, address, 2 pad, protocol.
    std::vector<std::uint8_t> sll = from_hex("00 00 00 01 00 06 00 21 6a 5b 7d 4a 00 00 08 00");
    sll.insert(sll.end(), eth.begin() + 14, eth.end());
    Packet a = decode(sll, LinkType::linux_sll);
    ASSERT_TRUE(a.decoded());
    EXPECT_EQ(a.src_mac.to_string(), "00:21:6a:5b:7d:4a");
    EXPECT_FALSE(a.has_dst_mac);
    ASSERT_TRUE(a.tcp);
    EXPECT_EQ(a.tcp->dst_port, 80);

    // SLL2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type 1 (broadcast), len 6, addr.
    std::vector<std::uint8_t> sll2 =
        from_hex("08 06 00 00 00 00 00 02 00 01 01 06 00 16 ce 6e 8b 24 00 00");
    auto arp = from_hex(kArpRequest);
    sll2.insert(sll2.end(), arp.begin() + 14, arp.end());
    Packet b = decode(sll2, LinkType::linux_sll2);
    ASSERT_TRUE(b.decoded());
    EXPECT_TRUE(b.l2_broadcast);
    EXPECT_EQ(b.src_mac.to_string(), "00:16:ce:6e:8b:24");
    ASSERT_TRUE(b.arp);
}

// Captures made elsewhere than on a mirror port: raw IP (a tunnel interface, an export) and BSD
// loopback (macOS lo0, host byte order; OpenBSD's network byte order). No MACs; the IP layer and
// above as from Ethernet; anything else is undecodable, never read out of bounds.
TEST(Decode, RawIpAndLoopbackCaptures) {
    auto eth_v4 = from_hex(kWin7Syn);
    auto eth_v6 = from_hex(kMdnsV6);
    const std::vector<std::uint8_t> v4(eth_v4.begin() + 14, eth_v4.end());
    const std::vector<std::uint8_t> v6(eth_v6.begin() + 14, eth_v6.end());

    Packet a = decode(v4, LinkType::raw_ip);
    ASSERT_TRUE(a.decoded());
    ASSERT_TRUE(a.tcp);
    EXPECT_EQ(a.tcp->dst_port, 80);
    EXPECT_TRUE(a.src_mac.is_zero());
    EXPECT_FALSE(a.has_dst_mac);
    Packet b = decode(v6, LinkType::raw_ip);
    ASSERT_TRUE(b.decoded());
    ASSERT_TRUE(b.udp);
    EXPECT_EQ(b.udp->dst_port, 5353);

    auto with_family = [](std::vector<std::uint8_t> family, const std::vector<std::uint8_t>& ip) {
        family.insert(family.end(), ip.begin(), ip.end());
        return family;
    };
    Packet c = decode(with_family({2, 0, 0, 0}, v4), LinkType::bsd_loopback);  // little-endian
    ASSERT_TRUE(c.tcp);
    Packet d = decode(with_family({0, 0, 0, 30}, v6), LinkType::bsd_loopback);  // big-endian
    ASSERT_TRUE(d.udp);
    Packet e = decode(with_family({0, 0, 0, 24}, v6), LinkType::openbsd_loop);
    ASSERT_TRUE(e.udp);
    EXPECT_EQ(e.udp->dst_port, 5353);

    EXPECT_FALSE(decode(from_hex("50 00 00 00"), LinkType::raw_ip).decoded());  // version 5
    EXPECT_FALSE(decode({}, LinkType::raw_ip).decoded());
    EXPECT_FALSE(decode(with_family({7, 0, 0, 0}, v4), LinkType::bsd_loopback).decoded());
    EXPECT_FALSE(decode(from_hex("02 00 00"), LinkType::bsd_loopback).decoded());
}

TEST(Decode, Ipv4FragmentsAreMarked) {
    auto bytes = from_hex(kWin7Syn);
    // Later fragment: offset 185 (x8 bytes), no transport header must be read.
    bytes[20] = 0x00;
    bytes[21] = 0xb9;
    Packet p = decode(bytes);
    ASSERT_TRUE(p.decoded());
    ASSERT_TRUE(p.ip);
    EXPECT_TRUE(p.ip->is_fragment);
    EXPECT_TRUE(p.ip->is_later_fragment);
    EXPECT_FALSE(p.tcp);
}

TEST(Decode, Ipv6ExtensionHeadersWalked) {
    // IPv6 with hop-by-hop (8 bytes) then UDP 547 -> 546.
    std::vector<std::uint8_t> f = from_hex(
        "33 33 00 01 00 02 00 11 22 33 44 55 86 dd 60 00 00 00 00 18 00 01 fe 80 00 00 00 00 00 "
        "00 00 00 00 00 00 00 00 01 ff 02 00 00 00 00 00 00 00 00 00 00 00 01 00 02 11 00 05 02 "
        "00 00 01 00 02 23 02 22 00 10 00 00 01 02 03 04 05 06 07 08");
    Packet p = decode(f);
    ASSERT_TRUE(p.decoded());
    ASSERT_TRUE(p.ip && p.udp);
    EXPECT_EQ(p.ip->protocol, 17);
    EXPECT_EQ(p.ip->header_length, 48);
    EXPECT_EQ(p.udp->dst_port, 546);
    EXPECT_EQ(p.payload.size(), 8u);
}

TEST(Decode, TruncatedFramesAreUndecodableNotCrashes) {
    // Every prefix of every real frame must decode without reading past its end: prefixes that
    // cut a header we know are "undecodable", never UB (ASan checks the reads).
    for (const char* hex : {kArpRequest, kWin7Syn, kMdnsV6, kTaggedBpdu}) {
        auto full = from_hex(hex);
        int undecodable = 0;
        for (std::size_t n = 0; n < full.size(); ++n) {
            std::vector<std::uint8_t> cut(full.begin(), full.begin() + n);
            Packet p = decode(cut);
            undecodable += !p.decoded();
        }
        EXPECT_GT(undecodable, 0) << hex;
    }
    auto syn = from_hex(kWin7Syn);
    syn.resize(14 + 20 + 10);  // TCP header cut in half
    EXPECT_FALSE(decode(syn).decoded());
}

TEST(Decode, HostileLengthsAreRejected) {
    auto bytes = from_hex(kWin7Syn);
    bytes[14] = 0x4f;  // IHL 15 words = 60 bytes, more than the frame holds
    EXPECT_FALSE(decode(bytes).decoded());
    bytes = from_hex(kWin7Syn);
    bytes[14 + 20 + 12] = 0xf0;  // TCP data offset 60 bytes
    EXPECT_FALSE(decode(bytes).decoded());
    bytes = from_hex(kWin7Syn);
    bytes[14 + 20 + 21] = 0x40;  // MSS option claiming 64 bytes
    Packet p = decode(bytes);
    ASSERT_TRUE(p.tcp);
    EXPECT_TRUE(p.tcp->options.malformed);
}

TEST(Decode, VlanTagChainIsBounded) {
    std::vector<std::uint8_t> f = from_hex("ff ff ff ff ff ff 00 11 22 33 44 55");
    for (int i = 0; i < 10; ++i)
        for (auto b : from_hex("81 00 00 01")) f.push_back(b);
    for (auto b : from_hex("08 06")) f.push_back(b);
    EXPECT_FALSE(decode(f).decoded());
}
