#include "analyzers/frame_repeats.hpp"

#include <algorithm>
#include <cstring>

#include "analyzers/host_table.hpp"

namespace clinicwatch {

namespace {
constexpr std::size_t kProbe = 8;  // slots looked at per signature: bounded work per frame
}

FrameRepeats::FrameRepeats(const LoopDetectorSettings& settings, const HostTable* hosts)
    : hosts_(hosts), window_(settings.window) {
    std::size_t capacity = 64;
    while (capacity < settings.table_capacity) capacity <<= 1;
    table_.resize(capacity);
    table_mask_ = capacity - 1;
}

std::uint64_t FrameRepeats::signature(Bytes frame, std::uint32_t wire_length) {
    std::size_t n = std::min(frame.size(), kHashBytes);
    const std::uint8_t* p = frame.data();
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ (std::uint64_t{wire_length} * 0xff51afd7ed558ccdULL);
    auto mix = [&h](std::uint64_t v) {
        h = (h ^ v) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    };
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t v;
        std::memcpy(&v, p + i, 8);
        mix(v);
    }
    if (i < n) {
        std::uint64_t v = 0;
        std::memcpy(&v, p + i, n - i);
        mix(v ^ (std::uint64_t{n - i} << 56));
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;  // 0 marks an empty slot
}

FrameRepeats::Entry* FrameRepeats::lookup(std::uint64_t sig, Timestamp ts) {
    Entry* victim = nullptr;
    for (std::size_t k = 0; k < kProbe; ++k) {
        Entry& e = table_[(sig + k) & table_mask_];
        if (e.sig == sig) {
            if (ts - e.window_start > window_) {
                e.window_start = ts;
                e.count = 0;
            }
            ++e.count;
            e.last_seen = ts;
            return &e;
        }
        if (e.sig == 0) {
            // Slots never become empty again, so the signature cannot be further on.
            if (!victim) victim = &e;
            break;
        }
        bool expired = ts - e.last_seen > window_;
        if (!victim) {
            victim = &e;
        } else {
            bool victim_expired = ts - victim->last_seen > window_;
            if (expired && !victim_expired)
                victim = &e;
            else if (expired == victim_expired && e.last_seen < victim->last_seen)
                victim = &e;
        }
    }
    if (victim->sig == 0)
        ++table_used_;
    else if (ts - victim->last_seen <= window_)
        ++table_evictions_;
    *victim = Entry{sig, ts, ts, 1, -1};
    return victim;
}

void FrameRepeats::on_packet(const Packet& p, PacketContext& /*context*/) {
    clock_.advance(p.ts, [this](Timestamp s) { close(s); });
    ++current_.frames;
    current_.last_ts = p.ts;
    const bool group = p.l2_broadcast || p.l2_multicast;
    current_.group_frames += group;
    bool hash_it = group;
    if (!group && hosts_ && p.has_dst_mac) {
        // Unknown unicast: switches flood it like a broadcast, so it circulates in a loop too.
        std::uint64_t dst = p.dst_mac.as_u64() ^ (std::uint64_t{p.vlan} << 48);
        if (dst != last_dst_) {
            last_dst_ = dst;
            last_dst_unknown_ = hosts_->find(p.dst_mac, p.vlan) == nullptr;
        }
        hash_it = last_dst_unknown_;
    }
    seen_packet_ = &p;
    seen_ts_ = p.ts;
    seen_ = Seen{};
    if (!hash_it || p.frame.empty()) return;
    ++hashed_frames_;
    seen_.hashed = true;
    seen_.sig = signature(p.frame, p.wire_length);
    seen_.entry = lookup(seen_.sig, p.ts);
    seen_.first_in_window = seen_.entry->count == 1;
}

void FrameRepeats::close(Timestamp second) {
    Second done = current_;
    done.start = second;
    closed_[closed_next_] = done;
    closed_next_ = (closed_next_ + 1) % closed_.size();
    // The last frame's time carries on: a quiet second after a gap ends at its own start.
    current_ = Second{};
    current_.last_ts = second + kMicrosPerSecond;
}

FrameRepeats::Second FrameRepeats::closed(Timestamp start) const {
    for (const auto& s : closed_)
        if (s.start == start) return s;
    Second none;
    none.start = start;
    none.last_ts = start;
    return none;
}

void FrameRepeats::on_tick(Timestamp now) {
    clock_.advance(now, [this](Timestamp s) { close(s); });
}

void FrameRepeats::on_finish(Timestamp) {
    clock_.finish([this](Timestamp s) { close(s); });
}

void FrameRepeats::table_use(std::vector<TableUse>& out) const {
    out.push_back({"loop-frame-signatures", "recent frame signatures for loop detection",
                   table_.size(), table_evictions_});
}

}  // namespace clinicwatch
