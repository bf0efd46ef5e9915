// Does the mirror port copy frames twice? The same bytes again within
// `duplicate_capture_gap` (1 ms) are the mirror copying both directions or two ports, not the
// network: reported as one `duplicate-capture` alert (low) at most once a minute, so nobody
// reads a doubled count as a loop. A loop's circulating copies (LoopOrStorm) are not counted.
#pragma once

#include <array>
#include <cstdint>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/frame_repeats.hpp"
#include "analyzers/loop_settings.hpp"

namespace clinicwatch {

class LoopOrStorm;

class DuplicateCapture final : public Analyzer {
  public:
    // `loop` (optional) runs before this unit and tells a loop's copies apart.
    DuplicateCapture(FindingSink& sink, const LoopDetectorSettings& settings,
                     const LoopOrStorm* loop = nullptr);
    std::string_view name() const override { return "duplicate-capture"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;

    std::uint64_t duplicates() const { return duplicates_; }

  private:
    void close_second(Timestamp second);
    void emit(Timestamp now);

    FindingSink& sink_;
    Timestamp gap_;
    const LoopOrStorm* loop_;
    SecondClock clock_;
    // The previous frame's first bytes.
    std::array<std::uint8_t, FrameRepeats::kHashBytes> prev_{};
    std::size_t prev_length_ = 0;
    std::uint32_t prev_wire_ = 0;
    Timestamp prev_ts_ = 0;
    std::uint64_t duplicates_ = 0, emitted_ = 0;
    Timestamp first_ = 0, last_ = 0, last_emit_ = 0;
};

}  // namespace clinicwatch
