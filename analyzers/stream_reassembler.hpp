// The first bytes of a byte stream put back in order: a TCP direction (by sequence number) or a
// QUIC CRYPTO stream (by offset). A browser's ClientHello is now ~1.8-2 KB (post-quantum key
// share, ECH GREASE) and spans two or three segments, which may arrive out of order or twice;
// the name it carries is read only once the bytes from the start are contiguous.
//
// Bounded in both directions: each stream holds at most `depth` bytes from its base (later bytes
// are ignored: only handshakes are wanted), and at most `max_streams` streams exist. Their
// buffers are allocated once, up front (pages are touched only when used), so adding a segment
// never allocates. When all streams are busy, the least recently used one is evicted if it has
// been idle for kStaleAfter, else the new stream is refused; both are counted.
//
// Overlapping bytes: the first copy wins (a retransmission cannot rewrite what was read; the
// same policy as Linux and Windows for most overlaps, and the one Suricata calls "first").
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "capture/bytes.hpp"
#include "capture/packet.hpp"

namespace clinicwatch {

// Names a stream; stale once its stream is released or evicted (the generation moves on).
struct StreamHandle {
    static constexpr std::uint32_t kNone = 0xffffffff;
    std::uint32_t slot = kNone;
    std::uint32_t generation = 0;
    bool valid() const { return slot != kNone; }
};

class StreamReassembler {
  public:
    static constexpr std::size_t kDefaultDepth = 4096;
    static constexpr std::size_t kDefaultStreams = 512;
    // A stream untouched for this long may be evicted to make room for a new one.
    static constexpr Timestamp kStaleAfter = 5 * kMicrosPerSecond;
    // Separate filled ranges kept per stream; a segment that would need more is dropped
    // (counted as a gap: normal streams need two or three).
    static constexpr std::size_t kMaxRanges = 8;

    StreamReassembler(std::size_t max_streams = kDefaultStreams, std::size_t depth = kDefaultDepth);

    // A new stream whose first byte has sequence number (or offset) `base`. With `movable_base`
    // (the start was not seen, e.g. no SYN), a later segment up to `depth` bytes before the base
    // moves the base back. Returns an invalid handle when refused.
    StreamHandle open(std::uint32_t base, bool movable_base, Timestamp now);
    // Adds a segment starting at sequence number `seq`. Returns false when the handle is stale.
    bool add(StreamHandle h, std::uint32_t seq, Bytes data, Timestamp now);
    // The bytes from the base that are contiguous so far (empty when stale).
    Bytes contiguous(StreamHandle h) const;
    // True once `depth` contiguous bytes are held: nothing more will be added.
    bool full(StreamHandle h) const;
    bool alive(StreamHandle h) const;
    void release(StreamHandle h);

    std::size_t depth() const { return depth_; }
    std::size_t capacity() const { return streams_.size(); }
    std::size_t in_use() const { return in_use_; }
    std::uint64_t evicted() const { return evicted_; }
    std::uint64_t refused() const { return refused_; }
    // Segments that could not be kept (too many separate ranges, or before a fixed base).
    std::uint64_t segments_dropped() const { return segments_dropped_; }

  private:
    struct Range {
        std::uint32_t begin = 0, end = 0;  // offsets from the base, [begin, end)
    };
    struct Stream {
        std::uint32_t generation = 0;
        bool used = false;
        bool movable_base = false;
        std::uint32_t base = 0;
        Timestamp last_used = 0;
        std::array<Range, kMaxRanges> ranges{};
        std::uint8_t range_count = 0;
    };

    Stream* get(StreamHandle h);
    const Stream* get(StreamHandle h) const;
    std::uint8_t* buffer(std::uint32_t slot) { return buffers_.get() + slot * depth_; }
    const std::uint8_t* buffer(std::uint32_t slot) const { return buffers_.get() + slot * depth_; }
    void move_base_back(Stream& s, std::uint32_t slot, std::uint32_t by);
    bool insert_range(Stream& s, std::uint32_t slot, std::uint32_t begin, std::uint32_t end,
                      const std::uint8_t* bytes);

    std::size_t depth_;
    std::vector<Stream> streams_;
    std::vector<std::uint32_t> free_;
    std::unique_ptr<std::uint8_t[]> buffers_;  // max_streams * depth, default-initialised
    std::size_t in_use_ = 0;
    std::uint64_t evicted_ = 0, refused_ = 0, segments_dropped_ = 0;
};

}  // namespace clinicwatch
