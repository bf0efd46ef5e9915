#include "daemon/health/availability_chart.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include <sstream>

#include "daemon/health/health.hpp"
#include "daemon/output.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/svg_text.hpp"
#include "daemon/report/template.hpp"

namespace clinicwatch {

namespace {

constexpr Timestamp kMinute = 60 * kMicrosPerSecond;
// At most this many cells a row: a cell stays wide enough to see on A4.
constexpr std::int64_t kMaxCells = 180;

std::string label(const nlohmann::json& messages, const char* key) {
    if (!messages.contains("health") || !messages["health"].contains("chart")) return key;
    const auto& chart = messages["health"]["chart"];
    return chart.contains(key) && chart[key].is_string() ? chart[key].get<std::string>() : key;
}

// Minutes east of UTC in the clinic's time zone (the process's, set from digest.timezone), so
// hour and day cells start on the clinic's hours.
std::int64_t utc_offset_minutes(Timestamp ts) {
    std::time_t secs = static_cast<std::time_t>(ts / kMicrosPerSecond);
    std::tm tm{};
    localtime_r(&secs, &tm);
    return tm.tm_gmtoff / 60;
}

std::string clock(Timestamp ts, bool with_day) {
    std::string t = local_minute(ts);  // "2026-11-20 08:10"
    if (t.size() != 16) return t;
    return with_day ? t.substr(5, 2) + "/" + t.substr(8, 2) + " " + t.substr(11) : t.substr(11);
}

// This drawing's font: ASCII about 0.62 of the font size wide (see svg_text.hpp).
double text_em(const std::string& s) {
    return svg_text::width_em(s, 0.62);
}
std::string fit(const std::string& s, double em) {
    return svg_text::fit(s, em, 0.62);
}

std::string num(double v) {
    std::ostringstream o;
    o.precision(1);
    o << std::fixed << v;
    std::string s = o.str();
    if (s.size() > 2 && s.substr(s.size() - 2) == ".0") s.resize(s.size() - 2);
    return s;
}

// Fill of each cell state: distinct by lightness and texture, so a black-and-white print keeps
// them apart (light grey, hatched, black, blank).
const char* fill_of(AvailabilityChart::Cell c) {
    switch (c) {
        case AvailabilityChart::Cell::answered:
            return "fill=\"#a5d6a7\"";
        case AvailabilityChart::Cell::partly:
            return "fill=\"url(#cw-partly)\"";
        case AvailabilityChart::Cell::down:
            return "fill=\"#8e0000\"";
        default:
            return "fill=\"#ffffff\"";
    }
}

}  // namespace

AvailabilityChart availability_chart(
    SQLite::Database& db, Timestamp since, Timestamp until,
    const std::function<std::string(const std::string&, const std::string&)>& name_of) {
    AvailabilityChart chart;
    auto minutes = read_service_minutes(db, since, until);
    if (minutes.empty()) return chart;
    // The observed part of the period: from the first minute held to the last.
    Timestamp first = minutes.front().row.minute, last = minutes.front().row.minute;
    for (const auto& r : minutes) {
        first = std::min(first, r.row.minute);
        last = std::max(last, r.row.minute);
    }
    Timestamp span = last + kMinute - first;
    Timestamp bucket = kMinute;
    for (std::int64_t m : {1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440}) {
        bucket = m * kMinute;
        if ((span + bucket - 1) / bucket <= kMaxCells) break;
    }
    Timestamp offset = utc_offset_minutes(first) * kMinute;
    Timestamp from = (first + offset) / bucket * bucket - offset;
    if (from > first) from -= bucket;
    auto cells = static_cast<std::size_t>((last + kMinute - from + bucket - 1) / bucket);
    chart.from = from;
    chart.bucket = bucket;

    auto spans = outage_spans(db);
    struct Acc {
        AvailabilityChart::Row row;
        std::vector<int> observed, down, partly;
        std::int64_t answers = 0, minutes_observed = 0, minutes_down = 0;
        bool tcp = false, dns = false, dhcp = false, arp = false;
    };
    std::map<std::string, Acc> by_server;
    for (const auto& r : minutes) {
        Acc& a = by_server[r.server_ip];
        if (a.observed.empty()) {
            a.observed.assign(cells, 0);
            a.down.assign(cells, 0);
            a.partly.assign(cells, 0);
            a.row.server_ip = r.server_ip;
        }
        if (!r.server_mac.empty()) a.row.server_mac = r.server_mac;
        const ServiceMinute& m = r.row;
        a.answers += m.tcp_handshakes + m.dns_answers + m.dhcp_offers + m.dhcp_acks +
                     (m.arp_requests - std::min(m.arp_requests, m.arp_unanswered));
        a.tcp = a.tcp || m.tcp_attempts;
        a.dns = a.dns || m.dns_queries;
        a.dhcp = a.dhcp || m.dhcp_discovers || m.dhcp_requests;
        a.arp = a.arp || m.arp_requests;
        if (!m.clients) continue;
        auto at = static_cast<std::size_t>((m.minute - from) / bucket);
        if (at >= cells) continue;
        ++a.observed[at];
        ++a.minutes_observed;
        // Down: an outage of this server holds most of the minute (as the availability figure
        // counts it); partly: an outage holds part of it, a throughput ceiling, or some clients
        // got nothing without it being an outage.
        bool down = false, partly = m.failed_clients > 0;
        for (const auto& s : spans) {
            if (s.server_ip != r.server_ip) continue;
            Timestamp overlap = std::min(m.minute + kMinute, s.last) - std::max(m.minute, s.first);
            if (overlap <= 0) continue;
            if (s.kind != "throughput-ceiling" && overlap >= kMinute / 2)
                down = true;
            else
                partly = true;
        }
        if (down) {
            ++a.down[at];
            ++a.minutes_down;
        } else if (partly) {
            ++a.partly[at];
        }
    }
    std::vector<Acc*> order;
    for (auto& [ip, a] : by_server) {
        for (const auto& s : spans)
            if (s.server_ip == ip && s.first < last + kMinute && s.last >= from)
                a.row.outages.push_back({s.kind, s.first, s.last});
        // A "server" nobody ever got an answer from (a retired address a PC still tries) is not
        // a server whose availability means anything.
        if (!a.answers && a.row.outages.empty()) continue;
        std::sort(a.row.outages.begin(), a.row.outages.end(),
                  [](const auto& x, const auto& y) { return x.start < y.start; });
        for (std::size_t i = 0; i < cells; ++i) {
            using Cell = AvailabilityChart::Cell;
            Cell c = !a.observed[i]                 ? Cell::idle
                     : a.down[i] == a.observed[i]   ? Cell::down
                     : a.down[i] || a.partly[i] > 0 ? Cell::partly
                                                    : Cell::answered;
            a.row.cells += static_cast<char>(c);
        }
        if (a.minutes_observed)
            a.row.availability =
                1.0 - static_cast<double>(a.minutes_down) / static_cast<double>(a.minutes_observed);
        std::string services;
        for (auto [on, name] : {std::pair{a.tcp, "TCP"},
                                {a.dns, "DNS"},
                                {a.dhcp, "DHCP"},
                                {a.arp && !a.tcp && !a.dns && !a.dhcp, "ARP"}})
            if (on) services += (services.empty() ? "" : "/") + std::string(name);
        a.row.services = services;
        a.row.name = name_of(a.row.server_mac, a.row.server_ip);
        order.push_back(&a);
    }
    std::stable_sort(order.begin(), order.end(), [](const Acc* x, const Acc* y) {
        return x->minutes_observed > y->minutes_observed;
    });
    for (Acc* a : order) chart.rows.push_back(std::move(a->row));
    return chart;
}

std::string availability_chart_svg(const AvailabilityChart& chart, const nlohmann::json& messages) {
    if (chart.rows.empty()) return {};
    using Cell = AvailabilityChart::Cell;
    const double W = 760, name_w = 190, plot_x = name_w + 10, plot_w = W - plot_x - 10;
    const double row_h = 56, bar_h = 16, top = 64;
    std::size_t cells = chart.rows.front().cells.size();
    double cell_w = plot_w / static_cast<double>(cells);
    Timestamp end = chart.from + static_cast<Timestamp>(cells) * chart.bucket;
    bool days = local_minute(chart.from).substr(0, 10) != local_minute(end - 1).substr(0, 10);
    double H = top + static_cast<double>(chart.rows.size()) * row_h + 26;
    auto x_of = [&](Timestamp t) {
        double f = static_cast<double>(t - chart.from) / static_cast<double>(end - chart.from);
        return plot_x + std::clamp(f, 0.0, 1.0) * plot_w;
    };
    std::ostringstream o;
    o << "<svg class=\"availability-chart\" viewBox=\"0 0 " << W << " " << H
      << "\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\""
      << escape_markup(label(messages, "title")) << "\">\n"
      << "<defs><pattern id=\"cw-partly\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" "
         "patternTransform=\"rotate(45)\"><rect width=\"5\" height=\"5\" fill=\"#ffffff\"/>"
         "<rect width=\"2.2\" height=\"5\" fill=\"#e65100\"/></pattern></defs>\n";
    auto text = [&](double x, double y, const std::string& t, double size,
                    const std::string& extra = "", const char* anchor = "start") {
        o << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\"" << size
          << "\" text-anchor=\"" << anchor << "\" " << extra << ">" << escape_markup(t)
          << "</text>\n";
    };
    // Title, period and cell size, legend.
    // The report's heading names the chart; the drawing says what period and cell it shows.
    std::int64_t bucket_min = chart.bucket / kMinute;
    std::string bucket_text =
        bucket_min == 1    ? label(messages, "minute")
        : bucket_min < 60  ? render_string(label(messages, "minutes"), {{"n", bucket_min}})
        : bucket_min == 60 ? label(messages, "hour")
                           : render_string(label(messages, "hours"), {{"n", bucket_min / 60}});
    text(0, 14,
         render_string(label(messages, "period"), {{"from", local_minute(chart.from)},
                                                   {"to", local_minute(end)},
                                                   {"bucket", bucket_text}}),
         11, "fill=\"#333333\"");
    double lx = 0;
    for (Cell c : {Cell::answered, Cell::partly, Cell::down, Cell::idle}) {
        const char* key = c == Cell::answered ? "answered"
                          : c == Cell::partly ? "partly"
                          : c == Cell::down   ? "down"
                                              : "idle";
        o << "<rect x=\"" << num(lx) << "\" y=\"30\" width=\"18\" height=\"11\" " << fill_of(c)
          << " stroke=\"#333333\" stroke-width=\"0.8\"/>\n";
        std::string t = label(messages, key);
        text(lx + 23, 39.5, t, 10.5);
        lx += 23 + text_em(t) * 10.5 + 18;
    }
    // Time axis: about six ticks on cell boundaries, with faint lines down through the rows.
    std::size_t every = std::max<std::size_t>(1, (cells + 5) / 6);
    for (std::size_t nice : {1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440})
        if (nice >= every) {
            every = nice;
            break;
        }
    for (std::size_t i = 0; i <= cells; i += every) {
        Timestamp t = chart.from + static_cast<Timestamp>(i) * chart.bucket;
        double x = plot_x + static_cast<double>(i) * cell_w;
        o << "<line x1=\"" << num(x) << "\" y1=\"" << top - 8 << "\" x2=\"" << num(x) << "\" y2=\""
          << num(H - 22)
          << "\" stroke=\"#9e9e9e\" stroke-width=\"0.6\" stroke-dasharray=\"2 2\"/>\n";
        // The ends' labels stay inside the drawing.
        const char* anchor = i == 0 ? "start" : i + every > cells ? "end" : "middle";
        text(x, top - 12, clock(t, days && chart.bucket >= 60 * kMinute), 10, "fill=\"#333333\"",
             anchor);
        text(x, H - 8, clock(t, days && chart.bucket >= 60 * kMinute), 10, "fill=\"#333333\"",
             anchor);
    }
    double y = top;
    for (const auto& row : chart.rows) {
        o << "<g class=\"availability-row\" data-server-ip=\"" << escape_markup(row.server_ip)
          << "\">\n";
        text(0, y + 12, fit(row.name, name_w / 12.0), 12, "font-weight=\"bold\"");
        std::string second = row.server_ip + (row.services.empty() ? "" : "  " + row.services);
        text(0, y + 26, fit(second, name_w / 10.0), 10, "fill=\"#333333\"");
        text(0, y + 39,
             render_string(label(messages, "availability"),
                           {{"percent", num(row.availability * 100) + "%"}}),
             10, "fill=\"#333333\"");
        // Runs of one state as one box; the row framed so empty cells still read as time.
        o << "<rect x=\"" << num(plot_x) << "\" y=\"" << num(y) << "\" width=\"" << num(plot_w)
          << "\" height=\"" << bar_h
          << "\" fill=\"#ffffff\" stroke=\"#616161\" "
             "stroke-width=\"0.8\"/>\n";
        for (std::size_t i = 0; i < row.cells.size();) {
            std::size_t j = i;
            while (j < row.cells.size() && row.cells[j] == row.cells[i]) ++j;
            auto c = static_cast<Cell>(row.cells[i]);
            if (c != Cell::idle) {
                Timestamp s = chart.from + static_cast<Timestamp>(i) * chart.bucket;
                Timestamp e = chart.from + static_cast<Timestamp>(j) * chart.bucket;
                const char* cls = c == Cell::down ? "down" : c == Cell::partly ? "partly" : "up";
                o << "<rect class=\"" << cls << "\" data-from=\"" << format_time_iso(s)
                  << "\" data-to=\"" << format_time_iso(e) << "\" x=\""
                  << num(plot_x + static_cast<double>(i) * cell_w) << "\" y=\"" << num(y)
                  << "\" width=\"" << num(static_cast<double>(j - i) * cell_w) << "\" height=\""
                  << bar_h << "\" " << fill_of(c) << "/>\n";
            }
            i = j;
        }
        // The outages, labelled with their times on two lines under the bar, left to right,
        // never overlapping; the kind's title is left out where it does not fit.
        std::array<double, 2> next_x = {plot_x, plot_x};
        std::size_t shown = 0;
        for (const auto& s : row.outages) {
            bool two_days =
                local_minute(s.start).substr(0, 10) != local_minute(s.end).substr(0, 10);
            std::string when = render_string(
                label(messages, "span"),
                {{"from", clock(s.start, days || two_days)}, {"to", clock(s.end, two_days)}});
            std::string title;
            if (messages.contains("kinds") && messages["kinds"].contains(s.kind))
                title = messages["kinds"][s.kind].value("title", "");
            bool placed = false;
            for (const std::string& t : {title.empty() ? when : when + " " + title, when}) {
                double w = text_em(t) * 10;
                for (std::size_t line = 0; line < next_x.size() && !placed; ++line) {
                    double x = std::max(x_of(s.start), next_x[line]);
                    if (x + w > W) x = W - w;
                    if (x < next_x[line]) continue;
                    double ly = y + bar_h + 12 + 12 * static_cast<double>(line);
                    // A mark under the bar where the outage began.
                    double mx = x_of(s.start);
                    o << "<path d=\"M" << num(mx) << " " << num(y + bar_h) << " l-3 4 h6 z\" "
                      << "fill=\"#000000\"/>\n";
                    text(x, ly, t, 10,
                         "class=\"outage-span\" data-kind=\"" + escape_markup(s.kind) +
                             "\" data-start=\"" + format_time_iso(s.start) + "\" data-end=\"" +
                             format_time_iso(s.end) + "\"");
                    next_x[line] = x + w + 10;
                    placed = true;
                }
                if (placed) break;
            }
            if (placed) ++shown;
        }
        if (shown < row.outages.size())
            text(W, y + bar_h + 36,
                 render_string(label(messages, "more"), {{"n", row.outages.size() - shown}}), 10,
                 "fill=\"#333333\"", "end");
        o << "</g>\n";
        y += row_h;
    }
    o << "</svg>";
    return o.str();
}

}  // namespace clinicwatch
