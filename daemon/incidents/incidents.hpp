// Incidents: the layer between alerts and people. Related alerts about one physical event (a
// foreign router, an exposure from the internet, an IP conflict, a loop) or about one device's
// standing conditions (end-of-support OS, IE, SMBv1, old TLS, clear-text logins) become one
// incident with one severity (the worst member), one kind and the facts its texts are rendered
// from. Alerts stay as the evidence; each belongs to exactly one incident.
//
// correlate() is a pure function from alerts to incidents. IncidentBook writes the result into
// the incidents tables on its own connection (never on the packet thread): an incident's key
// derives from its grouping, so it keeps its id across refreshes, and its revision grows when a
// member alert changes or a new one joins (the digest reports revision > mailed_revision).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/packet.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

// One row of the alerts table, as the correlator reads it.
struct AlertRecord {
    std::int64_t id = 0;
    std::string key, kind;
    int severity = 0;
    std::string subject_mac;  // empty: none
    std::string subject, summary, status;
    Timestamp first_seen = 0, last_seen = 0;
    bool ongoing = false;  // ended_at is NULL
    std::int64_t count = 0, revision = 0;
    nlohmann::json evidence = nlohmann::json::object();
};

struct Incident {
    std::string key;   // derived from the grouping: "foreign-router:34:3d:c4:..", ...
    std::string kind;  // foreign-router, gateway-takeover, inbound-exposure, ip-conflict, l2-loop,
                       // broadcast-storm, device-conditions, or the alert kind of a lone alert
    int severity = 0;
    std::string subject_mac;  // the device the incident is about (empty for the whole LAN)
    Timestamp first_seen = 0, last_seen = 0;
    bool ongoing = false;
    std::string status;  // open while any member is open (or acknowledged), else resolved
    nlohmann::json facts = nlohmann::json::object();  // language-free fields for the texts
    std::vector<std::int64_t> alerts;                 // member alert ids, ascending
    std::string fingerprint;  // member ids and revisions: a change bumps the revision
};

// The kinds that are a device's standing condition rather than an event.
bool is_standing_condition(const std::string& alert_kind);

// Every alert in one incident; incidents ordered worst first, then oldest first.
std::vector<Incident> correlate(const std::vector<AlertRecord>& alerts);

// All alerts of the database (any status).
std::vector<AlertRecord> read_alerts(SQLite::Database& db);

// A stored incident (the incidents table joined with its members).
struct StoredIncident {
    std::int64_t id = 0;
    Incident incident;
    std::string title;  // as last rendered in the configured language
    std::int64_t revision = 0, mailed_revision = 0;
    std::int64_t immediate_mailed_wall = 0;  // 0 = never
};

class IncidentBook {
  public:
    explicit IncidentBook(SQLite::Database& db) : db_(db) {}
    // Correlates all alerts and writes the incidents; `title_of` renders each one's title in
    // the configured language. Incidents left without members are deleted. Returns how many
    // incidents were added or changed. Call it inside no transaction: it opens its own.
    using TitleOf = std::function<std::string(const Incident&)>;
    int refresh(const TitleOf& title_of = {}, std::int64_t now_wall = 0);
    // Stored incidents matching `where` (SQL over incidents, no user input), worst first.
    std::vector<StoredIncident> load(const std::string& where = "1") const;

  private:
    SQLite::Database& db_;
};

// True when the database has the incidents tables (schema 8 or later).
bool has_incident_tables(SQLite::Database& db);

// For the query commands: the database opened for writing (migrated to this version) so the
// incidents can be refreshed; read-only when the file cannot be written (`writable` false).
struct IncidentDb {
    std::unique_ptr<SQLite::Database> db;
    bool writable = false;
};
IncidentDb open_for_incidents(const std::string& path);

}  // namespace clinicwatch
