// The report's availability chart (issue 22): one row per server over the observed part of the
// report period, one cell per minute (or per 5, 15 ... minutes, an hour, a day on long periods),
// each cell answered / partly unanswered or slow / not answering / nobody asked, drawn so it
// reads in black and white on A4 (light fill, hatching, solid dark, empty), and each outage
// labelled with its times. Labels come from messages.yaml `health.chart` (ja/en).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "analyzers/findings.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

// What the chart shows, before drawing (kept apart so tests can read it without parsing SVG).
struct AvailabilityChart {
    enum class Cell : char { idle = 'i', answered = 'a', partly = 'p', down = 'd' };
    struct Span {
        std::string kind;
        Timestamp start = 0, end = 0;
    };
    struct Row {
        std::string server_ip, server_mac, name, services;
        double availability = 1.0;
        std::string cells;  // one Cell per bucket
        std::vector<Span> outages;
    };
    Timestamp from = 0, bucket = 0;  // first bucket's start, bucket length
    std::vector<Row> rows;
};

// Servers that answered someone (or had an outage) in [since, until), most used first.
// `name_of(mac, ip)` names a server as the report does.
AvailabilityChart availability_chart(
    SQLite::Database& db, Timestamp since, Timestamp until,
    const std::function<std::string(const std::string&, const std::string&)>& name_of);

// The chart as inline SVG (empty when there are no rows). Each row is
// <g class="availability-row" data-server-ip=...>; each outage label carries data-kind,
// data-start and data-end (ISO 8601) so the drawing can be checked.
std::string availability_chart_svg(const AvailabilityChart& chart, const nlohmann::json& messages);

}  // namespace clinicwatch
