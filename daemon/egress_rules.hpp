// Reads the egress detection knowledge from rules/: remote-access.yaml, well-known-services.yaml
// and risky-protocols.yaml. Every entry must name its source; errors name file, line and entry.
#pragma once

#include <string>

#include "analyzers/egress_policy.hpp"
#include "daemon/config.hpp"

namespace clinicwatch {

// The rules folder: `configured` when given, else $CLINICWATCH_RULES_DIR, else the installed
// data folder, else the source tree's rules/ (development builds).
std::string resolve_rules_dir(const std::string& configured);

// Throws ConfigError listing every problem.
EgressRules load_egress_rules(const std::string& dir);

// Checks that every service a role's allow list names exists in the rules.
void check_egress_policy(const EgressPolicy& policy, const EgressRules& rules);
// The same for a configuration: each problem names the file, the line and the key.
void check_egress_policy(const EgressConfig& egress, const EgressRules& rules,
                         const std::string& source);

}  // namespace clinicwatch
