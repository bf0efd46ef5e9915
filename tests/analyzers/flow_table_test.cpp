#include "analyzers/flow_table.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "analyzers/dispatcher.hpp"
#include "analyzers/packet_context.hpp"
#include "tests/analyzers/frames.hpp"
#include "tests/capture/protocols/frames.hpp"

namespace clinicwatch {
namespace {

using test::Frame;
using test::ipv4_frame;
using test::ipv6_frame;
using test::tcp_segment;
using test::udp_datagram;

constexpr Timestamp kT0 = 1'795'129'200'000'000;
constexpr std::uint8_t kSyn = TcpView::kSyn, kAck = TcpView::kAck, kFin = TcpView::kFin,
                       kPsh = TcpView::kPsh;

const MacAddress kPcMac = *MacAddress::parse("00:1b:21:aa:bb:21");
const MacAddress kEhrMac = *MacAddress::parse("00:15:5d:10:00:0a");
const IpAddress kPc = *IpAddress::parse("192.168.100.21");
const IpAddress kEhr = *IpAddress::parse("192.168.100.10");

// An 802.1Q tag inserted after the MAC addresses.
Frame tagged(Frame f, std::uint16_t vlan) {
    Frame tag;
    test::put16(tag, 0x8100);
    test::put16(tag, vlan);
    f.insert(f.begin() + 12, tag.begin(), tag.end());
    return f;
}

Frame pc_to_ehr(std::uint8_t flags, const Frame& payload = {}, std::uint32_t seq = 1000,
                std::uint16_t sport = 50000) {
    return ipv4_frame(kPcMac, kEhrMac, kPc, kEhr, 6, tcp_segment(sport, 443, flags, payload, seq));
}
Frame ehr_to_pc(std::uint8_t flags, const Frame& payload = {}, std::uint32_t seq = 9000,
                std::uint16_t dport = 50000) {
    return ipv4_frame(kEhrMac, kPcMac, kEhr, kPc, 6, tcp_segment(443, dport, flags, payload, seq));
}

struct Feeder {
    explicit Feeder(FlowTableSettings s = {}) : flows(s) {}
    FlowTable::Lookup send(const Frame& f, Timestamp ts) {
        frames.push_back(f);  // the packet points into its frame
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(f.size()),
                      Bytes(frames.back().data(), frames.back().size()), packet);
        return flows.track(packet);
    }
    std::vector<const Flow*> all() const {
        std::vector<const Flow*> out;
        flows.for_each([&](const Flow& f) { out.push_back(&f); });
        return out;
    }
    FlowTable flows;
    Packet packet;
    std::vector<Frame> frames;
};

TEST(FlowTable, BothDirectionsOfAConnectionAreOneFlowOpenedByTheSynsSender) {
    Feeder t;
    auto syn = t.send(pc_to_ehr(kSyn, {}, 1000), kT0);
    ASSERT_NE(syn.flow, nullptr);
    EXPECT_TRUE(syn.created);
    EXPECT_TRUE(syn.from_opener);
    auto syn_ack = t.send(ehr_to_pc(kSyn | kAck, {}, 9000), kT0 + 1000);
    EXPECT_EQ(syn_ack.flow, syn.flow);
    EXPECT_FALSE(syn_ack.created);
    EXPECT_FALSE(syn_ack.from_opener);
    t.send(pc_to_ehr(kAck | kPsh, Frame(100, 'a'), 1001), kT0 + 2000);
    auto last = t.send(ehr_to_pc(kAck | kPsh, Frame(300, 'b'), 9001), kT0 + 3000);
    ASSERT_EQ(t.flows.size(), 1u);
    const Flow& f = *last.flow;
    EXPECT_EQ(f.opener, kPc);
    EXPECT_EQ(f.responder, kEhr);
    EXPECT_EQ(f.opener_port, 50000);
    EXPECT_EQ(f.responder_port, 443);
    EXPECT_EQ(f.opener_mac, kPcMac);
    EXPECT_EQ(f.responder_mac, kEhrMac);
    EXPECT_EQ(f.opened_by, Flow::OpenedBy::syn);
    EXPECT_TRUE(f.handshake_seen());
    EXPECT_EQ(f.isn[0], 1000u);
    EXPECT_EQ(f.isn[1], 9000u);
    EXPECT_EQ(f.packets[0], 2u);
    EXPECT_EQ(f.packets[1], 2u);
    EXPECT_GT(f.bytes[1], f.bytes[0]);  // the server sent the larger segment
    EXPECT_EQ(f.first_seen, kT0);
    EXPECT_EQ(f.last_seen, kT0 + 3000);
    EXPECT_FALSE(f.closed());
    t.send(pc_to_ehr(kFin | kAck, {}, 1101), kT0 + 4000);
    EXPECT_TRUE(last.flow->closed());
    EXPECT_TRUE(last.flow->tcp & Flow::kFinFromOpener);
    EXPECT_FALSE(last.flow->tcp & Flow::kFinFromResponder);
}

TEST(FlowTable, ASynAckSeenFirstNamesItsReceiverTheOpener) {
    Feeder t;
    auto l = t.send(ehr_to_pc(kSyn | kAck), kT0);
    ASSERT_NE(l.flow, nullptr);
    EXPECT_FALSE(l.from_opener);
    EXPECT_EQ(l.flow->opener, kPc);
    EXPECT_EQ(l.flow->opened_by, Flow::OpenedBy::syn_ack);
    EXPECT_EQ(l.flow->packets[1], 1u);
}

TEST(FlowTable, MidStreamTheFirstSenderOpensUntilAHandshakeShowsOtherwise) {
    Feeder t;
    // Capture began mid-stream: the server's data comes first.
    auto data = t.send(ehr_to_pc(kAck | kPsh, Frame(50, 'x')), kT0);
    ASSERT_NE(data.flow, nullptr);
    EXPECT_EQ(data.flow->opener, kEhr);
    EXPECT_EQ(data.flow->opened_by, Flow::OpenedBy::first_packet);
    // A SYN from the PC on the same ports: the PC is the opener; counts follow the sides.
    auto syn = t.send(pc_to_ehr(kSyn), kT0 + 1000);
    EXPECT_EQ(syn.flow, data.flow);
    EXPECT_TRUE(syn.from_opener);
    EXPECT_EQ(syn.flow->opener, kPc);
    EXPECT_EQ(syn.flow->opener_port, 50000);
    EXPECT_EQ(syn.flow->opened_by, Flow::OpenedBy::syn);
    EXPECT_EQ(syn.flow->packets[0], 1u);  // the SYN
    EXPECT_EQ(syn.flow->packets[1], 1u);  // the server's data
}

TEST(FlowTable, ADatagramsSenderOpensAndTheReplyIsTheSameFlow) {
    Feeder t;
    auto q =
        t.send(ipv4_frame(kPcMac, kEhrMac, kPc, kEhr, 17, udp_datagram(53001, 53, Frame(30))), kT0);
    auto a = t.send(ipv4_frame(kEhrMac, kPcMac, kEhr, kPc, 17, udp_datagram(53, 53001, Frame(80))),
                    kT0 + 500);
    ASSERT_NE(q.flow, nullptr);
    EXPECT_EQ(q.flow, a.flow);
    EXPECT_EQ(q.flow->opener, kPc);
    EXPECT_EQ(q.flow->protocol, 17);
    EXPECT_TRUE(q.from_opener);
    EXPECT_FALSE(a.from_opener);
    // Another source port is another flow.
    t.send(ipv4_frame(kPcMac, kEhrMac, kPc, kEhr, 17, udp_datagram(53002, 53, Frame(30))),
           kT0 + 600);
    EXPECT_EQ(t.flows.size(), 2u);
}

TEST(FlowTable, VlansSeparateFlowsWithTheSameAddresses) {
    Feeder t;
    auto v10 = t.send(tagged(pc_to_ehr(kSyn), 10), kT0);
    auto v20 = t.send(tagged(pc_to_ehr(kSyn), 20), kT0 + 1);
    auto untagged = t.send(pc_to_ehr(kSyn), kT0 + 2);
    ASSERT_NE(v10.flow, nullptr);
    ASSERT_NE(v20.flow, nullptr);
    EXPECT_NE(v10.flow, v20.flow);
    EXPECT_NE(v10.flow, untagged.flow);
    EXPECT_EQ(t.flows.size(), 3u);
    EXPECT_EQ(v10.flow->vlan, 10);
    EXPECT_EQ(v20.flow->vlan, 20);
    auto answer = t.send(tagged(ehr_to_pc(kSyn | kAck), 20), kT0 + 3);
    EXPECT_EQ(answer.flow, v20.flow);
    EXPECT_TRUE(v20.flow->handshake_seen());
    EXPECT_FALSE(v10.flow->handshake_seen());
}

TEST(FlowTable, Ipv6ConnectionsAreFollowedBothWays) {
    Feeder t;
    const IpAddress pc6 = *IpAddress::parse("2001:db8:1::21");
    const IpAddress web = *IpAddress::parse("2001:db8:ffff::80");
    auto syn = t.send(ipv6_frame(kPcMac, kEhrMac, pc6, web, 6, tcp_segment(50100, 443, kSyn)), kT0);
    auto syn_ack = t.send(
        ipv6_frame(kEhrMac, kPcMac, web, pc6, 6, tcp_segment(443, 50100, kSyn | kAck)), kT0 + 10);
    ASSERT_NE(syn.flow, nullptr);
    EXPECT_EQ(syn.flow, syn_ack.flow);
    EXPECT_EQ(syn.flow->opener, pc6);
    EXPECT_EQ(syn.flow->responder, web);
    EXPECT_TRUE(syn.flow->handshake_seen());
    EXPECT_EQ(t.flows.size(), 1u);
}

TEST(FlowTable, AFullTableKeepsOnePacketFlowsOnProbationAndEvictsForRealOnes) {
    FlowTableSettings s;
    s.capacity = 4;
    Feeder t(s);
    for (std::uint16_t i = 0; i < 4; ++i)
        ASSERT_NE(t.send(pc_to_ehr(kSyn, {}, 1000, static_cast<std::uint16_t>(50000 + i)),
                         kT0 + i * kMicrosPerSecond)
                      .flow,
                  nullptr);
    EXPECT_EQ(t.flows.size(), 4u);
    // A scan's one-packet flows wait on probation: not tracked, nothing pushed out, counted.
    for (std::uint16_t i = 0; i < 10; ++i) {
        auto l = t.send(ipv4_frame(kPcMac, kEhrMac, kPc, kEhr, 6,
                                   tcp_segment(40000, static_cast<std::uint16_t>(1 + i), kSyn)),
                        kT0 + 5 * kMicrosPerSecond);
        EXPECT_EQ(l.flow, nullptr);
    }
    EXPECT_EQ(t.flows.size(), 4u);
    EXPECT_EQ(t.flows.evicted(), 0u);
    EXPECT_EQ(t.flows.refused(), 10u);
    // A real connection answers: its second packet lets it in, evicting the flow seen longest
    // ago; the side that sent first stays the opener.
    auto first = t.send(pc_to_ehr(kSyn, {}, 1000, 51000), kT0 + 6 * kMicrosPerSecond);
    EXPECT_EQ(first.flow, nullptr);
    auto second = t.send(ehr_to_pc(kSyn | kAck, {}, 9000, 51000), kT0 + 6 * kMicrosPerSecond + 100);
    ASSERT_NE(second.flow, nullptr);
    EXPECT_EQ(second.flow->opener, kPc);
    EXPECT_EQ(second.flow->opener_port, 51000);
    EXPECT_EQ(t.flows.size(), 4u);
    EXPECT_EQ(t.flows.evicted(), 1u);
    EXPECT_EQ(t.flows.refused(), 11u);
    // SensorLimits sees both.
    std::vector<TableUse> use;
    t.flows.table_use(use);
    ASSERT_EQ(use.size(), 1u);
    EXPECT_EQ(use[0].table, "flows");
    EXPECT_EQ(use[0].capacity, 4u);
    EXPECT_EQ(use[0].dropped, 12u);
}

TEST(FlowTable, IdleFlowsExpireAndClosedOnesSooner) {
    FlowTableSettings s;
    Feeder t(s);
    t.send(pc_to_ehr(kSyn, {}, 1000, 50000), kT0);
    t.send(pc_to_ehr(kSyn, {}, 1000, 50001), kT0);
    t.send(pc_to_ehr(kFin | kAck, {}, 1001, 50001), kT0 + 1);
    t.send(ipv4_frame(kPcMac, kEhrMac, kPc, kEhr, 17, udp_datagram(53001, 53, Frame(30))), kT0);
    t.flows.expire(kT0 + s.idle_closed + 2);
    EXPECT_EQ(t.flows.size(), 2u);  // the closed connection went
    t.flows.expire(kT0 + s.idle_other + 1);
    EXPECT_EQ(t.flows.size(), 1u);  // then the datagrams
    ASSERT_EQ(t.all().size(), 1u);
    EXPECT_EQ(t.all()[0]->opener_port, 50000);
    t.flows.expire(kT0 + s.idle_tcp + 1);
    EXPECT_EQ(t.flows.size(), 0u);
    EXPECT_EQ(t.flows.expired(), 3u);
}

TEST(FlowTable, TheSamePortsAfterACloseAreANewConnection) {
    Feeder t;
    auto a = t.send(pc_to_ehr(kSyn, {}, 1000), kT0);
    t.send(pc_to_ehr(kAck | kPsh, Frame(10), 1001), kT0 + 1);
    t.send(ehr_to_pc(TcpView::kRst | kAck), kT0 + 2);
    ASSERT_TRUE(a.flow->closed());
    auto b = t.send(pc_to_ehr(kSyn, {}, 777000), kT0 + kMicrosPerSecond);
    EXPECT_TRUE(b.created);
    EXPECT_FALSE(b.flow->closed());
    EXPECT_EQ(b.flow->packets[0], 1u);
    EXPECT_EQ(b.flow->first_seen, kT0 + kMicrosPerSecond);
    EXPECT_EQ(b.flow->isn[0], 777000u);
    EXPECT_EQ(t.flows.size(), 1u);
}

TEST(FlowTable, EveryFlowLeavingTheTableIsHandedToTheEndHook) {
    // Expired, evicted, or replaced by a new connection on the same ports: a unit keeping state
    // of the flow elsewhere (egress) hears of each, with the flow as it was.
    FlowTableSettings s;
    s.capacity = 2;
    Feeder t(s);
    std::vector<std::uint16_t> ended;  // opener ports of the flows handed over
    std::vector<std::uint64_t> packets;
    t.flows.set_on_end([&](Flow& f) {
        ended.push_back(f.opener_port);
        packets.push_back(f.packets[0] + f.packets[1]);
    });
    t.send(pc_to_ehr(kSyn, {}, 1000, 50000), kT0);
    t.send(pc_to_ehr(kAck | kPsh, Frame(10), 1001, 50000), kT0 + 1);
    t.send(ehr_to_pc(TcpView::kRst | kAck, {}, 9000, 50000), kT0 + 2);
    t.send(pc_to_ehr(kSyn, {}, 5000, 50000), kT0 + kMicrosPerSecond);  // same ports again
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0], 50000);
    EXPECT_EQ(packets[0], 3u);
    t.send(pc_to_ehr(kSyn, {}, 1000, 50001), kT0 + 2 * kMicrosPerSecond);
    // Full: a third connection is let in on its second packet and pushes one out.
    t.send(pc_to_ehr(kSyn, {}, 1000, 50002), kT0 + 3 * kMicrosPerSecond);
    t.send(ehr_to_pc(kSyn | kAck, {}, 9000, 50002), kT0 + 3 * kMicrosPerSecond + 10);
    ASSERT_EQ(ended.size(), 2u);
    EXPECT_EQ(t.flows.evicted(), 1u);
    t.flows.expire(kT0 + 4 * kMicrosPerSecond + s.idle_tcp);
    EXPECT_EQ(ended.size(), 4u);  // the two left
    EXPECT_EQ(t.flows.size(), 0u);
}

TEST(FlowTable, AFullTableLetsInAtMostItsBudgetOfNewFlowsASecond) {
    FlowTableSettings s;
    s.capacity = 4;
    s.max_new_flows_per_second_when_full = 3;
    Feeder t(s);
    for (std::uint16_t i = 0; i < 4; ++i)
        t.send(pc_to_ehr(kSyn, {}, 1000, static_cast<std::uint16_t>(50000 + i)), kT0);
    // Ten connections, each answered (so each passes probation), in one second.
    int admitted = 0;
    for (std::uint16_t i = 0; i < 10; ++i) {
        const auto port = static_cast<std::uint16_t>(51000 + i);
        const Timestamp at = kT0 + kMicrosPerSecond + i * 1000;
        t.send(pc_to_ehr(kSyn, {}, 1000, port), at);
        if (t.send(ehr_to_pc(kSyn | kAck, {}, 9000, port), at + 100).flow) ++admitted;
    }
    EXPECT_EQ(admitted, 3);
    EXPECT_EQ(t.flows.evicted(), 3u);
    EXPECT_EQ(t.flows.refused(), 10u + 7u);  // ten first packets on probation, seven answers
    // The next second has a budget again.
    t.send(pc_to_ehr(kSyn, {}, 1000, 52000), kT0 + 2 * kMicrosPerSecond);
    EXPECT_NE(
        t.send(ehr_to_pc(kSyn | kAck, {}, 9000, 52000), kT0 + 2 * kMicrosPerSecond + 100).flow,
        nullptr);
}

TEST(FlowTable, PacketsWithoutAFlowGetNone) {
    Feeder t;
    Frame arp(12, 0xff);
    test::put16(arp, 0x0806);
    arp.resize(60, 0);
    EXPECT_EQ(t.send(arp, kT0).flow, nullptr);
    EXPECT_EQ(t.flows.size(), 0u);
}

// Records the flow each packet came with.
class FlowWitness final : public Analyzer {
  public:
    explicit FlowWitness(std::vector<const Flow*>& seen) : seen_(seen) {}
    std::string_view name() const override { return "witness"; }
    void on_packet(const Packet&, PacketContext& context) override {
        seen_.push_back(context.flow());
        dhcp_.push_back(context.dhcp());
    }
    std::vector<const dhcp::Message*> dhcp_;

  private:
    std::vector<const Flow*>& seen_;
};

TEST(FlowTable, TheDispatcherLooksEachPacketsFlowUpOnceForEveryAnalyzer) {
    HostTable hosts(64);
    Dispatcher d(hosts);
    std::vector<const Flow*> first, second;
    auto a = std::make_unique<FlowWitness>(first);
    auto b = std::make_unique<FlowWitness>(second);
    FlowWitness* wa = a.get();
    FlowWitness* wb = b.get();
    d.add(std::move(a));
    d.add(std::move(b));
    Frame syn = pc_to_ehr(kSyn);
    Frame syn_ack = ehr_to_pc(kSyn | kAck);
    Packet p;
    decode_packet(LinkType::ethernet, kT0, static_cast<std::uint32_t>(syn.size()), syn, p);
    d.on_packet(p);
    decode_packet(LinkType::ethernet, kT0 + 1, static_cast<std::uint32_t>(syn_ack.size()), syn_ack,
                  p);
    d.on_packet(p);
    ASSERT_EQ(first.size(), 2u);
    ASSERT_NE(first[0], nullptr);
    EXPECT_EQ(first, second);       // the same flow for both analyzers
    EXPECT_EQ(first[0], first[1]);  // and for both directions
    EXPECT_EQ(d.flows().size(), 1u);
    EXPECT_EQ(first[0]->packets[0] + first[0]->packets[1], 2u);  // counted once per packet
    EXPECT_EQ(wa->dhcp_, wb->dhcp_);                             // not DHCP: null for both
    EXPECT_EQ(wa->dhcp_[0], nullptr);
    std::vector<TableUse> use;
    d.table_use(use);
    ASSERT_FALSE(use.empty());
    EXPECT_EQ(use[0].table, "flows");
}

TEST(PacketContext, ADhcpMessageIsParsedOnceAndSharedByEveryAnalyzer) {
    HostTable hosts(64);
    Dispatcher d(hosts);
    std::vector<const Flow*> first, second;
    auto a = std::make_unique<FlowWitness>(first);
    auto b = std::make_unique<FlowWitness>(second);
    FlowWitness* wa = a.get();
    FlowWitness* wb = b.get();
    d.add(std::move(a));
    d.add(std::move(b));
    // A DHCPDISCOVER (RFC 2131: 236-byte header, magic cookie, option 53 = 1).
    Frame bootp(236, 0);
    bootp[0] = 1;  // request
    bootp[1] = 1;  // Ethernet
    bootp[2] = 6;
    std::copy(kPcMac.bytes.begin(), kPcMac.bytes.end(), bootp.begin() + 28);
    for (int v : {0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255})
        bootp.push_back(static_cast<std::uint8_t>(v));
    Frame f =
        ipv4_frame(kPcMac, *MacAddress::parse("ff:ff:ff:ff:ff:ff"), *IpAddress::parse("0.0.0.0"),
                   *IpAddress::parse("255.255.255.255"), 17, udp_datagram(68, 67, bootp));
    Packet p;
    decode_packet(LinkType::ethernet, kT0, static_cast<std::uint32_t>(f.size()), f, p);
    d.on_packet(p);
    ASSERT_EQ(wa->dhcp_.size(), 1u);
    ASSERT_NE(wa->dhcp_[0], nullptr);
    EXPECT_EQ(wa->dhcp_[0], wb->dhcp_[0]);  // one parse, one result
    EXPECT_EQ(wa->dhcp_[0]->message_type, dhcp::kDiscover);
    EXPECT_EQ(wa->dhcp_[0]->chaddr, kPcMac);
}

}  // namespace
TEST(PacketContext, LayerTwoAnnouncementsAreParsedOnce) {
    // Inventory and topology both read a switch's LLDP and CDP, topology and stp-changes the
    // same BPDUs: one parse each, shared.
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kLldpS2, storage, p);
    PacketContext lldp(p);
    const lldp::Message* m = lldp.lldp();
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(lldp.lldp(), m);
    EXPECT_EQ(lldp.cdp(), nullptr);
    EXPECT_EQ(lldp.stp(), nullptr);

    std::vector<std::uint8_t> cdp_storage;
    Packet c;
    test::decode_hex(test::kCdpSwitch, cdp_storage, c);
    PacketContext cdp(c);
    const cdp::Message* cm = cdp.cdp();
    ASSERT_NE(cm, nullptr);
    EXPECT_EQ(cdp.cdp(), cm);
    EXPECT_FALSE(cm->device_id.empty());
}

}  // namespace clinicwatch
