// The capture thread: reads frames from a PacketSource and copies them into the FrameRing.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <thread>

#include "capture/frame_ring.hpp"
#include "capture/packet_source.hpp"

namespace clinicwatch {

// Written by the capture thread only (plain stores), read by anyone.
struct CaptureCounters {
    std::atomic<std::uint64_t> packets{0};     // frames read from the source
    std::atomic<std::uint64_t> bytes{0};       // their wire lengths
    std::atomic<std::uint64_t> ring_drops{0};  // frames dropped because the ring was full
    std::atomic<std::uint64_t> kernel_drops{0};
    std::atomic<std::uint64_t> interface_drops{0};
    std::atomic<std::uint64_t> cut_to_slot{0};  // frames longer than a ring slot (kept in part)
};

// CPU seconds used so far by the calling thread.
double thread_cpu_seconds();

// What to do when the analysis thread falls behind. A live interface must never block (the
// kernel would drop instead, invisibly): we drop and count. A file has no wire to keep up with,
// so replay waits and analyses every frame.
enum class RingFullPolicy { drop, wait };

class CaptureThread {
  public:
    CaptureThread(PacketSource& source, FrameRing& ring, RingFullPolicy policy)
        : source_(source), ring_(ring), policy_(policy) {}
    ~CaptureThread() { stop(); }
    CaptureThread(const CaptureThread&) = delete;
    CaptureThread& operator=(const CaptureThread&) = delete;

    void start();
    // Stops reading and joins. Frames already in the ring stay there for the consumer.
    void stop();
    // True once the source has ended or failed; everything it read is in the ring.
    bool finished() const { return finished_.load(std::memory_order_acquire); }
    // The error that ended capture, if any (rethrown by the caller).
    std::exception_ptr error() const { return finished() ? error_ : nullptr; }
    const CaptureCounters& counters() const { return counters_; }
    double progress() const { return source_.progress(); }
    // CPU seconds the capture thread used; final once finished().
    double cpu_seconds() const { return cpu_seconds_.load(std::memory_order_relaxed); }

  private:
    void run();

    PacketSource& source_;
    FrameRing& ring_;
    RingFullPolicy policy_;
    CaptureCounters counters_;
    std::atomic<bool> stop_requested_{false};
    std::atomic<bool> finished_{false};
    std::exception_ptr error_;
    std::atomic<double> cpu_seconds_{0};
    std::thread thread_;
};

}  // namespace clinicwatch
