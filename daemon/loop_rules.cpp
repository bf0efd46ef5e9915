#include "daemon/loop_rules.hpp"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "daemon/install_paths.hpp"

namespace clinicwatch {

std::vector<LoopDetectFrameRule> parse_loop_detect_frames(const std::string& yaml_text,
                                                          const std::string& source_name) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw ConfigError(
            {source_name + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg});
    }
    std::vector<std::string> problems;
    auto where = [&](const YAML::Node& n) {
        return source_name + ":" + std::to_string(n.Mark().line + 1) + ": ";
    };
    std::vector<LoopDetectFrameRule> rules;
    auto frames = root["frames"];
    if (!frames.IsSequence()) throw ConfigError({source_name + ": expected a 'frames' list"});
    for (const auto& item : frames) {
        if (!item.IsMap()) {
            problems.push_back(where(item) + "frames: expected a mapping per frame");
            continue;
        }
        LoopDetectFrameRule r;
        r.vendor = item["vendor"].as<std::string>("");
        r.source = item["source"].as<std::string>("");
        if (r.vendor.empty()) problems.push_back(where(item) + "frames.vendor: missing");
        if (r.source.empty())
            problems.push_back(where(item) + "frames.source: missing (every rule cites one)");
        if (auto mac = item["dst_mac"]; mac.IsDefined()) {
            r.dst_mac = MacAddress::parse(mac.as<std::string>(""));
            if (!r.dst_mac) problems.push_back(where(mac) + "frames.dst_mac: not a MAC address");
        }
        unsigned value = 0;
        auto type = item["ethertype"];
        if (!type.IsScalar() || !YAML::convert<unsigned>::decode(type, value) || value < 0x0600 ||
            value > 0xffff)
            problems.push_back(where(item) + "frames.ethertype: expected 0x0600 to 0xffff");
        r.ethertype = static_cast<std::uint16_t>(value);
        rules.push_back(std::move(r));
    }
    if (!problems.empty()) throw ConfigError(std::move(problems));
    return rules;
}

std::optional<std::filesystem::path> find_rules_file(const std::string& name) {
    std::vector<std::filesystem::path> dirs;
    if (const char* env = std::getenv("CLINICWATCH_RULES_DIR"); env && *env) dirs.emplace_back(env);
    dirs.emplace_back(installed_data_dir() / "rules");
#ifdef CLINICWATCH_SOURCE_RULES_DIR
    dirs.emplace_back(CLINICWATCH_SOURCE_RULES_DIR);
#endif
    for (const auto& d : dirs) {
        std::error_code ec;
        if (std::filesystem::is_regular_file(d / name, ec)) return d / name;
    }
    return std::nullopt;
}

LoopDetectorSettings loop_detector_settings(const LoopConfig& c) {
    LoopDetectorSettings s;
    s.repeat_threshold = static_cast<std::uint32_t>(c.repeat_threshold);
    s.storm_floor = c.storm_floor;
    s.storm_factor = c.storm_factor;
    s.arp_host_floor = c.arp_host_floor;
    s.arp_lan_floor = c.arp_lan_floor;
    s.table_capacity = static_cast<std::size_t>(c.table_capacity);
    s.quiet_to_end = static_cast<Timestamp>(c.quiet_seconds) * kMicrosPerSecond;
    const std::string name = "loop-detect-frames.yaml";
    auto path = find_rules_file(name);
    if (!path) {
        spdlog::warn(
            "rules/{} not found: switches' loop-detection frames will not be named in "
            "loop alerts (set CLINICWATCH_RULES_DIR)",
            name);
        return s;
    }
    std::ifstream in(*path);
    std::stringstream text;
    text << in.rdbuf();
    s.loop_detect_frames = parse_loop_detect_frames(text.str(), path->string());
    return s;
}

}  // namespace clinicwatch
