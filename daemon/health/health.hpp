// Service health as people read it (issue 22): the per-server, per-minute rows the
// service-health analyzer stored (service_minutes), each server's availability over a period
// (for the report's network section), and one minute explained in one plain sentence (ja/en, from
// messages.yaml `health:`) for `clinicwatch health --at`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyzers/findings.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

class DeviceNames;

// One stored row (service_minutes), with its server as text.
struct ServiceMinuteRecord {
    ServiceMinute row;
    std::string server_ip, server_mac;
};

// Rows with minute in [since, until), ordered by minute then server; `server_ip` empty = all.
std::vector<ServiceMinuteRecord> read_service_minutes(SQLite::Database& db, Timestamp since,
                                                      Timestamp until,
                                                      const std::string& server_ip = {});

// Every stored outage alert (the kinds the service-health analyzer raises), as a span of time on
// one server (the alert's subject).
struct OutageSpan {
    std::string kind, server_ip;
    Timestamp first = 0, last = 0;
};
std::vector<OutageSpan> outage_spans(SQLite::Database& db);

// One server's availability over a period, as plain data for the report (issue 17's network
// section). A minute counts when some client asked the server something; it is "down" when an
// outage alert of this server (server-not-answering, dns-not-answering, dhcp-not-answering,
// router-not-answering-arp) covers it. throughput-ceiling minutes count as slow, not down.
struct ServerAvailability {
    std::string server_ip, server_mac;
    std::int64_t minutes_observed = 0;  // minutes with at least one client asking
    std::int64_t minutes_down = 0;      // of them, inside an outage of this server
    std::int64_t minutes_slow = 0;      // of them, inside a throughput ceiling
    double availability = 1.0;          // 1 - down / observed (1 when nothing observed)
    std::int64_t outages = 0;           // outage alerts of this server overlapping the period
    std::int64_t tcp_attempts = 0, tcp_handshakes = 0;
    std::int64_t dns_queries = 0, dns_answers = 0;
    double handshake_ms = 0;  // mean SYN -> SYN-ACK
    double answer_ms = 0;     // mean DNS answer time
};
// Every server with rows in [since, until), most observed first.
std::vector<ServerAvailability> server_availability(SQLite::Database& db, Timestamp since,
                                                    Timestamp until);
nlohmann::json to_json(const ServerAvailability& a);

// "08:12、電子カルテサーバーが6台中6台の機器からの接続に応答しませんでした（…）。" — what was wrong
// in the minute holding `at` (every server with a problem, the worst first), or that all was
// well, in the language of `messages`.
std::string explain_minute(SQLite::Database& db, Timestamp at, const nlohmann::json& messages,
                           const DeviceNames& names);

}  // namespace clinicwatch
