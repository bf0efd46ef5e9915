#include "daemon/store/store_writer.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace clinicwatch {

namespace {

// Sizes as held in memory (strings, JSON text, map node overhead): the byte cap is on these.
constexpr std::size_t kNode = 64;

std::size_t alert_bytes(const AlertUpdate& a) {
    return sizeof(AlertUpdate) + kNode + a.key.size() + a.kind.size() + a.subject.size() +
           a.summary.size() + (a.evidence.is_null() ? 0 : stored_json(a.evidence).size());
}

std::size_t observed_bytes(const std::vector<Observed>& list) {
    std::size_t n = list.capacity() * sizeof(Observed);
    for (const auto& o : list) n += o.value.size() + o.source.size();
    return n;
}

std::size_t host_bytes(const Host& h) {
    return sizeof(Host) + kNode + observed_bytes(h.addresses) + observed_bytes(h.names) +
           observed_bytes(h.evidence) + h.tcp_services.capacity() * 2 + h.vendor.size() +
           h.os_family.size() + h.os_version.size() + h.os_support.size() +
           h.os_support_end.size() + h.os_explanation.size() + h.register_name.size() +
           h.role.size() + h.responsible.size();
}

std::size_t flow_bytes(const BoundaryFlowSummary& f) {
    return sizeof(BoundaryFlowSummary) + kNode + f.day.size() + f.direction.size() + f.name.size() +
           f.name_source.size() + f.application.size() + f.verdict.size();
}

std::string flow_key(const BoundaryFlowSummary& f) {
    return f.mac.to_string() + '|' + f.day + '|' + f.direction + '|' + f.address.to_string() + '|' +
           f.name + '|' + std::to_string(f.port) + '|' + std::to_string(f.protocol);
}

// Two updates of one alert as one: counts add up, the newer one's state wins.
AlertUpdate merged(const AlertUpdate& older, AlertUpdate newer) {
    if (older.first_seen && (newer.first_seen == 0 || older.first_seen < newer.first_seen))
        newer.first_seen = older.first_seen;
    newer.last_seen = std::max(newer.last_seen, older.last_seen);
    newer.count += older.count;
    newer.severity = std::max(newer.severity, older.severity);
    if (newer.evidence.is_null()) newer.evidence = older.evidence;
    if (!newer.subject_mac) newer.subject_mac = older.subject_mac;
    return newer;
}

// Sensor-limit alerts say that findings were dropped: they get a little room beyond the cap.
constexpr std::size_t kReserveEntries = 64;
constexpr std::size_t kReserveBytes = 256 * 1024;

constexpr std::size_t kMaxQuietNewcomersPerCollect = Store::kMaxQuietNewcomersPerFlush;
constexpr std::chrono::milliseconds kMaxBackoff{4000};

}  // namespace

StoreWriter::StoreWriter(Store& store, StoreWriterLimits limits) : store_(store), limits_(limits) {
    auto now = std::chrono::steady_clock::now();
    next_collect_ = now + limits_.write_interval;
    next_seen_ = now + limits_.seen_interval;
}

StoreWriter::~StoreWriter() {
    if (thread_.joinable()) stop(std::chrono::steady_clock::now());
}

void StoreWriter::start() {
    thread_ = std::thread([this] {
        // No exception may leave a thread: a writer that fails for good logs why, and what is
        // queued stays counted (the pipeline reports it at the end).
        try {
            run();
        } catch (const std::exception& e) {
            spdlog::critical("database writer stopped: {}", e.what());
            std::lock_guard lock(mutex_);
            error_ = std::string("database writer stopped: ") + e.what();
        }
    });
}

std::string StoreWriter::stop(std::chrono::steady_clock::time_point deadline) {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        stop_deadline_ = deadline;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    if (!queue_.empty() && error_.empty())
        error_ = std::to_string(queue_.entries) + " findings could not be written in time";
    return queue_.empty() ? std::string() : error_;
}

std::size_t StoreWriter::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.entries;
}

bool StoreWriter::room_for(std::size_t bytes, bool reserve) const {
    // What a failed write gives back was admitted under the cap once: it always goes back (a
    // device's last state must not be lost), and new findings wait until there is room again.
    if (putting_back_) return true;
    std::size_t entries = limits_.max_entries + (reserve ? kReserveEntries : 0);
    std::size_t cap = limits_.max_bytes + (reserve ? kReserveBytes : 0);
    return queue_.entries + 1 <= entries && queue_.bytes + bytes <= cap;
}

void StoreWriter::account(std::size_t bytes) {
    ++queue_.entries;
    queue_.bytes += bytes;
    if (queue_.entries > peak_entries_.load(std::memory_order_relaxed))
        peak_entries_.store(queue_.entries, std::memory_order_relaxed);
    if (queue_.bytes > peak_bytes_.load(std::memory_order_relaxed))
        peak_bytes_.store(queue_.bytes, std::memory_order_relaxed);
    // Half full: write now rather than at the next interval.
    if (queue_.entries * 2 >= limits_.max_entries || queue_.bytes * 2 >= limits_.max_bytes)
        ready_ = true;
}

bool StoreWriter::put_alert(AlertUpdate update, bool older) {
    auto it = queue_.alerts.find(update.key);
    if (it == queue_.alerts.end()) {
        std::size_t bytes = alert_bytes(update);
        if (!room_for(bytes, update.kind == "sensor-limit")) return false;
        std::string key = update.key;
        queue_.alerts.emplace(std::move(key), std::move(update));
        account(bytes);
        return true;
    }
    std::size_t before = alert_bytes(it->second);
    it->second =
        older ? merged(update, std::move(it->second)) : merged(it->second, std::move(update));
    queue_.bytes = queue_.bytes - before + alert_bytes(it->second);
    return true;
}

bool StoreWriter::put_minute(const MinuteStats& m) {
    auto it = queue_.minutes.find(m.minute);
    if (it == queue_.minutes.end()) {
        std::size_t bytes = sizeof(MinuteStats) + kNode;
        if (!room_for(bytes, false)) return false;
        queue_.minutes.emplace(m.minute, m);
        account(bytes);
        return true;
    }
    MinuteStats& q = it->second;
    q.frames += m.frames;
    q.bytes += m.bytes;
    q.broadcast_frames += m.broadcast_frames;
    q.multicast_frames += m.multicast_frames;
    q.undecodable_frames += m.undecodable_frames;
    q.capture_drops += m.capture_drops;
    q.ring_drops += m.ring_drops;
    q.active_hosts = std::max(q.active_hosts, m.active_hosts);
    return true;
}

bool StoreWriter::put_flow(const BoundaryFlowSummary& f) {
    std::string key = flow_key(f);
    auto it = queue_.flows.find(key);
    if (it == queue_.flows.end()) {
        std::size_t bytes = flow_bytes(f) + key.size();
        if (!room_for(bytes, false)) return false;
        queue_.flows.emplace(std::move(key), f);
        account(bytes);
        return true;
    }
    BoundaryFlowSummary& q = it->second;
    q.flows += f.flows;
    q.packets += f.packets;
    q.bytes_out += f.bytes_out;
    q.bytes_in += f.bytes_in;
    q.first_seen = std::min(q.first_seen, f.first_seen);
    q.last_seen = std::max(q.last_seen, f.last_seen);
    if (!f.application.empty()) q.application = f.application;
    q.verdict = f.verdict;
    q.name_source = f.name_source;
    return true;
}

bool StoreWriter::put_service(const ServiceMinute& m) {
    auto key = std::make_pair(m.minute, m.server);
    auto it = queue_.services.find(key);
    if (it != queue_.services.end()) {
        it->second = m;
        return true;
    }
    std::size_t bytes = sizeof(ServiceMinute) + kNode;
    if (!room_for(bytes, false)) return false;
    queue_.services.emplace(key, m);
    account(bytes);
    return true;
}

bool StoreWriter::put_topology(const TopologyElement& e, bool older) {
    std::string key = e.kind + '|' + std::to_string(e.vlan) + '|' + e.key;
    auto it = queue_.topology.find(key);
    auto bytes_of = [](const TopologyElement& x) {
        return sizeof(TopologyElement) + kNode + x.kind.size() + x.key.size() +
               stored_json(x.attributes).size() + stored_json(x.evidence).size();
    };
    if (it == queue_.topology.end()) {
        std::size_t bytes = bytes_of(e) + key.size();
        if (!room_for(bytes, false)) return false;
        queue_.topology.emplace(std::move(key), e);
        account(bytes);
        return true;
    }
    // The newer state of an element replaces the queued one; its first sighting is kept.
    TopologyElement& q = it->second;
    std::size_t before = bytes_of(q);
    Timestamp first = std::min(q.first_seen, e.first_seen),
              last = std::max(q.last_seen, e.last_seen);
    if (!older) q = e;
    q.first_seen = first;
    q.last_seen = last;
    queue_.bytes = queue_.bytes - before + bytes_of(q);
    return true;
}

bool StoreWriter::put_session(const RemoteSession& r, bool older) {
    auto it = queue_.sessions.find(r.key);
    auto bytes_of = [](const RemoteSession& x) {
        return sizeof(RemoteSession) + kNode + 2 * x.key.size() + x.tool.size() +
               x.remote_name.size() + x.verdict.size();
    };
    if (it == queue_.sessions.end()) {
        std::size_t bytes = bytes_of(r);
        if (!room_for(bytes, false)) return false;
        queue_.sessions.emplace(r.key, r);
        account(bytes);
        return true;
    }
    // The newer state of a session replaces the queued one (its counts only grow).
    if (older) return true;
    std::size_t before = bytes_of(it->second);
    Timestamp start = std::min(it->second.start, r.start);
    it->second = r;
    it->second.start = start;
    queue_.bytes = queue_.bytes - before + bytes_of(it->second);
    return true;
}

bool StoreWriter::put_host(const Host& h, bool older) {
    auto it = queue_.hosts.find(h.key);
    if (it != queue_.hosts.end()) {
        if (older) return true;  // the queued state is newer
        std::size_t before = host_bytes(it->second);
        Timestamp stored = it->second.stored_last_seen;
        it->second = h;
        // Still unwritten: a device first discovered stays "discovered" for the event log.
        it->second.stored_last_seen = stored;
        queue_.bytes = queue_.bytes - before + host_bytes(it->second);
        queue_.seen.erase(h.key);
        return true;
    }
    std::size_t bytes = host_bytes(h);
    if (!room_for(bytes, false)) return false;
    queue_.hosts.emplace(h.key, h);
    account(bytes);
    if (!older) queue_.seen.erase(h.key);
    return true;
}

void StoreWriter::put_seen(const HostSeen& s, bool older) {
    if (auto h = queue_.hosts.find(s.key); h != queue_.hosts.end() && !older) {
        h->second.last_seen = std::max(h->second.last_seen, s.last_seen);
        h->second.frames = std::max(h->second.frames, s.frames);
        h->second.bytes = std::max(h->second.bytes, s.bytes);
        return;
    }
    auto it = queue_.seen.find(s.key);
    if (it != queue_.seen.end()) {
        it->second.last_seen = std::max(it->second.last_seen, s.last_seen);
        it->second.frames = std::max(it->second.frames, s.frames);
        it->second.bytes = std::max(it->second.bytes, s.bytes);
        return;
    }
    // A last_seen that finds the queue full is simply written with the next one.
    if (!room_for(sizeof(HostSeen) + kNode, false)) return;
    queue_.seen.emplace(s.key, s);
    account(sizeof(HostSeen) + kNode);
}

void StoreWriter::alert(AlertUpdate update) {
    // A capture without MAC addresses (raw IP, loopback) leaves the sender's MAC zero: no device.
    if (update.subject_mac && update.subject_mac->is_zero()) update.subject_mac.reset();
    std::lock_guard lock(mutex_);
    if (!put_alert(std::move(update), false)) dropped_.fetch_add(1, std::memory_order_relaxed);
}

void StoreWriter::minute(const MinuteStats& stats) {
    std::lock_guard lock(mutex_);
    if (!put_minute(stats)) dropped_.fetch_add(1, std::memory_order_relaxed);
}

void StoreWriter::boundary_flows(const std::vector<BoundaryFlowSummary>& rows) {
    std::lock_guard lock(mutex_);
    for (const auto& row : rows)
        if (!put_flow(row)) dropped_.fetch_add(1, std::memory_order_relaxed);
}

void StoreWriter::service_minutes(const std::vector<ServiceMinute>& rows) {
    std::lock_guard lock(mutex_);
    for (const auto& row : rows)
        if (!put_service(row)) dropped_.fetch_add(1, std::memory_order_relaxed);
}

void StoreWriter::topology(const std::vector<TopologyElement>& elements) {
    std::lock_guard lock(mutex_);
    for (const auto& e : elements)
        if (!put_topology(e, false)) dropped_.fetch_add(1, std::memory_order_relaxed);
}

void StoreWriter::remote_session(const RemoteSession& session) {
    std::lock_guard lock(mutex_);
    if (!put_session(session, false)) dropped_.fetch_add(1, std::memory_order_relaxed);
}

void StoreWriter::meta(const std::string& key, const std::string& value) {
    std::lock_guard lock(mutex_);
    auto [it, added] = queue_.meta.insert_or_assign(key, value);
    if (added) account(key.size() + value.size() + kNode);
}

bool StoreWriter::host_evicted(const Host& host) {
    if (!host.dirty) return true;
    std::lock_guard lock(mutex_);
    if (put_host(host, false)) return true;
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
}

void StoreWriter::delete_minutes_before(Timestamp cutoff) {
    std::lock_guard lock(mutex_);
    queue_.retention_cutoff = cutoff;
    ready_ = true;
    wake_.notify_one();
}

void StoreWriter::collect(HostTable& hosts, bool final) {
    auto now = std::chrono::steady_clock::now();
    next_collect_ = now + limits_.write_interval;
    bool seen_due = final || now >= next_seen_;
    if (seen_due) next_seen_ = now + limits_.seen_interval;
    {
        std::lock_guard lock(mutex_);
        std::size_t quiet = 0;
        hosts.for_each([&](Host& h) {
            if (h.dirty) {
                // A MAC flood's forged devices stay in memory (counted by mac-flood) and are
                // not written one by one. A quiet newcomer with an address may be a real
                // device's first frames, so a few at a time are written; in a flood the rest
                // wait until they say more, which forged ones never do.
                if (h.quiet_newcomer() &&
                    (h.addresses.empty() || ++quiet > kMaxQuietNewcomersPerCollect))
                    return;
                if (!put_host(h, false)) return;  // full: stays changed, offered again
                h.dirty = false;
                h.stored_last_seen = h.row_last_seen = h.last_seen;
            } else if (final && h.last_seen != h.row_last_seen && put_host(h, false)) {
                // At the end (a stop, the end of a replay) the whole row of a device that kept
                // talking: the last-seen times of its addresses, names and evidence are not
                // written while it merely talks, and would otherwise be kept as they were at
                // its last change, a replay's result depending on the wall clock.
                h.stored_last_seen = h.row_last_seen = h.last_seen;
            } else if (seen_due && h.last_seen != h.stored_last_seen) {
                put_seen({h.key, h.last_seen, h.frames, h.bytes}, false);
                h.stored_last_seen = h.last_seen;
            }
        });
        if (!queue_.empty()) ready_ = true;
    }
    wake_.notify_one();
}

void StoreWriter::put_back(StoreBatch& batch) {
    putting_back_ = true;
    std::uint64_t lost = 0;
    for (auto& a : batch.alerts) lost += !put_alert(std::move(a), true);
    for (const auto& m : batch.minutes) lost += !put_minute(m);
    for (const auto& f : batch.flows) lost += !put_flow(f);
    for (const auto& m : batch.service_minutes) lost += !put_service(m);
    for (const auto& h : batch.hosts) lost += !put_host(h, true);
    for (const auto& s : batch.seen) put_seen(s, true);
    for (const auto& e : batch.topology) lost += !put_topology(e, true);
    for (const auto& r : batch.remote_sessions) lost += !put_session(r, true);
    for (auto& [key, value] : batch.meta)
        if (queue_.meta.emplace(key, value).second) account(key.size() + value.size() + kNode);
    putting_back_ = false;
    if (lost) dropped_.fetch_add(lost, std::memory_order_relaxed);
}

void StoreWriter::write_once(std::unique_lock<std::mutex>& lock) {
    StoreBatch batch;
    for (auto& [key, a] : queue_.alerts) batch.alerts.push_back(std::move(a));
    for (auto& [minute, m] : queue_.minutes) batch.minutes.push_back(m);
    for (auto& [key, f] : queue_.flows) batch.flows.push_back(std::move(f));
    for (auto& [key, h] : queue_.hosts) batch.hosts.push_back(std::move(h));
    for (auto& [key, s] : queue_.seen) batch.seen.push_back(s);
    for (auto& [key, value] : queue_.meta) batch.meta.emplace_back(key, value);
    for (auto& [key, m] : queue_.services) batch.service_minutes.push_back(m);
    for (auto& [key, e] : queue_.topology) batch.topology.push_back(std::move(e));
    for (auto& [key, r] : queue_.sessions) batch.remote_sessions.push_back(std::move(r));
    std::optional<Timestamp> cutoff = queue_.retention_cutoff;
    std::size_t held = queue_.entries;
    queue_ = Queue{};
    lock.unlock();

    std::string failure;
    try {
        if (!batch.empty()) store_.write(batch);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (failure.empty() && cutoff) {
        try {
            std::size_t n = store_.delete_minutes_before(*cutoff);
            if (n) spdlog::info("retention: deleted {} minute statistics rows", n);
        } catch (const std::exception& e) {
            spdlog::warn("retention: {}", e.what());  // asked again in an hour
        }
    }

    lock.lock();
    auto now = std::chrono::steady_clock::now();
    if (failure.empty()) {
        if (!error_.empty())
            spdlog::info(
                "database writes resumed ({} findings were held in memory, at most {} entries "
                "and {} KB; {} dropped)",
                held, peak_entries(), peak_bytes() / 1024, dropped());
        error_.clear();
        backoff_ = std::chrono::milliseconds(0);
        return;
    }
    // Disk full, or the file locked or gone: keep analysing, hold findings in memory (bounded),
    // and try again after a backoff, not at every call.
    put_back(batch);
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    if (error_.empty() || now - last_error_log_ > std::chrono::seconds(60)) {
        spdlog::error(
            "{}; capture and analysis go on, findings are held in memory until writing works "
            "again",
            failure);
        last_error_log_ = now;
    }
    error_ = failure;
    backoff_ =
        std::min(kMaxBackoff, backoff_.count() ? backoff_ * 2 : std::chrono::milliseconds(250));
    retry_at_ = now + backoff_;
}

void StoreWriter::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait(lock, [&] { return stopping_ || ready_; });
        if (stopping_) break;
        if (queue_.empty()) {
            ready_ = false;
            continue;
        }
        if (std::chrono::steady_clock::now() < retry_at_) {
            wake_.wait_until(lock, retry_at_, [&] { return stopping_; });
            continue;
        }
        ready_ = false;
        write_once(lock);
    }
    // Stopping: what is queued is written, retried until the deadline if the database fails.
    // A lock held by another process (a reader's checkpoint, the digest) is waited for only
    // until the deadline, so SIGTERM stays bounded.
    while (!queue_.empty()) {
        auto now = std::chrono::steady_clock::now();
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stop_deadline_ - now);
        store_.db().setBusyTimeout(static_cast<int>(std::max<std::int64_t>(100, left.count())));
        if (now >= stop_deadline_ && !error_.empty()) break;
        if (now < retry_at_) {
            if (retry_at_ >= stop_deadline_) break;
            wake_.wait_until(lock, retry_at_);
            continue;
        }
        write_once(lock);
        if (!error_.empty() && std::chrono::steady_clock::now() >= stop_deadline_) break;
    }
}

}  // namespace clinicwatch
