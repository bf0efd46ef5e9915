// Layer-2 loops and broadcast storms: "the network is down again".
//
// In a loop the same broadcast/multicast (or flooded unknown-unicast) frame circulates and the
// mirror port sees it again and again, byte for byte. Each such frame gets a cheap 64-bit
// signature (hash of its first bytes + its length) counted in a bounded table over a window of
// about a second: many copies of several frames in that window is a loop. A frame seen exactly
// twice is normal (a mirror copying both directions of a port).
//
// Alongside: the broadcast + multicast rate against a learned baseline (EWMA) with an absolute
// floor, ARP request rates per host and LAN-wide, STP topology changes per bridge, and switches'
// own loop-detection frames. A loop or storm is one incident, reported as one alert (`l2-loop`
// or `broadcast-storm`, critical) that is updated every few seconds while it lasts and marked
// ended once the LAN has been quiet for a few seconds.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "capture/protocols/stp.hpp"

namespace clinicwatch {

class HostTable;

// A switch's own loop-detection frame (rules/loop-detect-frames.yaml).
struct LoopDetectFrameRule {
    std::string vendor;
    std::optional<MacAddress> dst_mac;  // none = any destination
    std::uint16_t ethertype = 0;
    std::string source;  // where the fact comes from
};

struct LoopDetectorSettings {
    // Signatures kept (rounded up to a power of two). 16384 covers 16k distinct broadcast frames
    // per second; beyond that the oldest entries are evicted and counted.
    std::size_t table_capacity = 16384;
    // Copies of one frame within `window` that mark it as circulating.
    std::uint32_t repeat_threshold = 20;
    // A loop needs this many distinct circulating frames at once, or one frame repeated at least
    // `single_frame_loop` times in the window (a quiet LAN may have only one frame looping). One
    // chatty device resending the same broadcast is not a loop.
    std::uint32_t min_circulating_frames = 2;
    std::uint32_t single_frame_loop = 200;
    Timestamp window = kMicrosPerSecond;
    // Broadcast storm: broadcast + multicast frames/s above max(floor, factor x baseline) for
    // `storm_seconds` consecutive seconds.
    double storm_floor = 1500;
    double storm_factor = 8;
    int storm_seconds = 3;
    // Baseline: EWMA of broadcast + multicast frames/s, time constant in seconds.
    double baseline_seconds = 900;
    // ARP requests/s (distinct frames) above max(floor, factor x baseline) for `storm_seconds`.
    double arp_host_floor = 50;
    double arp_lan_floor = 300;
    double arp_factor = 8;
    std::size_t max_arp_hosts = 4096;
    // An incident ends after this long without its condition.
    Timestamp quiet_to_end = 5 * kMicrosPerSecond;
    // Open alerts are updated at most this often (packet time).
    Timestamp update_interval = 5 * kMicrosPerSecond;
    // A bridge's topology-change episode ends after this long without a TC BPDU (802.1D: a TC
    // lasts max age + forward delay, 35 s by default, announced every hello time).
    Timestamp stp_quiet_to_end = 60 * kMicrosPerSecond;
    std::size_t max_bridges = 256;
    // Frames captured twice (same bytes within this time) reported as a capture artefact.
    Timestamp duplicate_capture_gap = 1000;
    std::vector<LoopDetectFrameRule> loop_detect_frames;
};

// Counters for tests, the benchmark and the daemon's status line.
struct LoopDetectorStats {
    std::uint64_t hashed_frames = 0;
    std::uint64_t table_evictions = 0;
    std::uint64_t incidents = 0;
    std::uint64_t stp_topology_changes = 0;
    std::uint64_t duplicate_captures = 0;
    std::uint64_t arp_host_evictions = 0;  // ARP senders dropped or not tracked (table full)
    std::uint64_t bridge_drops = 0;        // bridges dropped or not tracked (table full)
};

class LoopDetector final : public Analyzer {
  public:
    // `hosts` (optional) tells unknown unicast (a destination never seen as a sender, which
    // switches flood) from ordinary unicast.
    LoopDetector(FindingSink& sink, LoopDetectorSettings settings,
                 const HostTable* hosts = nullptr);
    std::string_view name() const override { return "loop-detector"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override;

    const LoopDetectorStats& stats() const { return stats_; }
    std::size_t table_size() const { return table_used_; }
    std::size_t table_capacity() const { return table_.size(); }
    bool incident_open() const { return incident_.open; }
    double broadcast_baseline() const { return baseline_; }

    // The signature used for duplicate frames: first kHashBytes bytes and the wire length.
    static constexpr std::size_t kHashBytes = 64;
    static std::uint64_t signature(Bytes frame, std::uint32_t wire_length);

  private:
    struct Entry {
        std::uint64_t sig = 0;  // 0 = empty
        Timestamp window_start = 0;
        Timestamp last_seen = 0;
        std::uint32_t count = 0;
        std::int32_t hot = -1;  // index in hot_ when circulating
    };
    // A frame seen circulating: its details are copied once, when it crosses the threshold.
    struct HotFrame {
        std::uint64_t sig = 0;
        MacAddress src, dst;
        std::uint16_t ethertype = 0;
        std::uint16_t vlan = 0;
        std::string protocol;
        std::uint32_t length = 0;
        std::array<std::uint8_t, 32> preview{};
        std::uint8_t preview_length = 0;
        std::uint64_t copies = 0;
        Timestamp first_seen = 0, last_seen = 0;
        std::uint32_t window_count = 0;  // copies in its current window
    };
    struct BridgeState {
        stp::BridgeId bridge;
        MacAddress src_mac;
        std::uint16_t vlan = 0;
        Timestamp episode_start = 0, last_tc = 0, last_emit = 0;
        std::uint64_t tc_bpdus = 0, emitted_tc = 0;
        bool in_episode = false;
        bool tcn = false;
        std::uint8_t version = 0;
    };
    struct ArpHost {
        std::uint32_t this_second = 0;
        double baseline = 0;
        int over = 0;
        Timestamp storm_start = 0, last_over = 0, last_emit = 0;
        bool storm = false;
        std::uint64_t requests_in_storm = 0, peak = 0, emitted = 0;
    };
    struct Incident {
        bool open = false;
        bool loop = false, storm = false;
        bool storm_alerted = false, storm_closed = false;
        Timestamp start = 0, last_active = 0, last_emit = 0;
        Timestamp storm_start = 0;
        std::uint64_t peak_fps = 0, peak_repeated_fps = 0;
        std::uint64_t repeated_frames = 0, emitted_repeated = 0;
        std::uint64_t frames = 0, broadcast_frames = 0;
        double peak_threshold = 0;
        std::vector<std::pair<std::string, std::uint64_t>> loop_detect_frames;  // vendor/src, n
    };

    Entry* lookup(std::uint64_t sig, Timestamp ts, bool& evicted);
    void on_repeat(const Packet& p, Entry& e, std::uint64_t sig);
    void note_loop_detect_frame(const Packet& p, const LoopDetectFrameRule& rule);
    void on_bpdu(const Packet& p, const stp::Bpdu& b);
    // An ARP request, or its IPv6 counterpart (a multicast neighbour solicitation).
    void on_arp_request(const MacAddress& sender);
    void check_duplicate_capture(const Packet& p, bool circulating);
    void advance(Timestamp ts);
    void close_second();
    void maybe_open_loop(Timestamp ts);
    void open_incident(Timestamp start);
    void emit_incident(Timestamp now, bool ended);
    void end_incident(Timestamp now);
    void emit_bridge(BridgeState& b, bool ended);
    void emit_arp(const MacAddress* host, ArpHost& a, Timestamp now, bool ended);
    void emit_duplicates(Timestamp now);
    void update_arp(const MacAddress* host, ArpHost& a, Timestamp now);
    nlohmann::json incident_evidence(Timestamp now, bool ended) const;

    FindingSink& sink_;
    LoopDetectorSettings settings_;
    const HostTable* hosts_;
    LoopDetectorStats stats_;

    std::vector<Entry> table_;
    std::size_t table_mask_ = 0;
    std::size_t table_used_ = 0;

    static constexpr std::size_t kMaxHotFrames = 16;
    std::vector<HotFrame> hot_;

    // The second being counted (packet time, whole seconds).
    Timestamp second_ = -1;
    std::uint64_t sec_frames_ = 0, sec_bcast_ = 0, sec_repeated_ = 0, sec_arp_ = 0;
    Timestamp sec_last_ts_ = 0;       // last frame of the second
    std::uint64_t last_dst_ = ~0ULL;  // unicast destination last looked up in the HostTable
    bool last_dst_unknown_ = false;
    double baseline_ = 0;
    std::uint64_t baseline_samples_ = 0;
    int storm_over_ = 0;
    Timestamp storm_first_over_ = 0;
    std::uint64_t storm_run_frames_ = 0, storm_run_bcast_ = 0, storm_run_peak_ = 0;
    Timestamp last_repeat_ = 0;  // last copy of a circulating frame

    Incident incident_;

    std::unordered_map<std::uint64_t, BridgeState> bridges_;
    std::unordered_map<std::uint64_t, ArpHost> arp_hosts_;
    ArpHost arp_lan_;

    // Previous frame, to see frames captured twice.
    std::array<std::uint8_t, kHashBytes> prev_{};
    std::size_t prev_length_ = 0;
    std::uint32_t prev_wire_ = 0;
    Timestamp prev_ts_ = 0;
    Timestamp dup_first_ = 0, dup_last_emit_ = 0, dup_last_ = 0;
    std::uint64_t dup_emitted_ = 0;
};

}  // namespace clinicwatch
