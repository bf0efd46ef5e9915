// Everything a start, a reload or `check-config` builds from the configuration file, built and
// validated in full before anything uses it: the YAML, the OS, egress and loop rules, the egress
// policy against those rules, the asset register and the IEEE vendor registry. A reload swaps in a
// PreparedConfig only once it exists; when building it fails, the old configuration keeps running.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analyzers/asset_register.hpp"
#include "analyzers/egress_policy.hpp"
#include "analyzers/loop_detector.hpp"
#include "analyzers/os_rules.hpp"
#include "analyzers/vendor_registry.hpp"
#include "daemon/config.hpp"

namespace clinicwatch {

struct PreparedConfig {
    Config config;
    std::optional<OsRules> os_rules;  // nothing: OS fingerprinting is off
    EgressRules egress_rules;
    LoopDetectorSettings loop;
    AssetRegister asset_register;
    // Read from inventory.vendor_data_dir; empty (vendors blank, with a warning) when the
    // folder has no registry.
    VendorRegistry vendors;
    // Fingerprints of the rule files read (content hashes), so a reload can tell which
    // analyzers' knowledge changed.
    std::uint64_t os_rules_hash = 0, egress_rules_hash = 0, loop_rules_hash = 0;

    // What each analyzer is built from, as text: equal text means the analyzer may keep running
    // (with its open incidents and counters) across a reload.
    std::string settings_of(const std::string& analyzer) const;
};

// What the configuration is prepared for: everything a daemon start, a reload or check-config
// needs, or only what analysing packets needs (replay and capture, which write no digest or
// report: the templates are checked when a report or digest is made).
enum class ConfigUse { everything, analysis };

// Throws ConfigError naming file, line and key of every problem found.
PreparedConfig prepare_config(Config config, ConfigUse use = ConfigUse::everything);

}  // namespace clinicwatch
