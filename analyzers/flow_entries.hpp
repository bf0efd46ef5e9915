// What a unit keeps of some connections of the one flow table, in the unit: an entry per
// connection it follows, found from the flow by the EntryRef in the unit's member of FlowSlots.
// Units whose state is large and needed for few flows (egress's names and strings, a
// remote-access session's recording) keep it here rather than in every flow.
//
// At most `capacity` entries, allocated as they are first needed and reused when closed. Each
// entry opened gets a tag no other entry ever had (across every unit and every reload's new
// unit), so a flow still referring to a closed entry, or to a unit a reload replaced, reads none.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "analyzers/flow_table.hpp"
#include "analyzers/sample_rng.hpp"

namespace clinicwatch {

inline std::atomic<std::uint64_t> g_next_flow_entry_tag{1};

template <typename Entry>
class FlowEntries {
  public:
    explicit FlowEntries(std::size_t capacity, std::uint64_t seed = 0x656e7472696573)
        : capacity_(std::max<std::size_t>(capacity, 1)), rng_(seed) {}

    // The entry `ref` refers to, or null (none, closed, or another unit's).
    Entry* find(const EntryRef& ref) {
        if (ref.tag == 0 || ref.index >= tags_.size() || tags_[ref.index] != ref.tag)
            return nullptr;
        return &entries_[ref.index];
    }

    bool full() const { return in_use_ >= capacity_; }
    std::size_t size() const { return in_use_; }
    std::size_t capacity() const { return capacity_; }

    // A fresh entry, and `ref` set to it. The caller makes room first (see full()). References
    // to other entries do not survive this call (the entries may move).
    Entry& open(EntryRef& ref) {
        std::uint32_t index;
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            index = static_cast<std::uint32_t>(entries_.size());
            entries_.emplace_back();
            tags_.push_back(0);
        }
        ++in_use_;
        tags_[index] = g_next_flow_entry_tag.fetch_add(1, std::memory_order_relaxed);
        ref = EntryRef{index, tags_[index]};
        return entries_[index];
    }

    // Frees `entry` (cleared) for reuse; a flow still referring to it finds none.
    void close(Entry& entry) {
        const auto index = static_cast<std::size_t>(&entry - entries_.data());
        if (tags_[index] == 0) return;
        tags_[index] = 0;
        entry = Entry{};
        free_.push_back(static_cast<std::uint32_t>(index));
        --in_use_;
    }

    // The entry for which `older(a, b)` says it is the oldest among a few sampled ones in use
    // (null when none are): the one that gives way when the entries are all taken.
    template <typename Older>
    Entry* oldest_sampled(Older older) {
        Entry* victim = nullptr;
        if (entries_.empty()) return nullptr;
        for (int i = 0; i < 8; ++i) {
            const std::size_t at = rng_.pick(entries_.size());
            if (tags_[at] != 0 && (!victim || older(entries_[at], *victim))) victim = &entries_[at];
        }
        return victim;
    }

    // Every entry in use. `f` may close the entry it is given.
    template <typename F>
    void for_each(F&& f) {
        for (std::size_t i = 0; i < entries_.size(); ++i)
            if (tags_[i] != 0) f(entries_[i]);
    }

  private:
    std::size_t capacity_;
    std::vector<Entry> entries_;
    std::vector<std::uint64_t> tags_;  // per entry; 0: free
    std::vector<std::uint32_t> free_;
    std::size_t in_use_ = 0;
    SampleRng rng_;
};

}  // namespace clinicwatch
