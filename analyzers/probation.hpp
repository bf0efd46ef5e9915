// A doorkeeper for a full table: a key not in the table is let in only when it is seen a second
// time within a window. Floods forge a fresh key for every frame (random source MACs, spoofed
// sources, scans of random destinations), so their keys wait here and never push out what the
// table holds, while anything real (a device, a session) soon sends again and is let in.
//
// Direct-mapped over a fixed array: a flood overwrites its own entries, so memory never grows,
// and each check is one read. The array is allocated on the first check, which only a full
// table makes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "capture/packet.hpp"

namespace clinicwatch {

class Probation {
  public:
    enum class Outcome {
        admitted,         // seen before within the window: let it in now
        started_waiting,  // not waiting before (a newcomer)
        waiting_again,    // waiting before, but the window had passed: the wait starts again
    };

    // `slots` is rounded up to a power of two.
    Probation(std::size_t slots, Timestamp window) : window_(window) {
        std::size_t n = 1;
        while (n < slots) n <<= 1;
        mask_ = n - 1;
    }

    // `fingerprint` tells keys apart (the key itself packed into 64 bits, or a 64-bit hash of
    // it); `hash` chooses the slot.
    Outcome check(std::uint64_t hash, std::uint64_t fingerprint, Timestamp ts) {
        if (waiting_.empty()) waiting_.resize(mask_ + 1);
        Waiting& w = waiting_[hash & mask_];
        if (w.fingerprint == fingerprint && w.since != kEmpty) {
            if (ts - w.since <= window_) {
                w = Waiting{};
                return Outcome::admitted;
            }
            w.since = ts;
            ++refused_;
            return Outcome::waiting_again;
        }
        w = Waiting{fingerprint, ts};
        ++refused_;
        return Outcome::started_waiting;
    }

    // Checks that did not admit: each is a frame whose key the table did not take.
    std::uint64_t refused() const { return refused_; }

  private:
    static constexpr Timestamp kEmpty = INT64_MIN;
    struct Waiting {
        std::uint64_t fingerprint = 0;
        Timestamp since = kEmpty;
    };
    Timestamp window_;
    std::size_t mask_;
    std::vector<Waiting> waiting_;
    std::uint64_t refused_ = 0;
};

}  // namespace clinicwatch
