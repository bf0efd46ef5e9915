// Which bridges announce spanning-tree topology changes? A bridge sending BPDUs with the TC flag
// (or TCNs) is in a topology-change episode, reported as one `stp-topology-change` alert
// (medium) per bridge, VLAN and episode, ended once it has been quiet for `stp_quiet_to_end`.
// A loop or storm incident (LoopOrStorm) lists the bridges announcing changes around it.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/frame_repeats.hpp"
#include "analyzers/loop_settings.hpp"
#include "capture/protocols/stp.hpp"

namespace clinicwatch {

class StpChanges final : public Analyzer {
  public:
    struct Bridge {
        stp::BridgeId bridge;
        MacAddress src_mac;
        std::uint16_t vlan = 0;
        Timestamp episode_start = 0, last_tc = 0, last_emit = 0;
        std::uint64_t tc_bpdus = 0, emitted_tc = 0;
        bool in_episode = false;
        bool tcn = false;
        std::uint8_t version = 0;
    };

    // `during_incident` (optional) says whether a loop or storm is going on, for the evidence.
    StpChanges(FindingSink& sink, const LoopDetectorSettings& settings,
               std::function<bool()> during_incident = {});
    std::string_view name() const override { return "stp-changes"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override;

    const std::unordered_map<std::uint64_t, Bridge>& bridges() const { return bridges_; }
    std::uint64_t topology_changes() const { return topology_changes_; }
    std::uint64_t bridge_drops() const { return bridge_drops_; }

  private:
    void on_bpdu(const Packet& p, const stp::Bpdu& b);
    void close_second(Timestamp second);
    void emit(Bridge& b, bool ended);

    FindingSink& sink_;
    Timestamp update_interval_, quiet_to_end_;
    std::size_t max_bridges_;
    std::function<bool()> during_incident_;
    SecondClock clock_;
    std::unordered_map<std::uint64_t, Bridge> bridges_;
    std::uint64_t topology_changes_ = 0;
    std::uint64_t bridge_drops_ = 0;  // bridges dropped or not tracked (table full)
};

}  // namespace clinicwatch
