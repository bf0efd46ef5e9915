#include "analyzers/os_rules.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace clinicwatch {

namespace {

std::string join_problems(const std::vector<std::string>& problems) {
    std::string out;
    for (const auto& p : problems) out += (out.empty() ? "" : "\n") + p;
    return out;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw RulesError({path + ": cannot read the rules file"});
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// Collects problems with file:line like the configuration reader.
struct Problems {
    std::string file;
    std::vector<std::string>& out;
    void add(const YAML::Node& n, const std::string& what) {
        std::string where = file;
        if (n.IsDefined() && n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1);
        out.push_back(where + ": " + what);
    }
    int line(const YAML::Node& n) const { return n.Mark().line + 1; }
    std::string text(const YAML::Node& entry, const char* key, bool required) {
        auto v = entry[key];
        if (!v.IsDefined() || v.IsNull()) {
            if (required) add(entry, std::string("missing '") + key + "'");
            return {};
        }
        if (!v.IsScalar()) {
            add(v, std::string("'") + key + "' must be a text value");
            return {};
        }
        return v.Scalar();
    }
    std::optional<Day> day(const YAML::Node& entry, const char* key) {
        std::string t = text(entry, key, false);
        if (t.empty()) return std::nullopt;
        auto d = parse_day(t);
        if (!d)
            add(entry[key],
                std::string("'") + key + "' must be a date like 2020-01-14, got '" + t + "'");
        return d;
    }
    double number(const YAML::Node& entry, const char* key, double fallback, double lo, double hi) {
        auto v = entry[key];
        if (!v.IsDefined() || v.IsNull()) return fallback;
        double d = 0;
        if (!v.IsScalar() || !YAML::convert<double>::decode(v, d) || d < lo || d > hi) {
            add(v, std::string("'") + key + "' must be a number from " + std::to_string(lo) +
                       " to " + std::to_string(hi));
            return fallback;
        }
        return d;
    }
};

YAML::Node load_yaml(const std::string& text, const std::string& name) {
    try {
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw RulesError(
            {name + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg});
    }
}

const std::map<std::string, std::uint8_t> kOptionNames = {
    {"eol", 0}, {"nop", 1}, {"mss", 2}, {"ws", 3}, {"sok", 4}, {"sack", 5}, {"ts", 8}};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

std::optional<int> to_int(const std::string& s) {
    if (s.empty() || s.size() > 9) return std::nullopt;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

bool parse_layout(const std::string& text, std::vector<std::uint8_t>& out) {
    out.clear();
    if (text.empty()) return true;
    for (const auto& tok : split(text, ',')) {
        if (tok.rfind("eol+", 0) == 0) {  // EOL then padding: nothing may follow
            out.push_back(0);
            return true;
        }
        if (!tok.empty() && tok[0] == '?') {
            auto v = to_int(tok.substr(1));
            if (!v || *v > 255) return false;
            out.push_back(static_cast<std::uint8_t>(*v));
            continue;
        }
        auto it = kOptionNames.find(tok);
        if (it == kOptionNames.end()) return false;
        out.push_back(it->second);
    }
    return true;
}

std::string layout_text(const std::vector<std::uint8_t>& layout) {
    std::string s;
    for (auto k : layout) {
        if (!s.empty()) s += ',';
        const char* name = nullptr;
        for (const auto& [n, v] : kOptionNames)
            if (v == k) name = n.c_str();
        if (k == 0)
            s += "eol+0";
        else if (name)
            s += name;
        else
            s += "?" + std::to_string(k);
    }
    return s;
}

}  // namespace

RulesError::RulesError(std::vector<std::string> problems)
    : std::runtime_error(join_problems(problems)), problems_(std::move(problems)) {}

std::optional<Day> parse_day(const std::string& iso) {
    if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-') return std::nullopt;
    auto y = to_int(iso.substr(0, 4)), m = to_int(iso.substr(5, 2)), d = to_int(iso.substr(8, 2));
    if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *d > 31) return std::nullopt;
    // Howard Hinnant's days_from_civil.
    int yy = *y - (*m <= 2);
    int era = yy / 400;
    int yoe = yy - era * 400;
    int mp = (*m + 9) % 12;
    int doy = (153 * mp + 2) / 5 + *d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

std::string format_day(Day z) {
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = yoe + era * 400;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp < 10 ? mp + 3 : mp - 9;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y + (m <= 2), m, d);
    return buf;
}

std::optional<TcpSignature> TcpSignature::parse(const std::string& text, std::string* error) {
    auto fail = [&](const std::string& why) -> std::optional<TcpSignature> {
        if (error) *error = why;
        return std::nullopt;
    };
    auto f = split(text, ':');
    if (f.size() != 8)
        return fail(
            "expected 8 ':'-separated fields "
            "(ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass)");
    if (f[0] != "*" && f[0] != "4" && f[0] != "6") return fail("ver must be 4, 6 or *");
    TcpSignature s;
    std::string ittl = f[1];
    auto cut = ittl.find_first_of("+-");
    auto t = to_int(ittl.substr(0, cut));
    if (!t || *t < 1 || *t > 255) return fail("ittl must be a number");
    s.ittl = *t;
    if (f[3] != "*") {
        auto m = to_int(f[3]);
        if (!m || *m > 65535) return fail("mss must be a number or *");
        s.mss = *m;
    }
    auto ws = split(f[4], ',');
    if (ws.size() != 2) return fail("wsize,scale expected");
    if (ws[0] == "*") {
        s.window = Window::any;
    } else if (ws[0].rfind("mss*", 0) == 0 || ws[0].rfind("mtu*", 0) == 0) {
        auto k = to_int(ws[0].substr(4));
        if (!k) return fail("bad window multiplier");
        s.window = ws[0][1] == 's' ? Window::mss_multiple : Window::mtu_multiple;
        s.wsize = *k;
    } else {
        auto w = to_int(ws[0]);
        if (!w || *w > 65535) return fail("wsize must be a number, mss*N, mtu*N or *");
        s.window = Window::fixed;
        s.wsize = *w;
    }
    if (ws[1] != "*") {
        auto sc = to_int(ws[1]);
        if (!sc || *sc > 14) return fail("scale must be 0-14 or *");
        s.scale = *sc;
    }
    if (!parse_layout(f[5], s.layout)) return fail("unknown option in olayout '" + f[5] + "'");
    return s;
}

std::string TcpObservation::to_string() const {
    std::string s = "4:" + std::to_string(ttl) + ":0:" + (mss < 0 ? "*" : std::to_string(mss)) +
                    ":" + std::to_string(window) + "," + std::to_string(scale < 0 ? 0 : scale) +
                    ":" + layout_text(layout) + ":" + (df ? "df" : "") + ":0";
    return (syn_ack ? "synack " : "syn ") + s;
}

std::optional<TcpObservation> TcpObservation::parse(const std::string& text) {
    TcpObservation o;
    std::string body;
    if (text.rfind("syn ", 0) == 0)
        body = text.substr(4);
    else if (text.rfind("synack ", 0) == 0) {
        o.syn_ack = true;
        body = text.substr(7);
    } else
        return std::nullopt;
    auto f = split(body, ':');
    if (f.size() != 8) return std::nullopt;
    auto ttl = to_int(f[1]);
    auto ws = split(f[4], ',');
    if (!ttl || ws.size() != 2) return std::nullopt;
    o.ttl = *ttl;
    if (f[3] != "*") {
        auto m = to_int(f[3]);
        if (!m) return std::nullopt;
        o.mss = *m;
    }
    auto w = to_int(ws[0]);
    auto sc = to_int(ws[1]);
    if (!w || !sc) return std::nullopt;
    o.window = *w;
    o.scale = *sc;
    if (!parse_layout(f[5], o.layout)) return std::nullopt;
    o.df = f[6] == "df";
    return o;
}

bool TcpRule::matches(const TcpObservation& o) const {
    if (response != o.syn_ack) return false;
    if (sig.ittl != o.initial_ttl()) return false;
    if (sig.mss >= 0 && sig.mss != o.mss) return false;
    int scale = o.scale < 0 ? 0 : o.scale;
    if (sig.scale >= 0 && sig.scale != scale) return false;
    switch (sig.window) {
        case TcpSignature::Window::any:
            break;
        case TcpSignature::Window::fixed:
            if (o.window != sig.wsize) return false;
            break;
        case TcpSignature::Window::mss_multiple:
            if (o.mss <= 0 || o.window != o.mss * sig.wsize) return false;
            break;
        case TcpSignature::Window::mtu_multiple:
            if (o.mss <= 0 || o.window != (o.mss + 40) * sig.wsize) return false;
            break;
    }
    return sig.layout == o.layout;
}

const SupportEntry* OsRules::product(const std::string& id) const {
    for (const auto& p : products)
        if (p.id == id) return &p;
    return nullptr;
}

double OsRules::weight(const std::string& kind, double fallback) const {
    auto it = weights.find(kind);
    return it == weights.end() ? fallback : it->second;
}

bool OsRules::known_nt(const std::string& nt) const {
    for (const auto& w : windows_versions)
        if (w.nt == nt) return true;
    return false;
}

const WindowsVersion* OsRules::windows_product(const std::string& nt, int build,
                                               const std::string& role) const {
    const WindowsVersion* best = nullptr;
    int best_score = -1;
    for (const auto& w : windows_versions) {
        if (w.nt != nt) continue;
        if (w.build != 0 && w.build != build) continue;
        if (w.role != "any" && w.role != role) continue;
        // The role decides between client and server products; the build refines.
        int score = (w.role != "any" ? 2 : 0) + (w.build != 0 ? 1 : 0);
        if (score > best_score) {
            best = &w;
            best_score = score;
        }
    }
    return best;
}

OsRules OsRules::load(const std::string& fingerprints_path, const std::string& eol_path) {
    return parse(read_file(fingerprints_path), fingerprints_path, read_file(eol_path), eol_path);
}

OsRules OsRules::parse(const std::string& fp_text, const std::string& fp_name,
                       const std::string& eol_text, const std::string& eol_name) {
    OsRules rules;
    std::vector<std::string> problems;
    static const std::vector<std::string> kFamilies = {"windows", "linux",    "macos", "ios",
                                                       "android", "embedded", "bsd",   "software"};
    auto known_family = [](const std::string& f) {
        if (f.empty() || f.find('$') != std::string::npos) return true;
        for (const auto& k : kFamilies)
            if (k == f) return true;
        return false;
    };

    // ---- os-eol.yaml
    {
        Problems p{eol_name, problems};
        YAML::Node root = load_yaml(eol_text, eol_name);
        if (!root.IsMap() || !root["products"].IsSequence()) {
            p.add(root, "expected a mapping with a 'products' list");
        } else {
            for (const auto& e : root["products"]) {
                if (!e.IsMap()) {
                    p.add(e, "each product must be a mapping");
                    continue;
                }
                SupportEntry s;
                s.file = eol_name;
                s.line = p.line(e);
                s.id = p.text(e, "id", true);
                s.name = p.text(e, "name", true);
                s.family = p.text(e, "family", true);
                s.source = p.text(e, "source", true);
                s.note = p.text(e, "note", false);
                s.extended_note = p.text(e, "extended_note", false);
                s.end_of_support = p.day(e, "end_of_support");
                s.extended_until = p.day(e, "extended_until");
                if (e["check"].IsDefined()) {
                    const YAML::Node c = e["check"];
                    if (!c.IsMap()) {
                        p.add(c,
                              "check must be a mapping (earliest_end, earliest_name, settle, "
                              "source)");
                    } else {
                        s.check_earliest_end = p.day(c, "earliest_end");
                        s.check_earliest_name = p.text(c, "earliest_name", true);
                        s.check_settle = p.text(c, "settle", true);
                        s.check_source = p.text(c, "source", true);
                        if (!s.check_earliest_end) p.add(c, "check needs earliest_end");
                    }
                }
                if (!known_family(s.family))
                    p.add(e["family"], "unknown family '" + s.family + "'");
                if (!s.id.empty() && rules.product(s.id))
                    p.add(e, "product id '" + s.id + "' is listed twice");
                rules.products.push_back(std::move(s));
            }
        }
        if (root.IsMap() && root["ending_soon_days"].IsDefined())
            rules.ending_soon_days =
                static_cast<int>(p.number(root, "ending_soon_days", 180, 1, 3650));
    }

    // ---- os-fingerprints.yaml
    Problems p{fp_name, problems};
    YAML::Node root = load_yaml(fp_text, fp_name);
    if (!root.IsMap()) {
        p.add(root, "expected a mapping");
        throw RulesError(problems);
    }
    if (auto w = root["weights"]; w.IsMap()) {
        for (const auto& kv : w) {
            double d = p.number(w, kv.first.Scalar().c_str(), -1, 0, 1);
            if (d >= 0) rules.weights[kv.first.Scalar()] = d;
        }
    }
    if (auto f = root["p0f_families"]; f.IsMap()) {
        for (const auto& kv : f) {
            std::string fam = kv.second.as<std::string>("");
            if (!known_family(fam)) p.add(kv.second, "unknown family '" + fam + "'");
            rules.p0f_families[kv.first.Scalar()] = fam;
        }
    }
    if (auto s = root["server_ports"]; s.IsSequence()) {
        for (const auto& port : s) {
            int v = 0;
            if (!port.IsScalar() || !YAML::convert<int>::decode(port, v) || v < 1 || v > 65535)
                p.add(port, "server_ports entries must be port numbers");
            else
                rules.server_ports.push_back(static_cast<std::uint16_t>(v));
        }
    }
    if (auto list = root["cleartext_logins"]; list.IsDefined()) {
        if (!list.IsSequence()) p.add(list, "cleartext_logins must be a list");
        for (const auto& e : list) {
            if (!e.IsMap()) {
                p.add(e, "each cleartext_logins entry must be a mapping");
                continue;
            }
            CleartextLoginRule r;
            r.line = p.line(e);
            r.protocol = p.text(e, "protocol", true);
            r.source = p.text(e, "source", true);
            auto port = e["port"];
            int v = 0;
            if (!port.IsScalar() || !YAML::convert<int>::decode(port, v) || v < 1 || v > 65535)
                p.add(port.IsDefined() ? port : YAML::Node(e), "port must be a TCP port number");
            else
                r.port = static_cast<std::uint16_t>(v);
            std::string style = p.text(e, "style", true);
            if (style == "ftp")
                r.style = CleartextLoginRule::Style::ftp;
            else if (style == "prompt")
                r.style = CleartextLoginRule::Style::prompt;
            else if (!style.empty())
                p.add(e["style"], "style must be ftp or prompt, got '" + style + "'");
            for (const auto& other : rules.cleartext_logins)
                if (r.port && other.port == r.port)
                    p.add(port, "port " + std::to_string(r.port) + " is listed twice");
            rules.cleartext_logins.push_back(std::move(r));
        }
    }
    if (auto nw = root["not_windows"]; nw.IsDefined()) {
        if (!nw.IsMap()) p.add(nw, "not_windows must be a mapping");
        if (auto n = nw["ntlm_build_below"]; nw.IsMap() && n.IsDefined()) {
            NotWindowsRules& r = rules.not_windows;
            r.ntlm_build_below = static_cast<int>(p.number(n, "build", 0, 1, 100000));
            if (!n["build"].IsDefined()) p.add(n, "missing 'build'");
            r.ntlm_family = p.text(n, "family", true);
            if (!r.ntlm_family.empty() && !known_family(r.ntlm_family))
                p.add(n["family"], "unknown family '" + r.ntlm_family + "'");
            r.ntlm_version = p.text(n, "version", true);
            r.ntlm_weight = p.number(n, "weight", 0.4, 0, 1);
            r.ntlm_source = p.text(n, "source", true);
        }
        if (auto b = nw["browser_server_type"]; nw.IsMap() && b.IsDefined()) {
            NotWindowsRules& r = rules.not_windows;
            std::string bits = p.text(b, "bits", true);
            unsigned long v = 0;
            try {
                std::size_t used = 0;
                v = std::stoul(bits, &used, 0);
                if (used != bits.size() || v == 0 || v > 0xffffffffUL) v = 0;
            } catch (const std::exception&) {
                v = 0;
            }
            if (!bits.empty() && v == 0)
                p.add(b["bits"], "bits must be a non-zero 32-bit number such as 0x800");
            r.browser_type_bits = static_cast<std::uint32_t>(v);
            r.browser_family = p.text(b, "family", true);
            if (!r.browser_family.empty() && !known_family(r.browser_family))
                p.add(b["family"], "unknown family '" + r.browser_family + "'");
            r.browser_version = p.text(b, "version", true);
            r.browser_weight_factor = p.number(b, "weight_factor", 0.8, 0, 1);
            r.browser_source = p.text(b, "source", true);
        }
    }
    if (auto list = root["windows_versions"]; list.IsSequence()) {
        for (const auto& e : list) {
            WindowsVersion w;
            w.line = p.line(e);
            w.nt = p.text(e, "nt", true);
            std::string build = p.text(e, "build", false);
            if (!build.empty()) {
                auto b = to_int(build);
                if (!b)
                    p.add(e["build"], "build must be a number");
                else
                    w.build = *b;
            }
            w.role = p.text(e, "role", false);
            if (w.role.empty()) w.role = "any";
            if (w.role != "any" && w.role != "client" && w.role != "server")
                p.add(e["role"], "role must be client, server or any");
            w.product = p.text(e, "product", true);
            w.source = p.text(e, "source", true);
            if (!w.product.empty() && !rules.product(w.product))
                p.add(e["product"], "product '" + w.product + "' is not in " + eol_name);
            rules.windows_versions.push_back(std::move(w));
        }
    }
    if (auto list = root["patterns"]; list.IsSequence()) {
        for (const auto& e : list) {
            PatternRule r;
            r.file = fp_name;
            r.line = p.line(e);
            r.id = p.text(e, "id", true);
            r.evidence = p.text(e, "evidence", true);
            r.source = p.text(e, "source", true);
            r.weight = p.number(e, "weight", 0.5, 0, 1);
            int kinds = 0;
            for (auto [key, kind] : {std::pair{"equals", PatternRule::Kind::equals},
                                     std::pair{"prefix", PatternRule::Kind::prefix},
                                     std::pair{"contains", PatternRule::Kind::contains},
                                     std::pair{"regex", PatternRule::Kind::regex}}) {
                std::string t = p.text(e, key, false);
                if (t.empty()) continue;
                ++kinds;
                r.kind = kind;
                r.text = t;
            }
            if (kinds != 1) p.add(e, "give exactly one of equals, prefix, contains, regex");
            if (r.kind == PatternRule::Kind::regex && kinds == 1) {
                try {
                    r.re = std::regex(r.text, std::regex::ECMAScript | std::regex::optimize);
                } catch (const std::regex_error& ex) {
                    p.add(e["regex"], std::string("bad regex: ") + ex.what());
                }
            }
            auto os = e["os"];
            if (!os.IsMap()) {
                p.add(e, "missing 'os' mapping (family, nt, product, version, role)");
            } else {
                r.os.family = p.text(os, "family", false);
                r.os.nt = p.text(os, "nt", false);
                r.os.product = p.text(os, "product", false);
                r.os.version = p.text(os, "version", false);
                r.os.role = p.text(os, "role", false);
                if (!known_family(r.os.family))
                    p.add(os["family"], "unknown family '" + r.os.family + "'");
                if (!r.os.product.empty() && r.os.product.find('$') == std::string::npos &&
                    !rules.product(r.os.product))
                    p.add(os["product"], "product '" + r.os.product + "' is not in " + eol_name);
            }
            rules.patterns.push_back(std::move(r));
        }
    }
    if (auto list = root["tcp"]; list.IsSequence()) {
        for (const auto& e : list) {
            TcpRule r;
            r.file = fp_name;
            r.line = p.line(e);
            r.label = p.text(e, "label", true);
            r.family = p.text(e, "family", true);
            r.source = p.text(e, "source", true);
            r.weight = p.number(e, "weight", rules.weight("tcp", 0.35), 0, 1);
            std::string dir = p.text(e, "direction", false);
            if (dir == "response")
                r.response = true;
            else if (!dir.empty() && dir != "request")
                p.add(e["direction"], "direction must be request or response");
            if (!known_family(r.family)) p.add(e["family"], "unknown family '" + r.family + "'");
            std::string err;
            auto sig = TcpSignature::parse(p.text(e, "sig", true), &err);
            if (!sig)
                p.add(e["sig"], "bad signature: " + err);
            else
                r.sig = *sig;
            rules.tcp.push_back(std::move(r));
        }
    }
    if (!problems.empty()) throw RulesError(problems);
    return rules;
}

std::size_t OsRules::add_p0f(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    int number = 0;
    std::string section, label, family;
    bool generic = false;
    std::size_t added = 0;
    auto trim = [](std::string s) {
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
            s.pop_back();
        std::size_t i = 0;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        return s.substr(i);
    };
    while (std::getline(in, line)) {
        ++number;
        line = trim(line);
        if (line.empty() || line[0] == ';') continue;
        auto where = name + ":" + std::to_string(number) + ": ";
        if (line[0] == '[') {
            section = line;
            label.clear();
            continue;
        }
        bool in_tcp = section == "[tcp:request]" || section == "[tcp:response]";
        auto eq = line.find('=');
        if (eq == std::string::npos) {
            warnings.push_back(where + "expected 'key = value'");
            continue;
        }
        std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
        if (!in_tcp) continue;  // [mtu], [http:*] and the classes line are not used
        if (key == "label") {
            // [sg]:class:name:flavor
            auto f = split(value, ':');
            if (f.size() < 4 || (f[0] != "s" && f[0] != "g")) {
                warnings.push_back(where + "label must be s|g:class:name:flavor");
                label.clear();
                continue;
            }
            generic = f[0] == "g";
            auto it = p0f_families.find(f[2]);
            family = it == p0f_families.end() ? std::string() : it->second;
            label = f[2] + (f[3].empty() ? "" : " " + f[3]);
            for (std::size_t i = 4; i < f.size(); ++i) label += ":" + f[i];
        } else if (key == "sig") {
            if (label.empty()) {
                warnings.push_back(where + "sig before any label");
                continue;
            }
            if (family.empty()) continue;  // tools, robots and OSes we do not name
            std::string err;
            auto sig = TcpSignature::parse(value, &err);
            if (!sig) {
                warnings.push_back(where + "bad signature: " + err);
                continue;
            }
            TcpRule r;
            r.label = label;
            r.family = family;
            r.response = section == "[tcp:response]";
            r.generic = generic;
            r.sig = *sig;
            r.weight = weight("tcp", 0.35) * (generic ? 0.6 : 1.0);
            r.source = "p0f database " + name;
            r.from_p0f = true;
            r.file = name;
            r.line = number;
            tcp.push_back(std::move(r));
            ++added;
        } else if (key != "sys") {
            warnings.push_back(where + "unknown key '" + key + "'");
        }
    }
    return added;
}

}  // namespace clinicwatch
