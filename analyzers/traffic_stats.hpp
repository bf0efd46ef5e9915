// Minute statistics for the network-health timeline: frames, bytes, broadcast and multicast
// frames, undecodable frames, drops and distinct active hosts, per minute of packet time.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_set>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"

namespace clinicwatch {

// Cumulative drop counters from the capture side (kernel and ring), read once a minute.
struct DropCounters {
    std::uint64_t capture_drops = 0;
    std::uint64_t ring_drops = 0;
};

class TrafficStats final : public Analyzer {
  public:
    TrafficStats(FindingSink& sink, std::function<DropCounters()> drops);
    std::string_view name() const override { return "traffic-stats"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;

    static constexpr std::size_t kMaxTrackedHostsPerMinute = 65536;

  private:
    void close_minute();

    FindingSink& sink_;
    std::function<DropCounters()> drops_;
    DropCounters last_drops_{};
    MinuteStats current_{};
    bool open_ = false;
    std::unordered_set<std::uint64_t> active_;
    std::uint64_t last_sender_ = ~0ULL;
};

}  // namespace clinicwatch
