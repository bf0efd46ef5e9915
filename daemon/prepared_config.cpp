#include "daemon/prepared_config.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>

#include "daemon/egress_rules.hpp"
#include "daemon/install_paths.hpp"
#include "daemon/loop_rules.hpp"
#include "daemon/report/template.hpp"

namespace clinicwatch {

namespace {

std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::uint64_t files_hash(const std::vector<std::string>& paths) {
    std::string all;
    for (const auto& p : paths) {
        all += p;
        all += '\0';
        if (std::filesystem::exists(p)) all += file_text(p);
        all += '\0';
    }
    return std::hash<std::string>{}(all);
}

// The rules folder: the configured one, else the installed one, else the source tree's (so a
// build runs from its folder). Bad rules are configuration errors with file:line; no rules
// folder at all only disables OS fingerprinting, with a warning.
std::optional<OsRules> load_os_rules(const OsFingerprintConfig& c, std::uint64_t& hash) {
    if (!c.enabled) return std::nullopt;
    std::vector<std::string> candidates;
    if (!c.rules_dir.empty())
        candidates.push_back(c.rules_dir);
    else
        candidates = {(installed_data_dir() / "rules").string(), CLINICWATCH_SOURCE_RULES_DIR};
    for (const auto& dir : candidates) {
        std::string fp = dir + "/os-fingerprints.yaml", eol = dir + "/os-eol.yaml";
        if (!std::filesystem::exists(fp)) continue;
        try {
            OsRules rules = OsRules::load(fp, eol);
            std::vector<std::string> read = {fp, eol};
            if (!c.p0f_database.empty() && std::filesystem::exists(c.p0f_database)) {
                std::size_t n = rules.add_p0f(file_text(c.p0f_database), c.p0f_database);
                spdlog::debug("os fingerprint: {} TCP signatures from {}", n, c.p0f_database);
                for (const auto& w : rules.warnings) spdlog::debug("p0f: {}", w);
                read.push_back(c.p0f_database);
            }
            hash = files_hash(read);
            return rules;
        } catch (const RulesError& e) {
            throw ConfigError(e.problems());
        }
    }
    if (!c.rules_dir.empty())
        throw ConfigError({"os_fingerprint.rules_dir: no os-fingerprints.yaml in " + c.rules_dir});
    spdlog::warn("OS fingerprinting is off: no rules folder found (looked in {})",
                 (installed_data_dir() / "rules").string());
    return std::nullopt;
}

}  // namespace

PreparedConfig prepare_config(Config config, ConfigUse use) {
    PreparedConfig p;
    std::vector<std::string> problems;
    // Every part is tried, so one run of check-config lists every fault.
    auto attempt = [&](const std::function<void()>& build) {
        try {
            build();
        } catch (const ConfigError& e) {
            problems.insert(problems.end(), e.problems().begin(), e.problems().end());
        } catch (const std::exception& e) {
            problems.push_back(config.source + ": " + e.what());
        }
    };
    // The two slowest reads, the IEEE registry (4 MB of CSV) and the OS rules (yaml-cpp takes
    // longer over them than over all other files), run on other cores while the rest is read
    // and checked here: start-up is most of a short replay's time.
    auto vendors = std::async(std::launch::async, [dir = config.inventory.vendor_data_dir] {
        VendorRegistry registry;
        registry.load_dir(dir);
        return registry;
    });
    std::uint64_t os_rules_hash = 0;
    auto os_rules = std::async(std::launch::async, [&config, &os_rules_hash] {
        return load_os_rules(config.os_fingerprint, os_rules_hash);
    });
    bool egress_rules_read = false;
    attempt([&] {
        std::string dir = resolve_rules_dir(config.egress.rules_dir);
        p.egress_rules = load_egress_rules(dir);
        p.egress_rules_hash =
            files_hash({dir + "/remote-access.yaml", dir + "/well-known-services.yaml",
                        dir + "/risky-protocols.yaml"});
        egress_rules_read = true;
    });
    if (egress_rules_read)
        attempt([&] { check_egress_policy(config.egress, p.egress_rules, config.source); });
    attempt([&] {
        p.loop = loop_detector_settings(config.loop);
        auto path = find_rules_file("loop-detect-frames.yaml");
        p.loop_rules_hash = path ? files_hash({path->string()}) : 0;
    });
    attempt([&] { p.asset_register = AssetRegister(config.asset_register); });
    if (use == ConfigUse::everything)
        attempt([&] {
            try {
                check_templates(config);
            } catch (const TemplateError& e) {
                throw ConfigError({config.source + ": report.templates_dir: " + e.what()});
            }
        });
    attempt([&] {
        p.os_rules = os_rules.get();
        p.os_rules_hash = os_rules_hash;
    });
    p.vendors = vendors.get();
    if (p.vendors.size() == 0)
        spdlog::warn(
            "no IEEE vendor data in {} (install the ieee-data package, or set "
            "inventory.vendor_data_dir): vendors will be blank",
            config.inventory.vendor_data_dir);
    if (!problems.empty()) throw ConfigError(std::move(problems));
    p.config = std::move(config);
    return p;
}

std::string PreparedConfig::settings_of(const std::string& analyzer) const {
    auto section = [&](const char* name) {
        auto it = config.section_text.find(name);
        return std::string(name) + "=" + (it == config.section_text.end() ? "" : it->second) + "\n";
    };
    if (analyzer == "inventory") return section("network") + section("inventory");
    if (LoopDetector::is_unit(analyzer))  // the loop units are built from the same settings
        return section("loop") + "rules=" + std::to_string(loop_rules_hash) + "\n";
    // Rebuilt together: legacy-protocols reads the messages the OS fingerprint parses.
    if (analyzer == "os-fingerprint" || analyzer == "legacy-protocols" ||
        analyzer == "cleartext-login")
        return section("os_fingerprint") + section("network") + section("limits") +
               "rules=" + std::to_string(os_rules_hash) + "\n";
    if (analyzer == "egress" || analyzer == "remote-access-sessions")
        return section("network") + section("egress") +
               "rules=" + std::to_string(egress_rules_hash) + "\n";
    if (analyzer == "lan-hygiene") return section("network") + section("inventory");
    if (analyzer == "dhcp-flood") return section("inventory");
    if (analyzer == "ipv6-routers" || analyzer == "legacy-handshakes") return section("network");
    if (analyzer == "service-health") return section("network");
    if (analyzer == "topology") return section("network") + section("topology");
    return "";  // traffic statistics and sensor limits read no settings
}

}  // namespace clinicwatch
