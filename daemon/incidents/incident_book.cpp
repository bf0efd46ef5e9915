// The incidents tables: written from correlate()'s result on the caller's own connection (the
// digest thread's, or a query command's), never by the packet thread.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <set>

#include "daemon/incidents/incidents.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

bool has_incident_tables(SQLite::Database& db) {
    return db.tableExists("incidents") && db.tableExists("incident_alerts");
}

std::vector<AlertRecord> read_alerts(SQLite::Database& db) {
    std::vector<AlertRecord> out;
    SQLite::Statement st(db,
                         "SELECT id, key, kind, severity, subject_mac, subject, summary, status, "
                         "first_seen, last_seen, ended_at, count, revision, evidence FROM alerts "
                         "ORDER BY id");
    while (st.executeStep()) {
        AlertRecord a;
        a.id = st.getColumn(0).getInt64();
        a.key = st.getColumn(1).getString();
        a.kind = st.getColumn(2).getString();
        a.severity = st.getColumn(3).getInt();
        a.subject_mac = st.getColumn(4).isNull() ? "" : st.getColumn(4).getString();
        a.subject = st.getColumn(5).getString();
        a.summary = st.getColumn(6).getString();
        a.status = st.getColumn(7).getString();
        a.first_seen = st.getColumn(8).getInt64();
        a.last_seen = st.getColumn(9).getInt64();
        a.ongoing = st.getColumn(10).isNull();
        a.count = st.getColumn(11).getInt64();
        a.revision = st.getColumn(12).getInt64();
        a.evidence = nlohmann::json::parse(st.getColumn(13).getString(), nullptr, false);
        if (!a.evidence.is_object()) a.evidence = nlohmann::json::object();
        out.push_back(std::move(a));
    }
    return out;
}

namespace {

// Reads and writes as one step. On its own: BEGIN IMMEDIATE, so the read cannot go stale
// before the write while the capture's store commits (WAL). Inside the caller's transaction
// (the digest queues its mail in one): a savepoint.
class RefreshTransaction {
  public:
    explicit RefreshTransaction(SQLite::Database& db)
        : db_(db), own_(sqlite3_get_autocommit(db.getHandle()) != 0) {
        db_.exec(own_ ? "BEGIN IMMEDIATE" : "SAVEPOINT incidents_refresh");
    }
    ~RefreshTransaction() {
        if (done_) return;
        try {
            if (own_) {
                db_.exec("ROLLBACK");
            } else {
                db_.exec("ROLLBACK TO incidents_refresh");
                db_.exec("RELEASE incidents_refresh");
            }
        } catch (...) {  // the connection is gone; nothing left to undo
        }
    }
    void commit() {
        db_.exec(own_ ? "COMMIT" : "RELEASE incidents_refresh");
        done_ = true;
    }

  private:
    SQLite::Database& db_;
    bool own_;
    bool done_ = false;
};

}  // namespace

int IncidentBook::refresh(const TitleOf& title_of, std::int64_t now_wall) {
    if (now_wall == 0) now_wall = static_cast<std::int64_t>(std::time(nullptr));
    RefreshTransaction tx(db_);
    auto incidents = correlate(read_alerts(db_));
    struct Known {
        std::int64_t id;
        std::string fingerprint;
    };
    std::map<std::string, Known> known;
    {
        SQLite::Statement st(db_, "SELECT key, id, fingerprint FROM incidents");
        while (st.executeStep())
            known[st.getColumn(0).getString()] = {st.getColumn(1).getInt64(),
                                                  st.getColumn(2).getString()};
    }
    SQLite::Statement insert(db_, R"sql(
        INSERT INTO incidents (key, kind, severity, subject_mac, title, facts, first_seen,
                               last_seen, status, ongoing, fingerprint, updated_wall)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?))sql");
    SQLite::Statement update(db_, R"sql(
        UPDATE incidents SET kind = ?, severity = ?, subject_mac = ?, title = ?, facts = ?,
            first_seen = ?, last_seen = ?,
            status = CASE WHEN ? = 'resolved' THEN 'resolved'
                          WHEN status = 'resolved' THEN 'open' ELSE status END,
            ongoing = ?, fingerprint = ?, revision = revision + ?, updated_wall = ?
        WHERE id = ?)sql");
    SQLite::Statement unlink(db_, "DELETE FROM incident_alerts WHERE incident_id = ?");
    SQLite::Statement link(
        db_,
        "INSERT INTO incident_alerts (alert_id, incident_id) VALUES (?,?) "
        "ON CONFLICT (alert_id) DO UPDATE SET incident_id = excluded.incident_id");
    int changed = 0;
    std::set<std::int64_t> live;
    for (const auto& in : incidents) {
        auto it = known.find(in.key);
        // Stored: the members with their revisions, then a hash of what is shown. Nothing
        // changed: no write at all. Only what is shown changed (an alert ended, a newer
        // clinicwatch words it better): rewritten, not reported again. Members changed: the
        // revision grows and the next digest reports it.
        std::string content = in.kind + "|" + std::to_string(in.severity) + "|" + in.subject_mac +
                              "|" + in.facts.dump() + "|" + std::to_string(in.first_seen) + "|" +
                              std::to_string(in.last_seen) + "|" + in.status + "|" +
                              (in.ongoing ? "1" : "0");
        std::string stored =
            in.fingerprint + "#" + std::to_string(std::hash<std::string>{}(content));
        if (it != known.end() && it->second.fingerprint == stored) {
            live.insert(it->second.id);
            continue;
        }
        bool same_members =
            it != known.end() &&
            it->second.fingerprint.substr(0, it->second.fingerprint.find('#')) == in.fingerprint;
        std::string title = title_of ? title_of(in) : std::string();
        std::int64_t id = 0;
        auto bind_common = [&](SQLite::Statement& st, int first) {
            st.bind(first, in.severity);
            if (in.subject_mac.empty())
                st.bind(first + 1);
            else
                st.bind(first + 1, in.subject_mac);
            st.bind(first + 2, title);
            st.bind(first + 3, in.facts.dump());
            st.bind(first + 4, static_cast<std::int64_t>(in.first_seen));
            st.bind(first + 5, static_cast<std::int64_t>(in.last_seen));
            st.bind(first + 6, in.status);
        };
        if (it == known.end()) {
            insert.bind(1, in.key);
            insert.bind(2, in.kind);
            bind_common(insert, 3);
            insert.bind(10, in.ongoing ? 1 : 0);
            insert.bind(11, stored);
            insert.bind(12, now_wall);
            insert.exec();
            insert.reset();
            id = db_.getLastInsertRowid();
        } else {
            id = it->second.id;
            update.bind(1, in.kind);
            bind_common(update, 2);
            update.bind(9, in.ongoing ? 1 : 0);
            update.bind(10, stored);
            update.bind(11, same_members ? 0 : 1);
            update.bind(12, now_wall);
            update.bind(13, id);
            update.exec();
            update.reset();
        }
        live.insert(id);
        if (same_members) continue;
        unlink.bind(1, id);
        unlink.exec();
        unlink.reset();
        for (auto alert : in.alerts) {
            link.bind(1, alert);
            link.bind(2, id);
            link.exec();
            link.reset();
        }
        live.insert(id);
        ++changed;
    }
    // Incidents whose alerts all joined another grouping (or were deleted) are gone.
    for (const auto& [key, k] : known) {
        if (live.count(k.id)) continue;
        db_.exec("DELETE FROM incident_alerts WHERE incident_id = " + std::to_string(k.id));
        db_.exec("DELETE FROM incidents WHERE id = " + std::to_string(k.id));
    }
    tx.commit();
    return changed;
}

std::vector<StoredIncident> IncidentBook::load(const std::string& where) const {
    std::vector<StoredIncident> out;
    std::map<std::int64_t, std::size_t> index;
    SQLite::Statement st(db_,
                         "SELECT id, key, kind, severity, subject_mac, title, facts, first_seen, "
                         "last_seen, status, ongoing, fingerprint, revision, mailed_revision, "
                         "immediate_mailed_wall FROM incidents WHERE " +
                             where + " ORDER BY severity DESC, first_seen, id");
    while (st.executeStep()) {
        StoredIncident s;
        s.id = st.getColumn(0).getInt64();
        Incident& in = s.incident;
        in.key = st.getColumn(1).getString();
        in.kind = st.getColumn(2).getString();
        in.severity = st.getColumn(3).getInt();
        in.subject_mac = st.getColumn(4).isNull() ? "" : st.getColumn(4).getString();
        s.title = st.getColumn(5).getString();
        in.facts = nlohmann::json::parse(st.getColumn(6).getString(), nullptr, false);
        if (!in.facts.is_object()) in.facts = nlohmann::json::object();
        in.first_seen = st.getColumn(7).getInt64();
        in.last_seen = st.getColumn(8).getInt64();
        in.status = st.getColumn(9).getString();
        in.ongoing = st.getColumn(10).getInt() != 0;
        in.fingerprint = st.getColumn(11).getString();
        s.revision = st.getColumn(12).getInt64();
        s.mailed_revision = st.getColumn(13).getInt64();
        s.immediate_mailed_wall = st.getColumn(14).isNull() ? 0 : st.getColumn(14).getInt64();
        index[s.id] = out.size();
        out.push_back(std::move(s));
    }
    SQLite::Statement members(db_,
                              "SELECT incident_id, alert_id FROM incident_alerts ORDER BY "
                              "alert_id");
    while (members.executeStep()) {
        auto it = index.find(members.getColumn(0).getInt64());
        if (it != index.end())
            out[it->second].incident.alerts.push_back(members.getColumn(1).getInt64());
    }
    return out;
}

IncidentDb open_for_incidents(const std::string& path) {
    IncidentDb out;
    if (::access(path.c_str(), W_OK) == 0) {
        try {
            Store store(path);  // migrates an older database to this version
        } catch (const StoreError&) {
            out.db = open_for_reading(path);
            return out;
        }
        out.db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE);
        out.db->setBusyTimeout(10000);
        out.writable = true;
        return out;
    }
    out.db = open_for_reading(path);
    return out;
}

}  // namespace clinicwatch
