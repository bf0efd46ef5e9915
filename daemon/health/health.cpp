#include "daemon/health/health.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <map>

#include "daemon/incidents/describe.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/template.hpp"

namespace clinicwatch {

namespace {

constexpr Timestamp kMinute = 60 * kMicrosPerSecond;

const char* const kColumns =
    "minute, server_ip, server_mac, clients, failed_clients, tcp_attempts, tcp_handshakes, "
    "tcp_unanswered, tcp_refused, tcp_handshake_us, tcp_data_segments, tcp_retransmissions, "
    "tcp_zero_windows, tcp_peak_mbps, dns_queries, dns_answers, dns_timeouts, dns_servfail, "
    "dns_refused, dns_nxdomain, dns_answer_us, dhcp_discovers, dhcp_requests, dhcp_offers, "
    "dhcp_acks, dhcp_naks, dhcp_unanswered_clients, arp_requests, arp_unanswered";

bool has_table(SQLite::Database& db) {
    SQLite::Statement st(db,
                         "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                         "'service_minutes'");
    return st.executeStep();
}

ServiceMinuteRecord record_of(SQLite::Statement& st) {
    ServiceMinuteRecord r;
    ServiceMinute& m = r.row;
    int i = 0;
    auto u32 = [&] { return static_cast<std::uint32_t>(st.getColumn(i++).getInt64()); };
    auto u64 = [&] { return static_cast<std::uint64_t>(st.getColumn(i++).getInt64()); };
    m.minute = st.getColumn(i++).getInt64();
    r.server_ip = st.getColumn(i++).getString();
    r.server_mac = st.getColumn(i++).getString();
    if (auto ip = IpAddress::parse(r.server_ip)) m.server = *ip;
    if (auto mac = MacAddress::parse(r.server_mac)) m.server_mac = *mac;
    m.clients = u32();
    m.failed_clients = u32();
    m.tcp_attempts = u32();
    m.tcp_handshakes = u32();
    m.tcp_unanswered = u32();
    m.tcp_refused = u32();
    m.tcp_handshake_us = u64();
    m.tcp_data_segments = u32();
    m.tcp_retransmissions = u32();
    m.tcp_zero_windows = u32();
    m.tcp_peak_mbps = u32();
    m.dns_queries = u32();
    m.dns_answers = u32();
    m.dns_timeouts = u32();
    m.dns_servfail = u32();
    m.dns_refused = u32();
    m.dns_nxdomain = u32();
    m.dns_answer_us = u64();
    m.dhcp_discovers = u32();
    m.dhcp_requests = u32();
    m.dhcp_offers = u32();
    m.dhcp_acks = u32();
    m.dhcp_naks = u32();
    m.dhcp_unanswered_clients = u32();
    m.arp_requests = u32();
    m.arp_unanswered = u32();
    return r;
}

}  // namespace

std::vector<OutageSpan> outage_spans(SQLite::Database& db) {
    std::vector<OutageSpan> out;
    SQLite::Statement st(db,
                         "SELECT kind, subject, first_seen, last_seen FROM alerts WHERE kind IN "
                         "('server-not-answering', 'service-not-running', 'dns-not-answering', "
                         "'dhcp-not-answering', 'dhcp-out-of-addresses', "
                         "'router-not-answering-arp', 'throughput-ceiling')");
    while (st.executeStep())
        out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(),
                       st.getColumn(2).getInt64(), st.getColumn(3).getInt64()});
    return out;
}

namespace {

std::string message_at(const nlohmann::json& messages, const char* key) {
    if (!messages.contains("health") || !messages["health"].contains(key)) return {};
    const auto& v = messages["health"][key];
    return v.is_string() ? v.get<std::string>() : std::string();
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    if (!whole) return "0";
    double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", p);
    return buf;
}

}  // namespace

std::vector<ServiceMinuteRecord> read_service_minutes(SQLite::Database& db, Timestamp since,
                                                      Timestamp until,
                                                      const std::string& server_ip) {
    std::vector<ServiceMinuteRecord> out;
    if (!has_table(db)) return out;
    SQLite::Statement st(db, std::string("SELECT ") + kColumns +
                                 " FROM service_minutes WHERE minute >= ? AND minute < ? AND (? = "
                                 "'' OR server_ip = ?) ORDER BY minute, server_ip");
    st.bind(1, static_cast<std::int64_t>(since));
    st.bind(2, static_cast<std::int64_t>(until));
    st.bind(3, server_ip);
    st.bind(4, server_ip);
    while (st.executeStep()) out.push_back(record_of(st));
    return out;
}

std::vector<ServerAvailability> server_availability(SQLite::Database& db, Timestamp since,
                                                    Timestamp until) {
    std::map<std::string, ServerAvailability> by_server;
    auto spans = outage_spans(db);
    std::map<std::string, std::uint64_t> handshake_us, answer_us;
    for (const auto& r : read_service_minutes(db, since, until)) {
        ServerAvailability& a = by_server[r.server_ip];
        a.server_ip = r.server_ip;
        if (!r.server_mac.empty()) a.server_mac = r.server_mac;
        const ServiceMinute& m = r.row;
        a.tcp_attempts += m.tcp_attempts;
        a.tcp_handshakes += m.tcp_handshakes;
        a.dns_queries += m.dns_queries;
        a.dns_answers += m.dns_answers;
        handshake_us[r.server_ip] += m.tcp_handshake_us;
        answer_us[r.server_ip] += m.dns_answer_us;
        if (!m.clients) continue;
        ++a.minutes_observed;
        bool down = false, slow = false;
        for (const auto& s : spans) {
            if (s.server_ip != r.server_ip) continue;
            // Down when the outage holds most of the minute.
            Timestamp overlap = std::min(m.minute + kMinute, s.last) - std::max(m.minute, s.first);
            if (overlap < kMinute / 2) continue;
            (s.kind == "throughput-ceiling" ? slow : down) = true;
        }
        a.minutes_down += down;
        a.minutes_slow += slow;
    }
    std::vector<ServerAvailability> out;
    for (auto& [ip, a] : by_server) {
        if (a.minutes_observed)
            a.availability =
                1.0 - static_cast<double>(a.minutes_down) / static_cast<double>(a.minutes_observed);
        for (const auto& s : spans)
            if (s.server_ip == ip && s.first < until && s.last >= since) ++a.outages;
        if (a.tcp_handshakes)
            a.handshake_ms = static_cast<double>(handshake_us[ip]) / 1000.0 /
                             static_cast<double>(a.tcp_handshakes);
        if (a.dns_answers)
            a.answer_ms =
                static_cast<double>(answer_us[ip]) / 1000.0 / static_cast<double>(a.dns_answers);
        out.push_back(a);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
        return x.minutes_observed > y.minutes_observed;
    });
    return out;
}

nlohmann::json to_json(const ServerAvailability& a) {
    return {{"server_ip", a.server_ip},
            {"server_mac", a.server_mac},
            {"minutes_observed", a.minutes_observed},
            {"minutes_down", a.minutes_down},
            {"minutes_slow", a.minutes_slow},
            {"availability", a.availability},
            {"outages", a.outages},
            {"tcp_attempts", a.tcp_attempts},
            {"tcp_handshakes", a.tcp_handshakes},
            {"dns_queries", a.dns_queries},
            {"dns_answers", a.dns_answers},
            {"handshake_ms", a.handshake_ms},
            {"answer_ms", a.answer_ms}};
}

std::string explain_minute(SQLite::Database& db, Timestamp at, const nlohmann::json& messages,
                           const DeviceNames& names) {
    Timestamp minute = at / kMinute * kMinute;
    auto rows = read_service_minutes(db, minute, minute + kMinute);
    std::string time = local_minute(minute);
    if (time.size() == 16) time = time.substr(11);
    struct Problem {
        std::uint64_t weight;
        std::string text;
    };
    std::vector<Problem> problems;
    std::uint32_t clients = 0;
    for (const auto& r : rows) {
        const ServiceMinute& m = r.row;
        clients = std::max(clients, m.clients);
        nlohmann::json f = {{"server", names.name(r.server_mac, r.server_ip)},
                            {"service_phrase", names.service_phrase(r.server_mac)},
                            {"clients", m.clients},
                            {"failed", m.failed_clients},
                            {"attempts", m.tcp_attempts},
                            {"unanswered", m.tcp_unanswered},
                            {"refused", m.tcp_refused},
                            {"queries", m.dns_queries},
                            {"timeouts", m.dns_timeouts},
                            {"servfail", m.dns_servfail},
                            {"dns_refused", m.dns_refused},
                            {"discovers", m.dhcp_discovers},
                            {"requests", m.dhcp_requests},
                            {"offers", m.dhcp_offers},
                            {"acks", m.dhcp_acks},
                            {"naks", m.dhcp_naks},
                            {"left", m.dhcp_unanswered_clients},
                            {"arp_requests", m.arp_requests},
                            {"arp_unanswered", m.arp_unanswered},
                            {"peak", m.tcp_peak_mbps},
                            {"retrans", percent(m.tcp_retransmissions, m.tcp_data_segments)}};
        auto add = [&](const char* key, std::uint64_t weight) {
            problems.push_back({weight, render_string(message_at(messages, key), f)});
        };
        std::uint32_t tcp_failed = m.tcp_unanswered + m.tcp_refused;
        if (tcp_failed && tcp_failed >= m.tcp_handshakes)
            add(m.tcp_refused > m.tcp_unanswered ? "tcp_refused" : "tcp_unanswered",
                100 + tcp_failed);
        std::uint32_t dns_failed = m.dns_timeouts + m.dns_servfail + m.dns_refused;
        if (dns_failed && dns_failed * 2 >= m.dns_queries)
            add(m.dns_servfail + m.dns_refused > m.dns_timeouts ? "dns_failing" : "dns_unanswered",
                100 + dns_failed);
        if (m.dhcp_unanswered_clients || m.dhcp_naks)
            add(m.dhcp_naks ? "dhcp_nak" : "dhcp_unanswered", 100 + m.dhcp_unanswered_clients);
        if (m.arp_unanswered && m.arp_unanswered * 2 >= m.arp_requests)
            add("arp_unanswered", 100 + m.arp_unanswered);
        if (m.tcp_data_segments >= 200 && m.tcp_retransmissions * 50 >= m.tcp_data_segments)
            add("slow", 50);
    }
    std::stable_sort(problems.begin(), problems.end(),
                     [](const Problem& a, const Problem& b) { return a.weight > b.weight; });
    std::string text;
    if (rows.empty()) {
        text = message_at(messages, "none");
    } else if (problems.empty()) {
        text = render_string(message_at(messages, "ok"),
                             {{"servers", rows.size()}, {"clients", clients}});
    } else {
        std::string joiner = message_at(messages, "joiner");
        for (const auto& p : problems) text += (text.empty() ? "" : joiner) + p.text;
    }
    return render_string(message_at(messages, "sentence"), {{"time", time}, {"text", text}});
}

}  // namespace clinicwatch
