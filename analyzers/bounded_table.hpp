// A hash table with a hard capacity. When full, inserting evicts the oldest of a few randomly
// sampled entries (Redis-style approximate LRU): constant work per insert whatever the size,
// and a flood of new keys cannot grow memory. Evictions are counted.
// Entries live in one vector, found through a SlotIndex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "analyzers/sample_rng.hpp"
#include "analyzers/slot_index.hpp"

namespace clinicwatch {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class BoundedTable {
  public:
    struct Entry {
        Key key;
        Value value;
    };

    explicit BoundedTable(std::size_t capacity, std::uint64_t seed = 0x65677265737321)
        : capacity_(capacity < 1 ? 1 : capacity), index_(capacity_), rng_(seed) {
        entries_.reserve(capacity_);
    }

    Value* find(const Key& key) {
        std::size_t at = index_.find(key, key_at());
        return at == Index::kNone ? nullptr : &entries_[at].value;
    }

    // Inserts (or replaces) `key`. When the table is full, the entry for which `older(a, b)`
    // says it is the oldest among kSamples random ones is first passed to `on_evict` and removed.
    template <typename Older, typename OnEvict>
    Value& insert(const Key& key, Value value, Older older, OnEvict on_evict) {
        if (std::size_t at = index_.find(key, key_at()); at != Index::kNone) {
            entries_[at].value = std::move(value);
            return entries_[at].value;
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
        }
        index_.add(key, entries_.size(), key_at());
        entries_.push_back(Entry{key, std::move(value)});
        return entries_.back().value;
    }

    bool erase(const Key& key) {
        std::size_t at = index_.find(key, key_at());
        if (at == Index::kNone) return false;
        remove_slot(at);
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
    template <typename F>
    void for_each(F&& f) const {
        for (const auto& e : entries_) f(e.key, e.value);
    }

    std::size_t size() const { return entries_.size(); }
    std::size_t capacity() const { return capacity_; }
    std::uint64_t evictions() const { return evictions_; }

  private:
    static constexpr int kSamples = 8;

    using Index = SlotIndex<Key, Hash>;

    auto key_at() const {
        return [this](std::size_t i) -> const Key& { return entries_[i].key; };
    }

    void remove_slot(std::size_t index) {
        index_.remove(entries_[index].key, index);
        const std::size_t last = entries_.size() - 1;
        if (index != last) {
            index_.moved(entries_[last].key, last, index);
            entries_[index] = std::move(entries_[last]);
        }
        entries_.pop_back();
    }

    std::size_t capacity_;
    std::vector<Entry> entries_;
    Index index_;
    SampleRng rng_;
    std::uint64_t evictions_ = 0;
};

}  // namespace clinicwatch
