// Is the broadcast + multicast rate a storm? Each second's broadcast + multicast frames (from
// FrameRepeats) against max(storm_floor, storm_factor x the learned normal rate); the normal
// rate is an EWMA learned only from normal seconds outside a loop or storm incident, so a storm
// does not raise its own bar. A run of `storm_seconds` seconds above it is a storm: LoopOrStorm
// reads each second's verdict and raises the one incident (`broadcast-storm`, or `l2-loop` when
// frames circulate). Raises nothing itself.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "analyzers/analyzer.hpp"
#include "analyzers/frame_repeats.hpp"
#include "analyzers/loop_settings.hpp"

namespace clinicwatch {

class BroadcastRate final : public Analyzer {
  public:
    // One second judged.
    struct Verdict {
        Timestamp second = -1;
        bool over = false;        // above the threshold
        double threshold = 0;     // frames/s
        int run_seconds = 0;      // consecutive seconds over, this one included
        Timestamp run_start = 0;  // the run's first second
        std::uint64_t run_frames = 0, run_group_frames = 0, run_peak = 0;  // over the run
    };

    // `repeats` runs before this unit.
    BroadcastRate(const LoopDetectorSettings& settings, const FrameRepeats& repeats);
    std::string_view name() const override { return "broadcast-rate"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;

    // Whether a loop or storm incident is open (nothing is learned then); set by the builder.
    void watch_incident(std::function<bool()> incident_open) {
        incident_open_ = std::move(incident_open);
    }
    // The verdict on the second that started at `second` (not over when it was not judged).
    Verdict judged(Timestamp second) const;
    double baseline() const { return baseline_; }

  private:
    void close(Timestamp second);

    double floor_, factor_, baseline_seconds_;
    const FrameRepeats& repeats_;
    std::function<bool()> incident_open_;
    SecondClock clock_;
    double baseline_ = 0;
    std::uint64_t baseline_samples_ = 0;
    Verdict run_;                      // the current run (run_seconds 0: none)
    std::array<Verdict, 4> judged_{};  // the last seconds judged (a gap judges two at once)
    std::size_t judged_next_ = 0;
};

}  // namespace clinicwatch
