// Printing query results: aligned tables for people, CSV and JSON for programs.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "capture/packet.hpp"

namespace clinicwatch {

struct Table {
    std::vector<std::string> headers;
    std::vector<std::vector<std::string>> rows;
};

// Columns padded by display width (Japanese characters take two cells). Control characters
// (C0, DEL, C1: escape sequences) are printed as \xNN, never sent to the terminal.
void print_table(std::ostream& out, const Table& table);
std::string terminal_safe(const std::string& text);
// RFC 4180: fields with commas, quotes or line breaks are quoted. Every cell goes through
// csv_safe() first: this is the one CSV writer of the project (report and query commands).
void print_csv(std::ostream& out, const Table& table);
// A cell a spreadsheet would run as a formula (first character =, +, -, @, tab or CR) gets a
// leading apostrophe; plain numbers such as "-3" stay as they are.
std::string csv_safe(const std::string& cell);

std::size_t display_width(const std::string& utf8);

// Local time (TZ) as "2026-11-20 08:00:00"; ISO 8601 with offset for JSON.
std::string format_time(Timestamp ts);
std::string format_time_iso(Timestamp ts);
// Accepts "2026-11-20", "2026-11-20 08:00", "2026-11-20T08:00:00+09:00", or a span back from
// now such as "90m", "24h", "7d". Returns nothing when the text is none of these.
std::optional<Timestamp> parse_time(const std::string& text);
// A time option of a query command (--since, --until): empty leaves `out` as it is; a bad
// text prints what the option accepts and returns false (the caller exits with kExitUsage).
bool parse_time_option(const char* flag, const std::string& text, Timestamp& out);

}  // namespace clinicwatch
