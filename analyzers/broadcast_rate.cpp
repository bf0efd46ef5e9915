#include "analyzers/broadcast_rate.hpp"

#include <algorithm>

namespace clinicwatch {

BroadcastRate::BroadcastRate(const LoopDetectorSettings& s, const FrameRepeats& repeats)
    : floor_(s.storm_floor),
      factor_(s.storm_factor),
      baseline_seconds_(s.baseline_seconds),
      repeats_(repeats) {}

void BroadcastRate::on_packet(const Packet& p, PacketContext& /*context*/) {
    clock_.advance(p.ts, [this](Timestamp second) { close(second); });
}

void BroadcastRate::on_tick(Timestamp now) {
    clock_.advance(now, [this](Timestamp second) { close(second); });
}

void BroadcastRate::on_finish(Timestamp) {
    clock_.finish([this](Timestamp second) { close(second); });
}

void BroadcastRate::close(Timestamp second) {
    const FrameRepeats::Second counts = repeats_.closed(second);
    const double fps = static_cast<double>(counts.group_frames);
    Verdict v;
    v.second = second;
    v.threshold = std::max(floor_, factor_ * baseline_);
    v.over = fps > v.threshold;
    if (v.over) {
        if (run_.run_seconds == 0) {
            run_ = Verdict{};
            run_.run_start = second;
        }
        ++run_.run_seconds;
        run_.run_frames += counts.frames;
        run_.run_group_frames += counts.group_frames;
        run_.run_peak = std::max(run_.run_peak, counts.group_frames);
        v.run_seconds = run_.run_seconds;
        v.run_start = run_.run_start;
        v.run_frames = run_.run_frames;
        v.run_group_frames = run_.run_group_frames;
        v.run_peak = run_.run_peak;
    } else {
        run_.run_seconds = 0;
        if (!incident_open_ || !incident_open_()) {
            // Learn the normal rate only from normal seconds, so a storm does not raise its own
            // bar.
            ++baseline_samples_;
            double alpha = std::max(1.0 / static_cast<double>(baseline_samples_),
                                    per_second_alpha(baseline_seconds_));
            baseline_ += alpha * (fps - baseline_);
        }
    }
    judged_[judged_next_] = v;
    judged_next_ = (judged_next_ + 1) % judged_.size();
}

BroadcastRate::Verdict BroadcastRate::judged(Timestamp second) const {
    for (const auto& v : judged_)
        if (v.second == second) return v;
    Verdict none;
    none.second = second;
    none.threshold = std::max(floor_, factor_ * baseline_);
    return none;
}

}  // namespace clinicwatch
