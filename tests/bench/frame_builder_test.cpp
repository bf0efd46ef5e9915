// The frame builder against real frames (byte for byte) and against our own decoder.
#include "bench/frame_builder.hpp"

#include <gtest/gtest.h>

#include "capture/packet.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch::bench {
namespace {

using clinicwatch::test::from_hex;

MacAddress mac(const char* s) {
    return *MacAddress::parse(s);
}

// One's-complement sum over the bytes including the checksum field: 0xffff when it is right.
std::uint16_t verify(std::uint32_t pseudo, ByteView data) {
    return static_cast<std::uint16_t>(~checksum_finish(checksum_add(pseudo, data)));
}

TEST(FrameBuilder, Ipv4HeaderChecksumMatchesTheTextbookExample) {
    // The IPv4 header used to explain the checksum (RFC 1071 style worked example): b861.
    Ipv4Header h{ip4(192, 168, 0, 1), ip4(192, 168, 0, 199), ipproto::udp, 64, 0, true, 0};
    Frame payload(0x73 - 20, 0);
    Frame ip = ipv4(h, payload);
    EXPECT_EQ(Frame(ip.begin(), ip.begin() + 20),
              from_hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"));
}

TEST(FrameBuilder, TcpSynMatchesARealCapturedFrame) {
    // Frame 1 of Wireshark's sample capture http.cap: a Windows XP SYN with MSS, NOP, NOP,
    // SACK-permitted; IP and TCP checksums as captured (91eb, c30c).
    const Frame real = from_hex(
        "feff20000100 000001000000 0800 4500 0030 0f41 4000 8006 91eb 91fea0ed 41d0e4df"
        "0d2c 0050 38affe13 00000000 7002 2238 c30c 0000 020405b4 01010402");
    TcpHeader t;
    t.src_port = 3372;
    t.dst_port = 80;
    t.seq = 951057939;
    t.flags = tcpflag::syn;
    t.window = 8760;
    t.options = TcpOptions().mss(1460).nop().nop().sack_permitted().finish();
    const std::uint32_t src = ip4(145, 254, 160, 237), dst = ip4(65, 208, 228, 223);
    Frame ip =
        ipv4(Ipv4Header{src, dst, ipproto::tcp, 128, 0x0f41, true, 0}, tcp4(src, dst, t, {}));
    Frame f = ethernet(mac("fe:ff:20:00:01:00"), mac("00:00:01:00:00:00"), ethertype::ipv4, ip);
    EXPECT_EQ(f, real);
}

TEST(FrameBuilder, UdpAndIcmpChecksumsVerify) {
    const std::uint32_t src = ip4(192, 168, 100, 101), dst = ip4(192, 168, 100, 1);
    Frame payload = from_hex("1a2b01000001000000000000037777770667 6f6f676c6503636f6d0000010001");
    Frame u = udp4(src, dst, 53000, 53, payload);
    ASSERT_EQ(u.size(), 8 + payload.size());
    EXPECT_EQ((u[4] << 8) | u[5], static_cast<int>(u.size()));
    std::uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17 +
                           static_cast<std::uint32_t>(u.size());
    EXPECT_EQ(verify(pseudo, u), 0xffff);
    Frame odd = udp4(src, dst, 1, 2, from_hex("01"));  // odd length pads with a zero byte
    pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17 + 9;
    EXPECT_EQ(verify(pseudo, odd), 0xffff);

    // ICMP echo request as Windows sends it (ping data "abcdefghijklmnopqrstuvwabcdefghi").
    Frame data(32);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>('a' + i % 23);
    Frame echo = icmp4(8, 0, 0x00010001, data);
    EXPECT_EQ(verify(0, echo), 0xffff);
    EXPECT_EQ(echo[0], 8);
}

TEST(FrameBuilder, TcpOptionsKeepTheirOrderAndPad) {
    auto win = TcpOptions().mss(1460).nop().window_scale(8).nop().nop().sack_permitted().finish();
    EXPECT_EQ(win, from_hex("020405b4 01030308 01010402"));
    auto linux_syn = TcpOptions()
                         .mss(1460)
                         .sack_permitted()
                         .timestamps(0x01020304, 0)
                         .nop()
                         .window_scale(7)
                         .finish();
    EXPECT_EQ(linux_syn, from_hex("020405b4 0402 080a0102030400000000 01 030307"));
    auto apple = TcpOptions()
                     .mss(1460)
                     .nop()
                     .window_scale(6)
                     .nop()
                     .nop()
                     .timestamps(1, 0)
                     .sack_permitted()
                     .eol()
                     .finish();
    EXPECT_EQ(apple.size(), 24u);
    EXPECT_EQ(apple.back(), 0);
}

TEST(FrameBuilder, DecoderReadsWhatTheBuilderWrote) {
    const std::uint32_t src = ip4(192, 168, 100, 101), dst = ip4(20, 190, 141, 33);
    TcpHeader t;
    t.src_port = 50123;
    t.dst_port = 443;
    t.seq = 1000;
    t.ack = 0;
    t.flags = tcpflag::syn;
    t.window = 64240;
    t.options = TcpOptions().mss(1460).nop().window_scale(8).nop().nop().sack_permitted().finish();
    Frame ip = ipv4(Ipv4Header{src, dst, ipproto::tcp, 128, 77, true, 0}, tcp4(src, dst, t, {}));
    Frame f = ethernet(mac("00:a0:de:01:02:03"), mac("98:e7:43:00:00:01"), ethertype::ipv4, ip, 20);
    Packet p;
    decode_packet(LinkType::ethernet, 1, static_cast<std::uint32_t>(f.size()), f, p);
    ASSERT_TRUE(p.decoded());
    EXPECT_EQ(p.vlan, 20);
    ASSERT_TRUE(p.ip && p.tcp);
    EXPECT_EQ(p.ip->ttl, 128);
    EXPECT_TRUE(p.ip->dont_fragment);
    EXPECT_EQ(p.ip->src, IpAddress::v4(src));
    EXPECT_TRUE(p.tcp->is_syn_only());
    EXPECT_EQ(p.tcp->window, 64240);
    EXPECT_EQ(p.tcp->options.mss, 1460);
    EXPECT_EQ(p.tcp->options.window_scale, 8);
    EXPECT_TRUE(p.tcp->options.sack_permitted);
    ASSERT_EQ(p.tcp->options.layout_length, 6);
    EXPECT_EQ(p.tcp->options.layout[0], 2);
    EXPECT_EQ(p.tcp->options.layout[5], 4);

    Frame a = ethernet(kBroadcastMac, mac("00:26:73:00:00:01"), ethertype::arp,
                       arp(1, mac("00:26:73:00:00:01"), ip4(192, 168, 100, 20), MacAddress{},
                           ip4(192, 168, 100, 20)));
    EXPECT_EQ(a.size(), 60u);
    decode_packet(LinkType::ethernet, 2, 60, a, p);
    ASSERT_TRUE(p.arp);
    EXPECT_TRUE(p.arp->is_gratuitous());
    EXPECT_TRUE(p.l2_broadcast);

    Ip6 s6{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    Ip6 d6{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb};
    Frame payload = from_hex("0000 0000 0001 0000 0000 0000 05 6c6f63616c 00 000c 0001");
    Frame u6 = udp6(s6, d6, 5353, 5353, payload);
    Frame v6 = ethernet(multicast_mac6(d6), mac("02:11:22:33:44:55"), ethertype::ipv6,
                        ipv6(Ipv6Header{s6, d6, ipproto::udp, 255, 0}, u6));
    decode_packet(LinkType::ethernet, 3, static_cast<std::uint32_t>(v6.size()), v6, p);
    ASSERT_TRUE(p.ip && p.udp);
    EXPECT_TRUE(p.ip->src.is_v6());
    EXPECT_EQ(p.udp->dst_port, 5353);
    EXPECT_TRUE(p.l2_multicast);
    EXPECT_EQ(p.payload.size(), payload.size());
    // IPv6 UDP checksum over the pseudo-header (RFC 8200 8.1).
    std::uint32_t pseudo =
        checksum_add(checksum_add(0, s6), d6) + 17 + static_cast<std::uint32_t>(u6.size());
    EXPECT_EQ(verify(pseudo, u6), 0xffff);
}

TEST(FrameBuilder, StpFrameUsesAnLlcHeader) {
    Frame bpdu(35, 0);
    Frame f =
        ethernet_llc(mac("01:80:c2:00:00:00"), mac("00:1a:eb:00:00:01"), 0x42, 0x42, 0x03, bpdu);
    EXPECT_EQ((f[12] << 8) | f[13], 38);  // length, not an ethertype
    Packet p;
    decode_packet(LinkType::ethernet, 1, static_cast<std::uint32_t>(f.size()), f, p);
    ASSERT_TRUE(p.llc);
    EXPECT_EQ(p.llc->dsap, 0x42);
}

TEST(FrameBuilder, PcapWriterWritesClassicRecords) {
    test::TempDir dir;
    auto path = (dir / "x.pcap").string();
    {
        PcapFileWriter w(path);
        w.write(1'700'000'000'123'456, from_hex("0102030405"));
        w.write(1'700'000'001'000'000, from_hex("06"), 1514);
        w.close();
        EXPECT_EQ(w.frames(), 2u);
        EXPECT_EQ(w.bytes(), 6u);
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    ASSERT_EQ(bytes.size(), 24u + 16 + 5 + 16 + 1);
    EXPECT_EQ(Frame(bytes.begin(), bytes.begin() + 4), from_hex("d4c3b2a1"));
    EXPECT_EQ(load_le32(&bytes[24]), 1'700'000'000u);
    EXPECT_EQ(load_le32(&bytes[28]), 123'456u);
    EXPECT_EQ(load_le32(&bytes[32]), 5u);
    EXPECT_EQ(load_le32(&bytes[24 + 16 + 5 + 12]), 1514u);
}

}  // namespace
}  // namespace clinicwatch::bench
