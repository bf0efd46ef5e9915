// The SPSC ring under two real threads: order kept, nothing lost while not full, drops counted
// when full. Also run in the asan preset (and TSan-clean by construction: one writer per index).
#include "capture/frame_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

using namespace clinicwatch;

TEST(FrameRing, CapacityRoundsUpToPowerOfTwo) {
    FrameRing ring(1000, 128);
    EXPECT_EQ(ring.capacity(), 1024u);
    EXPECT_EQ(FrameRing(4, 64).capacity(), 4 * FrameRing::kBatch);
    EXPECT_EQ(ring.peek(), nullptr);
}

TEST(FrameRing, FullRingRefusesThenAcceptsAfterRelease) {
    FrameRing ring(4, 64);
    for (std::size_t i = 0; i < ring.capacity(); ++i) {
        FrameSlot* s = ring.try_claim();
        ASSERT_NE(s, nullptr);
        s->ts_us = static_cast<std::int64_t>(i);
        ring.publish();
    }
    EXPECT_EQ(ring.try_claim(), nullptr);
    const FrameSlot* first = ring.peek();
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->ts_us, 0);
    // Freed slots are announced in batches: after a batch the producer has room again.
    for (std::size_t i = 0; i < FrameRing::kBatch; ++i) {
        ASSERT_NE(ring.peek(), nullptr);
        ring.release();
    }
    EXPECT_NE(ring.try_claim(), nullptr);
}

class FrameRingThreads : public ::testing::TestWithParam<bool> {};

TEST_P(FrameRingThreads, KeepOrderAndLoseNothingWhenWaiting) {
    const bool batched = GetParam();
    constexpr std::uint64_t kFrames = 2'000'000;
    FrameRing ring(256, 64);  // small, so the producer waits often
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < kFrames; ++i) {
            FrameSlot* s = ring.try_claim();
            if (!s) ring.flush();
            while (s == nullptr) {
                std::this_thread::yield();
                s = ring.try_claim();
            }
            s->ts_us = static_cast<std::int64_t>(i);
            s->captured_length = 8;
            std::memcpy(s->data(), &i, 8);
            ring.publish(batched);
        }
        ring.flush();
    });
    std::uint64_t expected = 0, mismatches = 0;
    while (expected < kFrames) {
        const FrameSlot* s = ring.peek();
        if (!s) {
            std::this_thread::yield();
            continue;
        }
        std::uint64_t payload;
        std::memcpy(&payload, s->data(), 8);
        mismatches += (static_cast<std::uint64_t>(s->ts_us) != expected) || payload != expected;
        ++expected;
        ring.release();
    }
    producer.join();
    EXPECT_EQ(mismatches, 0u);
    EXPECT_EQ(ring.peek(), nullptr);
}

INSTANTIATE_TEST_SUITE_P(PublishEachOrBatched, FrameRingThreads, ::testing::Bool());

TEST(FrameRing, DroppingProducerCountsEveryLostFrame) {
    constexpr std::uint64_t kFrames = 1'000'000;
    FrameRing ring(64, 64);
    std::atomic<bool> done{false};
    std::uint64_t dropped = 0;
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < kFrames; ++i) {
            FrameSlot* s = ring.try_claim();
            if (!s) {
                ++dropped;  // never blocks
                continue;
            }
            s->ts_us = static_cast<std::int64_t>(i);
            ring.publish();
        }
        done = true;
    });
    std::uint64_t received = 0;
    std::int64_t last = -1;
    bool increasing = true;
    for (;;) {
        const FrameSlot* s = ring.peek();
        if (!s) {
            if (done.load()) {
                if (!ring.peek()) break;
                continue;
            }
            // A slow consumer, so that the ring does fill up.
            std::this_thread::sleep_for(std::chrono::microseconds(50));
            continue;
        }
        increasing &= s->ts_us > last;
        last = s->ts_us;
        ++received;
        ring.release();
    }
    producer.join();
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(received + dropped, kFrames);
    EXPECT_TRUE(increasing);
}
