#include "analyzers/stream_reassembler.hpp"

#include <algorithm>
#include <cstring>

namespace clinicwatch {

StreamReassembler::StreamReassembler(std::size_t max_streams, std::size_t depth)
    : depth_(std::clamp<std::size_t>(depth, 64, 1 << 20)),
      streams_(std::max<std::size_t>(max_streams, 1)),
      buffers_(new std::uint8_t[streams_.size() * depth_]) {
    free_.reserve(streams_.size());
    for (std::size_t i = streams_.size(); i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
}

StreamHandle StreamReassembler::open(std::uint32_t base, bool movable_base, Timestamp now) {
    std::uint32_t slot;
    if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
    } else {
        // All busy: the least recently used goes if it has gone quiet (a handshake that
        // stalled); otherwise live handshakes are kept and the newcomer is refused.
        std::size_t oldest = 0;
        for (std::size_t i = 1; i < streams_.size(); ++i)
            if (streams_[i].last_used < streams_[oldest].last_used) oldest = i;
        if (now - streams_[oldest].last_used < kStaleAfter) {
            ++refused_;
            return {};
        }
        ++evicted_;
        ++streams_[oldest].generation;
        --in_use_;
        slot = static_cast<std::uint32_t>(oldest);
    }
    Stream& s = streams_[slot];
    s.used = true;
    s.movable_base = movable_base;
    s.base = base;
    s.last_used = now;
    s.range_count = 0;
    ++in_use_;
    return {slot, s.generation};
}

StreamReassembler::Stream* StreamReassembler::get(StreamHandle h) {
    if (h.slot >= streams_.size()) return nullptr;
    Stream& s = streams_[h.slot];
    return s.used && s.generation == h.generation ? &s : nullptr;
}

const StreamReassembler::Stream* StreamReassembler::get(StreamHandle h) const {
    return const_cast<StreamReassembler*>(this)->get(h);
}

bool StreamReassembler::alive(StreamHandle h) const {
    return get(h) != nullptr;
}

void StreamReassembler::release(StreamHandle h) {
    Stream* s = get(h);
    if (!s) return;
    s->used = false;
    ++s->generation;
    s->range_count = 0;
    --in_use_;
    free_.push_back(h.slot);
}

void StreamReassembler::move_base_back(Stream& s, std::uint32_t slot, std::uint32_t by) {
    std::uint8_t* buf = buffer(slot);
    std::memmove(buf + by, buf, depth_ - by);
    std::uint8_t kept = 0;
    for (std::uint8_t i = 0; i < s.range_count; ++i) {
        Range r = s.ranges[i];
        r.begin += by;
        r.end = static_cast<std::uint32_t>(std::min<std::size_t>(r.end + by, depth_));
        if (r.begin < r.end) s.ranges[kept++] = r;
    }
    s.range_count = kept;
    s.base -= by;
}

bool StreamReassembler::insert_range(Stream& s, std::uint32_t slot, std::uint32_t begin,
                                     std::uint32_t end, const std::uint8_t* bytes) {
    // The union of the ranges with [begin, end), sorted and merged, must fit.
    std::array<Range, kMaxRanges + 1> merged{};
    std::size_t n = 0;
    Range fresh{begin, end};
    bool placed = false;
    auto push = [&](Range r) {
        if (n > 0 && r.begin <= merged[n - 1].end) {
            merged[n - 1].end = std::max(merged[n - 1].end, r.end);
            return true;
        }
        if (n == merged.size()) return false;
        merged[n++] = r;
        return true;
    };
    for (std::uint8_t i = 0; i < s.range_count; ++i) {
        if (!placed && fresh.begin <= s.ranges[i].begin) {
            push(fresh);
            placed = true;
        }
        push(s.ranges[i]);
    }
    if (!placed) push(fresh);
    if (n > kMaxRanges) return false;

    // Copy only into the gaps: bytes already held stay as first received.
    std::uint8_t* buf = buffer(slot);
    std::uint32_t cursor = begin;
    for (std::uint8_t i = 0; i < s.range_count && cursor < end; ++i) {
        const Range& r = s.ranges[i];
        if (r.end <= cursor) continue;
        if (r.begin >= end) break;
        if (r.begin > cursor) std::memcpy(buf + cursor, bytes + (cursor - begin), r.begin - cursor);
        cursor = std::max(cursor, r.end);
    }
    if (cursor < end) std::memcpy(buf + cursor, bytes + (cursor - begin), end - cursor);

    std::copy(merged.begin(), merged.begin() + static_cast<std::ptrdiff_t>(n), s.ranges.begin());
    s.range_count = static_cast<std::uint8_t>(n);
    return true;
}

bool StreamReassembler::add(StreamHandle h, std::uint32_t seq, Bytes data, Timestamp now) {
    Stream* s = get(h);
    if (!s) return false;
    s->last_used = now;
    if (data.empty()) return true;
    auto rel = static_cast<std::int32_t>(seq - s->base);
    if (rel < 0) {
        auto before = static_cast<std::uint32_t>(-static_cast<std::int64_t>(rel));
        if (s->movable_base && before < depth_) {
            move_base_back(*s, h.slot, before);
            rel = 0;
        } else if (before < data.size()) {
            data = data.subspan(before);  // only the part from the base on is ours
            rel = 0;
        } else {
            ++segments_dropped_;
            return true;
        }
    }
    auto begin = static_cast<std::uint32_t>(rel);
    if (begin >= depth_) return true;  // past the depth: not wanted
    auto end = static_cast<std::uint32_t>(std::min<std::size_t>(begin + data.size(), depth_));
    if (!insert_range(*s, h.slot, begin, end, data.data())) ++segments_dropped_;
    return true;
}

Bytes StreamReassembler::contiguous(StreamHandle h) const {
    const Stream* s = get(h);
    if (!s || s->range_count == 0 || s->ranges[0].begin != 0) return {};
    return Bytes(buffer(h.slot), s->ranges[0].end);
}

bool StreamReassembler::full(StreamHandle h) const {
    return contiguous(h).size() >= depth_;
}

}  // namespace clinicwatch
