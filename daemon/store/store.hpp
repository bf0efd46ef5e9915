// The SQLite store: one file in WAL mode, one writer (the analysis thread), readers in other
// processes (the CLI) at the same time. Findings are queued and written in batched
// transactions: at most once a second, or sooner when many are waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/findings.hpp"
#include "analyzers/host_table.hpp"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace clinicwatch {

class EventLog;

class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct StoreOptions {
    std::chrono::milliseconds flush_interval{1000};
    std::size_t flush_after_findings = 2000;
    bool read_only = false;
    EventLog* events = nullptr;  // optional JSON-lines export of what each flush wrote
    // Start-up of `run`: while set, a long statement, or a wait for a database another program
    // is writing, gives up (SQLite::Exception / StoreError; transactions roll back) once this
    // becomes true (SIGTERM). end_start_up() removes it before anything is written.
    const std::atomic<bool>* give_up_when = nullptr;
};

// A summary of one replay or live run, kept in the runs table.
struct RunRecord {
    std::int64_t id = 0;
    std::string mode;                               // "replay" or "live"
    std::string source;                             // file names or interface
    std::int64_t started_wall = 0, ended_wall = 0;  // wall clock, seconds (bookkeeping only)
    Timestamp first_packet = 0, last_packet = 0;
    std::uint64_t packets = 0, bytes = 0, undecodable = 0;
    std::uint64_t capture_drops = 0, ring_drops = 0;
    std::string outcome;  // "running", "ok", "error: ..."
};

// A device merely seen again since it was last written: only these columns change.
struct HostSeen {
    HostKey key;
    Timestamp last_seen = 0;
    std::uint64_t frames = 0, bytes = 0;
};

// What one transaction writes.
struct StoreBatch {
    std::vector<AlertUpdate> alerts;
    std::vector<MinuteStats> minutes;
    std::vector<BoundaryFlowSummary> flows;
    std::vector<Host> hosts;  // content changed: the row is upserted, stored facts merged in
    std::vector<HostSeen> seen;
    std::vector<std::pair<std::string, std::string>> meta;
    std::vector<ServiceMinute> service_minutes;
    std::vector<TopologyElement> topology;
    std::vector<RemoteSession> remote_sessions;
    bool empty() const {
        return alerts.empty() && minutes.empty() && flows.empty() && hosts.empty() &&
               seen.empty() && meta.empty() && service_minutes.empty() && topology.empty() &&
               remote_sessions.empty();
    }
};

class Store final : public FindingSink {
  public:
    static constexpr int kSchemaVersion = 11;

    Store(const std::string& path, StoreOptions options = {});
    ~Store() override;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::string& path() const { return path_; }
    // Start-up is over: statements run to the end again, busy waits last the usual 5 s.
    void end_start_up();
    SQLite::Database& db() { return *db_; }

    // FindingSink: queued, written by flush().
    void alert(AlertUpdate update) override;
    void minute(const MinuteStats& stats) override;
    void boundary_flows(const std::vector<BoundaryFlowSummary>& rows) override;

    // Keeps the last state of a host that is leaving the HostTable (bounded queue).
    void host_evicted(const Host& host);

    bool flush_due() const;
    // Writes queued alerts and minutes and every changed host in one transaction.
    void flush(HostTable& hosts);
    // Writes one batch in one transaction (the store writer thread), then the JSON-lines
    // events for it. Throws StoreError; nothing of the batch is written then.
    void write(const StoreBatch& batch);

    // The devices stored by earlier runs, most recently seen first, at most `limit`: a restart
    // starts from what was learned (names, addresses, evidence, services, OS verdict).
    std::vector<Host> load_hosts(std::size_t limit);
    // The boundary-flow rows of the last `days` days stored (newest first, at most 16384):
    // a restart continues the day's per-device summaries.
    std::vector<BoundaryFlowSummary> load_recent_boundary_flows(int days);
    // The keys of the alerts of these kinds seen within `window` (microseconds) of the newest
    // (packet time: a replay's days are its capture's; newest first, at most 16384): a restart
    // continues the day's per-device alert counts.
    std::vector<std::string> load_recent_alert_keys(const std::vector<std::string>& kinds,
                                                    Timestamp window);

    // Runs: one row per replay/live run, updated at its end.
    // Runs left running by a process that is gone are closed as interrupted, and (when no
    // other run is alive) the episodes they left open are ended where they were last seen.
    std::int64_t begin_run(const RunRecord& run);
    void end_run(const RunRecord& run);

    // Small key/value facts that outlive a run (e.g. when the very first packet was seen).
    std::optional<std::string> meta(const std::string& key);
    void set_meta(const std::string& key, const std::string& value);

    // Retention: deletes minute statistics older than `cutoff` (packet time); returns the rows
    // deleted. Minutes still queued are not touched.
    std::size_t delete_minutes_before(Timestamp cutoff);

    std::size_t queued() const {
        return alerts_.size() + minutes_.size() + evicted_.size() + flows_.size();
    }
    // Bounds of what waits in memory for the next write (a disk-full spell, a flood).
    static constexpr std::size_t kMaxEvictedQueued = 4096;
    static constexpr std::size_t kMaxQuietNewcomersPerFlush = 256;
    static constexpr std::size_t kMaxQueuedAlerts = 100000;
    static constexpr std::size_t kMaxQueuedMinutes = 7 * 24 * 60;  // a week
    std::uint64_t evicted_lost() const { return evicted_lost_; }
    // Findings dropped because the queue was full while the database could not be written.
    std::uint64_t findings_lost() const { return findings_lost_; }

    // Applies migrations up to `target` (tests use this to build an older database).
    static void migrate(SQLite::Database& db, int target = kSchemaVersion);
    static int schema_version(SQLite::Database& db);

  private:
    static constexpr int kBusyTimeoutMs = 5000;
    // SQLite callbacks while options_.give_up_when is set (start-up).
    static int give_up_now(void* store);
    static int wait_while_busy(void* store, int attempts);
    // Ends the episodes killed runs left open; returns them (for the JSON-lines export).
    std::vector<AlertUpdate> end_interrupted_episodes();
    void write_host(const Host& host);
    // The host with what the database already holds about it merged in (names, addresses,
    // evidence and services are added to, an OS verdict is kept until a new one replaces it).
    Host merged_with_stored(const Host& host);

    std::string path_;
    StoreOptions options_;
    std::unique_ptr<SQLite::Database> db_;
    std::unique_ptr<SQLite::Statement> host_statement_;  // prepared once: floods write many
    std::unique_ptr<SQLite::Statement> stored_host_statement_;
    std::vector<AlertUpdate> alerts_;
    std::vector<MinuteStats> minutes_;
    std::vector<Host> evicted_;
    std::vector<BoundaryFlowSummary> flows_;
    std::uint64_t evicted_lost_ = 0;
    std::chrono::steady_clock::time_point last_flush_;
    std::unordered_map<std::string, std::size_t> queued_alert_index_;
    std::uint64_t findings_lost_ = 0;
};

// Opens an existing database for reading (the query commands); a clear StoreError when the
// file is missing or not a clinicwatch database.
std::unique_ptr<SQLite::Database> open_for_reading(const std::string& path);

// JSON text as stored. Text from the wire that is not valid UTF-8 is written with U+FFFD in its
// place: nlohmann's dump() would throw, and a throw in the writer thread would stop the store.
std::string stored_json(const nlohmann::json& value);

}  // namespace clinicwatch
