// A hash table with a hard capacity. When full, inserting evicts the oldest of a few randomly
// sampled entries (Redis-style approximate LRU): constant work per insert whatever the size,
// and a flood of new keys cannot grow memory. Evictions are counted.
//
// Entries live in one vector; the index is open addressing with linear probing over a
// power-of-two array kept at most half full. A lookup usually reads one 8-byte slot and the
// entry, where a node-based map reads a bucket, a node and the entry: floods look a key up for
// every packet, and those cache misses were most of their cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "analyzers/sample_rng.hpp"

namespace clinicwatch {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class BoundedTable {
  public:
    struct Entry {
        Key key;
        Value value;
    };

    explicit BoundedTable(std::size_t capacity, std::uint64_t seed = 0x65677265737321)
        : capacity_(capacity < 1 ? 1 : capacity), rng_(seed) {
        entries_.reserve(capacity_);
        std::size_t slots = 16;
        while (slots < 2 * capacity_) slots <<= 1;
        slots_.resize(slots);
        mask_ = slots - 1;
    }

    Value* find(const Key& key) {
        const Slot& s = slots_[probe(key, hash_of(key))];
        return s.entry ? &entries_[s.entry - 1].value : nullptr;
    }

    // Inserts (or replaces) `key`. When the table is full, the entry for which `older(a, b)`
    // says it is the oldest among kSamples random ones is first passed to `on_evict` and removed.
    template <typename Older, typename OnEvict>
    Value& insert(const Key& key, Value value, Older older, OnEvict on_evict) {
        const std::uint32_t h = hash_of(key);
        std::size_t at = probe(key, h);
        if (slots_[at].entry) {
            Value& v = entries_[slots_[at].entry - 1].value;
            v = std::move(value);
            return v;
        }
        if (entries_.size() >= capacity_) {
            std::size_t victim = rng_.pick(entries_.size());
            for (int i = 1; i < kSamples; ++i) {
                std::size_t s = rng_.pick(entries_.size());
                if (older(entries_[s].value, entries_[victim].value)) victim = s;
            }
            on_evict(entries_[victim].key, entries_[victim].value);
            remove_slot(victim);
            ++evictions_;
            at = probe(key, h);  // the removal may have shifted slots
        }
        slots_[at] = Slot{h, static_cast<std::uint32_t>(entries_.size() + 1)};
        entries_.push_back(Entry{key, std::move(value)});
        return entries_.back().value;
    }

    bool erase(const Key& key) {
        const Slot& s = slots_[probe(key, hash_of(key))];
        if (!s.entry) return false;
        remove_slot(s.entry - 1);
        return true;
    }

    // Removes every entry for which `pred(key, value)` is true.
    template <typename Pred>
    void erase_if(Pred pred) {
        for (std::size_t i = 0; i < entries_.size();) {
            if (pred(entries_[i].key, entries_[i].value))
                remove_slot(i);
            else
                ++i;
        }
    }

    template <typename F>
    void for_each(F&& f) {
        for (auto& e : entries_) f(e.key, e.value);
    }

    std::size_t size() const { return entries_.size(); }
    std::size_t capacity() const { return capacity_; }
    std::uint64_t evictions() const { return evictions_; }

  private:
    static constexpr int kSamples = 8;

    struct Slot {
        std::uint32_t hash = 0;   // low bits of the key's hash: its home slot, and a quick filter
        std::uint32_t entry = 0;  // index into entries_ plus one; 0 = empty
    };

    static std::uint32_t hash_of(const Key& key) { return static_cast<std::uint32_t>(Hash{}(key)); }

    // The slot holding `key`, or the empty slot where it would go.
    std::size_t probe(const Key& key, std::uint32_t h) const {
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (!s.entry || (s.hash == h && entries_[s.entry - 1].key == key)) return i;
        }
    }

    // The slot pointing at entries_[index], whose key hashes to `h`.
    std::size_t slot_of(std::size_t index, std::uint32_t h) const {
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_)
            if (slots_[i].entry == index + 1) return i;
    }

    // Empties slot `i`, shifting later slots of the same run back so every key stays reachable
    // from its home slot (no tombstones: a flood's churn never degrades the probes).
    void clear_slot(std::size_t i) {
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

    void remove_slot(std::size_t index) {
        clear_slot(slot_of(index, hash_of(entries_[index].key)));
        const std::size_t last = entries_.size() - 1;
        if (index != last) {
            slots_[slot_of(last, hash_of(entries_[last].key))].entry =
                static_cast<std::uint32_t>(index + 1);
            entries_[index] = std::move(entries_[last]);
        }
        entries_.pop_back();
    }

    std::size_t capacity_;
    std::vector<Entry> entries_;
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    SampleRng rng_;
    std::uint64_t evictions_ = 0;
};

}  // namespace clinicwatch
