// The first bytes of a connection put in order, and egress naming a destination from a real
// post-quantum ClientHello (Chromium 156, 1993 bytes) that spans two or three segments,
// out of order and retransmitted.
#include "analyzers/packet_context.hpp"
#include "analyzers/stream_reassembler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/egress.hpp"
#include "capture/protocols/tls.hpp"
#include "tests/analyzers/chrome_hello.hpp"
#include "tests/analyzers/frames.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

constexpr Timestamp kT0 = 1'795'130'000'000'000;

Bytes span_of(const std::string& s) {
    return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
std::string text_of(Bytes b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

TEST(StreamReassembler, PutsSegmentsInOrderWhateverTheyArrive) {
    StreamReassembler r(4, 64);
    auto h = r.open(1000, false, kT0);
    ASSERT_TRUE(h.valid());
    std::string msg = "GET /index.html HTTP/1.1\r\nHost: portal.clinic.example\r\n\r\n";
    Bytes all = span_of(msg);
    EXPECT_TRUE(r.add(h, 1000 + 30, all.subspan(30), kT0));  // the tail first
    EXPECT_TRUE(r.contiguous(h).empty());
    EXPECT_TRUE(r.add(h, 1000 + 10, all.subspan(10, 20), kT0));
    EXPECT_TRUE(r.contiguous(h).empty());
    EXPECT_TRUE(r.add(h, 1000, all.first(10), kT0));
    EXPECT_EQ(text_of(r.contiguous(h)), msg);
}

TEST(StreamReassembler, FirstCopyWinsOnOverlapAndRetransmission) {
    StreamReassembler r(4, 64);
    auto h = r.open(0, false, kT0);
    std::string a = "abcdefgh", b = "XXXXXXXXXXXX";
    r.add(h, 0, span_of(a), kT0);
    r.add(h, 4, span_of(b), kT0);  // overlaps efgh, extends to 16
    r.add(h, 0, span_of(b), kT0);  // a retransmission with other bytes cannot rewrite
    EXPECT_EQ(text_of(r.contiguous(h)), "abcdefghXXXXXXXX");
}

TEST(StreamReassembler, KeepsOnlyItsDepthAndIgnoresBytesBeforeAFixedBase) {
    StreamReassembler r(2, 64);
    auto h = r.open(5000, false, kT0);
    std::string big(100, 'z');
    r.add(h, 4990, span_of(big), kT0);  // starts 10 bytes before the base: those are cut
    EXPECT_EQ(r.contiguous(h).size(), 64u);
    EXPECT_TRUE(r.full(h));
    std::string early = "0123456789";
    r.add(h, 4000, span_of(early), kT0);  // wholly before the base
    EXPECT_EQ(r.segments_dropped(), 1u);
}

TEST(StreamReassembler, AMovableBaseFollowsAnEarlierSegment) {
    // No SYN seen: the stream starts where the first segment seen starts, until an earlier
    // one (the first segment, overtaken) arrives.
    StreamReassembler r(2, 64);
    auto h = r.open(2000, true, kT0);
    r.add(h, 2000, span_of(std::string("world")), kT0);
    r.add(h, 1994, span_of(std::string("hello ")), kT0);
    EXPECT_EQ(text_of(r.contiguous(h)), "hello world");
}

TEST(StreamReassembler, SequenceNumbersWrapAround) {
    StreamReassembler r(2, 64);
    auto h = r.open(0xfffffffc, false, kT0);
    r.add(h, 0x00000000, span_of(std::string("5678")), kT0);
    r.add(h, 0xfffffffc, span_of(std::string("1234")), kT0);
    EXPECT_EQ(text_of(r.contiguous(h)), "12345678");
}

TEST(StreamReassembler, TooManyHolesDropTheSegmentNotTheStream) {
    StreamReassembler r(1, 256);
    auto h = r.open(0, false, kT0);
    std::string x = "x";
    for (std::uint32_t i = 0; i < 20; ++i) r.add(h, 10 + i * 10, span_of(x), kT0);
    EXPECT_EQ(r.segments_dropped(), 20u - StreamReassembler::kMaxRanges);
    std::string fill(255, 'f');
    r.add(h, 0, span_of(fill), kT0);  // covers every hole: merges into one range
    EXPECT_EQ(r.contiguous(h).size(), 255u);
}

TEST(StreamReassembler, BoundedStreamsRefuseLiveOnesAndEvictStalledOnes) {
    StreamReassembler r(2, 64);
    auto a = r.open(0, false, kT0);
    auto b = r.open(0, false, kT0 + 1);
    ASSERT_TRUE(a.valid() && b.valid());
    EXPECT_FALSE(r.open(0, false, kT0 + 2).valid());  // both live: refused
    EXPECT_EQ(r.refused(), 1u);
    r.add(b, 0, span_of(std::string("b")), kT0 + StreamReassembler::kStaleAfter);
    auto c = r.open(0, false, kT0 + StreamReassembler::kStaleAfter + 10);  // `a` stalled
    ASSERT_TRUE(c.valid());
    EXPECT_EQ(r.evicted(), 1u);
    EXPECT_FALSE(r.alive(a));  // its old handle is stale, not someone else's stream
    EXPECT_FALSE(r.add(a, 0, span_of(std::string("a")), kT0));
    EXPECT_TRUE(r.contiguous(c).empty());
    r.release(b);
    EXPECT_EQ(r.in_use(), 1u);
    EXPECT_TRUE(r.open(0, false, kT0).valid());
}

// ---- Egress names a destination from a ClientHello spanning segments ------------------------

namespace {

const MacAddress kRouter = *MacAddress::parse("00:a0:de:6e:21:4c");
const MacAddress kEhr = *MacAddress::parse("98:e7:43:0c:55:21");
const IpAddress kEhrIp = *IpAddress::parse("192.168.100.10");
const IpAddress kPortal = *IpAddress::parse("203.0.113.80");
constexpr std::uint32_t kIsn = 0x7ffffff0;

struct Sink : FindingSink {
    std::vector<AlertUpdate> alerts;
    std::vector<BoundaryFlowSummary> flows;
    void alert(AlertUpdate a) override { alerts.push_back(std::move(a)); }
    void minute(const MinuteStats&) override {}
    void boundary_flows(const std::vector<BoundaryFlowSummary>& rows) override {
        flows.insert(flows.end(), rows.begin(), rows.end());
    }
};

EgressSettings settings(std::size_t max_streams = 512) {
    EgressSettings s;
    s.internal_networks = {*IpNetwork::parse("192.168.100.0/24")};
    s.policy.max_streams = max_streams;
    s.rules.index();
    return s;
}

struct Segment {
    std::size_t begin, end;
};

class Connection {
  public:
    explicit Connection(Egress& e, std::uint16_t sport = 50123, bool with_syn = true)
        : egress_(e), sport_(sport) {
        app_.report_flow_ends_to(egress_);
        if (with_syn) {
            send_client(TcpView::kSyn, {}, kIsn);
            send(ipv4_frame(kRouter, kEhr, kPortal, kEhrIp, 6,
                            tcp_segment(443, sport_, TcpView::kSyn | TcpView::kAck)));
            send_client(TcpView::kAck, {}, kIsn + 1);
        }
    }
    void send_hello_part(const Frame& hello, Segment s) {
        Frame part(hello.begin() + static_cast<long>(s.begin),
                   hello.begin() + static_cast<long>(s.end));
        send_client(TcpView::kAck | TcpView::kPsh, part,
                    kIsn + 1 + static_cast<std::uint32_t>(s.begin));
    }
    void send_client(std::uint8_t flags, const Frame& payload, std::uint32_t seq) {
        send(ipv4_frame(kEhr, kRouter, kEhrIp, kPortal, 6,
                        tcp_segment(sport_, 443, flags, payload, seq)));
    }
    void send(const Frame& f) {
        now_ += 1000;
        decode_packet(LinkType::ethernet, now_, static_cast<std::uint32_t>(f.size()), f, packet_);
        egress_.on_packet(packet_, app_.begin(packet_));
    }

  private:
    Egress& egress_;
    std::uint16_t sport_;
    Packet packet_;
    ApplicationLayer app_;
    Timestamp now_ = kT0;
};

std::string named(Sink& sink, Egress& e) {
    e.on_finish(kT0 + 10 * kMicrosPerSecond);
    for (const auto& f : sink.flows)
        if (f.port == 443) return (f.name.empty() ? "(no name)" : f.name) + "|" + f.name_source;
    return "(no flow)";
}

std::string name_after(const std::vector<Segment>& order, bool with_syn = true) {
    Sink sink;
    Egress egress(sink, settings(), {});
    Frame hello = from_hex(kChrome156PostQuantumHello);
    Connection c(egress, 50123, with_syn);
    for (const auto& s : order) c.send_hello_part(hello, s);
    return named(sink, egress);
}

}  // namespace

TEST(EgressReassembly, TheRealHelloIsOnePostQuantumRecordOfNearlyTwoKilobytes) {
    Frame hello = from_hex(kChrome156PostQuantumHello);
    ASSERT_EQ(hello.size(), 1993u);
    auto h = tls::parse_client_hello(hello);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->sni, "portal.clinic.example");
    EXPECT_NE(std::find(h->groups.begin(), h->groups.end(), 0x11ec), h->groups.end());
    // The first 1448 bytes (one segment at a 1500-byte MTU with timestamps) do not hold it
    // whole; on Chrome's other orders the name is past them.
    auto first = tls::parse_client_hello(Bytes(hello).first(1448));
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->extensions_truncated);
}

TEST(EgressReassembly, TwoSegmentsInOrderNameTheDestination) {
    EXPECT_EQ(name_after({{0, 1448}, {1448, 1993}}), "portal.clinic.example|tls-sni");
}

TEST(EgressReassembly, NameSplitAcrossTheSegmentBoundary) {
    // server_name sits at bytes 186-215: cut through the middle of it.
    EXPECT_EQ(name_after({{0, 200}, {200, 1993}}), "portal.clinic.example|tls-sni");
}

TEST(EgressReassembly, ThreeSegmentsOutOfOrderWithARetransmission) {
    EXPECT_EQ(name_after({{1400, 1993}, {0, 150}, {1400, 1993}, {150, 1400}}),
              "portal.clinic.example|tls-sni");
    EXPECT_EQ(name_after({{150, 1400}, {1400, 1993}, {150, 1400}, {0, 150}}),
              "portal.clinic.example|tls-sni");
}

TEST(EgressReassembly, OverlappingRetransmissionWithOtherSegmentation) {
    EXPECT_EQ(name_after({{0, 1000}, {0, 1448}, {900, 1993}}), "portal.clinic.example|tls-sni");
}

TEST(EgressReassembly, WithoutTheSynTheHelloStartStillAnchorsTheStream) {
    // Capture began between the handshake and the hello; the second segment overtakes the first.
    EXPECT_EQ(name_after({{0, 1448}, {1448, 1993}}, false), "portal.clinic.example|tls-sni");
    EXPECT_EQ(name_after({{1448, 1993}, {0, 1448}}, false), "(no name)|" + std::string())
        << "without a SYN a segment that is not a hello start cannot be placed";
}

TEST(EgressReassembly, LostSecondSegmentFallsBackToWhatArrived) {
    // The name is in the first part; the rest never comes. The flow is judged with it.
    EXPECT_EQ(name_after({{0, 1448}}), "portal.clinic.example|tls-sni");
}

TEST(EgressReassembly, StreamsAreBoundedAndRefusalsReported) {
    Sink sink;
    Egress egress(sink, settings(16), {});
    Frame hello = from_hex(kChrome156PostQuantumHello);
    std::vector<std::unique_ptr<Connection>> conns;
    for (std::uint16_t i = 0; i < 40; ++i) {
        conns.push_back(
            std::make_unique<Connection>(egress, static_cast<std::uint16_t>(40000 + i)));
        conns.back()->send_hello_part(hello, {0, 1000});  // every hello stalls half-way
    }
    EXPECT_EQ(egress.streams().in_use(), 16u);
    EXPECT_EQ(egress.streams().refused(), 24u);
    std::vector<TableUse> use;
    egress.table_use(use);
    bool reported = false;
    for (const auto& u : use)
        if (u.table == "stream-reassembly") {
            reported = true;
            EXPECT_EQ(u.capacity, 16u);
            EXPECT_EQ(u.dropped, 24u);
        }
    EXPECT_TRUE(reported);
    // A refused flow is judged by what it had, and its name was in it.
    egress.on_finish(kT0 + 10 * kMicrosPerSecond);
    std::size_t named_flows = 0;
    for (const auto& f : sink.flows)
        if (f.name == "portal.clinic.example") named_flows += f.flows;
    EXPECT_EQ(named_flows, 40u);
    EXPECT_EQ(egress.streams().in_use(), 0u);
}
