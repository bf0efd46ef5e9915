// A doorkeeper for a full table: a key not in the table is let in only when it is seen again,
// at least `min_gap` and at most `window` after it was first turned away. Floods forge a fresh key
// for every frame (random source MACs, spoofed sources, scans of random destinations), so their
// keys wait here and never push out what the table holds, while anything real (a device, a session)
// soon sends again and is let in.
//
// The gap keeps out tools that send two frames at once from each forged key (a DHCP starvation
// tool's DISCOVER and REQUEST); a real device keeps talking.
//
// Direct-mapped over a fixed array (24 bytes a slot): a flood overwrites its own entries, so
// memory never grows, and each check is one read. The array is allocated on the first check,
// which only a full table makes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "capture/packet.hpp"

namespace clinicwatch {

class Probation {
  public:
    enum class Outcome {
        admitted,         // seen before, within the window and not too soon: let it in now
        started_waiting,  // not waiting before (a newcomer)
        waiting_again,    // waiting already: too soon (keeps waiting), or too late (starts again)
    };

    // `slots` is rounded up to a power of two.
    Probation(std::size_t slots, Timestamp window, Timestamp min_gap = 0)
        : window_(window), min_gap_(min_gap) {
        std::size_t n = 1;
        while (n < slots) n <<= 1;
        mask_ = n - 1;
    }

    // `fingerprint` tells keys apart (the key itself packed into 64 bits, or a 64-bit hash of
    // it); `hash` chooses the slot. `tag` is kept with a key's first sighting and handed back by
    // first_tag() when it is admitted (the egress analyzer keeps which side sent first).
    Outcome check(std::uint64_t hash, std::uint64_t fingerprint, Timestamp ts,
                  std::uint8_t tag = 0) {
        if (waiting_.empty()) waiting_.resize(mask_ + 1);
        Waiting& w = waiting_[hash & mask_];
        if (w.fingerprint == fingerprint && w.since != kEmpty) {
            Timestamp waited = ts - w.since;
            if (waited >= min_gap_ && waited <= window_) {
                first_tag_ = w.tag;
                w = Waiting{};
                return Outcome::admitted;
            }
            if (waited > window_) w = Waiting{fingerprint, ts, tag};  // too late: start again
            ++refused_;
            return Outcome::waiting_again;
        }
        w = Waiting{fingerprint, ts, tag};
        ++refused_;
        return Outcome::started_waiting;
    }

    // The tag given with the first sighting of the key admitted last.
    std::uint8_t first_tag() const { return first_tag_; }

    // Checks that did not admit: each is a frame whose key the table did not take.
    std::uint64_t refused() const { return refused_; }

  private:
    static constexpr Timestamp kEmpty = INT64_MIN;
    struct Waiting {
        std::uint64_t fingerprint = 0;
        Timestamp since = kEmpty;
        std::uint8_t tag = 0;
    };
    Timestamp window_, min_gap_;
    std::size_t mask_;
    std::vector<Waiting> waiting_;
    std::uint64_t refused_ = 0;
    std::uint8_t first_tag_ = 0;
};

// At most `limit` admissions per second of packet time; the rest are refused and counted.
class PerSecondBudget {
  public:
    explicit PerSecondBudget(std::uint64_t limit) : limit_(limit) {}
    bool admit(Timestamp ts) {
        if (ts / kMicrosPerSecond != second_) {
            second_ = ts / kMicrosPerSecond;
            used_ = 0;
        }
        if (++used_ <= limit_) return true;
        ++refused_;
        return false;
    }
    std::uint64_t refused() const { return refused_; }

  private:
    std::uint64_t limit_;
    Timestamp second_ = 0;
    std::uint64_t used_ = 0, refused_ = 0;
};

}  // namespace clinicwatch
