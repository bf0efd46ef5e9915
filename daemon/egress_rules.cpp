#include "daemon/egress_rules.hpp"

#include <functional>

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

namespace clinicwatch {

namespace {

struct RulesReader {
    std::string file;
    std::vector<std::string> problems;

    void problem(const YAML::Node& n, const std::string& what) {
        std::string where = file;
        if (n.IsDefined() && n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1);
        problems.push_back(where + ": " + what);
    }

    YAML::Node load(const std::string& dir, const std::string& name, const char* top) {
        file = (std::filesystem::path(dir) / name).string();
        YAML::Node root;
        try {
            root = YAML::LoadFile(file);
        } catch (const YAML::BadFile&) {
            problems.push_back(file + ": cannot read the rules file (is clinicwatch installed?)");
            return {};
        } catch (const YAML::Exception& e) {
            problems.push_back(file + ":" + std::to_string(e.mark.line + 1) +
                               ": not valid YAML: " + e.msg);
            return {};
        }
        auto list = root[top];
        if (!list.IsSequence()) {
            problem(root, std::string("expected a list under '") + top + "'");
            return {};
        }
        return list;
    }

    std::string text(const YAML::Node& entry, const char* key, bool required) {
        auto n = entry[key];
        if (!n.IsDefined() || n.IsNull()) {
            if (required) problem(entry, std::string("entry without '") + key + "'");
            return {};
        }
        if (!n.IsScalar()) {
            problem(n, std::string("'") + key + "' must be text");
            return {};
        }
        return n.Scalar();
    }

    std::vector<std::string> strings(const YAML::Node& entry, const char* key) {
        std::vector<std::string> out;
        auto n = entry[key];
        if (!n.IsDefined() || n.IsNull()) return out;
        if (!n.IsSequence()) {
            problem(n, std::string("'") + key + "' must be a list");
            return out;
        }
        for (const auto& item : n) {
            if (!item.IsScalar())
                problem(item, std::string("'") + key + "' items must be text");
            else
                out.push_back(item.Scalar());
        }
        return out;
    }

    std::vector<PortMatch> ports(const YAML::Node& entry) {
        std::vector<PortMatch> out;
        for (const auto& s : strings(entry, "ports")) {
            if (auto m = PortMatch::parse(s))
                out.push_back(*m);
            else
                problem(entry["ports"],
                        "port '" + s + "' is not like 443, tcp/5938 or tcp/5900-5906");
        }
        return out;
    }

    std::vector<std::string> domains(const YAML::Node& entry) {
        auto list = strings(entry, "domains");
        for (auto& d : list)
            for (auto& c : d)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        return list;
    }
};

}  // namespace

std::string resolve_rules_dir(const std::string& configured) {
    namespace fs = std::filesystem;
    if (!configured.empty()) return configured;
    if (const char* env = std::getenv("CLINICWATCH_RULES_DIR"); env && *env) return env;
    fs::path installed = fs::path(CLINICWATCH_DATA_DIR) / "rules";
    if (fs::is_directory(installed)) return installed.string();
#ifdef CLINICWATCH_SOURCE_RULES_DIR
    if (fs::is_directory(CLINICWATCH_SOURCE_RULES_DIR)) return CLINICWATCH_SOURCE_RULES_DIR;
#endif
    return installed.string();
}

EgressRules load_egress_rules(const std::string& dir) {
    EgressRules rules;
    RulesReader r;
    for (const auto& e : r.load(dir, "remote-access.yaml", "tools")) {
        RemoteAccessTool t;
        t.name = r.text(e, "name", true);
        t.ports = r.ports(e);
        t.domains = r.domains(e);
        t.dpi = r.strings(e, "dpi");
        t.tls_alpn = r.strings(e, "tls_alpn");
        for (const auto& prefix : t.tls_alpn)
            if (prefix.empty()) r.problem(e, "tool '" + t.name + "' has an empty tls_alpn prefix");
        t.source = r.text(e, "source", true);
        if (t.ports.empty() && t.domains.empty() && t.dpi.empty() && t.tls_alpn.empty())
            r.problem(e, "tool '" + t.name + "' has no ports, domains, tls_alpn or dpi names");
        rules.tools.push_back(std::move(t));
    }
    for (const auto& e : r.load(dir, "well-known-services.yaml", "services")) {
        WellKnownService s;
        s.name = r.text(e, "name", true);
        s.domains = r.domains(e);
        s.ports = r.ports(e);
        for (const auto& n : r.strings(e, "networks")) {
            if (auto net = IpNetwork::parse(n))
                s.networks.push_back(*net);
            else
                r.problem(e["networks"], "network '" + n + "' is not a CIDR block");
        }
        s.source = r.text(e, "source", true);
        rules.services.push_back(std::move(s));
    }
    for (const auto& e : r.load(dir, "risky-protocols.yaml", "protocols")) {
        RiskyProtocol p;
        p.name = r.text(e, "name", true);
        p.ports = r.ports(e);
        if (auto sev = r.text(e, "severity", false); !sev.empty()) p.severity = sev;
        if (p.severity != "medium" && p.severity != "high" && p.severity != "critical")
            r.problem(e, "severity must be medium, high or critical");
        p.source = r.text(e, "source", true);
        rules.risky.push_back(std::move(p));
    }
    if (!r.problems.empty()) throw ConfigError(std::move(r.problems));
    rules.index();
    return rules;
}

namespace {

void check_policy(const EgressPolicy& policy, const EgressRules& rules,
                  const std::function<std::string(const std::string&, const std::string&)>& where) {
    std::vector<std::string> problems;
    auto check = [&](const RolePolicy& p, const std::string& key) {
        for (const auto& s : p.services)
            if (!rules.service(s)) {
                std::string known;
                for (const auto& k : rules.services) known += (known.empty() ? "" : ", ") + k.name;
                problems.push_back(where(key, s) + key + ".services: unknown service '" + s +
                                   "' (known: " + known + ")");
            }
    };
    check(policy.unknown_role, "egress.unknown_role");
    for (const auto& [role, p] : policy.roles) check(p, "egress.roles." + role);
    if (!problems.empty()) throw ConfigError(std::move(problems));
}

}  // namespace

void check_egress_policy(const EgressPolicy& policy, const EgressRules& rules) {
    check_policy(policy, rules, [](const std::string&, const std::string&) { return ""; });
}

void check_egress_policy(const EgressConfig& egress, const EgressRules& rules,
                         const std::string& source) {
    check_policy(egress.policy, rules, [&](const std::string& key, const std::string& service) {
        auto it = egress.service_lines.find(key + ".services/" + service);
        return source + (it == egress.service_lines.end() ? "" : ":" + std::to_string(it->second)) +
               ": ";
    });
}

}  // namespace clinicwatch
