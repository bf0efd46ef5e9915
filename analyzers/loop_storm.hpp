// Is the LAN looping right now? In a loop the same broadcast/multicast (or flooded
// unknown-unicast) frames circulate and the mirror port sees them again and again, byte for
// byte (many copies of several frames within a second, from FrameRepeats). A broadcast storm
// (BroadcastRate's verdict) is often the same physical event seen a second earlier, so this
// unit keeps the one incident for both: one alert (`l2-loop` or `broadcast-storm`, critical),
// updated every few seconds while it lasts and marked ended once the LAN has been quiet for a
// few seconds. Switches' own loop-detection frames (rules) count as repeats sooner and are
// named in the evidence; bridges announcing topology changes (StpChanges) are listed there too.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/broadcast_rate.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/frame_repeats.hpp"
#include "analyzers/loop_settings.hpp"

namespace clinicwatch {

class StpChanges;

class LoopOrStorm final : public Analyzer {
  public:
    // `repeats` and `rate` run before this unit; `bridges` (optional, set later) adds STP
    // evidence.
    LoopOrStorm(FindingSink& sink, LoopDetectorSettings settings, const FrameRepeats& repeats,
                const BroadcastRate& rate);
    std::string_view name() const override { return "loop-storm"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;

    void watch_bridges(const StpChanges* bridges) { bridges_ = bridges; }
    bool incident_open() const { return incident_.open; }
    // Whether the packet just dispatched was a copy of a circulating frame (a loop's copies are
    // not the mirror's duplicates).
    bool circulating(const Packet& packet) const {
        return circulating_packet_ == &packet && circulating_ts_ == packet.ts;
    }
    std::uint64_t incidents() const { return incidents_; }

  private:
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

    void on_repeat(const Packet& p, FrameRepeats::Entry& e, std::uint64_t sig);
    void note_loop_detect_frame(const Packet& p, const LoopDetectFrameRule& rule);
    void advance(Timestamp ts);
    void close_second(Timestamp second);
    void maybe_open_loop(Timestamp ts);
    void open_incident(Timestamp start);
    void emit_incident(Timestamp now, bool ended);
    void end_incident(Timestamp now);
    nlohmann::json incident_evidence(Timestamp now, bool ended) const;

    FindingSink& sink_;
    LoopDetectorSettings settings_;
    const FrameRepeats& repeats_;
    const BroadcastRate& rate_;
    const StpChanges* bridges_ = nullptr;
    std::uint64_t incidents_ = 0;

    static constexpr std::size_t kMaxHotFrames = 16;
    std::vector<HotFrame> hot_;

    SecondClock clock_;
    std::uint64_t sec_repeated_ = 0;
    Timestamp sec_last_ts_ = 0;  // last frame of the second
    Timestamp last_repeat_ = 0;  // last copy of a circulating frame
    const Packet* circulating_packet_ = nullptr;
    Timestamp circulating_ts_ = 0;

    Incident incident_;
};

}  // namespace clinicwatch
