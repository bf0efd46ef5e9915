#include "daemon/store/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "analyzers/ipv6_addresses.hpp"
#include "daemon/export/event_log.hpp"

namespace clinicwatch {

namespace {

// Forward migrations: entry i brings the schema from version i to i+1. Never edit a released
// entry; add a new one.
const char* const kMigrations[] = {
    // 0 -> 1: assets, alerts, minute statistics, meta.
    R"sql(
    CREATE TABLE assets (
        mac TEXT NOT NULL,
        vlan INTEGER NOT NULL DEFAULT 0,
        vendor TEXT NOT NULL DEFAULT '',
        randomized_mac INTEGER NOT NULL DEFAULT 0,
        addresses TEXT NOT NULL DEFAULT '[]',   -- JSON [{value, source, first_seen, last_seen}]
        names TEXT NOT NULL DEFAULT '[]',       -- JSON, same shape
        evidence TEXT NOT NULL DEFAULT '[]',    -- JSON, same shape
        services TEXT NOT NULL DEFAULT '[]',    -- JSON [port, ...]
        os_family TEXT NOT NULL DEFAULT '',
        os_version TEXT NOT NULL DEFAULT '',
        os_confidence REAL NOT NULL DEFAULT 0,
        first_seen INTEGER NOT NULL,            -- packet time, microseconds since the epoch
        last_seen INTEGER NOT NULL,
        frames INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (mac, vlan)
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        severity INTEGER NOT NULL,
        subject_mac TEXT,
        subject TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        count INTEGER NOT NULL DEFAULT 1,
        evidence TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','acknowledged','resolved')),
        ended_at INTEGER
    );
    CREATE INDEX alerts_kind ON alerts(kind);
    CREATE TABLE minute_stats (
        minute INTEGER PRIMARY KEY,
        frames INTEGER NOT NULL, bytes INTEGER NOT NULL,
        broadcast_frames INTEGER NOT NULL, multicast_frames INTEGER NOT NULL,
        undecodable_frames INTEGER NOT NULL,
        capture_drops INTEGER NOT NULL, ring_drops INTEGER NOT NULL,
        active_hosts INTEGER NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    )sql",
    // 1 -> 2: a row per run, and a revision on alerts so the digest can tell what changed.
    R"sql(
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        mode TEXT NOT NULL, source TEXT NOT NULL,
        started_wall INTEGER NOT NULL, ended_wall INTEGER,
        first_packet INTEGER, last_packet INTEGER,
        packets INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
        undecodable INTEGER NOT NULL DEFAULT 0,
        capture_drops INTEGER NOT NULL DEFAULT 0, ring_drops INTEGER NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL DEFAULT 'running'
    );
    ALTER TABLE alerts ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE alerts ADD COLUMN updated_wall INTEGER NOT NULL DEFAULT 0;
    )sql",
    // 2 -> 3: the mail outbox (digests and immediate critical mails) and every send attempt.
    // alerts.mailed_revision is the revision the last accepted digest reported; an alert is
    // "new or changed" for the next digest while revision > mailed_revision.
    R"sql(
    ALTER TABLE alerts ADD COLUMN mailed_revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ADD COLUMN immediate_mailed_wall INTEGER;
    CREATE TABLE mails (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('digest','critical')),
        alert_kind TEXT,                        -- critical mails: the kind they were about
        created_wall INTEGER NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        recipients TEXT NOT NULL,               -- JSON ["it@clinic.example", ...]
        message BLOB NOT NULL,                  -- the whole RFC 5322 message, sent as is
        alerts TEXT NOT NULL DEFAULT '[]',      -- JSON [[alert id, revision reported], ...]
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending','sent','superseded')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_wall INTEGER NOT NULL,
        accepted_wall INTEGER,
        last_error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX mails_status ON mails(status, next_attempt_wall);
    CREATE TABLE mail_attempts (
        id INTEGER PRIMARY KEY,
        mail_id INTEGER NOT NULL REFERENCES mails(id),
        attempt_wall INTEGER NOT NULL,
        accepted INTEGER NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    )sql",
    // 3 -> 4: end of support of the OS guess, and the evidence behind it.
    R"sql(
    ALTER TABLE assets ADD COLUMN os_support TEXT NOT NULL DEFAULT '';
    ALTER TABLE assets ADD COLUMN os_support_end TEXT NOT NULL DEFAULT '';
    ALTER TABLE assets ADD COLUMN os_explanation TEXT NOT NULL DEFAULT '{}';
    )sql",
    // 4 -> 5: traffic crossing the LAN/WAN boundary, per asset, peer, port, protocol and day.
    R"sql(
    CREATE TABLE boundary_flows (
        mac TEXT NOT NULL,
        day TEXT NOT NULL,                 -- YYYY-MM-DD, sensor local time
        direction TEXT NOT NULL CHECK (direction IN ('egress','inbound')),
        address TEXT NOT NULL,             -- the outside peer
        name TEXT NOT NULL DEFAULT '',     -- from DNS answers, TLS SNI or HTTP Host
        name_source TEXT NOT NULL DEFAULT '',
        port INTEGER NOT NULL,             -- service port (peer's for egress, ours for inbound)
        protocol INTEGER NOT NULL,         -- IP protocol number
        application TEXT NOT NULL DEFAULT '',
        verdict TEXT NOT NULL DEFAULT '',  -- allowed, denied, observed, inbound, refused
        flows INTEGER NOT NULL DEFAULT 0,
        packets INTEGER NOT NULL DEFAULT 0,
        bytes_out INTEGER NOT NULL DEFAULT 0,
        bytes_in INTEGER NOT NULL DEFAULT 0,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        PRIMARY KEY (mac, address, name, port, protocol, day, direction)
    );
    CREATE INDEX boundary_flows_last_seen ON boundary_flows(last_seen);
    )sql",
    // 5 -> 6: the asset register's view of each asset (issue 3).
    R"sql(
    ALTER TABLE assets ADD COLUMN registered INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE assets ADD COLUMN register_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE assets ADD COLUMN role TEXT NOT NULL DEFAULT '';
    ALTER TABLE assets ADD COLUMN responsible TEXT NOT NULL DEFAULT '';
    )sql",
    // 6 -> 7: which process a run was, so a run cut short by a crash or power cut is told
    // from one still going (another process may be writing the same database).
    R"sql(
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    ALTER TABLE runs ADD COLUMN boot_id TEXT NOT NULL DEFAULT '';
    )sql",
    // 7 -> 8: incidents (issue 16): related alerts grouped into one physical event or one
    // device's standing conditions (daemon/incidents/). The key derives from the grouping, so an
    // incident keeps its id across refreshes. The digest bookkeeping moves here: revision grows
    // when a member alert changes or joins; mailed_revision is what the last digest reported.
    // mails.incidents: [[incident id, revision reported], ...].
    R"sql(
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        severity INTEGER NOT NULL,
        subject_mac TEXT,
        title TEXT NOT NULL DEFAULT '',
        facts TEXT NOT NULL DEFAULT '{}',
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','acknowledged','resolved')),
        ongoing INTEGER NOT NULL DEFAULT 0,
        fingerprint TEXT NOT NULL DEFAULT '',
        revision INTEGER NOT NULL DEFAULT 1,
        mailed_revision INTEGER NOT NULL DEFAULT 0,
        immediate_mailed_wall INTEGER,
        updated_wall INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE incident_alerts (
        alert_id INTEGER PRIMARY KEY,               -- alerts.id (no FK: retention may drop alerts)
        incident_id INTEGER NOT NULL
    );
    CREATE INDEX incident_alerts_incident ON incident_alerts(incident_id);
    ALTER TABLE mails ADD COLUMN incidents TEXT NOT NULL DEFAULT '[]';
    )sql",
    // 8 -> 9: service health per server and minute (issue 22, analyzers/service_health): what
    // the server's clients asked and got. Times are sums in microseconds (divide by the count).
    R"sql(
    CREATE TABLE service_minutes (
        minute INTEGER NOT NULL,
        server_ip TEXT NOT NULL,
        server_mac TEXT NOT NULL DEFAULT '',
        clients INTEGER NOT NULL DEFAULT 0,
        failed_clients INTEGER NOT NULL DEFAULT 0,
        tcp_attempts INTEGER NOT NULL DEFAULT 0,
        tcp_handshakes INTEGER NOT NULL DEFAULT 0,
        tcp_unanswered INTEGER NOT NULL DEFAULT 0,
        tcp_refused INTEGER NOT NULL DEFAULT 0,
        tcp_handshake_us INTEGER NOT NULL DEFAULT 0,
        tcp_data_segments INTEGER NOT NULL DEFAULT 0,
        tcp_retransmissions INTEGER NOT NULL DEFAULT 0,
        tcp_zero_windows INTEGER NOT NULL DEFAULT 0,
        tcp_peak_mbps INTEGER NOT NULL DEFAULT 0,
        dns_queries INTEGER NOT NULL DEFAULT 0,
        dns_answers INTEGER NOT NULL DEFAULT 0,
        dns_timeouts INTEGER NOT NULL DEFAULT 0,
        dns_servfail INTEGER NOT NULL DEFAULT 0,
        dns_refused INTEGER NOT NULL DEFAULT 0,
        dns_nxdomain INTEGER NOT NULL DEFAULT 0,
        dns_answer_us INTEGER NOT NULL DEFAULT 0,
        dhcp_discovers INTEGER NOT NULL DEFAULT 0,
        dhcp_requests INTEGER NOT NULL DEFAULT 0,
        dhcp_offers INTEGER NOT NULL DEFAULT 0,
        dhcp_acks INTEGER NOT NULL DEFAULT 0,
        dhcp_naks INTEGER NOT NULL DEFAULT 0,
        dhcp_unanswered_clients INTEGER NOT NULL DEFAULT 0,
        arp_requests INTEGER NOT NULL DEFAULT 0,
        arp_unanswered INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (minute, server_ip)
    );
    )sql",
    // 9 -> 10: the network's topology (issue 18): one row per subnet, router, DHCP server,
    // bridge, root bridge, announcing device (LLDP/CDP) and device in two networks, per VLAN,
    // with its attributes (JSON object, merged across runs), how it was seen and when.
    R"sql(
    CREATE TABLE topology (
        kind TEXT NOT NULL,
        vlan INTEGER NOT NULL DEFAULT 0,
        key TEXT NOT NULL,
        attributes TEXT NOT NULL DEFAULT '{}',
        evidence TEXT NOT NULL DEFAULT '[]',
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        PRIMARY KEY (kind, vlan, key)
    );
    )sql",
    // 10 -> 11: the remote-maintenance log (issue 17): one row per session of a remote-access
    // tool, updated while it goes on (ongoing = 1 until it was seen to end).
    R"sql(
    CREATE TABLE remote_sessions (
        key TEXT PRIMARY KEY,
        mac TEXT NOT NULL,
        address TEXT NOT NULL DEFAULT '',
        tool TEXT NOT NULL,
        direction TEXT NOT NULL,
        remote_address TEXT NOT NULL,
        remote_mac TEXT NOT NULL DEFAULT '',
        remote_name TEXT NOT NULL DEFAULT '',
        port INTEGER NOT NULL DEFAULT 0,
        protocol INTEGER NOT NULL DEFAULT 0,
        start_time INTEGER NOT NULL,
        end_time INTEGER NOT NULL,
        bytes_out INTEGER NOT NULL DEFAULT 0,
        bytes_in INTEGER NOT NULL DEFAULT 0,
        packets INTEGER NOT NULL DEFAULT 0,
        verdict TEXT NOT NULL DEFAULT '',
        recognised_by TEXT NOT NULL DEFAULT '',
        ongoing INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX remote_sessions_end ON remote_sessions(end_time);
    )sql",
};
static_assert(std::size(kMigrations) == Store::kSchemaVersion);

// Facts learned across runs: a flag once true stays true, lists gain what is new, objects merge
// key by key, anything else takes the newer value. (SQLite's json_patch would let a run that
// has not seen the router's internet traffic yet overwrite "internet": true with false.)
nlohmann::json merge_learned(nlohmann::json stored, const nlohmann::json& fresh) {
    if (stored.is_boolean() && fresh.is_boolean()) return stored.get<bool>() || fresh.get<bool>();
    if (stored.is_array() && fresh.is_array()) {
        for (const auto& item : fresh)
            if (std::find(stored.begin(), stored.end(), item) == stored.end())
                stored.push_back(item);
        return stored;
    }
    if (stored.is_object() && fresh.is_object()) {
        for (const auto& [key, value] : fresh.items())
            stored[key] = stored.contains(key) ? merge_learned(stored[key], value) : value;
        return stored;
    }
    return fresh;
}

// This boot of the machine: a pid from an earlier boot says nothing about a process now.
std::string boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

nlohmann::json observed_json(const std::vector<Observed>& list) {
    auto out = nlohmann::json::array();
    for (const auto& o : list)
        out.push_back({{"value", o.value},
                       {"source", o.source},
                       {"first_seen", o.first_seen},
                       {"last_seen", o.last_seen}});
    return out;
}

// A device's addresses, each IPv6 one with its kind (link-local, stable, temporary; see
// analyzers/ipv6_addresses.hpp), judged again at every write from the whole list.
nlohmann::json addresses_json(const std::vector<Observed>& list) {
    auto out = observed_json(list);
    auto kinds = ipv6_address_kinds(list);
    for (std::size_t i = 0; i < list.size(); ++i)
        if (!kinds[i].empty()) out[i]["kind"] = std::string(kinds[i]);
    return out;
}

std::vector<Observed> observed_from_json(const std::string& text) {
    std::vector<Observed> out;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& o : j) {
        if (!o.is_object() || !o.contains("value") || !o["value"].is_string()) continue;
        out.push_back(Observed{o["value"].get<std::string>(), o.value("source", std::string()),
                               o.value("first_seen", Timestamp{0}),
                               o.value("last_seen", Timestamp{0})});
    }
    return out;
}

// Adds what `stored` knows to `list`: the same value from the same source keeps the widest
// first/last seen; over the cap, the least recently seen values go (their own ageing rule,
// never a restart).
void merge_observed(std::vector<Observed>& list, const std::vector<Observed>& stored,
                    std::size_t cap) {
    for (const auto& s : stored) {
        auto same = std::find_if(list.begin(), list.end(), [&](const Observed& o) {
            return o.value == s.value && o.source == s.source;
        });
        if (same == list.end()) {
            list.push_back(s);
        } else {
            if (s.first_seen && (same->first_seen == 0 || s.first_seen < same->first_seen))
                same->first_seen = s.first_seen;
            same->last_seen = std::max(same->last_seen, s.last_seen);
        }
    }
    if (list.size() > cap) {
        std::stable_sort(list.begin(), list.end(), [](const Observed& a, const Observed& b) {
            return a.last_seen > b.last_seen;
        });
        list.resize(cap);
    }
}

std::int64_t wall_seconds() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

int Store::schema_version(SQLite::Database& db) {
    return db.execAndGet("PRAGMA user_version").getInt();
}

void Store::migrate(SQLite::Database& db, int target) {
    int version = schema_version(db);
    if (version > kSchemaVersion)
        throw StoreError(db.getFilename() + ": database schema version " + std::to_string(version) +
                         " is newer than this clinicwatch (" + std::to_string(kSchemaVersion) +
                         "); upgrade clinicwatch");
    if (version >= target) return;
    // All steps in one transaction: a new database is one commit, not one per step, and an
    // upgrade interrupted half-way leaves the old version whole.
    SQLite::Transaction tx(db);
    for (; version < target; ++version) db.exec(kMigrations[version]);
    db.exec("PRAGMA user_version = " + std::to_string(target));
    tx.commit();
}

Store::Store(const std::string& path, StoreOptions options)
    : path_(path), options_(options), last_flush_(std::chrono::steady_clock::now()) {
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent))
        throw StoreError("cannot create database " + path + ": directory " + parent.string() +
                         " does not exist (create it, or give another --db path)");
    try {
        db_ = std::make_unique<SQLite::Database>(
            path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
        db_->setBusyTimeout(kBusyTimeoutMs);
        if (options_.give_up_when) {
            sqlite3_progress_handler(db_->getHandle(), 1000, &Store::give_up_now, this);
            sqlite3_busy_handler(db_->getHandle(), &Store::wait_while_busy, this);
        }
        db_->exec("PRAGMA journal_mode = WAL");
        // NORMAL in WAL mode: a power cut may lose the last transaction, never corrupt the file.
        db_->exec("PRAGMA synchronous = NORMAL");
        db_->exec("PRAGMA foreign_keys = ON");
        migrate(*db_);
    } catch (const SQLite::Exception& e) {
        throw StoreError("cannot open database " + path + ": " + e.what() +
                         " (check the path and its permissions, or give another --db path)");
    }
}

Store::~Store() = default;

int Store::give_up_now(void* store) {
    const auto* flag = static_cast<Store*>(store)->options_.give_up_when;
    return flag && flag->load(std::memory_order_relaxed) ? 1 : 0;
}

int Store::wait_while_busy(void* store, int attempts) {
    // Another program holds the write lock (a backup, the sqlite3 shell, a query command
    // writing its outbox): wait as long as the usual busy timeout, unless told to stop.
    auto* self = static_cast<Store*>(store);
    constexpr int kStepMs = 10;
    if (give_up_now(store) || attempts * kStepMs >= kBusyTimeoutMs) return 0;
    if (attempts == 10)
        spdlog::info("database {} is busy (another program is writing it): waiting up to {} s",
                     self->path_, kBusyTimeoutMs / 1000);
    sqlite3_sleep(kStepMs);
    return 1;
}

void Store::end_start_up() {
    if (!options_.give_up_when) return;
    sqlite3_progress_handler(db_->getHandle(), 0, nullptr, nullptr);
    db_->setBusyTimeout(kBusyTimeoutMs);
    options_.give_up_when = nullptr;
}

void Store::alert(AlertUpdate update) {
    if (alerts_.size() >= kMaxQueuedAlerts) {
        ++findings_lost_;
        return;
    }
    alerts_.push_back(std::move(update));
}

void Store::minute(const MinuteStats& stats) {
    if (minutes_.size() >= kMaxQueuedMinutes) {
        ++findings_lost_;
        return;
    }
    minutes_.push_back(stats);
}

void Store::boundary_flows(const std::vector<BoundaryFlowSummary>& rows) {
    for (const auto& row : rows) {
        if (flows_.size() >= kMaxQueuedAlerts) {
            ++findings_lost_;
            continue;
        }
        flows_.push_back(row);
    }
}

void Store::host_evicted(const Host& host) {
    if (!host.dirty) return;
    if (evicted_.size() >= kMaxEvictedQueued) {
        ++evicted_lost_;
        return;
    }
    evicted_.push_back(host);
}

bool Store::flush_due() const {
    return queued() >= options_.flush_after_findings ||
           std::chrono::steady_clock::now() - last_flush_ >= options_.flush_interval;
}

Host Store::merged_with_stored(const Host& h) {
    if (!stored_host_statement_)
        stored_host_statement_ = std::make_unique<SQLite::Statement>(*db_, R"sql(
            SELECT vendor, addresses, names, evidence, services, os_family, os_version,
                   os_confidence, os_support, os_support_end, os_explanation, first_seen
            FROM assets WHERE mac = ? AND vlan = ?)sql");
    SQLite::Statement& st = *stored_host_statement_;
    st.reset();
    st.bind(1, h.key.mac.to_string());
    st.bind(2, h.key.vlan);
    Host merged = h;
    if (!st.executeStep()) return merged;
    if (merged.vendor.empty()) merged.vendor = st.getColumn(0).getString();
    merge_observed(merged.addresses, observed_from_json(st.getColumn(1).getString()),
                   Host::kMaxAddresses);
    merge_observed(merged.names, observed_from_json(st.getColumn(2).getString()), Host::kMaxNames);
    merge_observed(merged.evidence, observed_from_json(st.getColumn(3).getString()),
                   Host::kMaxEvidence);
    auto services = nlohmann::json::parse(st.getColumn(4).getString(), nullptr, false);
    if (services.is_array())
        for (const auto& port : services)
            if (port.is_number_unsigned() && port.get<std::uint64_t>() <= 65535)
                merged.observe_service(static_cast<std::uint16_t>(port.get<std::uint64_t>()));
    // An OS verdict stays until this run reaches its own (evidence alone may come later).
    if (merged.os_family.empty() && !st.getColumn(5).getString().empty()) {
        merged.os_family = st.getColumn(5).getString();
        merged.os_version = st.getColumn(6).getString();
        merged.os_confidence = st.getColumn(7).getDouble();
        merged.os_support = st.getColumn(8).getString();
        merged.os_support_end = st.getColumn(9).getString();
        merged.os_explanation = st.getColumn(10).getString();
    }
    merged.first_seen = std::min(merged.first_seen, st.getColumn(11).getInt64());
    st.reset();
    return merged;
}

std::vector<BoundaryFlowSummary> Store::load_recent_boundary_flows(int days) {
    std::vector<BoundaryFlowSummary> rows;
    SQLite::Statement st(*db_, R"sql(
        SELECT mac, day, direction, address, name, port, protocol, last_seen FROM boundary_flows
        WHERE day IN (SELECT DISTINCT day FROM boundary_flows ORDER BY day DESC LIMIT ?)
        ORDER BY last_seen DESC LIMIT 16384)sql");
    st.bind(1, days);
    while (st.executeStep()) {
        auto mac = MacAddress::parse(st.getColumn(0).getString());
        auto address = IpAddress::parse(st.getColumn(3).getString());
        if (!mac || !address) continue;
        BoundaryFlowSummary row;
        row.mac = *mac;
        row.day = st.getColumn(1).getString();
        row.direction = st.getColumn(2).getString();
        row.address = *address;
        row.name = st.getColumn(4).getString();
        row.port = static_cast<std::uint16_t>(st.getColumn(5).getInt());
        row.protocol = static_cast<std::uint8_t>(st.getColumn(6).getInt());
        row.last_seen = st.getColumn(7).getInt64();
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<std::string> Store::load_recent_alert_keys(const std::vector<std::string>& kinds,
                                                       Timestamp window) {
    std::vector<std::string> keys;
    std::optional<std::int64_t> newest;
    SQLite::Statement st(*db_, "SELECT key, kind, last_seen FROM alerts ORDER BY last_seen DESC");
    while (st.executeStep() && keys.size() < 16384) {
        std::string kind = st.getColumn(1).getString();
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
        std::int64_t seen = st.getColumn(2).getInt64();
        if (!newest) newest = seen;
        if (seen < *newest - static_cast<std::int64_t>(window)) break;
        keys.push_back(st.getColumn(0).getString());
    }
    return keys;
}

std::vector<Host> Store::load_hosts(std::size_t limit) {
    std::vector<Host> out;
    try {
        SQLite::Statement st(*db_, R"sql(
            SELECT mac, vlan, vendor, randomized_mac, addresses, names, evidence, services,
                   os_family, os_version, os_confidence, os_support, os_support_end,
                   os_explanation, first_seen, last_seen, frames, bytes
            FROM assets ORDER BY last_seen DESC LIMIT ?)sql");
        st.bind(1, static_cast<std::int64_t>(limit));
        while (st.executeStep()) {
            auto mac = MacAddress::parse(st.getColumn(0).getString());
            if (!mac) continue;
            Host h;
            h.key = HostKey{*mac, static_cast<std::uint16_t>(st.getColumn(1).getInt())};
            h.vendor = st.getColumn(2).getString();
            h.randomized_mac = st.getColumn(3).getInt() != 0;
            h.addresses = observed_from_json(st.getColumn(4).getString());
            h.names = observed_from_json(st.getColumn(5).getString());
            h.evidence = observed_from_json(st.getColumn(6).getString());
            auto services = nlohmann::json::parse(st.getColumn(7).getString(), nullptr, false);
            if (services.is_array())
                for (const auto& port : services)
                    if (port.is_number_unsigned() && port.get<std::uint64_t>() <= 65535)
                        h.observe_service(static_cast<std::uint16_t>(port.get<std::uint64_t>()));
            h.os_family = st.getColumn(8).getString();
            h.os_version = st.getColumn(9).getString();
            h.os_confidence = st.getColumn(10).getDouble();
            h.os_support = st.getColumn(11).getString();
            h.os_support_end = st.getColumn(12).getString();
            h.os_explanation = st.getColumn(13).getString();
            h.first_seen = st.getColumn(14).getInt64();
            h.last_seen = h.stored_last_seen = h.row_last_seen = st.getColumn(15).getInt64();
            h.frames = static_cast<std::uint64_t>(st.getColumn(16).getInt64());
            h.bytes = static_cast<std::uint64_t>(st.getColumn(17).getInt64());
            h.dirty = false;
            out.push_back(std::move(h));
        }
    } catch (const SQLite::Exception& e) {
        throw StoreError("reading the stored devices from " + path_ + " failed: " + e.what());
    }
    return out;
}

void Store::write_host(const Host& stored_or_new) {
    // Facts merge, never vanish: what an earlier run stored is added to, not replaced.
    const Host h = merged_with_stored(stored_or_new);
    static const char* kSql = R"sql(
        INSERT INTO assets (mac, vlan, vendor, randomized_mac, addresses, names, evidence,
                            services, os_family, os_version, os_confidence, first_seen,
                            last_seen, frames, bytes, registered, register_name, role,
                            responsible)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        ON CONFLICT (mac, vlan) DO UPDATE SET
            vendor = excluded.vendor, randomized_mac = excluded.randomized_mac,
            addresses = excluded.addresses, names = excluded.names,
            evidence = excluded.evidence, services = excluded.services,
            os_family = excluded.os_family, os_version = excluded.os_version,
            os_confidence = excluded.os_confidence,
            first_seen = min(first_seen, excluded.first_seen),
            last_seen = max(last_seen, excluded.last_seen),
            frames = max(frames, excluded.frames), bytes = max(bytes, excluded.bytes),
            registered = excluded.registered, register_name = excluded.register_name,
            role = excluded.role, responsible = excluded.responsible)sql";
    static const char* kOsSql =
        "UPDATE assets SET os_support = ?, os_support_end = ?, os_explanation = ? "
        "WHERE mac = ? AND vlan = ?";
    if (!host_statement_) host_statement_ = std::make_unique<SQLite::Statement>(*db_, kSql);
    SQLite::Statement& st = *host_statement_;
    st.reset();
    st.clearBindings();
    st.bind(1, h.key.mac.to_string());
    st.bind(2, h.key.vlan);
    st.bind(3, h.vendor);
    st.bind(4, h.randomized_mac ? 1 : 0);
    st.bind(5, stored_json(addresses_json(h.addresses)));
    st.bind(6, stored_json(observed_json(h.names)));
    st.bind(7, stored_json(observed_json(h.evidence)));
    st.bind(8, stored_json(nlohmann::json(h.tcp_services)));
    st.bind(9, h.os_family);
    st.bind(10, h.os_version);
    st.bind(11, h.os_confidence);
    st.bind(12, static_cast<std::int64_t>(h.first_seen));
    st.bind(13, static_cast<std::int64_t>(h.last_seen));
    st.bind(14, static_cast<std::int64_t>(h.frames));
    st.bind(15, static_cast<std::int64_t>(h.bytes));
    st.bind(16, h.registered ? 1 : 0);
    st.bind(17, h.register_name);
    st.bind(18, h.role);
    st.bind(19, h.responsible);
    st.exec();
    if (!h.os_explanation.empty()) {
        SQLite::Statement os(*db_, kOsSql);
        os.bind(1, h.os_support);
        os.bind(2, h.os_support_end);
        os.bind(3, h.os_explanation);
        os.bind(4, h.key.mac.to_string());
        os.bind(5, h.key.vlan);
        os.exec();
    }
}

void Store::flush(HostTable& hosts) {
    last_flush_ = std::chrono::steady_clock::now();
    StoreBatch batch;
    batch.alerts.swap(alerts_);
    batch.minutes.swap(minutes_);
    batch.flows.swap(flows_);
    batch.hosts.swap(evicted_);
    std::size_t quiet_written = 0;
    hosts.for_each([&](Host& h) {
        if (!h.dirty && h.last_seen == h.stored_last_seen) return;
        // A MAC flood's forged devices stay in memory (counted by mac-flood) and are not
        // written one by one. A quiet newcomer with an address may be a real device's first
        // frames, so a few per flush are written; in a flood the rest wait until they say more,
        // which forged ones never do.
        if (h.quiet_newcomer() &&
            (h.addresses.empty() || ++quiet_written > kMaxQuietNewcomersPerFlush))
            return;
        if (h.dirty)
            batch.hosts.push_back(h);
        else
            batch.seen.push_back({h.key, h.last_seen, h.frames, h.bytes});
    });
    try {
        write(batch);
    } catch (const StoreError&) {
        // Keep everything queued: the next flush tries again (disk full, locked database).
        alerts_.swap(batch.alerts);
        minutes_.swap(batch.minutes);
        flows_.swap(batch.flows);
        evicted_.assign(std::make_move_iterator(batch.hosts.begin()),
                        std::make_move_iterator(batch.hosts.end()));
        evicted_.erase(std::remove_if(evicted_.begin(), evicted_.end(),
                                      [&](const Host& h) {
                                          return hosts.find(h.key.mac, h.key.vlan) != nullptr;
                                      }),
                       evicted_.end());
        throw;
    }
    queued_alert_index_.clear();
    hosts.for_each([](Host& h) {
        h.dirty = false;
        h.stored_last_seen = h.last_seen;
    });
}

void Store::write(const StoreBatch& batch) {
    std::vector<std::pair<const AlertUpdate*, const char*>> alert_events;
    try {
        // IMMEDIATE: the write lock is taken (waiting up to the busy timeout) before the first
        // read. A deferred transaction that reads stored facts first cannot upgrade once the
        // digest's connection has written meanwhile (SQLITE_BUSY at once, no waiting).
        SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement alert_st(*db_, R"sql(
            INSERT INTO alerts (key, kind, severity, subject_mac, subject, summary, first_seen,
                                last_seen, count, evidence, ended_at, updated_wall)
            VALUES (?,?,?,?,?,?,?,?,?,coalesce(?, '{}'),?,?)
            ON CONFLICT (key) DO UPDATE SET
                severity = max(severity, excluded.severity),
                subject = excluded.subject,
                summary = excluded.summary,
                first_seen = min(first_seen, excluded.first_seen),
                last_seen = max(last_seen, excluded.last_seen),
                count = count + excluded.count,
                evidence = CASE WHEN ?10 IS NULL THEN evidence ELSE excluded.evidence END,
                ended_at = excluded.ended_at,
                status = CASE WHEN status = 'resolved' THEN 'open' ELSE status END,
                revision = revision + 1,
                updated_wall = excluded.updated_wall)sql");
        SQLite::Statement revision_st(*db_, "SELECT revision FROM alerts WHERE key = ?");
        for (const auto& a : batch.alerts) {
            alert_st.bind(1, a.key);
            alert_st.bind(2, a.kind);
            alert_st.bind(3, static_cast<int>(a.severity));
            if (a.subject_mac)
                alert_st.bind(4, a.subject_mac->to_string());
            else
                alert_st.bind(4);
            alert_st.bind(5, a.subject);
            alert_st.bind(6, a.summary);
            alert_st.bind(7, static_cast<std::int64_t>(a.first_seen));
            alert_st.bind(8, static_cast<std::int64_t>(a.last_seen));
            alert_st.bind(9, static_cast<std::int64_t>(a.count));
            if (a.evidence.is_null())
                alert_st.bind(10);
            else
                alert_st.bind(10, stored_json(a.evidence));
            if (a.ended)
                alert_st.bind(11, static_cast<std::int64_t>(a.last_seen));
            else
                alert_st.bind(11);
            alert_st.bind(12, wall_seconds());
            alert_st.exec();
            if (options_.events) {
                revision_st.bind(1, a.key);
                std::int64_t revision =
                    revision_st.executeStep() ? revision_st.getColumn(0).getInt64() : 1;
                revision_st.reset();
                alert_events.push_back({&a, a.ended         ? "ended"
                                            : revision <= 1 ? "opened"
                                                            : "updated"});
            }
            alert_st.reset();
            alert_st.clearBindings();
        }
        SQLite::Statement minute_st(*db_, R"sql(
            INSERT INTO minute_stats VALUES (?,?,?,?,?,?,?,?,?)
            ON CONFLICT (minute) DO UPDATE SET
                frames = frames + excluded.frames, bytes = bytes + excluded.bytes,
                broadcast_frames = broadcast_frames + excluded.broadcast_frames,
                multicast_frames = multicast_frames + excluded.multicast_frames,
                undecodable_frames = undecodable_frames + excluded.undecodable_frames,
                capture_drops = capture_drops + excluded.capture_drops,
                ring_drops = ring_drops + excluded.ring_drops,
                active_hosts = max(active_hosts, excluded.active_hosts))sql");
        for (const auto& m : batch.minutes) {
            minute_st.bind(1, static_cast<std::int64_t>(m.minute));
            minute_st.bind(2, static_cast<std::int64_t>(m.frames));
            minute_st.bind(3, static_cast<std::int64_t>(m.bytes));
            minute_st.bind(4, static_cast<std::int64_t>(m.broadcast_frames));
            minute_st.bind(5, static_cast<std::int64_t>(m.multicast_frames));
            minute_st.bind(6, static_cast<std::int64_t>(m.undecodable_frames));
            minute_st.bind(7, static_cast<std::int64_t>(m.capture_drops));
            minute_st.bind(8, static_cast<std::int64_t>(m.ring_drops));
            minute_st.bind(9, static_cast<std::int64_t>(m.active_hosts));
            minute_st.exec();
            minute_st.reset();
        }
        if (!batch.service_minutes.empty()) {
            // A minute written twice (a restart inside it) keeps the later count.
            SQLite::Statement service_st(*db_, R"sql(
                INSERT OR REPLACE INTO service_minutes VALUES
                (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?))sql");
            for (const auto& m : batch.service_minutes) {
                int i = 0;
                auto put = [&](std::uint64_t v) {
                    service_st.bind(++i, static_cast<std::int64_t>(v));
                };
                put(static_cast<std::uint64_t>(m.minute));
                service_st.bind(++i, m.server.to_string());
                service_st.bind(++i,
                                m.server_mac.is_zero() ? std::string() : m.server_mac.to_string());
                for (std::uint64_t v : {std::uint64_t{m.clients},
                                        std::uint64_t{m.failed_clients},
                                        std::uint64_t{m.tcp_attempts},
                                        std::uint64_t{m.tcp_handshakes},
                                        std::uint64_t{m.tcp_unanswered},
                                        std::uint64_t{m.tcp_refused},
                                        m.tcp_handshake_us,
                                        std::uint64_t{m.tcp_data_segments},
                                        std::uint64_t{m.tcp_retransmissions},
                                        std::uint64_t{m.tcp_zero_windows},
                                        std::uint64_t{m.tcp_peak_mbps},
                                        std::uint64_t{m.dns_queries},
                                        std::uint64_t{m.dns_answers},
                                        std::uint64_t{m.dns_timeouts},
                                        std::uint64_t{m.dns_servfail},
                                        std::uint64_t{m.dns_refused},
                                        std::uint64_t{m.dns_nxdomain},
                                        m.dns_answer_us,
                                        std::uint64_t{m.dhcp_discovers},
                                        std::uint64_t{m.dhcp_requests},
                                        std::uint64_t{m.dhcp_offers},
                                        std::uint64_t{m.dhcp_acks},
                                        std::uint64_t{m.dhcp_naks},
                                        std::uint64_t{m.dhcp_unanswered_clients},
                                        std::uint64_t{m.arp_requests},
                                        std::uint64_t{m.arp_unanswered}})
                    put(v);
                service_st.exec();
                service_st.reset();
            }
        }
        SQLite::Statement flow_st(*db_, R"sql(
            INSERT INTO boundary_flows (mac, day, direction, address, name, name_source, port,
                                        protocol, application, verdict, flows, packets,
                                        bytes_out, bytes_in, first_seen, last_seen)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT (mac, address, name, port, protocol, day, direction) DO UPDATE SET
                name_source = excluded.name_source,
                application = CASE WHEN excluded.application = '' THEN application
                                   ELSE excluded.application END,
                verdict = excluded.verdict,
                flows = flows + excluded.flows, packets = packets + excluded.packets,
                bytes_out = bytes_out + excluded.bytes_out,
                bytes_in = bytes_in + excluded.bytes_in,
                first_seen = min(first_seen, excluded.first_seen),
                last_seen = max(last_seen, excluded.last_seen))sql");
        for (const auto& f : batch.flows) {
            flow_st.bind(1, f.mac.to_string());
            flow_st.bind(2, f.day);
            flow_st.bind(3, f.direction);
            flow_st.bind(4, f.address.to_string());
            flow_st.bind(5, f.name);
            flow_st.bind(6, f.name_source);
            flow_st.bind(7, f.port);
            flow_st.bind(8, f.protocol);
            flow_st.bind(9, f.application);
            flow_st.bind(10, f.verdict);
            flow_st.bind(11, static_cast<std::int64_t>(f.flows));
            flow_st.bind(12, static_cast<std::int64_t>(f.packets));
            flow_st.bind(13, static_cast<std::int64_t>(f.bytes_out));
            flow_st.bind(14, static_cast<std::int64_t>(f.bytes_in));
            flow_st.bind(15, static_cast<std::int64_t>(f.first_seen));
            flow_st.bind(16, static_cast<std::int64_t>(f.last_seen));
            flow_st.exec();
            flow_st.reset();
        }
        for (const auto& h : batch.hosts) write_host(h);
        // A device merely seen again: one small statement, no re-serialised lists.
        if (!batch.seen.empty()) {
            SQLite::Statement seen_st(*db_, R"sql(
                UPDATE assets SET last_seen = max(last_seen, ?), frames = max(frames, ?),
                                  bytes = max(bytes, ?)
                WHERE mac = ? AND vlan = ?)sql");
            for (const auto& s : batch.seen) {
                seen_st.bind(1, static_cast<std::int64_t>(s.last_seen));
                seen_st.bind(2, static_cast<std::int64_t>(s.frames));
                seen_st.bind(3, static_cast<std::int64_t>(s.bytes));
                seen_st.bind(4, s.key.mac.to_string());
                seen_st.bind(5, s.key.vlan);
                seen_st.exec();
                seen_st.reset();
            }
        }
        if (!batch.meta.empty()) {
            SQLite::Statement meta_st(*db_,
                                      "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                                      "SET value = excluded.value");
            for (const auto& [key, value] : batch.meta) {
                meta_st.bind(1, key);
                meta_st.bind(2, value);
                meta_st.exec();
                meta_st.reset();
            }
        }
        if (!batch.topology.empty()) {
            // What earlier runs learned stays (a name not heard yet in this run, a router seen
            // reaching the internet last week): attributes and evidence merge (see
            // merge_learned); first and last seen widen.
            SQLite::Statement get_st(*db_,
                                     "SELECT attributes, evidence FROM topology "
                                     "WHERE kind = ? AND vlan = ? AND key = ?");
            SQLite::Statement topo_st(*db_, R"sql(
                INSERT INTO topology (kind, vlan, key, attributes, evidence, first_seen, last_seen)
                VALUES (?,?,?,?,?,?,?)
                ON CONFLICT (kind, vlan, key) DO UPDATE SET
                    attributes = excluded.attributes,
                    evidence = excluded.evidence,
                    first_seen = min(first_seen, excluded.first_seen),
                    last_seen = max(last_seen, excluded.last_seen))sql");
            for (const auto& e : batch.topology) {
                nlohmann::json attributes = e.attributes, evidence = e.evidence;
                get_st.bind(1, e.kind);
                get_st.bind(2, e.vlan);
                get_st.bind(3, e.key);
                if (get_st.executeStep()) {
                    auto stored_attributes =
                        nlohmann::json::parse(get_st.getColumn(0).getString(), nullptr, false);
                    auto stored_evidence =
                        nlohmann::json::parse(get_st.getColumn(1).getString(), nullptr, false);
                    if (!stored_attributes.is_discarded())
                        attributes = merge_learned(std::move(stored_attributes), attributes);
                    if (!stored_evidence.is_discarded())
                        evidence = merge_learned(std::move(stored_evidence), evidence);
                }
                get_st.reset();
                topo_st.bind(1, e.kind);
                topo_st.bind(2, e.vlan);
                topo_st.bind(3, e.key);
                topo_st.bind(4, stored_json(attributes));
                topo_st.bind(5, stored_json(evidence));
                topo_st.bind(6, static_cast<std::int64_t>(e.first_seen));
                topo_st.bind(7, static_cast<std::int64_t>(e.last_seen));
                topo_st.exec();
                topo_st.reset();
            }
        }
        if (!batch.remote_sessions.empty()) {
            // The latest state of a session replaces the stored one; two units that saw the
            // same session (by port and by handshake) widen it rather than list it twice.
            SQLite::Statement st(*db_, R"sql(
                INSERT INTO remote_sessions (key, mac, address, tool, direction, remote_address,
                    remote_mac, remote_name, port, protocol, start_time, end_time, bytes_out,
                    bytes_in, packets, verdict, recognised_by, ongoing)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                ON CONFLICT (key) DO UPDATE SET
                    remote_name = CASE WHEN excluded.remote_name = '' THEN remote_name
                                       ELSE excluded.remote_name END,
                    ongoing = CASE WHEN excluded.end_time >= end_time THEN excluded.ongoing
                                   ELSE ongoing END,
                    start_time = min(start_time, excluded.start_time),
                    end_time = max(end_time, excluded.end_time),
                    bytes_out = max(bytes_out, excluded.bytes_out),
                    bytes_in = max(bytes_in, excluded.bytes_in),
                    packets = max(packets, excluded.packets),
                    verdict = CASE WHEN verdict IN ('', 'lan') THEN excluded.verdict
                                   ELSE verdict END)sql");
            for (const auto& r : batch.remote_sessions) {
                st.bind(1, r.key);
                st.bind(2, r.mac.to_string());
                st.bind(3, r.address.to_string());
                st.bind(4, r.tool);
                st.bind(5, r.direction);
                st.bind(6, r.remote_address.to_string());
                st.bind(7, r.remote_mac ? r.remote_mac->to_string() : std::string());
                st.bind(8, r.remote_name);
                st.bind(9, r.port);
                st.bind(10, r.protocol);
                st.bind(11, static_cast<std::int64_t>(r.start));
                st.bind(12, static_cast<std::int64_t>(r.end));
                st.bind(13, static_cast<std::int64_t>(r.bytes_out));
                st.bind(14, static_cast<std::int64_t>(r.bytes_in));
                st.bind(15, static_cast<std::int64_t>(r.packets));
                st.bind(16, r.verdict);
                st.bind(17, r.recognised_by);
                st.bind(18, r.ongoing ? 1 : 0);
                st.exec();
                st.reset();
            }
        }
        tx.commit();
    } catch (const SQLite::Exception& e) {
        throw StoreError("writing to " + path_ + " failed: " + e.what());
    }
    if (options_.events) {
        for (const auto& [alert, action] : alert_events) options_.events->alert(*alert, action);
        // Asset events only for content changes, not for every last-seen update.
        for (const auto& h : batch.hosts)
            options_.events->asset(h, h.stored_last_seen == 0 ? "discovered" : "changed");
        options_.events->flush();
    }
}

std::vector<AlertUpdate> Store::end_interrupted_episodes() {
    // A loop or storm open when the sensor was killed would otherwise stay "ongoing" in every
    // digest and report: it ends where it was last seen, as a clean stop would have ended it.
    std::string kinds;
    for (const auto& k : episode_kinds()) kinds += (kinds.empty() ? "'" : ",'") + k + "'";
    const std::string open = "ended_at IS NULL AND kind IN (" + kinds + ")";
    std::vector<AlertUpdate> ended;
    {
        SQLite::Statement st(*db_,
                             "SELECT key, kind, severity, subject_mac, subject, summary, "
                             "first_seen, last_seen FROM alerts WHERE " +
                                 open);
        while (st.executeStep()) {
            AlertUpdate a;
            a.key = st.getColumn(0).getString();
            a.kind = st.getColumn(1).getString();
            a.severity = static_cast<Severity>(st.getColumn(2).getInt());
            if (!st.getColumn(3).isNull())
                a.subject_mac = MacAddress::parse(st.getColumn(3).getString());
            a.subject = st.getColumn(4).getString();
            a.summary = st.getColumn(5).getString();
            a.first_seen = st.getColumn(6).getInt64();
            a.last_seen = st.getColumn(7).getInt64();
            a.count = 0;
            a.ended = true;
            ended.push_back(std::move(a));
        }
    }
    if (ended.empty()) return ended;
    SQLite::Statement end(*db_,
                          "UPDATE alerts SET ended_at = last_seen, revision = revision + 1, "
                          "updated_wall = ? WHERE " +
                              open);
    end.bind(1, wall_seconds());
    end.exec();
    return ended;
}

std::int64_t Store::begin_run(const RunRecord& run) try {
    const std::string boot = boot_id();
    // One transaction: closing the runs of killed processes, ending their episodes and adding
    // this run happen together or not at all (a SIGTERM at start-up, a busy file). Immediate:
    // the write lock is taken (or waited for) first, not when a read snapshot is already stale.
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    // Runs left 'running' by a process that is gone (killed, crashed, the power cut) are
    // closed as interrupted; their end time is unknown and stays empty.
    std::vector<std::int64_t> gone;
    bool another_alive = false;
    {
        SQLite::Statement running(*db_,
                                  "SELECT id, pid, boot_id FROM runs WHERE outcome = 'running'");
        while (running.executeStep()) {
            bool alive = !running.getColumn(1).isNull() &&
                         running.getColumn(2).getString() == boot &&
                         ::kill(static_cast<pid_t>(running.getColumn(1).getInt64()), 0) == 0;
            if (!alive) gone.push_back(running.getColumn(0).getInt64());
            another_alive = another_alive || alive;
        }
    }
    for (std::int64_t id : gone)
        db_->exec("UPDATE runs SET outcome = 'interrupted' WHERE id = " + std::to_string(id));
    std::vector<AlertUpdate> ended;
    if (!gone.empty() && !another_alive) ended = end_interrupted_episodes();
    SQLite::Statement st(
        *db_, "INSERT INTO runs (mode, source, started_wall, pid, boot_id) VALUES (?,?,?,?,?)");
    st.bind(1, run.mode);
    st.bind(2, run.source);
    st.bind(3, run.started_wall ? run.started_wall : wall_seconds());
    st.bind(4, static_cast<std::int64_t>(::getpid()));
    st.bind(5, boot);
    st.exec();
    const std::int64_t id = db_->getLastInsertRowid();
    tx.commit();
    if (!ended.empty()) {
        spdlog::info("{} episode(s) left open by an interrupted run ended where last seen",
                     ended.size());
        if (options_.events) {
            for (const auto& a : ended) options_.events->alert(a, "ended");
            options_.events->flush();
        }
    }
    return id;
} catch (const SQLite::Exception& e) {
    throw StoreError("writing to " + path_ + " failed: " + e.what());
}

void Store::end_run(const RunRecord& run) try {
    SQLite::Statement st(*db_, R"sql(
        UPDATE runs SET ended_wall = ?, first_packet = ?, last_packet = ?, packets = ?,
            bytes = ?, undecodable = ?, capture_drops = ?, ring_drops = ?, outcome = ?
        WHERE id = ?)sql");
    st.bind(1, wall_seconds());
    st.bind(2, static_cast<std::int64_t>(run.first_packet));
    st.bind(3, static_cast<std::int64_t>(run.last_packet));
    st.bind(4, static_cast<std::int64_t>(run.packets));
    st.bind(5, static_cast<std::int64_t>(run.bytes));
    st.bind(6, static_cast<std::int64_t>(run.undecodable));
    st.bind(7, static_cast<std::int64_t>(run.capture_drops));
    st.bind(8, static_cast<std::int64_t>(run.ring_drops));
    st.bind(9, run.outcome);
    st.bind(10, run.id);
    st.exec();
} catch (const SQLite::Exception& e) {
    throw StoreError("writing to " + path_ + " failed: " + e.what());
}

std::optional<std::string> Store::meta(const std::string& key) {
    SQLite::Statement st(*db_, "SELECT value FROM meta WHERE key = ?");
    st.bind(1, key);
    if (st.executeStep()) return st.getColumn(0).getString();
    return std::nullopt;
}

void Store::set_meta(const std::string& key, const std::string& value) {
    SQLite::Statement st(*db_,
                         "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                         "value = excluded.value");
    st.bind(1, key);
    st.bind(2, value);
    st.exec();
}

std::size_t Store::delete_minutes_before(Timestamp cutoff) {
    try {
        SQLite::Statement st(*db_, "DELETE FROM minute_stats WHERE minute < ?");
        st.bind(1, static_cast<std::int64_t>(cutoff));
        auto n = static_cast<std::size_t>(st.exec());
        SQLite::Statement services(*db_, "DELETE FROM service_minutes WHERE minute < ?");
        services.bind(1, static_cast<std::int64_t>(cutoff));
        services.exec();
        return n;
    } catch (const SQLite::Exception& e) {
        throw StoreError("deleting old minute statistics from " + path_ + " failed: " + e.what());
    }
}

std::string stored_json(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::unique_ptr<SQLite::Database> open_for_reading(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw StoreError("no database at " + path +
                         " (run `clinicwatch replay` or `clinicwatch run` first, or give --db)");
    try {
        auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY);
        db->setBusyTimeout(5000);
        int version = Store::schema_version(*db);
        if (version == 0)
            throw StoreError(path + " is not a clinicwatch database (no schema version)");
        if (version > Store::kSchemaVersion)
            throw StoreError(path + " was written by a newer clinicwatch (schema " +
                             std::to_string(version) + "); upgrade clinicwatch");
        return db;
    } catch (const SQLite::Exception& e) {
        throw StoreError("cannot read database " + path + ": " + e.what());
    }
}

}  // namespace clinicwatch
