// Single-producer single-consumer lock-free ring of captured frames.
//
// The capture thread claims a slot, copies the frame into it and publishes; the analysis thread
// peeks, decodes in place and releases. Slots have a fixed size, so memory is allocated once and
// bounded (capacity x slot size). A frame longer than a slot keeps its first bytes; the wire
// length is kept, and analyzers only need headers and the first payload bytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>

namespace clinicwatch {

struct FrameSlot {
    std::int64_t ts_us = 0;
    std::uint32_t wire_length = 0;
    std::uint32_t captured_length = 0;  // bytes valid in data()
    std::int32_t link_type = 1;         // LinkType of the source it came from
    std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(this + 1); }
    const std::uint8_t* data() const { return reinterpret_cast<const std::uint8_t*>(this + 1); }
};

class FrameRing {
  public:
    static constexpr std::size_t kBatch = 32;
    static constexpr std::size_t kPrefetchAhead = 2;

    // capacity is rounded up to a power of two; slot_bytes is the largest frame kept whole.
    FrameRing(std::size_t capacity, std::size_t slot_bytes)
        : slot_bytes_(slot_bytes), stride_(round_up(sizeof(FrameSlot) + slot_bytes, 64)) {
        std::size_t c = 4 * kBatch;  // room for batching on both sides
        while (c < capacity) c <<= 1;
        capacity_ = c;
        mask_ = c - 1;
        storage_.reset(
            static_cast<std::uint8_t*>(::operator new[](capacity_* stride_, std::align_val_t{64})));
        for (std::size_t i = 0; i < capacity_; ++i) new (slot_at(i)) FrameSlot{};
    }
    FrameRing(const FrameRing&) = delete;
    FrameRing& operator=(const FrameRing&) = delete;

    std::size_t capacity() const { return capacity_; }
    std::size_t slot_bytes() const { return slot_bytes_; }

    // Producer side. Returns nullptr when the ring is full; the caller decides to drop or wait.
    FrameSlot* try_claim() {
        if (head_ - cached_tail_ >= capacity_) {
            cached_tail_ = tail_.load(std::memory_order_acquire);
            if (head_ - cached_tail_ >= capacity_) return nullptr;
        }
        return slot_at(head_ & mask_);
    }
    // Makes the claimed slot visible to the consumer. With `batched`, visibility is deferred
    // until kBatch slots are ready or flush() is called: fewer writes to the shared cache line,
    // which matters at millions of frames per second (replay). Live capture publishes at once.
    void publish(bool batched = false) {
        ++head_;
        if (!batched || (head_ & (kBatch - 1)) == 0)
            published_head_.store(head_, std::memory_order_release);
    }
    void flush() { published_head_.store(head_, std::memory_order_release); }

    // Consumer side. Returns nullptr when the ring is empty.
    const FrameSlot* peek() {
        if (tail_local_ == cached_head_) {
            cached_head_ = published_head_.load(std::memory_order_acquire);
            if (tail_local_ == cached_head_) {
                tail_.store(tail_local_, std::memory_order_release);  // all consumed: say so
                return nullptr;
            }
        }
        // The frames were written on the capture core: ask for the headers of the one a few
        // places ahead now, so they are in this core's cache when its turn comes instead of
        // costing a miss then.
        if (tail_local_ + kPrefetchAhead < cached_head_) {
            const auto* ahead =
                reinterpret_cast<const char*>(slot_at((tail_local_ + kPrefetchAhead) & mask_));
            for (int line = 0; line < 3; ++line) __builtin_prefetch(ahead + 64 * line);
        }
        return slot_at(tail_local_ & mask_);
    }
    // Frees the slot returned by peek(). Freed space is announced to the producer in batches.
    void release() {
        ++tail_local_;
        if ((tail_local_ & (kBatch - 1)) == 0) tail_.store(tail_local_, std::memory_order_release);
    }

    // Approximate fill, safe from any thread (for status lines).
    std::size_t size_approx() const {
        return published_head_.load(std::memory_order_relaxed) -
               tail_.load(std::memory_order_relaxed);
    }

  private:
    static std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }
    FrameSlot* slot_at(std::size_t i) {
        return reinterpret_cast<FrameSlot*>(storage_.get() + i * stride_);
    }

    struct AlignedDelete {
        void operator()(std::uint8_t* p) const { ::operator delete[](p, std::align_val_t{64}); }
    };

    std::size_t capacity_ = 0, mask_ = 0;
    std::size_t slot_bytes_, stride_;
    std::unique_ptr<std::uint8_t[], AlignedDelete> storage_;

    // Each side's counters live on their own cache line so the threads do not contend.
    alignas(64) std::atomic<std::size_t> published_head_{0};
    alignas(64) std::atomic<std::size_t> tail_{0};
    alignas(64) std::size_t head_ = 0;        // producer only
    std::size_t cached_tail_ = 0;             // producer only
    alignas(64) std::size_t tail_local_ = 0;  // consumer only
    std::size_t cached_head_ = 0;             // consumer only
};

}  // namespace clinicwatch
