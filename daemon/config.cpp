#include "daemon/config.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "daemon/export/syslog.hpp"

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
    if (!r.section(
            n, "network",
            {"internal_networks", "gateway_ip", "gateway_mac", "ipv6_routers", "ipv6_prefixes"}))
        return;
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
    if (auto list = n["ipv6_prefixes"]; list.IsDefined() && !list.IsNull()) {
        if (!list.IsSequence()) {
            r.problem(list, "network.ipv6_prefixes", "expected a list of IPv6 prefixes");
        } else {
            for (const auto& item : list) {
                auto net = item.IsScalar() ? IpNetwork::parse(item.Scalar()) : std::nullopt;
                if (!net || !net->base.is_v6())
                    r.problem(item, "network.ipv6_prefixes",
                              "expected an IPv6 prefix like 2409:10:a0:1200::/64, got '" +
                                  Reader::scalar_text(item) + "'");
                else
                    c.ipv6_prefixes.push_back(*net);
            }
        }
    }
    if (auto list = n["ipv6_routers"]; list.IsDefined() && !list.IsNull()) {
        if (!list.IsSequence()) {
            r.problem(list, "network.ipv6_routers", "expected a list of MAC addresses");
        } else {
            for (const auto& item : list) {
                auto mac = item.IsScalar() ? MacAddress::parse(item.Scalar()) : std::nullopt;
                if (!mac)
                    r.problem(item, "network.ipv6_routers",
                              "expected a MAC address like 00:a0:de:12:34:56, got '" +
                                  Reader::scalar_text(item) + "'");
                else
                    c.ipv6_routers.push_back(*mac);
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
    if (!r.section(n, "store",
                   {"path", "flush_interval_ms", "retention_days", "max_queued_findings",
                    "max_queued_megabytes"}))
        return;
    r.text(n, "store", "path", c.path);
    r.integer(n, "store", "flush_interval_ms", c.flush_interval_ms, 50, 60000);
    r.integer(n, "store", "retention_days", c.retention_days, 1, 3650);
    r.integer(n, "store", "max_queued_findings", c.max_queued_findings, 16, 10000000);
    r.integer(n, "store", "max_queued_megabytes", c.max_queued_megabytes, 1, 1024);
}

void read_limits(Reader& r, const YAML::Node& n, LimitsConfig& c) {
    if (!r.section(n, "limits", {"max_hosts", "memory_megabytes"})) return;
    r.integer(n, "limits", "max_hosts", c.max_hosts, 16, 1000000);
    r.integer(n, "limits", "memory_megabytes", c.memory_megabytes, 16, 65536);
}

void read_daemon(Reader& r, const YAML::Node& n, DaemonConfig& c) {
    if (!r.section(n, "daemon", {"user"})) return;
    r.text(n, "daemon", "user", c.user);
}

void read_export(Reader& r, const YAML::Node& n, ExportConfig& c) {
    if (!r.section(n, "export",
                   {"events_path", "max_megabytes", "keep", "metrics_path",
                    "metrics_interval_seconds", "syslog_target", "syslog_facility"}))
        return;
    r.text(n, "export", "events_path", c.events_path);
    r.integer(n, "export", "max_megabytes", c.max_megabytes, 1, 10240);
    r.integer(n, "export", "keep", c.keep, 1, 100);
    r.text(n, "export", "metrics_path", c.metrics_path);
    r.integer(n, "export", "metrics_interval_seconds", c.metrics_interval_seconds, 1, 3600);
    // node_exporter's textfile collector reads only *.prom files, and only from its folder.
    const std::string& m = c.metrics_path;
    if (!m.empty() && (m.front() != '/' || m.size() < 6 || m.substr(m.size() - 5) != ".prom"))
        r.problem(n["metrics_path"], "export.metrics_path",
                  "expected an absolute path ending in .prom (node_exporter reads only *.prom "
                  "files), got '" +
                      m + "'");
    r.text(n, "export", "syslog_target", c.syslog_target);
    if (std::string why; !c.syslog_target.empty() && !SyslogTarget::parse(c.syslog_target, &why))
        r.problem(n["syslog_target"], "export.syslog_target",
                  why + ", got '" + c.syslog_target + "'");
    r.text(n, "export", "syslog_facility", c.syslog_facility);
    if (syslog_facility(c.syslog_facility) < 0)
        r.problem(n["syslog_facility"], "export.syslog_facility",
                  "expected local0 ... local7, user or daemon, got '" + c.syslog_facility + "'");
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

bool read_bool(Reader& r, const YAML::Node& parent, const std::string& parent_key, const char* name,
               bool& out) {
    auto node = parent[name];
    if (!node.IsDefined() || node.IsNull()) return false;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
        r.problem(node, Reader::join(parent_key, name),
                  "expected true or false, got '" + Reader::scalar_text(node) + "'");
        return false;
    }
    out = value;
    return true;
}

void read_text_list(Reader& r, const YAML::Node& parent, const std::string& parent_key,
                    const char* name, std::vector<std::string>& out) {
    auto node = parent[name];
    if (!node.IsDefined() || node.IsNull()) return;
    std::string key = Reader::join(parent_key, name);
    if (node.IsScalar()) {  // a single value is a list of one
        out = {node.Scalar()};
        return;
    }
    if (!node.IsSequence()) {
        r.problem(node, key, "expected a list");
        return;
    }
    out.clear();
    for (const auto& item : node) {
        if (!item.IsScalar())
            r.problem(item, key, "expected a text value in the list");
        else
            out.push_back(item.Scalar());
    }
}

void read_language(Reader& r, const YAML::Node& n, const std::string& key, std::string& out) {
    r.text(n, key, "language", out);
    if (out != "ja" && out != "en")
        r.problem(n["language"], key + ".language", "expected ja or en, got '" + out + "'");
}

void read_digest(Reader& r, const YAML::Node& n, DigestConfig& c) {
    if (!r.section(n, "digest",
                   {"time", "timezone", "language", "all_quiet_mail", "critical_immediate",
                    "critical_rate_limit_minutes", "critical_kinds"}))
        return;
    std::string time;
    r.text(n, "digest", "time", time);
    if (!time.empty()) {
        int h = -1, m = -1, used = 0;
        if (std::sscanf(time.c_str(), "%2d:%2d%n", &h, &m, &used) != 2 ||
            used != static_cast<int>(time.size()) || h < 0 || h > 23 || m < 0 || m > 59)
            r.problem(n["time"], "digest.time",
                      "expected a time of day like 07:30, got '" + time + "'");
        else
            c.hour = h, c.minute = m;
    }
    r.text(n, "digest", "timezone", c.timezone);
    if (c.timezone.empty() || c.timezone.find("..") != std::string::npos ||
        !std::filesystem::exists("/usr/share/zoneinfo/" + c.timezone))
        r.problem(n["timezone"], "digest.timezone",
                  "unknown time zone '" + c.timezone +
                      "' (expected a name like Asia/Tokyo from /usr/share/zoneinfo)");
    read_language(r, n, "digest", c.language);
    read_bool(r, n, "digest", "all_quiet_mail", c.all_quiet_mail);
    read_bool(r, n, "digest", "critical_immediate", c.critical_immediate);
    r.integer(n, "digest", "critical_rate_limit_minutes", c.critical_rate_limit_minutes, 1, 10080);
    read_text_list(r, n, "digest", "critical_kinds", c.critical_kinds);
}

void read_smtp(Reader& r, const YAML::Node& n, SmtpConfig& c) {
    if (!r.section(n, "smtp",
                   {"url", "require_starttls", "from", "to", "username", "password_file", "ca_file",
                    "timeout_seconds"}))
        return;
    r.text(n, "smtp", "url", c.url);
    if (!c.url.empty() && c.url.rfind("smtp://", 0) != 0 && c.url.rfind("smtps://", 0) != 0)
        r.problem(n["url"], "smtp.url",
                  "expected smtp://host:587 (STARTTLS) or smtps://host:465, got '" + c.url + "'");
    read_bool(r, n, "smtp", "require_starttls", c.require_starttls);
    r.text(n, "smtp", "from", c.from);
    read_text_list(r, n, "smtp", "to", c.to);
    r.text(n, "smtp", "username", c.username);
    r.text(n, "smtp", "password_file", c.password_file);
    r.text(n, "smtp", "ca_file", c.ca_file);
    r.integer(n, "smtp", "timeout_seconds", c.timeout_seconds, 1, 600);
    if (!c.url.empty() && (c.from.empty() || c.to.empty()))
        r.problem(n, "smtp", "a mail server is set (url) but from or to is missing");
    for (const auto& addr : c.to)
        if (addr.find('@') == std::string::npos ||
            addr.find_first_of("<>\r\n ") != std::string::npos)
            r.problem(n["to"], "smtp.to",
                      "'" + addr + "' is not a plain address like it@clinic.example");
    if (!c.from.empty() && (c.from.find('@') == std::string::npos ||
                            c.from.find_first_of("<>\r\n ") != std::string::npos))
        r.problem(n["from"], "smtp.from",
                  "'" + c.from + "' is not a plain address like sensor@clinic.example");
}

void read_report(Reader& r, const YAML::Node& n, ReportConfig& c) {
    if (!r.section(n, "report", {"clinic_name", "language", "templates_dir"})) return;
    r.text(n, "report", "clinic_name", c.clinic_name);
    read_language(r, n, "report", c.language);
    r.text(n, "report", "templates_dir", c.templates_dir);
}

void read_loop(Reader& r, const YAML::Node& n, LoopConfig& c) {
    if (!r.section(n, "loop",
                   {"repeat_threshold", "storm_floor", "storm_factor", "arp_host_floor",
                    "arp_lan_floor", "table_capacity", "quiet_seconds"}))
        return;
    r.integer(n, "loop", "repeat_threshold", c.repeat_threshold, 3, 100000);
    r.integer(n, "loop", "storm_floor", c.storm_floor, 10, 10000000);
    r.integer(n, "loop", "storm_factor", c.storm_factor, 2, 1000);
    r.integer(n, "loop", "arp_host_floor", c.arp_host_floor, 5, 1000000);
    r.integer(n, "loop", "arp_lan_floor", c.arp_lan_floor, 5, 1000000);
    r.integer(n, "loop", "table_capacity", c.table_capacity, 1024, 1 << 22);
    r.integer(n, "loop", "quiet_seconds", c.quiet_seconds, 1, 600);
}

void read_os_fingerprint(Reader& r, const YAML::Node& n, OsFingerprintConfig& c) {
    if (!r.section(n, "os_fingerprint", {"enabled", "rules_dir", "p0f_database"})) return;
    if (auto e = n["enabled"]; e.IsDefined() && !e.IsNull()) {
        bool value = true;
        if (!e.IsScalar() || !YAML::convert<bool>::decode(e, value))
            r.problem(e, "os_fingerprint.enabled", "expected true or false");
        else
            c.enabled = value;
    }
    r.text(n, "os_fingerprint", "rules_dir", c.rules_dir);
    r.text(n, "os_fingerprint", "p0f_database", c.p0f_database);
}

// A role's policy: `none`, `observe`, or a mapping of allow lists (policy: allow implied).
std::optional<RolePolicy> read_role_policy(Reader& r, const YAML::Node& n, const std::string& key,
                                           std::map<std::string, int>& service_lines) {
    RolePolicy p;
    if (n.IsScalar()) {
        if (n.Scalar() == "none")
            p.mode = EgressMode::none;
        else if (n.Scalar() == "observe")
            p.mode = EgressMode::observe;
        else {
            r.problem(n, key,
                      "expected none, observe, or a mapping of allow lists (services, domains, "
                      "networks, ports); got '" +
                          n.Scalar() + "'");
            return std::nullopt;
        }
        return p;
    }
    if (!r.section(n, key, {"policy", "services", "domains", "networks", "ports"}))
        return std::nullopt;
    p.mode = EgressMode::allow;
    if (auto m = n["policy"]; m.IsDefined() && !(m.IsScalar() && m.Scalar() == "allow"))
        r.problem(m, key + ".policy", "with allow lists the policy can only be 'allow'");
    auto list = [&](const char* name, auto&& add) {
        auto node = n[name];
        if (!node.IsDefined() || node.IsNull()) return;
        if (!node.IsSequence()) {
            r.problem(node, key + "." + name, "expected a list");
            return;
        }
        for (const auto& item : node) {
            if (!item.IsScalar() || !add(item.Scalar()))
                r.problem(item, key + "." + name,
                          "not understood: '" + Reader::scalar_text(item) + "'");
        }
    };
    list("services", [&](const std::string& v) {
        p.services.push_back(v);
        return !v.empty();
    });
    // Where each service name stands, for the check against the rules (made after loading them).
    if (auto services = n["services"]; services.IsDefined() && services.IsSequence())
        for (const auto& item : services)
            if (item.IsScalar() && item.Mark().line >= 0)
                service_lines[key + ".services/" + item.Scalar()] = item.Mark().line + 1;
    list("domains", [&](const std::string& v) {
        std::string d;
        for (char c : v) d.push_back(c >= 'A' && c <= 'Z' ? char(c + 32) : c);
        p.domains.push_back(d);
        return !d.empty() && d.find(' ') == std::string::npos;
    });
    list("networks", [&](const std::string& v) {
        auto net = IpNetwork::parse(v);
        if (!net) net = IpNetwork::parse(v + (v.find(':') == std::string::npos ? "/32" : "/128"));
        if (net) p.networks.push_back(*net);
        return net.has_value();
    });
    list("ports", [&](const std::string& v) {
        auto m = PortMatch::parse(v);
        if (m) p.ports.push_back(*m);
        return m.has_value();
    });
    return p;
}

void read_egress(Reader& r, const YAML::Node& n, EgressConfig& c) {
    if (!r.section(n, "egress",
                   {"roles", "unknown_role", "closed_roles", "max_flows", "max_dns_names",
                    "max_streams", "stream_depth", "rules_dir"}))
        return;
    if (auto u = n["unknown_role"]; u.IsDefined() && !u.IsNull())
        if (auto p = read_role_policy(r, u, "egress.unknown_role", c.service_lines))
            c.policy.unknown_role = *p;
    if (auto roles = n["roles"]; roles.IsDefined() && !roles.IsNull()) {
        if (!roles.IsMap()) {
            r.problem(roles, "egress.roles", "expected a mapping of role: policy");
        } else {
            for (const auto& kv : roles) {
                std::string role = kv.first.as<std::string>("");
                if (auto p =
                        read_role_policy(r, kv.second, "egress.roles." + role, c.service_lines))
                    c.policy.roles[role] = *p;
            }
        }
    }
    if (auto closed = n["closed_roles"]; closed.IsDefined() && !closed.IsNull()) {
        if (!closed.IsSequence()) {
            r.problem(closed, "egress.closed_roles", "expected a list of role patterns");
        } else {
            c.policy.closed_roles.clear();
            for (const auto& item : closed)
                c.policy.closed_roles.push_back(item.as<std::string>(""));
        }
    }
    int max_flows = static_cast<int>(c.policy.max_flows);
    int max_names = static_cast<int>(c.policy.max_dns_names);
    r.integer(n, "egress", "max_flows", max_flows, 256, 4'000'000);
    r.integer(n, "egress", "max_dns_names", max_names, 256, 4'000'000);
    c.policy.max_flows = static_cast<std::size_t>(max_flows);
    c.policy.max_dns_names = static_cast<std::size_t>(max_names);
    int max_streams = static_cast<int>(c.policy.max_streams);
    int stream_depth = static_cast<int>(c.policy.stream_depth);
    r.integer(n, "egress", "max_streams", max_streams, 16, 65536);
    r.integer(n, "egress", "stream_depth", stream_depth, 1024, 65536);
    c.policy.max_streams = static_cast<std::size_t>(max_streams);
    c.policy.stream_depth = static_cast<std::size_t>(stream_depth);
    r.text(n, "egress", "rules_dir", c.rules_dir);
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
                    "max_new_macs_per_minute", "max_dhcp_requests_per_minute",
                    "ip_conflict_window_seconds", "vendor_data_dir"}))
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
    r.integer(n, "inventory", "max_dhcp_requests_per_minute", c.max_dhcp_requests_per_minute, 10,
              1000000);
    r.integer(n, "inventory", "ip_conflict_window_seconds", c.ip_conflict_window_seconds, 1, 86400);
    r.text(n, "inventory", "vendor_data_dir", c.vendor_data_dir);
}

void read_topology(Reader& r, const YAML::Node& n, TopologyConfig& c) {
    if (!r.section(n, "topology", {"segments", "intended_multi_homed"})) return;
    if (auto list = n["segments"]; list.IsDefined() && !list.IsNull()) {
        if (!list.IsSequence()) {
            r.problem(list, "topology.segments",
                      "expected a list of networks (- name: ..., network: 192.168.10.0/24, "
                      "closed: true)");
        } else {
            std::size_t index = 0;
            for (const auto& item : list) {
                std::string key = "topology.segments[" + std::to_string(index++) + "]";
                if (!r.section(item, key, {"name", "network", "closed"})) continue;
                TopologySegmentConfig seg;
                r.text(item, key, "name", seg.name);
                if (seg.name.empty())
                    r.problem(item, key + ".name", "give the network a name people know it by");
                // A missing key gives an invalid node: only IsDefined() may be asked of it.
                auto net = item["network"];
                bool given = net.IsDefined() && net.IsScalar();
                auto parsed = given ? IpNetwork::parse(net.Scalar()) : std::nullopt;
                if (!parsed || !parsed->base.is_v4()) {
                    r.problem(
                        net.IsDefined() ? net : YAML::Node(item), key + ".network",
                        "expected an IPv4 network like 192.168.10.0/24, got '" +
                            (net.IsDefined() ? Reader::scalar_text(net) : std::string("nothing")) +
                            "'");
                    continue;
                }
                seg.network = *parsed;
                if (auto b = item["closed"]; b.IsDefined() && !b.IsNull()) {
                    if (!b.IsScalar() || !YAML::convert<bool>::decode(b, seg.closed))
                        r.problem(b, key + ".closed",
                                  "expected true or false, got '" + Reader::scalar_text(b) + "'");
                }
                for (const auto& other : c.segments)
                    if (other.network.contains(seg.network.base) ||
                        seg.network.contains(other.network.base))
                        r.problem(net, key + ".network",
                                  seg.network.to_string() + " overlaps " +
                                      other.network.to_string() + " (" + other.name + ")");
                c.segments.push_back(std::move(seg));
            }
        }
    }
    if (auto list = n["intended_multi_homed"]; list.IsDefined() && !list.IsNull()) {
        if (!list.IsSequence()) {
            r.problem(list, "topology.intended_multi_homed", "expected a list of MAC addresses");
        } else {
            for (const auto& item : list) {
                auto mac = item.IsScalar() ? MacAddress::parse(item.Scalar()) : std::nullopt;
                if (!mac)
                    r.problem(item, "topology.intended_multi_homed",
                              "expected a MAC address like 50:81:40:aa:bb:01, got '" +
                                  Reader::scalar_text(item) + "'");
                else
                    c.intended_multi_homed.push_back(*mac);
            }
        }
    }
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
        throw ConfigError(
            {source_name + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg});
    }
    Config config;
    config.source = source_name;
    if (root.IsNull()) return config;  // an empty file means all defaults
    Reader r(source_name);
    using SectionReader = std::function<void(Reader&, const YAML::Node&, Config&)>;
    const std::map<std::string, SectionReader> sections = {
        {"capture",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_capture(rd, n, c.capture); }},
        {"network",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_network(rd, n, c.network); }},
        {"store", [](Reader& rd, const YAML::Node& n, Config& c) { read_store(rd, n, c.store); }},
        {"limits",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_limits(rd, n, c.limits); }},
        {"logging",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_logging(rd, n, c.logging); }},
        {"daemon",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_daemon(rd, n, c.daemon); }},
        {"export",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_export(rd, n, c.export_events); }},
        {"digest",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_digest(rd, n, c.digest); }},
        {"smtp", [](Reader& rd, const YAML::Node& n, Config& c) { read_smtp(rd, n, c.smtp); }},
        {"report",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_report(rd, n, c.report); }},
        {"loop", [](Reader& rd, const YAML::Node& n, Config& c) { read_loop(rd, n, c.loop); }},
        {"os_fingerprint", [](Reader& rd, const YAML::Node& n,
                              Config& c) { read_os_fingerprint(rd, n, c.os_fingerprint); }},
        {"limits",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_limits(rd, n, c.limits); }},
        {"logging",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_logging(rd, n, c.logging); }},
        {"egress",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_egress(rd, n, c.egress); }},
        {"inventory",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_inventory(rd, n, c.inventory); }},
        {"register", [](Reader& rd, const YAML::Node& n,
                        Config& c) { read_register(rd, n, c.asset_register); }},
        {"topology",
         [](Reader& rd, const YAML::Node& n, Config& c) { read_topology(rd, n, c.topology); }},
    };
    std::vector<std::string> known;
    for (const auto& [name, _] : sections) known.push_back(name);
    if (r.section(root, "", known)) {
        for (const auto& kv : root) {
            auto it = sections.find(kv.first.as<std::string>(""));
            if (it != sections.end()) {
                it->second(r, kv.second, config);
                config.section_text[it->first] = YAML::Dump(kv.second);
            }
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
