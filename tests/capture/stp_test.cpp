// STP/RSTP/MSTP BPDUs. The frames are the bytes of real captures (tcpdump's test traces
// 802.1D_spanning_tree, 802.1w_rapid_STP and MSTP_Intra-Region_BPDUs, and a suricata-verify
// trace with a Windows 7 host behind a bridge announcing a topology change).
#include "capture/protocols/stp.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::from_hex;

namespace {

// 802.1D config BPDU, no flags: from 00:19:06:ea:b8:85, root = bridge 32769/00:19:06:ea:b8:80.
const char* kStpConfig =
    "01 80 c2 00 00 00 00 19 06 ea b8 85 00 26 42 42 03 00 00 00 00 00 80 01 00 19 06 ea b8 80"
    "00 00 00 00 80 01 00 19 06 ea b8 80 80 05 00 00 14 00 02 00 0f 00 00 00 00 00 00 00 00 00";

// RSTP BPDU with flags 0x3d: TC, designated, learning, forwarding.
const char* kRstpTopologyChange =
    "01 80 c2 00 00 00 00 19 06 ea b8 8c 00 27 42 42 03 00 00 02 02 3d 80 01 00 19 06 ea b8 80"
    "00 00 00 00 80 01 00 19 06 ea b8 80 80 0c 00 00 14 00 02 00 0f 00 00 00 00 00 00 00 00 00";

// 802.1D config BPDU with the TC flag, cut at the BPDU's end (no Ethernet padding captured).
const char* kStpConfigTc =
    "01 80 c2 00 00 00 fe 54 00 10 75 93 00 26 42 42 03 00 00 00 00 01 80 00 52 54 00 2f 9f 43"
    "00 00 00 00 80 00 52 54 00 2f 9f 43 80 05 00 00 14 00 02 00 02 00";

// MSTP BPDU inside an 802.1Q tag (VLAN 0, priority 7), region "Brewery", two MSTIs.
const char* kMstp =
    "01 80 c2 00 00 00 00 1e f7 05 a8 92 81 00 e0 00 00 89 42 42 03 00 00 03 02 38 00 00 00 1f"
    "27 b4 7d 80 00 03 0d 40 80 00 00 16 46 b5 8c 80 80 12 01 00 14 00 02 00 0f 00 00 00 60 00"
    "42 72 65 77 65 72 79 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 93 57 eb b7 a8 d7 4d d5 fe f4 f2 ba b5 05 31 aa 00 03 0d 40 80 00 00 1e f7 05"
    "a8 80 14 fc 60 01 00 1e f7 05 a8 80 00 00 00 00 60 80 14 f8 80 02 00 16 46 b5 8c 80 00 03"
    "0d 40 80 80 14";

Packet decode(const std::vector<std::uint8_t>& frame, Timestamp ts = 1) {
    Packet p;
    decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(frame.size()), frame, p);
    return p;
}

}  // namespace

TEST(Stp, ClassicConfigBpdu) {
    auto frame = from_hex(kStpConfig);
    Packet p = decode(frame);
    ASSERT_TRUE(stp::is_bpdu_frame(p));
    auto b = stp::parse_packet(p);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->version, stp::kStp);
    EXPECT_EQ(b->type, stp::BpduType::config);
    EXPECT_EQ(b->flags, 0);
    EXPECT_FALSE(b->topology_change());
    EXPECT_FALSE(b->topology_change_ack());
    EXPECT_EQ(b->root.to_string(), "32769/00:19:06:ea:b8:80");
    EXPECT_EQ(b->bridge.to_string(), "32769/00:19:06:ea:b8:80");
    EXPECT_EQ(b->sender().mac.to_string(), "00:19:06:ea:b8:80");
    EXPECT_EQ(b->root_path_cost, 0u);
    EXPECT_EQ(b->port_id, 0x8005);
    EXPECT_EQ(b->max_age, 20 * 256);
    EXPECT_EQ(b->hello_time, 2 * 256);
    EXPECT_EQ(b->forward_delay, 15 * 256);
    EXPECT_EQ(b->port_role(), stp::PortRole::unknown);
    EXPECT_FALSE(b->mst);
}

TEST(Stp, RapidBpduWithTopologyChange) {
    auto b = stp::parse_packet(decode(from_hex(kRstpTopologyChange)));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->version, stp::kRstp);
    EXPECT_EQ(b->type, stp::BpduType::rapid);
    EXPECT_EQ(b->flags, 0x3d);
    EXPECT_TRUE(b->topology_change());
    EXPECT_FALSE(b->topology_change_ack());
    EXPECT_EQ(b->port_role(), stp::PortRole::designated);
    EXPECT_EQ(b->port_id, 0x800c);
}

TEST(Stp, ConfigBpduWithTopologyChangeFlag) {
    auto b = stp::parse_packet(decode(from_hex(kStpConfigTc)));
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->topology_change());
    EXPECT_EQ(b->bridge.to_string(), "32768/52:54:00:2f:9f:43");
    EXPECT_EQ(b->forward_delay, 2 * 256);
}

TEST(Stp, MstpBpduInVlanTag) {
    auto frame = from_hex(kMstp);  // the Packet points into it
    Packet p = decode(frame);
    EXPECT_EQ(p.vlan_depth, 1);
    auto b = stp::parse_packet(p);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->version, stp::kMstp);
    EXPECT_EQ(b->flags, 0x38);
    EXPECT_EQ(b->port_role(), stp::PortRole::root);
    EXPECT_EQ(b->root.to_string(), "0/00:1f:27:b4:7d:80");
    EXPECT_EQ(b->root_path_cost, 200000u);
    EXPECT_EQ(b->bridge.to_string(), "32768/00:16:46:b5:8c:80");  // CIST regional root
    EXPECT_EQ(b->port_id, 0x8012);
    EXPECT_EQ(b->message_age, 256);
    ASSERT_TRUE(b->mst);
    EXPECT_STREQ(b->mst->config_name.data(), "Brewery");
    EXPECT_EQ(b->mst->revision, 0);
    EXPECT_EQ(b->mst->digest[0], 0x93);
    EXPECT_EQ(b->mst->digest[15], 0xaa);
    EXPECT_EQ(b->mst->cist_internal_root_path_cost, 200000u);
    EXPECT_EQ(b->mst->cist_bridge.to_string(), "32768/00:1e:f7:05:a8:80");
    EXPECT_EQ(b->sender().to_string(), "32768/00:1e:f7:05:a8:80");
    EXPECT_EQ(b->mst->cist_remaining_hops, 20);
    EXPECT_EQ(b->mst->msti_count, 2);
    EXPECT_EQ(b->mst->msti_topology_changes, 0);
    EXPECT_FALSE(b->topology_change());
}

TEST(Stp, MstiTopologyChangeCounts) {
    auto frame = from_hex(kMstp);
    // The first MSTI record's flags byte (0xfc) sits right after the 64-byte MST extension.
    std::size_t msti_flags = 18 + 3 + 36 + 2 + 64;
    ASSERT_EQ(frame[msti_flags], 0xfc);
    frame[msti_flags] |= stp::kFlagTopologyChange;
    auto b = stp::parse_packet(decode(frame));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->mst->msti_topology_changes, 1);
    EXPECT_TRUE(b->topology_change());
}

TEST(Stp, TopologyChangeNotification) {
    // TCN BPDU as 802.1D 9.3.2 lays it out: protocol 0, version 0, type 0x80; padded frame.
    auto frame = from_hex(
        "01 80 c2 00 00 00 00 19 06 ea b8 85 00 07 42 42 03 00 00 00 80 00 00 00 00 00 00 00 00"
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
    auto b = stp::parse_packet(decode(frame));
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->is_tcn());
    EXPECT_TRUE(b->topology_change());
    EXPECT_EQ(b->flags, 0);
}

TEST(Stp, RejectsTruncatedAndForeign) {
    auto frame = from_hex(kRstpTopologyChange);
    Bytes bpdu = Bytes(frame).subspan(17);
    ASSERT_TRUE(stp::parse(bpdu));
    for (std::size_t n = 0; n < 35; ++n) EXPECT_FALSE(stp::parse(bpdu.first(n))) << n;
    // Wrong protocol identifier, unknown type, RST type claiming version 0.
    auto bad = std::vector<std::uint8_t>(bpdu.begin(), bpdu.end());
    bad[1] = 1;
    EXPECT_FALSE(stp::parse(bad));
    bad[1] = 0;
    bad[3] = 0x03;
    EXPECT_FALSE(stp::parse(bad));
    bad[3] = 0x02;
    bad[2] = 0;
    EXPECT_FALSE(stp::parse(bad));
    // An MSTP BPDU whose version 3 length claims more than the frame holds.
    auto mstp = from_hex(kMstp);
    Bytes m = Bytes(mstp).subspan(21);
    ASSERT_TRUE(stp::parse(m));
    EXPECT_FALSE(stp::parse(m.first(m.size() - 1)));
    // Not STP: an ARP frame decodes without LLC.
    auto arp = from_hex(
        "ff ff ff ff ff ff 00 11 22 33 44 55 08 06 00 01 08 00 06 04 00 01 00 11 22 33 44 55 c0 a8"
        "64 0a 00 00 00 00 00 00 c0 a8 64 01");
    EXPECT_FALSE(stp::parse_packet(decode(arp)));
}
