// `clinicwatch report` and `clinicwatch digest`: the two outputs people read.
#pragma once

#include <string>

#include "daemon/cli.hpp"

namespace clinicwatch {

struct ReportOptions {
    std::string format = "html";  // html, csv, json
    std::string language;         // ja, en; empty = report.language
    std::string out;              // empty or "-" = standard output
    std::string since;
};
int command_report(const CommonOptions& common, const ReportOptions& options);

struct DigestOptions {
    bool dry_run = false;
    bool send = false;
    bool html = false;  // --dry-run: print the HTML part too
};
int command_digest(const CommonOptions& common, const DigestOptions& options);

}  // namespace clinicwatch
