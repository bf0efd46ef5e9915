#include "daemon/output.hpp"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <ostream>

namespace clinicwatch {

std::size_t display_width(const std::string& s) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::uint32_t cp = c;
        std::size_t len = 1;
        if (c >= 0xf0)
            len = 4, cp = c & 0x07;
        else if (c >= 0xe0)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xc0)
            len = 2, cp = c & 0x1f;
        for (std::size_t k = 1; k < len && i + k < s.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
        i += len;
        // East Asian wide and full-width ranges (CJK, kana, Hangul, full-width forms).
        bool wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff);
        width += wide ? 2 : 1;
    }
    return width;
}

std::string terminal_safe(const std::string& text) {
    static const char* kHex = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    auto escape = [&](unsigned char c) {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) {
            escape(c);  // ESC, BEL, CR, backspace ...: a terminal would act on them
        } else if (c == 0xc2 && i + 1 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
            escape(static_cast<unsigned char>(text[++i]));  // C1 controls (U+0080..U+009F, CSI)
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

void print_table(std::ostream& out, const Table& table) {
    // Names come from the wire: whatever a parser left, the terminal gets no control bytes.
    Table t;
    for (const auto& h : table.headers) t.headers.push_back(terminal_safe(h));
    for (const auto& row : table.rows) {
        t.rows.emplace_back();
        for (const auto& cell : row) t.rows.back().push_back(terminal_safe(cell));
    }
    std::vector<std::size_t> widths(t.headers.size(), 0);
    for (std::size_t i = 0; i < t.headers.size(); ++i) widths[i] = display_width(t.headers[i]);
    for (const auto& row : t.rows)
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], display_width(row[i]));
    auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
            out << cells[i];
            if (i + 1 < cells.size())
                out << std::string(widths[i] - display_width(cells[i]) + 2, ' ');
        }
        out << '\n';
    };
    line(t.headers);
    for (const auto& row : t.rows) line(row);
}

std::string csv_safe(const std::string& cell) {
    if (cell.empty()) return cell;
    char c = cell[0];
    if (c != '=' && c != '+' && c != '-' && c != '@' && c != '\t' && c != '\r') return cell;
    // A plain number ("-3", "+81", "-0.5") is a value, not a formula: Excel shows it as typed.
    std::size_t i = 1, digits = 0;
    bool point = false;
    for (; i < cell.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(cell[i])))
            ++digits;
        else if (cell[i] == '.' && !point)
            point = true;
        else
            break;
    }
    if ((c == '-' || c == '+') && digits > 0 && i == cell.size()) return cell;
    return "'" + cell;
}

void print_csv(std::ostream& out, const Table& t) {
    auto field = [&](const std::string& raw) {
        // Names come from the wire (a DHCP host name "=HYPERLINK(...)"): never a live formula
        // in the vendor's spreadsheet (OWASP "CSV Injection": a leading apostrophe).
        const std::string f = csv_safe(raw);
        if (f.find_first_of(",\"\r\n") == std::string::npos) {
            out << f;
            return;
        }
        out << '"';
        for (char c : f) out << (c == '"' ? "\"\"" : std::string(1, c));
        out << '"';
    };
    auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (i) out << ',';
            field(cells[i]);
        }
        out << "\r\n";
    };
    line(t.headers);
    for (const auto& row : t.rows) line(row);
}

namespace {
std::tm local_tm(Timestamp ts) {
    std::time_t secs = static_cast<std::time_t>(ts / kMicrosPerSecond);
    std::tm tm{};
    localtime_r(&secs, &tm);
    return tm;
}
}  // namespace

std::string format_time(Timestamp ts) {
    if (ts == 0) return "";
    std::tm tm = local_tm(ts);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string format_time_iso(Timestamp ts) {
    if (ts == 0) return "";
    std::tm tm = local_tm(ts);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char zone[8];
    std::strftime(zone, sizeof zone, "%z", &tm);  // +0900
    std::string z(zone);
    if (z.size() == 5) z = z.substr(0, 3) + ":" + z.substr(3);  // +0900 -> +09:00
    char micros[8];
    std::snprintf(
        micros, sizeof micros, ".%06lld",
        static_cast<long long>(((ts % kMicrosPerSecond) + kMicrosPerSecond) % kMicrosPerSecond));
    return std::string(buf) + micros + z;
}

std::optional<Timestamp> parse_time(const std::string& text) {
    if (text.empty()) return std::nullopt;
    // A span back from now: 90m, 24h, 7d.
    char unit = text.back();
    if (unit == 'm' || unit == 'h' || unit == 'd') {
        long long n = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
        if (ec == std::errc{} && p == text.data() + text.size() - 1 && n >= 0) {
            long long seconds = n * (unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400);
            auto now = std::chrono::system_clock::now().time_since_epoch();
            return std::chrono::duration_cast<std::chrono::microseconds>(now).count() -
                   seconds * kMicrosPerSecond;
        }
    }
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    char sep = 0;
    int consumed = 0;
    int fields = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &sep,
                             &hour, &minute, &second, &consumed);
    std::string rest;
    if (fields == 3) {
        if (text.size() != 10) return std::nullopt;
    } else if (fields >= 6 && (sep == 'T' || sep == ' ')) {
        if (fields == 6) {
            second = 0;
            int c2 = 0;
            std::sscanf(text.c_str(), "%*4d-%*2d-%*2d%*c%*2d:%*2d%n", &c2);
            consumed = c2;
        }
        rest = text.substr(static_cast<std::size_t>(consumed));
    } else {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    std::time_t t;
    if (rest.empty()) {
        tm.tm_isdst = -1;
        t = std::mktime(&tm);  // local time
    } else {
        int offset = 0;
        if (rest == "Z") {
            offset = 0;
        } else {
            int oh = 0, om = 0;
            char sign = 0;
            if (std::sscanf(rest.c_str(), "%c%2d:%2d", &sign, &oh, &om) < 2 ||
                (sign != '+' && sign != '-'))
                return std::nullopt;
            offset = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        }
        t = timegm(&tm) - offset;
    }
    return static_cast<Timestamp>(t) * kMicrosPerSecond;
}

bool parse_time_option(const char* flag, const std::string& text, Timestamp& out) {
    if (text.empty()) return true;
    auto t = parse_time(text);
    if (!t) {
        std::cerr << "clinicwatch: " << flag << " '" << text
                  << "' is not a time: use 2026-11-20, 2026-11-20T08:00:00+09:00, or a span "
                     "back from now such as 24h or 7d\n";
        return false;
    }
    out = *t;
    return true;
}

}  // namespace clinicwatch
