#include "daemon/egress_rules.hpp"

#include <functional>

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "daemon/install_paths.hpp"

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

    // handshakes: [{sent_by, transport, offset, hex | text, recogniser, min_length, length,
    //               max_length, packets, mid_stream, same_prefix, counter_at, source}]; hex may
    //               hold spaces and "??" for any byte; a recogniser (by name) may stand alone or
    //               beside hex/text.
    std::vector<HandshakeSignature> handshakes(const YAML::Node& entry, const std::string& tool) {
        std::vector<HandshakeSignature> out;
        auto list = entry["handshakes"];
        if (!list.IsDefined() || list.IsNull()) return out;
        if (!list.IsSequence()) {
            problem(list, "tool '" + tool + "': 'handshakes' must be a list");
            return out;
        }
        for (const auto& h : list) {
            if (!h.IsMap()) {
                problem(h, "tool '" + tool + "': a handshake must be a mapping");
                continue;
            }
            HandshakeSignature sig;
            std::string sender = text(h, "sent_by", false);
            if (sender == "client")
                sig.sent_by = HandshakeSignature::Sender::client;
            else if (sender == "server")
                sig.sent_by = HandshakeSignature::Sender::server;
            else if (!sender.empty() && sender != "either")
                problem(h["sent_by"], "sent_by must be client, server or either");
            std::string transport = text(h, "transport", false);
            if (transport == "udp")
                sig.protocol = kProtoUdp;
            else if (!transport.empty() && transport != "tcp")
                problem(h["transport"], "transport must be tcp or udp");
            std::string hex = text(h, "hex", false);
            std::string ascii = text(h, "text", false);
            for (std::size_t i = 0; i < hex.size();) {
                if (hex[i] == ' ') {
                    ++i;
                    continue;
                }
                if (i + 1 >= hex.size()) {
                    problem(h["hex"], "hex has an odd number of digits");
                    break;
                }
                if (hex[i] == '?' && hex[i + 1] == '?') {
                    sig.bytes.push_back(0);
                    sig.mask.push_back(0);
                } else {
                    auto digit = [](char c) {
                        return c >= '0' && c <= '9'   ? c - '0'
                               : c >= 'a' && c <= 'f' ? c - 'a' + 10
                               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                      : -1;
                    };
                    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
                    if (hi < 0 || lo < 0) {
                        problem(h["hex"], "hex must be hex digits or ??");
                        break;
                    }
                    sig.bytes.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
                    sig.mask.push_back(0xff);
                }
                i += 2;
            }
            for (char c : ascii) {
                sig.bytes.push_back(static_cast<std::uint8_t>(c));
                sig.mask.push_back(0xff);
            }
            std::string recogniser = text(h, "recogniser", false);
            if (!recogniser.empty()) {
                sig.recognise = find_handshake_recogniser(recogniser);
                if (!sig.recognise) {
                    std::string known;
                    for (auto n : handshake_recogniser_names())
                        known += (known.empty() ? "" : ", ") + std::string(n);
                    problem(h["recogniser"],
                            "unknown recogniser '" + recogniser + "' (known: " + known + ")");
                }
            }
            if ((sig.bytes.empty() && recogniser.empty()) || (!hex.empty() && !ascii.empty()))
                problem(h, "tool '" + tool + "': a handshake needs either hex or text");
            auto number = [&](const char* key, std::size_t& out_value, std::size_t max) {
                auto n = h[key];
                if (!n.IsDefined() || n.IsNull()) return;
                std::size_t v = 0;
                if (!n.IsScalar() || !YAML::convert<std::size_t>::decode(n, v) || v > max)
                    problem(n, std::string("'") + key + "' must be a number up to " +
                                   std::to_string(max));
                else
                    out_value = v;
            };
            number("offset", sig.offset, 64);
            number("min_length", sig.min_length, 65535);
            number("length", sig.exact_length, 65535);
            number("max_length", sig.max_length, 65535);
            std::size_t packets = 1;
            number("packets", packets, 16);
            sig.packets = static_cast<std::uint16_t>(std::max<std::size_t>(packets, 1));
            std::size_t same_prefix = 0, counter_at = 0;
            number("same_prefix", same_prefix, 8);
            sig.same_prefix = static_cast<std::uint8_t>(same_prefix);
            if (auto c = h["counter_at"]; c.IsDefined() && !c.IsNull()) {
                number("counter_at", counter_at, 60);
                sig.counter_at = static_cast<int>(counter_at);
                sig.min_length = std::max(sig.min_length, counter_at + 4);
            }
            sig.min_length = std::max<std::size_t>(sig.min_length, same_prefix);
            if (auto m = h["mid_stream"]; m.IsDefined() && !m.IsNull()) {
                bool v = false;
                if (!m.IsScalar() || !YAML::convert<bool>::decode(m, v))
                    problem(m, "'mid_stream' must be true or false");
                sig.mid_stream = v;
            }
            sig.source = text(h, "source", true);
            out.push_back(std::move(sig));
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
    fs::path installed = installed_data_dir() / "rules";
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
        t.handshakes = r.handshakes(e, t.name);
        if (t.ports.empty() && t.domains.empty() && t.dpi.empty() && t.tls_alpn.empty() &&
            t.handshakes.empty())
            r.problem(e, "tool '" + t.name +
                             "' has no ports, domains, tls_alpn, handshakes or dpi names");
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
