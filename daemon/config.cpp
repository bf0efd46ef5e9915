#include "daemon/config.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace clinicwatch {

namespace {

std::string join_problems(const std::vector<std::string>& problems) {
    std::string out;
    for (const auto& p : problems) {
        if (!out.empty()) out += "\n";
        out += p;
    }
    return out;
}

// Walks the YAML tree, collecting problems with file, line and dotted key.
class Reader {
public:
    explicit Reader(std::string source) : source_(std::move(source)) {}

    void problem(const YAML::Node& node, const std::string& key, const std::string& what) {
        std::string where = source_;
        if (node.IsDefined() && node.Mark().line >= 0)
            where += ":" + std::to_string(node.Mark().line + 1);
        problems_.push_back(where + ": " + key + ": " + what);
    }

    // Checks that `node` is a mapping whose keys are all known; reports the unknown ones.
    bool section(const YAML::Node& node, const std::string& key,
                 const std::vector<std::string>& known) {
        if (!node.IsMap()) {
            problem(node, key, "expected a mapping of settings");
            return false;
        }
        for (const auto& kv : node) {
            std::string name = kv.first.as<std::string>("");
            bool ok = false;
            for (const auto& k : known) ok |= k == name;
            if (!ok) {
                std::string known_list;
                for (const auto& k : known) known_list += (known_list.empty() ? "" : ", ") + k;
                problem(kv.first, join(key, name),
                        "unknown setting (known here: " + known_list + ")");
            }
        }
        return true;
    }

    void integer(const YAML::Node& parent, const std::string& parent_key, const char* name,
                 int& out, int min, int max) {
        auto node = parent[name];
        if (!node.IsDefined() || node.IsNull()) return;
        std::string key = join(parent_key, name);
        int value = 0;
        if (!node.IsScalar() || !YAML::convert<int>::decode(node, value)) {
            problem(node, key, "expected a whole number, got '" + scalar_text(node) + "'");
            return;
        }
        if (value < min || value > max) {
            problem(node, key,
                    "must be from " + std::to_string(min) + " to " + std::to_string(max) +
                        ", got " + std::to_string(value));
            return;
        }
        out = value;
    }

    void text(const YAML::Node& parent, const std::string& parent_key, const char* name,
              std::string& out) {
        auto node = parent[name];
        if (!node.IsDefined() || node.IsNull()) return;
        if (!node.IsScalar()) {
            problem(node, join(parent_key, name), "expected a text value");
            return;
        }
        out = node.Scalar();
    }

    template <typename T>
    void parsed(const YAML::Node& parent, const std::string& parent_key, const char* name,
                std::optional<T>& out, const char* what,
                std::function<std::optional<T>(const std::string&)> parse) {
        auto node = parent[name];
        if (!node.IsDefined() || node.IsNull()) return;
        std::string key = join(parent_key, name);
        if (!node.IsScalar()) {
            problem(node, key, std::string("expected ") + what);
            return;
        }
        auto v = parse(node.Scalar());
        if (!v) {
            problem(node, key, std::string("expected ") + what + ", got '" + node.Scalar() + "'");
            return;
        }
        out = v;
    }

    static std::string join(const std::string& a, const std::string& b) {
        return a.empty() ? b : a + "." + b;
    }
    static std::string scalar_text(const YAML::Node& n) {
        if (n.IsScalar()) return n.Scalar();
        if (n.IsSequence()) return "a list";
        if (n.IsMap()) return "a mapping";
        return "nothing";
    }

    std::vector<std::string>& problems() { return problems_; }

private:
    std::string source_;
    std::vector<std::string> problems_;
};

void read_capture(Reader& r, const YAML::Node& n, CaptureConfig& c) {
    if (!r.section(n, "capture", {"interface", "snaplen", "buffer_mb", "filter", "ring_slots"}))
        return;
    r.text(n, "capture", "interface", c.interface);
    r.integer(n, "capture", "snaplen", c.snaplen, 64, 65535);
    r.integer(n, "capture", "buffer_mb", c.buffer_mb, 1, 1024);
    r.text(n, "capture", "filter", c.filter);
    r.integer(n, "capture", "ring_slots", c.ring_slots, 256, 1 << 20);
}

void read_network(Reader& r, const YAML::Node& n, NetworkConfig& c) {
    if (!r.section(n, "network", {"internal_networks", "gateway_ip", "gateway_mac"})) return;
    if (auto list = n["internal_networks"]; list.IsDefined() && !list.IsNull()) {
        if (!list.IsSequence()) {
            r.problem(list, "network.internal_networks", "expected a list of CIDR blocks");
        } else {
            for (const auto& item : list) {
                auto net = item.IsScalar() ? IpNetwork::parse(item.Scalar()) : std::nullopt;
                if (!net)
                    r.problem(item, "network.internal_networks",
                              "expected a CIDR block like 192.168.0.0/16, got '" +
                                  Reader::scalar_text(item) + "'");
                else
                    c.internal_networks.push_back(*net);
            }
        }
    }
    r.parsed<IpAddress>(n, "network", "gateway_ip", c.gateway_ip, "an IP address",
                        [](const std::string& s) { return IpAddress::parse(s); });
    r.parsed<MacAddress>(n, "network", "gateway_mac", c.gateway_mac,
                         "a MAC address like 00:a0:de:12:34:56",
                         [](const std::string& s) { return MacAddress::parse(s); });
}

void read_store(Reader& r, const YAML::Node& n, StoreConfig& c) {
    if (!r.section(n, "store", {"path", "flush_interval_ms", "retention_days"})) return;
    r.text(n, "store", "path", c.path);
    r.integer(n, "store", "flush_interval_ms", c.flush_interval_ms, 50, 60000);
    r.integer(n, "store", "retention_days", c.retention_days, 1, 3650);
}

void read_limits(Reader& r, const YAML::Node& n, LimitsConfig& c) {
    if (!r.section(n, "limits", {"max_hosts"})) return;
    r.integer(n, "limits", "max_hosts", c.max_hosts, 16, 1000000);
}

void read_logging(Reader& r, const YAML::Node& n, LoggingConfig& c) {
    if (!r.section(n, "logging", {"level"})) return;
    r.text(n, "logging", "level", c.level);
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    bool ok = false;
    for (auto* l : kLevels) ok |= c.level == l;
    if (!ok)
        r.problem(n["level"], "logging.level",
                  "expected one of trace, debug, info, warn, error, critical, off; got '" +
                      c.level + "'");
}

void read_address_list(Reader& r, const YAML::Node& n, const std::string& key,
                       std::vector<IpAddress>& out) {
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsSequence()) {
        r.problem(n, key, "expected a list of IP addresses");
        return;
    }
    for (const auto& item : n) {
        auto a = item.IsScalar() ? IpAddress::parse(item.Scalar()) : std::nullopt;
        if (!a)
            r.problem(item, key, "expected an IP address, got '" + Reader::scalar_text(item) + "'");
        else
            out.push_back(*a);
    }
}

void read_inventory(Reader& r, const YAML::Node& n, InventoryConfig& c) {
    if (!r.section(n, "inventory",
                   {"learning_days", "dhcp_servers", "shared_addresses", "alert_each_randomized",
                    "max_new_macs_per_minute", "ip_conflict_window_seconds", "vendor_data_dir"}))
        return;
    r.integer(n, "inventory", "learning_days", c.learning_days, 0, 365);
    read_address_list(r, n["dhcp_servers"], "inventory.dhcp_servers", c.dhcp_servers);
    read_address_list(r, n["shared_addresses"], "inventory.shared_addresses", c.shared_addresses);
    if (auto b = n["alert_each_randomized"]; b.IsDefined() && !b.IsNull()) {
        bool v = false;
        if (!b.IsScalar() || !YAML::convert<bool>::decode(b, v))
            r.problem(b, "inventory.alert_each_randomized",
                      "expected true or false, got '" + Reader::scalar_text(b) + "'");
        else
            c.alert_each_randomized = v;
    }
    r.integer(n, "inventory", "max_new_macs_per_minute", c.max_new_macs_per_minute, 1, 1000000);
    r.integer(n, "inventory", "ip_conflict_window_seconds", c.ip_conflict_window_seconds, 1, 86400);
    r.text(n, "inventory", "vendor_data_dir", c.vendor_data_dir);
}

void read_register(Reader& r, const YAML::Node& n, std::vector<RegisterEntry>& out) {
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
        r.problem(n, "register", "expected a list of devices (- mac: ..., name: ..., role: ...)");
        return;
    }
    std::size_t index = 0;
    for (const auto& item : n) {
        std::string key = "register[" + std::to_string(index++) + "]";
        if (!r.section(item, key, {"mac", "mac_prefix", "name", "role", "responsible", "notes"}))
            continue;
        RegisterEntry e;
        e.line = item.Mark().line + 1;
        auto mac = item["mac"];
        auto prefix = item["mac_prefix"];
        if (mac.IsDefined() == prefix.IsDefined()) {
            r.problem(item, key, "give exactly one of mac or mac_prefix");
            continue;
        }
        if (mac.IsDefined()) {
            auto m = mac.IsScalar() ? MacAddress::parse(mac.Scalar()) : std::nullopt;
            if (!m) {
                r.problem(mac, key + ".mac",
                          "expected a MAC address like 00:a0:de:12:34:56, got '" +
                              Reader::scalar_text(mac) + "'");
                continue;
            }
            e.mac = MacPrefix::of(*m);
        } else {
            auto p = prefix.IsScalar() ? MacPrefix::parse(prefix.Scalar()) : std::nullopt;
            if (!p) {
                r.problem(prefix, key + ".mac_prefix",
                          "expected at least 6 hex digits like 00:a0:de, got '" +
                              Reader::scalar_text(prefix) + "'");
                continue;
            }
            e.mac = *p;
        }
        r.text(item, key, "name", e.name);
        r.text(item, key, "role", e.role);
        r.text(item, key, "responsible", e.responsible);
        r.text(item, key, "notes", e.notes);
        if (e.name.empty()) r.problem(item, key + ".name", "every device needs a name");
        for (const auto& other : out)
            if (other.mac.bits == e.mac.bits && other.mac.value == e.mac.value)
                r.problem(item, key,
                          "the same " + std::string(e.mac.bits == 48 ? "MAC" : "prefix") +
                              " is already listed at line " + std::to_string(other.line));
        out.push_back(std::move(e));
    }
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_problems(problems)), problems_(std::move(problems)) {}

Config parse_config(const std::string& yaml_text, const std::string& source_name) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw ConfigError({source_name + ":" + std::to_string(e.mark.line + 1) +
                           ": not valid YAML: " + e.msg});
    }
    Config config;
    config.source = source_name;
    if (root.IsNull()) return config;  // an empty file means all defaults
    Reader r(source_name);
    using SectionReader = std::function<void(Reader&, const YAML::Node&, Config&)>;
    const std::map<std::string, SectionReader> sections = {
        {"capture", [](Reader& rd, const YAML::Node& n, Config& c) { read_capture(rd, n, c.capture); }},
        {"network", [](Reader& rd, const YAML::Node& n, Config& c) { read_network(rd, n, c.network); }},
        {"store", [](Reader& rd, const YAML::Node& n, Config& c) { read_store(rd, n, c.store); }},
        {"limits", [](Reader& rd, const YAML::Node& n, Config& c) { read_limits(rd, n, c.limits); }},
        {"logging", [](Reader& rd, const YAML::Node& n, Config& c) { read_logging(rd, n, c.logging); }},
        {"inventory", [](Reader& rd, const YAML::Node& n, Config& c) { read_inventory(rd, n, c.inventory); }},
        {"register", [](Reader& rd, const YAML::Node& n, Config& c) { read_register(rd, n, c.asset_register); }},
    };
    std::vector<std::string> known;
    for (const auto& [name, _] : sections) known.push_back(name);
    if (r.section(root, "", known)) {
        for (const auto& kv : root) {
            auto it = sections.find(kv.first.as<std::string>(""));
            if (it != sections.end()) it->second(r, kv.second, config);
        }
    }
    if (!r.problems().empty()) throw ConfigError(std::move(r.problems()));
    return config;
}

Config load_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigError({path + ": cannot read the configuration file (does it exist?)"});
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parse_config(buffer.str(), path);
}

}  // namespace clinicwatch
