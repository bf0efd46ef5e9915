// Turns a host's evidence (Host::evidence: source + value) into an OS guess with a confidence
// and the list of evidence behind it, and judges its end of support. Pure functions over the
// rules, so every inference rule can be tested without packets.
//
// Combination (reference section 4): per OS family, the strongest claim of each evidence kind
// counts once; conf = 1 - prod(1 - w). Each conflicting kind of weight w multiplies the result
// by (1 - w/2) and is listed. TCP shape alone never rises above "low".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/host_table.hpp"
#include "analyzers/os_rules.hpp"

namespace clinicwatch {

// What one piece of evidence says.
struct OsClaim {
    std::string kind;   // evidence source: "ntlmssp", "browser", "http-ua" ...
    std::string value;  // the evidence text
    std::string rule;   // rule id or label that matched
    std::string family, nt, product, version, role;
    int build = 0;
    double weight = 0;
};

struct OsVerdict {
    std::string family;   // empty when nothing is known
    std::string version;  // "Windows 7", "Windows 10 or 11", "Android 13", or ""
    std::string product;  // os-eol.yaml id, or ""
    std::string nt;       // Windows NT version when known
    int build = 0;
    std::string role;  // "client", "server" or ""
    double confidence = 0;
    std::string level;               // "high", "medium", "low"
    std::vector<OsClaim> support;    // claims that agree
    std::vector<OsClaim> conflicts;  // claims that disagree (lowered the confidence)
};

struct SupportStatus {
    // check: possibly past its end; the evidence cannot tell (end = the earliest possible end).
    enum class State { unknown, supported, ending_soon, past, check } state = State::unknown;
    const SupportEntry* entry = nullptr;
    Day end = 0;
    int days = 0;  // past: days since the end; ending_soon: days left
};
std::string_view to_string(SupportStatus::State s);

// Every claim one piece of evidence makes (none when no rule matches).
std::vector<OsClaim> claims_for(const Observed& evidence, const OsRules& rules);

// claims_for, remembered. Claims depend only on the evidence's source and value under one rule
// set, and a device's whole evidence is re-read every time it is judged: with the cache each
// distinct piece runs the rules' patterns (std::regex, slow) once. Bounded: when full it starts
// empty again, so a sender inventing a new User-Agent per request cannot grow it. Use one cache
// per rule set (the OS unit owns one beside its rules).
class ClaimsCache {
  public:
    explicit ClaimsCache(std::size_t max_entries = 4096) : max_entries_(max_entries) {}
    const std::vector<OsClaim>& claims(const Observed& evidence, const OsRules& rules);
    std::size_t size() const { return cache_.size(); }

  private:
    std::size_t max_entries_;
    std::unordered_map<std::string, std::vector<OsClaim>> cache_;  // key: source \0 value
};

// `vendor` (the IEEE OUI organisation, may be empty) counts as weak evidence of kind "vendor".
// `cache`, when given, must have been used with these rules only.
OsVerdict infer_os(const std::vector<Observed>& evidence,
                   const std::vector<std::uint16_t>& tcp_services, const OsRules& rules,
                   const std::string& vendor = {}, ClaimsCache* cache = nullptr);

SupportStatus support_status(const OsVerdict& verdict, const OsRules& rules, Day today);

}  // namespace clinicwatch
