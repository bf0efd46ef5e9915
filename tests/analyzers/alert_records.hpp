// Alerts as the store hands them to the correlator: one record per key, the first update's
// start, the latest update's text and evidence, the counts summed, ids in order of first sight.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analyzers/findings.hpp"
#include "daemon/incidents/incidents.hpp"

namespace clinicwatch::test {

inline std::vector<AlertRecord> alert_records(const std::vector<AlertUpdate>& updates) {
    std::vector<AlertRecord> records;
    std::map<std::string, std::size_t> at;
    for (const auto& a : updates) {
        if (!at.count(a.key)) {
            at[a.key] = records.size();
            records.emplace_back();
            records.back().id = static_cast<std::int64_t>(records.size());
            records.back().first_seen = a.first_seen;
            records.back().count = 0;
        }
        AlertRecord& r = records[at[a.key]];
        r.key = a.key;
        r.kind = a.kind;
        r.severity = static_cast<int>(a.severity);
        r.subject_mac = a.subject_mac ? a.subject_mac->to_string() : "";
        r.subject = a.subject;
        r.summary = a.summary;
        r.status = "open";
        r.last_seen = a.last_seen;
        r.count += a.count;
        r.evidence = a.evidence;
    }
    return records;
}

}  // namespace clinicwatch::test
