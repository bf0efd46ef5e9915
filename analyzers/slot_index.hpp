// An index from keys to positions in a vector of entries, for the sensor's bounded tables.
// Open addressing with linear probing over a power-of-two array kept at most half full, and
// backward-shift deletion (no tombstones, so a flood's churn never lengthens the probes). A
// lookup usually reads one 8-byte slot and the entry, where a node-based map reads a bucket,
// a node and the entry: floods look a key up for every packet, and those cache misses were
// most of their cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace clinicwatch {

template <typename Key, typename Hash>
class SlotIndex {
  public:
    static constexpr std::size_t kNone = SIZE_MAX;

    explicit SlotIndex(std::size_t capacity) {
        std::size_t slots = 16;
        while (slots < 2 * capacity) slots <<= 1;
        slots_.resize(slots);
        mask_ = slots - 1;
    }

    static std::uint32_t hash_of(const Key& key) { return static_cast<std::uint32_t>(Hash{}(key)); }

    // The position of `key`, or kNone. `key_at(i)` gives the key of the entry at position i.
    template <typename KeyAt>
    std::size_t find(const Key& key, KeyAt key_at) const {
        const Slot& s = slots_[probe(key, hash_of(key), key_at)];
        return s.entry ? s.entry - 1 : kNone;
    }

    // Records that `key` (not present) is at `position`.
    template <typename KeyAt>
    void add(const Key& key, std::size_t position, KeyAt key_at) {
        const std::uint32_t h = hash_of(key);
        slots_[probe(key, h, key_at)] = Slot{h, static_cast<std::uint32_t>(position + 1)};
    }

    // Forgets the entry at `position` (whose key is `key`).
    void remove(const Key& key, std::size_t position) { clear(slot_of(position, hash_of(key))); }

    // The entry whose key is `key` moved from position `from` to `to`.
    void moved(const Key& key, std::size_t from, std::size_t to) {
        slots_[slot_of(from, hash_of(key))].entry = static_cast<std::uint32_t>(to + 1);
    }

  private:
    struct Slot {
        std::uint32_t hash = 0;   // low bits of the key's hash: its home slot, and a quick filter
        std::uint32_t entry = 0;  // position plus one; 0 = empty
    };

    template <typename KeyAt>
    std::size_t probe(const Key& key, std::uint32_t h, KeyAt key_at) const {
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (!s.entry || (s.hash == h && key_at(s.entry - 1) == key)) return i;
        }
    }

    std::size_t slot_of(std::size_t position, std::uint32_t h) const {
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_)
            if (slots_[i].entry == position + 1) return i;
    }

    // Empties slot `i`, shifting later slots of the same run back so every key stays reachable
    // from its home slot.
    void clear(std::size_t i) {
        for (std::size_t j = (i + 1) & mask_; slots_[j].entry; j = (j + 1) & mask_) {
            std::size_t home = slots_[j].hash & mask_;
            // The slot at j may move back to i unless its home lies cyclically in (i, j].
            bool home_in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!home_in_between) {
                slots_[i] = slots_[j];
                i = j;
            }
        }
        slots_[i] = Slot{};
    }

    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};

}  // namespace clinicwatch
