// `clinicwatch health`: each server's health per minute as its clients saw it, and with --at one
// minute explained in one sentence in the configured language (issue 22).
#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/cli.hpp"
#include "daemon/health/health.hpp"
#include "daemon/incidents/describe.hpp"
#include "daemon/output.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/template.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

namespace {

std::string ms(std::uint64_t sum_us, std::uint32_t count) {
    if (!count) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(sum_us) / 1000.0 / count);
    return buf;
}

std::string share(std::uint32_t part, std::uint32_t whole) {
    if (!whole) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", 100.0 * part / whole);
    return buf;
}

// "08:12" means that time on the last day the database holds.
std::optional<Timestamp> parse_at(SQLite::Database& db, const std::string& text) {
    int h = 0, m = 0, n = 0;
    if (std::sscanf(text.c_str(), "%2d:%2d%n", &h, &m, &n) == 2 &&
        static_cast<std::size_t>(n) == text.size()) {
        Timestamp last = 0;
        try {
            SQLite::Statement st(db, "SELECT max(minute) FROM service_minutes");
            if (st.executeStep() && !st.getColumn(0).isNull()) last = st.getColumn(0).getInt64();
        } catch (const SQLite::Exception&) {
        }
        if (!last) return std::nullopt;
        std::string day = local_minute(last).substr(0, 10);
        return parse_time(day + " " + text);
    }
    return parse_time(text);
}

}  // namespace

int command_health(const CommonOptions& common, const HealthOptions& options) {
    Config config = resolve_config(common);
    if (!options.language.empty()) config.digest.language = options.language;
    auto db = open_for_reading(resolve_db_path(common, config));
    auto messages = load_messages(templates_dir(config), config.digest.language);
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    DeviceNames names(messages, load_assets(*db, messages, 0, now * kMicrosPerSecond));

    if (!options.at.empty()) {
        auto at = parse_at(*db, options.at);
        if (!at) {
            std::cerr << "clinicwatch: --at '" << options.at
                      << "' is not a time: use 08:12 (the last day held), 2026-11-20 08:12 or "
                         "2026-11-20T08:12:00+09:00\n";
            return kExitUsage;
        }
        std::string sentence = explain_minute(*db, *at, messages, names);
        if (common.format == OutputFormat::json)
            std::cout << nlohmann::json{{"minute", format_time_iso(*at / 60'000'000 * 60'000'000)},
                                        {"text", sentence}}
                             .dump(2)
                      << "\n";
        else
            std::cout << sentence << "\n";
        return kExitOk;
    }

    Timestamp since = 0, until = INT64_MAX;
    if (!parse_time_option("--since", options.since, since) ||
        !parse_time_option("--until", options.until, until))
        return kExitUsage;
    auto rows = read_service_minutes(*db, since, until, options.server);
    Table table{{"MINUTE", "SERVER", "CLIENTS", "FAILED", "TCP TRIED", "TCP OK", "UNANSWERED",
                 "REFUSED", "HANDSHAKE MS", "RETRANS %", "DNS ASKED", "DNS ANSWERED",
                 "DNS TIMEOUTS", "DNS ERRORS", "DHCP ASKED", "DHCP GIVEN", "ARP UNANSWERED"},
                {}};
    auto json = nlohmann::json::array();
    for (const auto& r : rows) {
        const ServiceMinute& m = r.row;
        std::string server = names.name(r.server_mac, r.server_ip);
        table.rows.push_back(
            {format_time(m.minute), server, std::to_string(m.clients),
             std::to_string(m.failed_clients), std::to_string(m.tcp_attempts),
             std::to_string(m.tcp_handshakes), std::to_string(m.tcp_unanswered),
             std::to_string(m.tcp_refused), ms(m.tcp_handshake_us, m.tcp_handshakes),
             share(m.tcp_retransmissions, m.tcp_data_segments), std::to_string(m.dns_queries),
             std::to_string(m.dns_answers), std::to_string(m.dns_timeouts),
             std::to_string(m.dns_servfail + m.dns_refused),
             std::to_string(m.dhcp_discovers + m.dhcp_requests),
             std::to_string(m.dhcp_offers + m.dhcp_acks), std::to_string(m.arp_unanswered)});
        json.push_back({{"minute", format_time_iso(m.minute)},
                        {"server", server},
                        {"server_ip", r.server_ip},
                        {"server_mac", r.server_mac},
                        {"clients", m.clients},
                        {"failed_clients", m.failed_clients},
                        {"tcp_attempts", m.tcp_attempts},
                        {"tcp_handshakes", m.tcp_handshakes},
                        {"tcp_unanswered", m.tcp_unanswered},
                        {"tcp_refused", m.tcp_refused},
                        {"tcp_handshake_us", m.tcp_handshake_us},
                        {"tcp_data_segments", m.tcp_data_segments},
                        {"tcp_retransmissions", m.tcp_retransmissions},
                        {"tcp_zero_windows", m.tcp_zero_windows},
                        {"tcp_peak_mbps", m.tcp_peak_mbps},
                        {"dns_queries", m.dns_queries},
                        {"dns_answers", m.dns_answers},
                        {"dns_timeouts", m.dns_timeouts},
                        {"dns_servfail", m.dns_servfail},
                        {"dns_refused", m.dns_refused},
                        {"dns_nxdomain", m.dns_nxdomain},
                        {"dns_answer_us", m.dns_answer_us},
                        {"dhcp_discovers", m.dhcp_discovers},
                        {"dhcp_requests", m.dhcp_requests},
                        {"dhcp_offers", m.dhcp_offers},
                        {"dhcp_acks", m.dhcp_acks},
                        {"dhcp_naks", m.dhcp_naks},
                        {"dhcp_unanswered_clients", m.dhcp_unanswered_clients},
                        {"arp_requests", m.arp_requests},
                        {"arp_unanswered", m.arp_unanswered}});
    }
    if (rows.empty())
        std::cerr << "clinicwatch: no service health in that range (replay or run with this "
                     "version first, or widen --since/--until)\n";
    emit(common, table, json);
    return kExitOk;
}

}  // namespace clinicwatch
