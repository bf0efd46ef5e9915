#include "analyzers/os_inference.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace clinicwatch {

namespace {

std::string substitute(const std::string& tmpl, const std::smatch* m) {
    if (!m || tmpl.find('$') == std::string::npos) return tmpl;
    std::string out;
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        if (tmpl[i] == '$' && i + 1 < tmpl.size() && tmpl[i + 1] >= '1' && tmpl[i + 1] <= '9') {
            std::size_t g = static_cast<std::size_t>(tmpl[i + 1] - '0');
            if (g < m->size()) out += (*m)[g].str();
            ++i;
        } else {
            out += tmpl[i];
        }
    }
    return out;
}

bool pattern_matches(const PatternRule& r, const std::string& value, std::smatch& m) {
    switch (r.kind) {
        case PatternRule::Kind::equals:
            return value == r.text;
        case PatternRule::Kind::prefix:
            return value.rfind(r.text, 0) == 0;
        case PatternRule::Kind::contains:
            return value.find(r.text) != std::string::npos;
        case PatternRule::Kind::regex:
            return std::regex_search(value, m, r.re);
    }
    return false;
}

// "6.1.7601 challenge" -> (6, 1, 7601)
bool parse_version_triple(const std::string& v, int& major, int& minor, int& build) {
    return std::sscanf(v.c_str(), "%d.%d.%d", &major, &minor, &build) == 3;
}

std::string nt_text(int major, int minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

// NT versions Windows announces: those rules/os-fingerprints.yaml maps to products.
bool known_nt(const OsRules& rules, const std::string& nt) {
    return rules.known_nt(nt);
}

bool known_build(const OsRules& rules, const std::string& nt, int build) {
    for (const auto& w : rules.windows_versions)
        if (w.nt == nt && w.build == build) return true;
    return false;
}

void browser_claims(const Observed& ev, const OsRules& rules, std::vector<OsClaim>& out) {
    unsigned major = 0, minor = 0, type = 0;
    if (std::sscanf(ev.value.c_str(), "os=%u.%u type=0x%x", &major, &minor, &type) != 3) return;
    OsClaim c{ev.source, ev.value, "browser-announcement",      "", "", "", "",
              "",        0,        rules.weight("browser", 0.7)};
    const NotWindowsRules& nw = rules.not_windows;
    if (type & nw.browser_type_bits) {  // SV_TYPE_SERVER_UNIX: Samba (rules: not_windows)
        c.family = nw.browser_family;
        c.version = nw.browser_version;
        c.rule = "browser-samba";
        c.weight *= nw.browser_weight_factor;
        out.push_back(c);
        return;
    }
    c.family = "windows";
    std::string nt = nt_text(static_cast<int>(major), static_cast<int>(minor));
    if (known_nt(rules, nt)) c.nt = nt;
    if (type & (0x8000 | 0x8 | 0x10))
        c.role = "server";
    else if (type & 0x1000)
        c.role = "client";
    out.push_back(c);
}

void ntlm_claims(const Observed& ev, const OsRules& rules, std::vector<OsClaim>& out) {
    int major = 0, minor = 0, build = 0;
    if (!parse_version_triple(ev.value, major, minor, build)) return;
    OsClaim c{ev.source, ev.value, "ntlmssp-version", "", "", "", "", "", 0, 0};
    const NotWindowsRules& nw = rules.not_windows;
    if (build < nw.ntlm_build_below) {
        // Samba's CHALLENGE says 6.1 build 0; Linux cifs sends its kernel version and a small
        // module build. Neither is Windows (rules: not_windows).
        c.family = nw.ntlm_family;
        c.version = nw.ntlm_version + " (NTLM " + ev.value.substr(0, ev.value.find(' ')) + ")";
        c.rule = "ntlmssp-non-windows-build";
        c.weight = nw.ntlm_weight;
        out.push_back(c);
        return;
    }
    c.family = "windows";
    c.nt = nt_text(major, minor);
    c.build = build;
    bool known = known_nt(rules, c.nt) && known_build(rules, c.nt, build);
    c.weight = known ? rules.weight("ntlmssp", 0.9) : rules.weight("ntlmssp-unknown-build", 0.2);
    if (!known) c.rule = "ntlmssp-version-unknown-build";
    out.push_back(c);
}

void tcp_claims(const Observed& ev, const OsRules& rules, std::vector<OsClaim>& out) {
    auto obs = TcpObservation::parse(ev.value);
    if (!obs) return;
    const TcpRule* best = nullptr;
    for (const auto& r : rules.tcp) {
        if (!r.matches(*obs)) continue;
        auto rank = [](const TcpRule& x) { return (x.from_p0f ? 0 : 4) + (x.generic ? 0 : 2); };
        if (!best || rank(r) > rank(*best) || (rank(r) == rank(*best) && r.weight > best->weight))
            best = &r;
    }
    if (!best) return;
    out.push_back(OsClaim{ev.source, ev.value, best->label, best->family, "", "", best->label, "",
                          0, best->weight});
}

double combine(const std::map<std::string, double>& per_kind) {
    double miss = 1.0;
    for (const auto& [kind, w] : per_kind) miss *= (1.0 - w);
    return 1.0 - miss;
}

}  // namespace

std::string_view to_string(SupportStatus::State s) {
    switch (s) {
        case SupportStatus::State::supported:
            return "supported";
        case SupportStatus::State::ending_soon:
            return "ending-soon";
        case SupportStatus::State::past:
            return "past";
        case SupportStatus::State::check:
            return "check";
        case SupportStatus::State::unknown:
            break;
    }
    return "unknown";
}

std::vector<OsClaim> claims_for(const Observed& ev, const OsRules& rules) {
    std::vector<OsClaim> out;
    if (ev.source == "browser")
        browser_claims(ev, rules, out);
    else if (ev.source == "ntlmssp")
        ntlm_claims(ev, rules, out);
    else if (ev.source == "tcp-syn")
        tcp_claims(ev, rules, out);
    for (const auto& r : rules.patterns) {
        if (r.evidence != ev.source) continue;
        std::smatch m;
        if (!pattern_matches(r, ev.value, m)) continue;
        const std::smatch* groups = r.kind == PatternRule::Kind::regex ? &m : nullptr;
        OsClaim c{ev.source,
                  ev.value,
                  r.id,
                  substitute(r.os.family, groups),
                  substitute(r.os.nt, groups),
                  substitute(r.os.product, groups),
                  substitute(r.os.version, groups),
                  substitute(r.os.role, groups),
                  0,
                  r.weight};
        if (c.family == "windows" && ev.source == "smb-native-os") {
            // "Windows 7 Professional 7601 Service Pack 1": the build is the 4-5 digit token.
            // "Windows Server 2008 R2 Standard 7601": the year is not the build, so take the
            // token that is a known build of this NT version.
            static const std::regex kBuild(R"((?:^|\s)(\d{4,5})(?=\s|$))");
            for (auto it = std::sregex_iterator(ev.value.begin(), ev.value.end(), kBuild);
                 it != std::sregex_iterator(); ++it) {
                int b = std::stoi((*it)[1].str());
                if (known_build(rules, c.nt, b)) c.build = b;
            }
        }
        if (c.family.empty() && c.nt.empty()) continue;
        out.push_back(std::move(c));
    }
    return out;
}

const std::vector<OsClaim>& ClaimsCache::claims(const Observed& evidence, const OsRules& rules) {
    std::string key;
    key.reserve(evidence.source.size() + 1 + evidence.value.size());
    key.append(evidence.source).push_back('\0');
    key.append(evidence.value);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    if (cache_.size() >= max_entries_) cache_.clear();
    return cache_.emplace(std::move(key), claims_for(evidence, rules)).first->second;
}

OsVerdict infer_os(const std::vector<Observed>& evidence,
                   const std::vector<std::uint16_t>& tcp_services, const OsRules& rules,
                   const std::string& vendor, ClaimsCache* cache) {
    std::vector<OsClaim> claims, uncached;
    auto add = [&](const Observed& ev) {
        const auto& c = cache ? cache->claims(ev, rules) : (uncached = claims_for(ev, rules));
        claims.insert(claims.end(), c.begin(), c.end());
    };
    for (const auto& ev : evidence) add(ev);
    if (!vendor.empty()) add(Observed{vendor, "vendor", 0, 0});
    // A host whose own SMB stack names a non-Windows OS copies NTLMSSP versions (macOS sends
    // 6.1.7600, Samba 6.1.0): its NTLMSSP claims say nothing about it.
    bool smb_non_windows = false;
    for (const auto& c : claims)
        if ((c.kind == "smb-native-os" || c.kind == "smb-native-lanman") && !c.family.empty() &&
            c.family != "windows")
            smb_non_windows = true;
    if (smb_non_windows) {
        for (auto& c : claims)
            if (c.kind == "ntlmssp" && c.family == "windows") {
                c.weight = rules.weight("ntlmssp-unknown-build", 0.2);
                c.rule += " (discounted: SMB stack is not Windows)";
            }
    }

    OsVerdict v;
    // Family: strongest claim per kind, combined.
    std::map<std::string, std::map<std::string, double>> by_family;
    for (const auto& c : claims) {
        if (c.family.empty()) continue;
        double& w = by_family[c.family][c.kind];
        w = std::max(w, c.weight);
    }
    if (by_family.empty()) return v;
    double best = -1;
    for (const auto& [family, kinds] : by_family) {
        double conf = combine(kinds);
        if (conf > best) {
            best = conf;
            v.family = family;
        }
    }
    double confidence = best;
    const auto& agreeing = by_family[v.family];
    bool tcp_only = true;
    for (const auto& [kind, w] : agreeing) tcp_only &= kind == "tcp-syn";
    // Conflicting families: each kind once, at its strongest.
    std::map<std::string, double> conflict_kinds;
    for (const auto& c : claims) {
        if (c.family.empty() || c.family == v.family) continue;
        double& w = conflict_kinds[c.kind];
        w = std::max(w, c.weight);
    }
    for (const auto& [kind, w] : conflict_kinds) confidence *= (1.0 - w / 2);

    // Windows: NT version, build, role, product.
    if (v.family == "windows") {
        std::map<std::string, std::map<std::string, double>> by_nt;
        for (const auto& c : claims)
            if (!c.nt.empty() && (c.family.empty() || c.family == "windows")) {
                double& w = by_nt[c.nt][c.kind];
                w = std::max(w, c.weight);
            }
        double best_nt = -1;
        for (const auto& [nt, kinds] : by_nt) {
            double s = combine(kinds);
            if (s > best_nt) {
                best_nt = s;
                v.nt = nt;
            }
        }
        if (!v.nt.empty()) {
            std::map<std::string, double> nt_conflicts;
            for (const auto& c : claims)
                if (!c.nt.empty() && c.nt != v.nt && (c.family.empty() || c.family == "windows")) {
                    double& w = nt_conflicts[c.kind];
                    w = std::max(w, c.weight);
                }
            for (const auto& [kind, w] : nt_conflicts) confidence *= (1.0 - w / 2);
            double build_w = 0;
            for (const auto& c : claims)
                if (c.nt == v.nt && c.build > 0 && c.weight > build_w && c.family == "windows") {
                    v.build = c.build;
                    build_w = c.weight;
                }
        }
        double server = 0, client = 0;
        for (const auto& c : claims) {
            if (c.family != "windows" && !c.family.empty()) continue;
            if (c.role == "server") server = std::max(server, c.weight);
            if (c.role == "client") client = std::max(client, c.weight);
        }
        for (auto port : tcp_services)
            if (std::find(rules.server_ports.begin(), rules.server_ports.end(), port) !=
                rules.server_ports.end())
                server = std::max(server, 0.5);
        if (server > client)
            v.role = "server";
        else if (client > server)
            v.role = "client";
        // An explicit product from a strong claim (SMB Native OS names the edition) wins.
        double product_w = 0;
        for (const auto& c : claims)
            if (c.family == "windows" && !c.product.empty() && c.nt == v.nt &&
                (c.role.empty() || v.role.empty() || c.role == v.role) && c.weight > product_w &&
                rules.product(c.product)) {
                v.product = c.product;
                product_w = c.weight;
            }
        if (v.product.empty() && !v.nt.empty())
            if (const auto* w = rules.windows_product(v.nt, v.build, v.role))
                v.product = w->product;
        if (!v.product.empty()) {
            v.version = rules.product(v.product)->name;
        } else if (!v.nt.empty()) {
            v.version = "Windows NT " + v.nt;
        } else {
            for (const auto& c : claims)
                if (c.family == "windows" && !c.version.empty()) {
                    v.version = c.version;
                    break;
                }
        }
    } else {
        double product_w = 0, version_w = 0;
        for (const auto& c : claims) {
            if (c.family != v.family) continue;
            if (!c.product.empty() && c.weight > product_w) {
                v.product = c.product;
                product_w = c.weight;
            }
            if (!c.version.empty() && c.weight > version_w) {
                v.version = c.version;
                version_w = c.weight;
            }
        }
        if (!v.product.empty()) {
            if (const auto* p = rules.product(v.product)) v.version = p->name;
        }
    }

    if (tcp_only) confidence = std::min(confidence, 0.5);
    v.confidence = std::clamp(confidence, 0.0, 1.0);
    std::set<std::string> kinds;
    for (const auto& [kind, w] : agreeing) kinds.insert(kind);
    v.level = v.confidence >= 0.85 && kinds.size() >= 2 ? "high"
              : v.confidence >= 0.6                     ? "medium"
                                                        : "low";
    for (auto& c : claims) {
        bool agrees = c.family == v.family || (c.family.empty() && v.family == "windows");
        if (agrees && v.family == "windows" && !c.nt.empty() && !v.nt.empty() && c.nt != v.nt)
            agrees = false;
        (agrees ? v.support : v.conflicts).push_back(std::move(c));
    }
    return v;
}

SupportStatus support_status(const OsVerdict& v, const OsRules& rules, Day today) {
    SupportStatus s;
    if (v.product.empty()) return s;
    s.entry = rules.product(v.product);
    if (!s.entry) return s;
    if (s.entry->check_earliest_end && today > *s.entry->check_earliest_end) {
        s.state = SupportStatus::State::check;
        s.end = *s.entry->check_earliest_end;
        s.days = today - s.end;
        return s;
    }
    if (!s.entry->end_of_support) {
        // A product with no published end (Android 14, "Windows 10 or 11") is only known to
        // be supported when its entry has no note of doubt; "or" products stay unknown.
        s.state = v.product.find("-or-") == std::string::npos ? SupportStatus::State::supported
                                                              : SupportStatus::State::unknown;
        return s;
    }
    s.end = *s.entry->end_of_support;
    if (today > s.end) {
        s.state = SupportStatus::State::past;
        s.days = today - s.end;
    } else if (s.end - today <= rules.ending_soon_days) {
        s.state = SupportStatus::State::ending_soon;
        s.days = s.end - today;
    } else {
        s.state = SupportStatus::State::supported;
        s.days = s.end - today;
    }
    return s;
}

}  // namespace clinicwatch
