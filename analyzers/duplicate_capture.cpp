#include "analyzers/duplicate_capture.hpp"

#include <algorithm>
#include <cstring>

#include "analyzers/loop_storm.hpp"

namespace clinicwatch {

DuplicateCapture::DuplicateCapture(FindingSink& sink, const LoopDetectorSettings& settings,
                                   const LoopOrStorm* loop)
    : sink_(sink), gap_(settings.duplicate_capture_gap), loop_(loop) {}

void DuplicateCapture::on_packet(const Packet& p, PacketContext& /*context*/) {
    clock_.advance(p.ts, [this](Timestamp second) { close_second(second); });
    const bool circulating = loop_ && loop_->circulating(p);
    std::size_t n = std::min(p.frame.size(), FrameRepeats::kHashBytes);
    bool dup = !circulating && n > 0 && n == prev_length_ && p.wire_length == prev_wire_ &&
               p.ts - prev_ts_ <= gap_ && p.ts >= prev_ts_ &&
               std::memcmp(prev_.data(), p.frame.data(), n) == 0;
    if (dup) {
        ++duplicates_;
        if (first_ == 0) first_ = p.ts;
        last_ = p.ts;
        prev_length_ = 0;  // a third copy is not a capture duplicate of the second
    } else {
        std::memcpy(prev_.data(), p.frame.data(), n);
        prev_length_ = n;
    }
    prev_wire_ = p.wire_length;
    prev_ts_ = p.ts;
}

void DuplicateCapture::close_second(Timestamp second) {
    // Reported at most once a minute, once there are enough to matter.
    const Timestamp next = second + kMicrosPerSecond;
    if (duplicates_ > emitted_ && duplicates_ >= 10 &&
        (last_emit_ == 0 || next - last_emit_ >= 60 * kMicrosPerSecond))
        emit(next);
}

void DuplicateCapture::emit(Timestamp now) {
    AlertUpdate a;
    a.kind = "duplicate-capture";
    a.key = a.kind + ":LAN";
    a.severity = Severity::low;
    a.subject = "mirror port";
    a.summary = "Frames captured twice (" + std::to_string(duplicates_) +
                " so far): the mirror copies both directions or two ports; not a loop";
    a.first_seen = first_;
    a.last_seen = last_;
    a.count = duplicates_ - emitted_;
    emitted_ = duplicates_;
    a.evidence = {{"duplicate_frames", duplicates_}, {"first_us", first_}, {"last_us", last_}};
    last_emit_ = now;
    sink_.alert(std::move(a));
}

void DuplicateCapture::on_tick(Timestamp now) {
    clock_.advance(now, [this](Timestamp second) { close_second(second); });
}

void DuplicateCapture::on_finish(Timestamp now) {
    clock_.finish([this](Timestamp second) { close_second(second); });
    if (duplicates_ > emitted_ && duplicates_ >= 10) emit(now);
}

}  // namespace clinicwatch
