#include "capture/capture_thread.hpp"

#include <time.h>

#include <algorithm>
#include <cstring>

namespace clinicwatch {

double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void CaptureThread::start() {
    stop_requested_ = false;
    finished_ = false;
    thread_ = std::thread([this] { run(); });
}

void CaptureThread::stop() {
    stop_requested_.store(true, std::memory_order_release);
    if (thread_.joinable()) {
        source_.interrupt();
        thread_.join();
    }
}

void CaptureThread::run() {
    // Counters are kept in locals and published with plain stores: one writer, no locked ops.
    std::uint64_t packets = 0, bytes = 0, ring_drops = 0, cut = 0;
    auto publish = [&] {
        counters_.packets.store(packets, std::memory_order_relaxed);
        counters_.bytes.store(bytes, std::memory_order_relaxed);
        counters_.ring_drops.store(ring_drops, std::memory_order_relaxed);
        counters_.cut_to_slot.store(cut, std::memory_order_relaxed);
        KernelStats k = source_.kernel_stats();
        counters_.kernel_drops.store(k.dropped, std::memory_order_relaxed);
        counters_.interface_drops.store(k.interface_dropped, std::memory_order_relaxed);
    };
    try {
        RawFrame frame;
        while (!stop_requested_.load(std::memory_order_relaxed)) {
            auto next = source_.next(frame);
            if (next == PacketSource::Next::end) break;
            if (next == PacketSource::Next::idle) {
                ring_.flush();
                publish();
                continue;
            }
            ++packets;
            bytes += frame.wire_length;
            FrameSlot* slot = ring_.try_claim();
            if (!slot) ring_.flush();  // let the consumer see everything before we wait or drop
            while (!slot && policy_ == RingFullPolicy::wait &&
                   !stop_requested_.load(std::memory_order_relaxed)) {
                std::this_thread::yield();
                slot = ring_.try_claim();
            }
            if (!slot) {
                ++ring_drops;
            } else {
                std::size_t n = std::min(frame.data.size(), ring_.slot_bytes());
                if (n < frame.data.size()) ++cut;
                std::memcpy(slot->data(), frame.data.data(), n);
                slot->ts_us = frame.ts;
                slot->wire_length = frame.wire_length;
                slot->captured_length = static_cast<std::uint32_t>(n);
                slot->link_type = static_cast<std::int32_t>(frame.link);
                // Replay batches publication; live capture shows each frame at once so a quiet
                // LAN's frames are not held back.
                ring_.publish(policy_ == RingFullPolicy::wait);
            }
            if ((packets & 0x3ff) == 0) publish();
        }
    } catch (...) {
        error_ = std::current_exception();
    }
    ring_.flush();
    publish();
    cpu_seconds_.store(thread_cpu_seconds(), std::memory_order_relaxed);
    finished_.store(true, std::memory_order_release);
}

}  // namespace clinicwatch
