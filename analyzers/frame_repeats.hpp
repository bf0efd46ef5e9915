// The frames a loop would repeat, counted once for the loop units (analyzers/loop_detector.hpp):
// each broadcast, multicast or flooded unknown-unicast frame gets a cheap 64-bit signature (hash
// of its first bytes + its length) counted in a bounded table over a window of about a second,
// and every frame counts in the per-second totals (all frames, broadcast + multicast frames).
//
// It raises nothing itself. It runs before the units that read it (loop-storm, arp-storms,
// duplicate-capture): they ask `seen(packet)` for the verdict on the packet being dispatched
// and `closed(second)` for a finished second's totals, so the table is looked up and the frames
// counted once per packet however many units use them.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/loop_settings.hpp"

namespace clinicwatch {

class HostTable;

// Whole seconds of packet time, closed in order. A gap closes one quiet second (the rate
// counters start again from it) and skips the rest.
class SecondClock {
  public:
    Timestamp second() const { return second_; }
    bool started() const { return second_ >= 0; }
    // Calls close(start of the second) for each second to close; true when it moved on.
    template <class Close>
    bool advance(Timestamp ts, Close&& close) {
        // Most frames fall in the current second (or are slightly late): no division.
        if (second_ >= 0 && ts - second_ < kMicrosPerSecond) return false;
        Timestamp s = ts / kMicrosPerSecond * kMicrosPerSecond;
        if (second_ < 0) {
            second_ = s;
            return false;
        }
        if (s <= second_) return false;  // a slightly late frame counts in the current second
        close(second_);
        if (s > second_ + kMicrosPerSecond) {
            second_ += kMicrosPerSecond;
            close(second_);
        }
        second_ = s;
        return true;
    }
    // End of input: the current second is closed and the clock stands after it.
    template <class Close>
    void finish(Close&& close) {
        if (second_ < 0) return;
        close(second_);
        second_ += kMicrosPerSecond;
    }

  private:
    Timestamp second_ = -1;
};

// A learned normal rate (EWMA) moves by this share of the difference each second.
inline double per_second_alpha(double time_constant_seconds) {
    return time_constant_seconds > 1 ? 1.0 / time_constant_seconds : 1.0;
}

class FrameRepeats final : public Analyzer {
  public:
    struct Entry {
        std::uint64_t sig = 0;  // 0 = empty
        Timestamp window_start = 0;
        Timestamp last_seen = 0;
        std::uint32_t count = 0;
        std::int32_t hot = -1;  // the loop unit's index of the frame while it circulates
    };
    // The verdict on the packet being dispatched.
    struct Seen {
        bool hashed = false;          // broadcast, multicast or unknown unicast with bytes
        bool first_in_window = true;  // the first copy of these bytes in the window
        std::uint64_t sig = 0;
        Entry* entry = nullptr;  // its slot (hashed only)
    };
    // A finished second's totals.
    struct Second {
        Timestamp start = -1;
        std::uint64_t frames = 0, group_frames = 0;  // all; broadcast + multicast
        Timestamp last_ts = 0;                       // the last frame's time
    };

    // `hosts` (optional) tells unknown unicast (a destination never seen as a sender, which
    // switches flood) from ordinary unicast.
    FrameRepeats(const LoopDetectorSettings& settings, const HostTable* hosts = nullptr);
    std::string_view name() const override { return "frame-repeats"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override;

    // The verdict on `packet`, or nothing when this unit has not seen it (wrong order).
    const Seen* seen(const Packet& packet) const {
        return seen_packet_ == &packet && seen_ts_ == packet.ts ? &seen_ : nullptr;
    }
    // The totals of the second that started at `start` (zeros when it was not counted).
    Second closed(Timestamp start) const;

    static constexpr std::size_t kHashBytes = 64;
    static std::uint64_t signature(Bytes frame, std::uint32_t wire_length);

    std::size_t table_size() const { return table_used_; }
    std::size_t table_capacity() const { return table_.size(); }
    std::uint64_t hashed_frames() const { return hashed_frames_; }
    std::uint64_t table_evictions() const { return table_evictions_; }
    Timestamp window() const { return window_; }

  private:
    Entry* lookup(std::uint64_t sig, Timestamp ts);
    void close(Timestamp second);

    const HostTable* hosts_;
    Timestamp window_;
    std::vector<Entry> table_;
    std::size_t table_mask_ = 0;
    std::size_t table_used_ = 0;
    std::uint64_t hashed_frames_ = 0, table_evictions_ = 0;

    Seen seen_;
    const Packet* seen_packet_ = nullptr;
    Timestamp seen_ts_ = 0;
    std::uint64_t last_dst_ = ~0ULL;  // unicast destination last looked up in the HostTable
    bool last_dst_unknown_ = false;

    SecondClock clock_;
    Second current_;
    std::array<Second, 4> closed_{};  // the last seconds closed (a gap closes two at once)
    std::size_t closed_next_ = 0;
};

}  // namespace clinicwatch
