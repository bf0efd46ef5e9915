#include "analyzers/egress_policy.hpp"

#include <charconv>

namespace clinicwatch {

namespace {

std::optional<std::uint16_t> port_number(std::string_view s) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

}  // namespace

std::optional<PortMatch> PortMatch::parse(std::string_view text) {
    PortMatch m;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        auto proto = text.substr(0, slash);
        if (proto == "tcp")
            m.proto = kProtoTcp;
        else if (proto == "udp")
            m.proto = kProtoUdp;
        else
            return std::nullopt;
        text.remove_prefix(slash + 1);
    }
    auto dash = text.find('-');
    auto first = port_number(text.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : port_number(text.substr(dash + 1));
    if (!first || !last || *last < *first) return std::nullopt;
    m.first = *first;
    m.last = *last;
    return m;
}

bool domain_matches(std::string_view name, std::string_view suffix) {
    if (suffix.substr(0, 2) == "*.")
        suffix.remove_prefix(2);
    else if (suffix.substr(0, 1) == ".")
        suffix.remove_prefix(1);
    if (suffix.empty() || name.size() < suffix.size()) return false;
    if (name.substr(name.size() - suffix.size()) != suffix) return false;
    return name.size() == suffix.size() || name[name.size() - suffix.size() - 1] == '.';
}

bool role_matches(std::string_view role, std::string_view pattern) {
    if (!pattern.empty() && pattern.front() == '*') {
        auto tail = pattern.substr(1);
        return role.size() >= tail.size() && role.substr(role.size() - tail.size()) == tail;
    }
    if (!pattern.empty() && pattern.back() == '*') {
        auto head = pattern.substr(0, pattern.size() - 1);
        return role.substr(0, head.size()) == head;
    }
    return role == pattern;
}

void EgressRules::index() {
    remote_tcp_.reset();
    remote_udp_.reset();
    for (const auto& t : tools)
        for (const auto& p : t.ports)
            for (unsigned port = p.first; port <= p.last; ++port) {
                if (p.proto != kProtoUdp) remote_tcp_.set(port);
                if (p.proto != kProtoTcp) remote_udp_.set(port);
            }
}

const RemoteAccessTool* EgressRules::tool_for_port(std::uint8_t proto, std::uint16_t port) const {
    if (!maybe_remote_port(proto, port)) return nullptr;
    for (const auto& t : tools)
        for (const auto& p : t.ports)
            if (p.matches(proto, port)) return &t;
    return nullptr;
}

const RemoteAccessTool* EgressRules::tool_for_name(std::string_view name) const {
    if (name.empty()) return nullptr;
    for (const auto& t : tools)
        for (const auto& d : t.domains)
            if (domain_matches(name, d)) return &t;
    return nullptr;
}

const RemoteAccessTool* EgressRules::tool_for_alpn(const std::vector<std::string>& alpn) const {
    for (const auto& offered : alpn)
        for (const auto& t : tools)
            for (const auto& prefix : t.tls_alpn)
                if (offered.starts_with(prefix)) return &t;
    return nullptr;
}

const RiskyProtocol* EgressRules::risky_for_port(std::uint8_t proto, std::uint16_t port) const {
    for (const auto& r : risky)
        for (const auto& p : r.ports)
            if (p.matches(proto, port)) return &r;
    return nullptr;
}

const WellKnownService* EgressRules::service(std::string_view name) const {
    for (const auto& s : services)
        if (s.name == name) return &s;
    return nullptr;
}

std::string_view to_string(EgressMode m) {
    switch (m) {
        case EgressMode::none:
            return "none";
        case EgressMode::observe:
            return "observe";
        case EgressMode::allow:
            return "allow";
    }
    return "?";
}

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::allowed:
            return "allowed";
        case Verdict::denied:
            return "denied";
        case Verdict::observed:
            return "observed";
    }
    return "?";
}

const RolePolicy& EgressPolicy::for_role(const std::string& role) const {
    static const RolePolicy kNone{EgressMode::none, {}, {}, {}, {}};
    static const RolePolicy kObserve{EgressMode::observe, {}, {}, {}, {}};
    if (role.empty()) return unknown_role;
    if (auto it = roles.find(role); it != roles.end()) return it->second;
    for (const auto& p : closed_roles)
        if (role_matches(role, p)) return kNone;
    return kObserve;
}

Verdict evaluate_egress(const RolePolicy& policy, const EgressRules& rules, std::string_view name,
                        const IpAddress& address, std::uint8_t proto, std::uint16_t port,
                        std::string* why) {
    if (policy.mode == EgressMode::observe) return Verdict::observed;
    if (policy.mode == EgressMode::none) return Verdict::denied;
    auto allowed = [&](const std::vector<std::string>& domains,
                       const std::vector<IpNetwork>& networks, const std::vector<PortMatch>& ports,
                       const std::string& label) {
        for (const auto& d : domains)
            if (!name.empty() && domain_matches(name, d)) {
                if (why) *why = label.empty() ? "domain " + d : label;
                return true;
            }
        for (const auto& n : networks)
            if (n.contains(address)) {
                if (why) *why = label.empty() ? "network " + n.to_string() : label;
                return true;
            }
        for (const auto& p : ports)
            if (p.matches(proto, port)) {
                if (why) *why = label.empty() ? "port " + std::to_string(port) : label;
                return true;
            }
        return false;
    };
    if (allowed(policy.domains, policy.networks, policy.ports, "")) return Verdict::allowed;
    for (const auto& s : policy.services)
        if (const auto* svc = rules.service(s))
            if (allowed(svc->domains, svc->networks, svc->ports, "service " + svc->name))
                return Verdict::allowed;
    return Verdict::denied;
}

}  // namespace clinicwatch
