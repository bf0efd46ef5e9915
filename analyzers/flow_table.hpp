// The one table of connections every unit reads (issue 19): each IP packet's flow is looked up
// once, by the dispatcher, and handed to the units with the packet. Keyed by the 5-tuple and the
// VLAN; both directions of a connection are one flow. A flow knows which side opened it (the
// SYN's sender; with no SYN seen, the receiver of a SYN-ACK, else the first packet's sender),
// what each side sent, and enough TCP state for the units. A unit that needs per-connection
// state of its own keeps it in a typed slot of the flow (FlowSlots) instead of another table.
//
// Bounded like the sensor's other tables: a fixed capacity; when full, a new flow is admitted
// only on its second packet within a window (Probation: a scan's or a spoofed flood's one-packet
// flows never push out a live session), up to a budget per second, and then by evicting the
// least recently seen of a few sampled flows. Flows idle past a timeout are expired on the tick.
// Evictions and refusals are counted and reported through table_use() (SensorLimits).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/bounded_table.hpp"
#include "analyzers/probation.hpp"
#include "capture/packet.hpp"

namespace clinicwatch {

// A connection's key, the same whichever direction a packet goes: the two endpoints (address
// and port), the lower first, then ports, VLAN, protocol and address family, packed in five
// words so that a lookup compares integers (every IP packet does one).
struct FlowTuple {
    std::array<std::uint64_t, 5> words{};
    // Word by word: std::array's == calls memcmp, a measurable share of every lookup.
    bool operator==(const FlowTuple& o) const {
        return words[0] == o.words[0] && words[1] == o.words[1] && words[2] == o.words[2] &&
               words[3] == o.words[3] && words[4] == o.words[4];
    }
};

struct FlowTupleHash {
    std::size_t operator()(const FlowTuple& t) const noexcept;
};

// Per-connection state of the service-health unit: per direction (0 = from the opener), the
// highest sequence end seen (retransmissions) and the current burst (transfer speed).
struct ServiceHealthFlow {
    struct Direction {
        bool started = false;
        std::uint32_t high_end = 0;
        std::uint32_t burst_bytes = 0;
        Timestamp burst_start = 0, last = 0;
    };
    std::array<Direction, 2> direction{};
};

// Where a unit keeps its own entry for this flow (analyzers/flow_entries.hpp): state that is
// large and needed for few flows (egress's names, a remote-access session's log) lives in the
// unit, and the flow refers to it.
struct EntryRef {
    std::uint32_t index = 0;
    std::uint64_t tag = 0;  // 0: none
};

// Typed slots of the units that keep per-connection state; each unit reads and writes only
// its own. Zeroed when the flow is created.
struct FlowSlots {
    ServiceHealthFlow service_health;
    EntryRef egress;         // Egress: a connection across the internet boundary
    EntryRef remote_access;  // RemoteAccessSessions: a session being recognised or logged
    std::uint8_t remote_access_inspected = 0;  // its payload packets searched for a tool
    EntryRef cleartext_login;                  // CleartextLogin: a Telnet/FTP login under way
};

struct Flow {
    enum class OpenedBy : std::uint8_t {
        syn,           // the opener's SYN was seen
        syn_ack,       // only the answer: its receiver opened
        first_packet,  // mid-stream (capture began later) or connectionless: first sender
    };
    // TCP handshake and teardown seen so far (bits).
    static constexpr std::uint8_t kSyn = 0x01, kSynAck = 0x02, kFinFromOpener = 0x04,
                                  kFinFromResponder = 0x08, kRst = 0x10;

    // The endpoints as the opener sees them.
    IpAddress opener, responder;
    std::uint16_t opener_port = 0, responder_port = 0;
    std::uint16_t vlan = 0;
    std::uint8_t protocol = 0;
    OpenedBy opened_by = OpenedBy::first_packet;
    bool opener_is_low = true;  // the opener is the key's lower endpoint (tells directions apart)
    std::uint8_t tcp = 0;       // k* bits
    MacAddress opener_mac, responder_mac;
    Timestamp first_seen = 0, last_seen = 0;
    // Index 0: sent by the opener; 1: by the responder.
    std::array<std::uint64_t, 2> packets{}, bytes{};
    std::array<std::uint32_t, 2> isn{};  // initial sequence numbers, where SYN / SYN-ACK seen

    bool closed() const { return tcp & (kFinFromOpener | kFinFromResponder | kRst); }
    bool handshake_seen() const { return (tcp & (kSyn | kSynAck)) == (kSyn | kSynAck); }

    FlowSlots slots;
};

struct FlowTableSettings {
    // A clinic has a few hundred live connections; 16,384 (~4 MB) leaves room for bursts.
    std::size_t capacity = 16384;
    Timestamp idle_tcp = 300 * kMicrosPerSecond;
    Timestamp idle_closed = 30 * kMicrosPerSecond;  // after FIN or RST
    Timestamp idle_other = 120 * kMicrosPerSecond;
    // With the table full, a new flow is let in on its second packet within this window.
    Timestamp probation_window = 30 * kMicrosPerSecond;
    std::size_t probation_slots = std::size_t{1} << 15;
    // With the table full, at most this many new flows a second (of packet time) push out an old
    // one: every eviction closes what the units hold of it (a report, a session logged).
    std::uint64_t max_new_flows_per_second_when_full = 4000;
};

class FlowTable {
  public:
    explicit FlowTable(FlowTableSettings settings = {});

    // Called with each flow as it leaves the table: expired, evicted to make room, or replaced
    // by a new connection on the same ports. Units whose state of a connection lives outside
    // the flow close it there (the dispatcher hands it to every analyzer's on_flow_end).
    using EndHook = std::function<void(Flow&)>;
    void set_on_end(EndHook hook) { on_end_ = std::move(hook); }

    // What the dispatcher learns of one packet: its flow (null when the packet has no flow: not
    // IP, a later fragment, or refused while the table is full) and whether the opener sent it.
    struct Lookup {
        Flow* flow = nullptr;
        bool from_opener = true;
        bool created = false;  // this packet opened the flow (as far as the table knows)
    };

    // Finds or creates the packet's flow and counts the packet in it.
    Lookup track(const Packet& packet);
    // Removes flows idle past their timeout (call once a second of packet time at most).
    void expire(Timestamp now);

    std::size_t size() const { return flows_.size(); }
    std::size_t capacity() const { return flows_.capacity(); }
    std::uint64_t evicted() const { return flows_.evictions(); }
    // Packets whose new flow was not admitted while the table was full (waiting on probation,
    // or past the budget of new flows a second).
    std::uint64_t refused() const { return probation_.refused() + budget_.refused(); }
    std::uint64_t expired() const { return expired_; }
    void table_use(std::vector<TableUse>& out) const;

    // Every flow (tests, and units that sum over connections).
    template <typename F>
    void for_each(F&& f) const {
        flows_.for_each([&](const FlowTuple&, const Flow& flow) { f(flow); });
    }

    // The key of a packet's flow; false when the packet has none.
    static bool tuple_of(const Packet& packet, FlowTuple& out, bool& src_is_low);

  private:
    void ended(Flow& flow) {
        if (on_end_) on_end_(flow);
    }

    FlowTableSettings settings_;
    EndHook on_end_;
    BoundedTable<FlowTuple, Flow, FlowTupleHash> flows_;
    Probation probation_;
    PerSecondBudget budget_;
    std::uint64_t expired_ = 0;
};

}  // namespace clinicwatch
