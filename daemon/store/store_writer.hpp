// The store writer: its own thread does all SQLite work (and the JSON-lines export), so a slow
// SD card, a WAL checkpoint or a full disk never stalls packet processing.
//
// The analysis thread hands findings over through a bounded queue merged by key: a second
// update of the same alert, minute, boundary flow or device replaces (or adds to) the queued
// one instead of growing the queue. The queue has a hard cap in entries and bytes; a finding
// that finds it full is dropped and counted (reported as sensor-limit "held-findings"). Changed
// devices are not dropped: they stay marked as changed in the HostTable and are offered again.
// A failed transaction (disk full) goes back into the queue, whole, and is retried with
// backoff; so at most twice the cap is held (the batch being written and the queue).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "daemon/store/store.hpp"

namespace clinicwatch {

struct StoreWriterLimits {
    std::size_t max_entries = 50'000;
    std::size_t max_bytes = 16u << 20;
    // How often queued findings are written, and how often a device merely seen again has its
    // last_seen written (the inventory needs minutes, not seconds; an SD card wears by writes).
    std::chrono::milliseconds write_interval{1000};
    std::chrono::milliseconds seen_interval{60'000};
};

class StoreWriter final : public FindingSink {
  public:
    StoreWriter(Store& store, StoreWriterLimits limits);
    ~StoreWriter() override;
    StoreWriter(const StoreWriter&) = delete;
    StoreWriter& operator=(const StoreWriter&) = delete;

    void start();
    // Writes what is queued (trying until `deadline` when the database fails) and stops the
    // thread. Returns the last write error, or "" when everything queued was written.
    std::string stop(std::chrono::steady_clock::time_point deadline);

    // FindingSink (analysis thread).
    void alert(AlertUpdate update) override;
    void minute(const MinuteStats& stats) override;
    void boundary_flows(const std::vector<BoundaryFlowSummary>& rows) override;
    void service_minutes(const std::vector<ServiceMinute>& rows) override;
    void topology(const std::vector<TopologyElement>& elements) override;
    void remote_session(const RemoteSession& session) override;
    void meta(const std::string& key, const std::string& value);
    // A device leaving the HostTable: its last state, if changed. False when the queue is full
    // (counted as a drop).
    bool host_evicted(const Host& host);

    // Hands over every changed device (marking it handed over) and, once per seen_interval,
    // the last_seen of devices merely seen again. Devices that find the queue full stay
    // marked as changed and are offered again next time.
    // `final`: the last call of a run (every last_seen goes too).
    void collect(HostTable& hosts, bool final = false);
    bool collect_due(std::chrono::steady_clock::time_point now) const {
        return now >= next_collect_;
    }
    // Retention: minute statistics older than `cutoff` are deleted by the writer.
    void delete_minutes_before(Timestamp cutoff);

    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
    // Transactions that failed (disk full, locked file) and were put back to be tried again.
    std::uint64_t write_errors() const { return write_errors_.load(std::memory_order_relaxed); }
    std::size_t capacity() const { return limits_.max_entries; }
    std::size_t queued() const;
    std::size_t peak_entries() const { return peak_entries_.load(std::memory_order_relaxed); }
    std::size_t peak_bytes() const { return peak_bytes_.load(std::memory_order_relaxed); }

  private:
    struct Queue {
        std::unordered_map<std::string, AlertUpdate> alerts;
        std::map<Timestamp, MinuteStats> minutes;
        std::unordered_map<std::string, BoundaryFlowSummary> flows;
        std::unordered_map<HostKey, Host, HostKeyHash> hosts;
        std::unordered_map<HostKey, HostSeen, HostKeyHash> seen;
        std::map<std::string, std::string> meta;
        // Service health rows by minute and server (a row comes once; a later one replaces it).
        std::map<std::pair<Timestamp, IpAddress>, ServiceMinute> services;
        std::unordered_map<std::string, TopologyElement> topology;
        std::unordered_map<std::string, RemoteSession> sessions;
        std::optional<Timestamp> retention_cutoff;
        std::size_t entries = 0, bytes = 0;
        bool empty() const {
            return alerts.empty() && minutes.empty() && flows.empty() && hosts.empty() &&
                   seen.empty() && meta.empty() && services.empty() && topology.empty() &&
                   sessions.empty() && !retention_cutoff;
        }
    };

    bool room_for(std::size_t bytes, bool reserve) const;
    void account(std::size_t bytes);
    // Merge one item into the queue; `older` when it comes back from a failed write (the
    // queued one is newer then). Caller holds the mutex.
    bool put_alert(AlertUpdate update, bool older);
    bool put_minute(const MinuteStats& stats);
    bool put_flow(const BoundaryFlowSummary& row);
    bool put_service(const ServiceMinute& row);
    bool put_topology(const TopologyElement& element, bool older);
    bool put_session(const RemoteSession& session, bool older);
    bool put_host(const Host& host, bool older);
    void put_seen(const HostSeen& seen, bool older);
    void put_back(StoreBatch& batch);
    void run();
    void write_once(std::unique_lock<std::mutex>& lock);

    Store& store_;
    StoreWriterLimits limits_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    Queue queue_;
    bool stopping_ = false;
    bool ready_ = false;  // a batch is waiting to be written
    bool putting_back_ = false;
    std::chrono::steady_clock::time_point stop_deadline_{};
    std::string error_;  // the last write failure, "" while writes succeed
    std::chrono::steady_clock::time_point retry_at_{};
    std::chrono::milliseconds backoff_{0};
    std::chrono::steady_clock::time_point last_error_log_{};
    std::chrono::steady_clock::time_point next_collect_{}, next_seen_{};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> write_errors_{0};
    std::atomic<std::size_t> peak_entries_{0}, peak_bytes_{0};
    std::thread thread_;
};

}  // namespace clinicwatch
