#include "daemon/map/network_map.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "daemon/incidents/describe.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/svg_text.hpp"
#include "daemon/report/template.hpp"

namespace clinicwatch {

namespace {

// Elements first seen this long after the sensor's very first packet appeared meanwhile (the
// sensor's own start shows everything at once).
constexpr Timestamp kSettling = 60 * kMicrosPerSecond;

nlohmann::json parse_or(const std::string& text, nlohmann::json fallback) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    return j.is_discarded() ? fallback : j;
}

std::string label(const nlohmann::json& messages, const char* key) {
    if (messages.contains("map") && messages["map"].contains(key) &&
        messages["map"][key].is_string())
        return messages["map"][key].get<std::string>();
    return key;
}

std::string role_label(const nlohmann::json& messages, const std::string& role) {
    if (messages.contains("roles") && messages["roles"].contains(role) &&
        messages["roles"][role].is_string())
        return messages["roles"][role].get<std::string>();
    return role;
}

// Same device when the MACs share their first five bytes: a switch's bridge MAC, its chassis
// MAC and its port MACs are consecutive addresses of one block.
bool same_block(const std::string& a, const std::string& b) {
    return a.size() == 17 && b.size() == 17 && a.compare(0, 14, b, 0, 14) == 0;
}

std::string first_v4(const nlohmann::json& addresses) {
    for (const auto& a : addresses)
        if (a.is_string() && a.get<std::string>().find(':') == std::string::npos)
            return a.get<std::string>();
    return {};
}

}  // namespace

nlohmann::json network_summary(SQLite::Database& db, const nlohmann::json& messages, Timestamp from,
                               Timestamp to) {
    struct Row {
        std::string kind, key;
        int vlan;
        nlohmann::json attributes, evidence;
        Timestamp first, last;
    };
    std::vector<Row> rows;
    if (db.tableExists("topology")) {
        SQLite::Statement st(db,
                             "SELECT kind, vlan, key, attributes, evidence, first_seen, last_seen "
                             "FROM topology ORDER BY first_seen, key");
        while (st.executeStep())
            rows.push_back({st.getColumn(0).getString(), st.getColumn(2).getString(),
                            st.getColumn(1).getInt(),
                            parse_or(st.getColumn(3).getString(), nlohmann::json::object()),
                            parse_or(st.getColumn(4).getString(), nlohmann::json::array()),
                            st.getColumn(5).getInt64(), st.getColumn(6).getInt64()});
    }
    Timestamp first_ever = 0, last_any = 0, first_any = INT64_MAX;
    for (const auto& r : rows) {
        last_any = std::max(last_any, r.last);
        first_any = std::min(first_any, r.first);
    }
    {
        SQLite::Statement st(db, "SELECT value FROM meta WHERE key = 'first_packet_us'");
        if (st.executeStep()) first_ever = std::stoll("0" + st.getColumn(0).getString());
    }
    if (!first_ever) first_ever = first_any == INT64_MAX ? 0 : first_any;
    if (!to) to = last_any;
    if (!from) from = first_ever;
    auto is_new = [&](Timestamp t) { return t >= from && t >= first_ever + kSettling; };

    nlohmann::json assets = load_assets(db, messages, 0, to ? to : INT64_MAX);
    DeviceNames names(messages, assets);
    std::map<std::string, const nlohmann::json*> asset_of;
    for (const auto& a : assets) asset_of[a.value("mac", "")] = &a;
    auto ip_of = [&](const std::string& mac) {
        auto it = asset_of.find(mac);
        return it == asset_of.end() ? std::string() : first_v4((*it->second)["addresses"]);
    };
    // A device is as new as the first sign of it: its first frame, not the first frame that
    // showed it routing.
    auto first_of = [&](const std::string& mac, Timestamp t) {
        auto it = asset_of.find(mac);
        if (it != asset_of.end()) t = std::min(t, it->second->value("first_seen_us", t));
        return t;
    };
    auto unregistered = [&](const std::string& mac) {
        auto it = asset_of.find(mac);
        return it != asset_of.end() && it->second->value("unregistered", false);
    };
    // A DHCP server that is not the clinic's, or a device taking the router's address.
    std::set<std::string> foreign;
    {
        SQLite::Statement st(
            db,
            "SELECT subject_mac, json_extract(evidence, '$.server_mac') FROM alerts "
            "WHERE kind = 'rogue-dhcp'");
        while (st.executeStep())
            for (int c : {0, 1})
                if (!st.getColumn(c).isNull()) foreign.insert(st.getColumn(c).getString());
    }

    nlohmann::json out;
    out["from_us"] = from;
    out["to_us"] = to;
    std::map<std::string, const Row*> announced;
    for (const auto& r : rows)
        if (r.kind == "announced") announced[r.key] = &r;
    std::set<std::string> infrastructure;

    auto routers = nlohmann::json::array();
    std::set<std::string> router_macs;
    for (const auto& r : rows) {
        if (r.kind != "router") continue;
        const Row* a = announced.count(r.key) ? announced[r.key] : nullptr;
        std::string ip =
            a ? first_v4(a->attributes.value("addresses", nlohmann::json::array())) : std::string();
        if (ip.empty()) ip = ip_of(r.key);
        std::string name = a && !a->attributes.value("name", "").empty()
                               ? a->attributes.value("name", "")
                               : names.name(r.key, ip);
        routers.push_back(
            {{"mac", r.key},
             {"name", name},
             {"ip", ip},
             {"model", a ? a->attributes.value("description", "") : ""},
             {"internet", r.attributes.value("internet", false)},
             {"serves", r.attributes.value("serves", nlohmann::json::array())},
             {"between", r.attributes.value("between", nlohmann::json::array())},
             {"foreign", foreign.count(r.key) > 0},
             {"new", is_new(first_of(r.key, a ? std::min(a->first, r.first) : r.first))},
             {"evidence", r.evidence},
             {"first_seen_us", r.first},
             {"last_seen_us", r.last}});
        router_macs.insert(r.key);
        infrastructure.insert(r.key);
    }
    auto dhcp = nlohmann::json::array();
    for (const auto& r : rows) {
        if (r.kind != "dhcp-server") continue;
        std::string ip = r.attributes.value("server_ip", "");
        dhcp.push_back({{"mac", r.key},
                        {"name", names.name(r.key, ip)},
                        {"server_ip", ip},
                        {"hands_out", r.attributes.value("hands_out", nlohmann::json::array())},
                        {"routers", r.attributes.value("routers", nlohmann::json::array())},
                        {"foreign", foreign.count(r.key) > 0 || unregistered(r.key)},
                        {"new", is_new(first_of(r.key, r.first))},
                        {"first_seen_us", r.first},
                        {"last_seen_us", r.last}});
        infrastructure.insert(r.key);
        // A DHCP server handing out a gateway that is itself (a home router) is a router too.
        bool gateway_is_self = false;
        for (const auto& g : r.attributes.value("routers", nlohmann::json::array()))
            gateway_is_self |= g == ip;
        if (gateway_is_self && !router_macs.count(r.key)) {
            routers.push_back({{"mac", r.key},
                               {"name", names.name(r.key, ip)},
                               {"ip", ip},
                               {"model", ""},
                               {"internet", false},
                               {"serves", r.attributes.value("hands_out", nlohmann::json::array())},
                               {"between", nlohmann::json::array()},
                               {"foreign", foreign.count(r.key) > 0 || unregistered(r.key)},
                               {"new", is_new(first_of(r.key, r.first))},
                               {"evidence", {"dhcp"}},
                               {"first_seen_us", r.first},
                               {"last_seen_us", r.last}});
            router_macs.insert(r.key);
        }
    }
    // Routers that only announce themselves.
    for (const auto& [mac, a] : announced) {
        if (a->attributes.value("role", "") != "router" || router_macs.count(mac)) continue;
        routers.push_back(
            {{"mac", mac},
             {"name", a->attributes.value("name", "")},
             {"ip", first_v4(a->attributes.value("addresses", nlohmann::json::array()))},
             {"model", a->attributes.value("description", "")},
             {"internet", false},
             {"serves", nlohmann::json::array()},
             {"between", nlohmann::json::array()},
             {"foreign", foreign.count(mac) > 0},
             {"new", is_new(a->first)},
             {"evidence", a->evidence},
             {"first_seen_us", a->first},
             {"last_seen_us", a->last}});
        infrastructure.insert(mac);
    }
    out["routers"] = routers;
    out["dhcp_servers"] = dhcp;

    auto switches = nlohmann::json::array(), aps = nlohmann::json::array();
    std::set<std::string> bridges_used;
    auto roots = nlohmann::json::array();
    std::string latest_root;
    Timestamp latest_root_first = -1;
    for (const auto& r : rows)
        if (r.kind == "root-bridge") {
            roots.push_back(r.key);
            if (r.first > latest_root_first) {
                latest_root_first = r.first;
                latest_root = r.key;
            }
        }
    for (const auto& [mac, a] : announced) {
        std::string role = a->attributes.value("role", "");
        if (role != "switch" && role != "access-point") continue;
        nlohmann::json s = {
            {"key", mac},
            {"mac", mac},
            {"name", a->attributes.value("name", "")},
            {"model", a->attributes.value("platform", "").empty()
                          ? a->attributes.value("description", "")
                          : a->attributes.value("platform", "")},
            {"ports", a->attributes.value("ports", nlohmann::json::array())},
            {"addresses", a->attributes.value("addresses", nlohmann::json::array())},
            {"bridge_id", ""},
            {"is_root", false},
            {"root", ""},
            {"evidence", a->evidence},
            {"new", is_new(a->first)},
            {"first_seen_us", a->first},
            {"last_seen_us", a->last}};
        for (const auto& r : rows) {
            if (r.kind != "bridge") continue;
            std::string bmac = r.attributes.value("mac", "");
            if (!same_block(bmac, mac) && !same_block(bmac, a->attributes.value("chassis", "")))
                continue;
            s["bridge_id"] = r.key;
            s["is_root"] = r.key == latest_root;
            s["root"] = r.attributes.value("root", "");
            s["stp_ports"] = r.attributes.value("ports", nlohmann::json::array());
            s["evidence"].push_back("stp");
            bridges_used.insert(r.key);
        }
        infrastructure.insert(mac);
        (role == "switch" ? switches : aps).push_back(std::move(s));
    }
    for (const auto& r : rows) {
        if (r.kind != "bridge" || bridges_used.count(r.key)) continue;
        std::string bmac = r.attributes.value("mac", "");
        std::string vendor;
        for (const auto& a : assets)
            if (same_block(a.value("mac", ""), bmac)) vendor = a.value("vendor", "");
        switches.push_back({{"key", r.key},
                            {"mac", bmac},
                            {"name", "STP " + r.key},
                            {"model", vendor},
                            {"ports", nlohmann::json::array()},
                            {"addresses", nlohmann::json::array()},
                            {"bridge_id", r.key},
                            {"is_root", r.key == latest_root},
                            {"root", r.attributes.value("root", "")},
                            {"stp_ports", r.attributes.value("ports", nlohmann::json::array())},
                            {"evidence", {"stp"}},
                            {"new", is_new(r.first)},
                            {"first_seen_us", r.first},
                            {"last_seen_us", r.last}});
        for (const auto& a : assets)
            if (same_block(a.value("mac", ""), bmac)) infrastructure.insert(a.value("mac", ""));
    }
    out["switches"] = switches;
    out["access_points"] = aps;
    out["root_bridges"] = roots;
    out["root_bridge"] = latest_root;

    auto joining = nlohmann::json::array();
    std::set<std::string> joining_macs;
    for (const auto& r : rows) {
        if (r.kind != "multi-homed") continue;
        joining.push_back({{"mac", r.key},
                           {"name", names.name(r.key, ip_of(r.key))},
                           {"addresses", r.attributes.value("addresses", nlohmann::json::array())},
                           {"networks", r.attributes.value("networks", nlohmann::json::array())},
                           {"intended", r.attributes.value("intended", false)}});
        joining_macs.insert(r.key);
    }
    out["joining"] = joining;

    std::map<int, nlohmann::json> segments;
    bool mixed = false;
    for (const auto& r : rows) {
        if (r.kind != "subnet") continue;
        auto net = IpNetwork::parse(r.key);
        if (!net) continue;
        const auto& at = r.attributes;
        bool has_router = at.value("internet", false) ||
                          !at.value("gateways", nlohmann::json::array()).empty() ||
                          !at.value("routers", nlohmann::json::array()).empty();
        auto devices = nlohmann::json::array();
        for (const auto& a : assets) {
            std::string mac = a.value("mac", "");
            if (infrastructure.count(mac) || router_macs.count(mac)) continue;
            std::string in_net;
            for (const auto& ip : a.value("addresses", nlohmann::json::array())) {
                auto addr = ip.is_string() ? IpAddress::parse(ip.get<std::string>()) : std::nullopt;
                if (addr && addr->is_v4() && net->contains(*addr)) in_net = ip.get<std::string>();
            }
            if (in_net.empty() || a.value("vlan", 0) != r.vlan) continue;
            std::string role = a.value("role", "");
            bool known_role = a.value("registered", "") == "yes";
            devices.push_back({{"mac", mac},
                               {"name", names.name(mac, in_net)},
                               {"ip", in_net},
                               {"role", known_role ? role : ""},
                               {"role_label", known_role ? role_label(messages, role) : ""},
                               {"registered", known_role},
                               {"unregistered", a.value("unregistered", false)},
                               {"eos_past", a.value("eos_past", false)},
                               {"eos_check", a.value("eos_check", false)},
                               {"ehr_server", role == "ehr-server"},
                               {"modality", role == "modality"},
                               {"joining", joining_macs.count(mac) > 0},
                               {"new", is_new(a.value("first_seen_us", Timestamp{0}))}});
        }
        nlohmann::json n = {
            {"network", r.key},
            {"name", at.contains("intended") ? at["intended"].value("name", "") : ""},
            {"closed", !has_router},
            {"internet", at.value("internet", false)},
            {"has_router", has_router},
            {"seen_by", r.evidence},
            {"new", is_new(r.first)},
            {"devices", devices}};
        auto& seg = segments[r.vlan];
        if (seg.is_null()) seg = {{"vlan", r.vlan}, {"networks", nlohmann::json::array()}};
        seg["networks"].push_back(std::move(n));
        mixed |= seg["networks"].size() > 1;
    }
    auto seg_list = nlohmann::json::array();
    for (auto& [vlan, s] : segments) seg_list.push_back(std::move(s));
    out["segments"] = seg_list;
    out["mixed"] = mixed;
    return out;
}

nlohmann::json topology_changes(SQLite::Database& db, const nlohmann::json& messages,
                                Timestamp since) {
    auto out = nlohmann::json::array();
    if (!db.tableExists("topology")) return out;
    Timestamp first_ever = 0;
    {
        SQLite::Statement st(db, "SELECT min(first_seen) FROM topology");
        if (st.executeStep() && !st.getColumn(0).isNull()) first_ever = st.getColumn(0).getInt64();
        SQLite::Statement meta(db, "SELECT value FROM meta WHERE key = 'first_packet_us'");
        if (meta.executeStep()) first_ever = std::stoll("0" + meta.getColumn(0).getString());
    }
    Timestamp from = std::max(since, first_ever + kSettling);
    auto line = [&](const char* key, const nlohmann::json& model) {
        if (!messages.contains("map") || !messages["map"].contains(key)) return std::string();
        return render_string(messages["map"][key].get<std::string>(), model);
    };
    SQLite::Statement st(db,
                         "SELECT kind, key, attributes, first_seen FROM topology WHERE first_seen "
                         ">= ? ORDER BY first_seen, kind, key");
    st.bind(1, static_cast<std::int64_t>(from));
    while (st.executeStep()) {
        std::string kind = st.getColumn(0).getString(), key = st.getColumn(1).getString();
        auto a = parse_or(st.getColumn(2).getString(), nlohmann::json::object());
        std::string when = local_minute(st.getColumn(3).getInt64());
        std::string text;
        if (kind == "announced" &&
            (a.value("role", "") == "switch" || a.value("role", "") == "access-point")) {
            std::string model = a.value("platform", "").empty() ? a.value("description", "")
                                                                : a.value("platform", "");
            if (model.size() > 60) model = model.substr(0, 60);
            text = line(a.value("role", "") == "switch" ? "digest_new_switch" : "digest_new_ap",
                        {{"name", a.value("name", key)}, {"model", model}, {"when", when}});
        } else if (kind == "bridge") {
            text = line("digest_new_bridge", {{"bridge", key}, {"when", when}});
        } else if (kind == "subnet") {
            text = line("digest_new_network", {{"network", key}, {"when", when}});
        } else if (kind == "root-bridge") {
            // A root bridge after another one: the spanning tree was rebuilt around a new root.
            SQLite::Statement before(db,
                                     "SELECT key FROM topology WHERE kind = 'root-bridge' AND "
                                     "first_seen < ? ORDER BY first_seen DESC LIMIT 1");
            before.bind(1, st.getColumn(3).getInt64());
            if (before.executeStep())
                text =
                    line("digest_root_changed",
                         {{"from", before.getColumn(0).getString()}, {"to", key}, {"when", when}});
        }
        if (!text.empty()) out.push_back({{"kind", kind}, {"text", text}});
    }
    return out;
}

namespace {

// This drawing's font: ASCII about 0.58 of the font size wide (see svg_text.hpp).
double text_em(const std::string& s) {
    return svg_text::width_em(s, 0.58);
}
std::string fit(const std::string& s, double em) {
    return svg_text::fit(s, em, 0.58);
}

class Svg {
  public:
    void rect(double x, double y, double w, double h, const std::string& style, double r = 6) {
        b_ << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << h
           << "\" rx=\"" << r << "\" " << style << "/>\n";
    }
    void line(double x1, double y1, double x2, double y2, const std::string& style) {
        b_ << "<line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2
           << "\" " << style << "/>\n";
    }
    void text(double x, double y, const std::string& t, double size, const std::string& style = "",
              const char* anchor = "start") {
        b_ << "<text x=\"" << x << "\" y=\"" << y << "\" font-size=\"" << size
           << "\" text-anchor=\"" << anchor << "\" " << style << ">" << escape_markup(t)
           << "</text>\n";
    }
    void circle(double x, double y, double r, const std::string& style) {
        b_ << "<circle cx=\"" << x << "\" cy=\"" << y << "\" r=\"" << r << "\" " << style << "/>\n";
    }
    // A curve below a row, from one box's bottom to another's (links within the row).
    void under(double x1, double x2, double y, const std::string& style) {
        b_ << "<path d=\"M" << x1 << " " << y << " Q" << (x1 + x2) / 2 << " " << y + 30 << " " << x2
           << " " << y << "\" fill=\"none\" " << style << "/>\n";
    }
    std::string body() const { return b_.str(); }

  private:
    std::ostringstream b_;
};

const char* kRed = "#c62828";
const char* kOrange = "#e65100";

// One box of equipment: name, second line, third line; highlighted when it appeared meanwhile.
void equipment(Svg& svg, double x, double y, double w, const std::string& title,
               const std::string& line2, const std::string& line3, bool highlight,
               const std::string& badge, const char* fill) {
    std::string style = std::string("fill=\"") + fill + "\" stroke=\"" +
                        (highlight ? kRed : "#455a64") + "\" stroke-width=\"" +
                        (highlight ? "3" : "1.2") + "\"" +
                        (highlight ? " stroke-dasharray=\"6,3\"" : "");
    svg.rect(x, y, w, 58, style);
    svg.text(x + w / 2, y + 18, fit(title, (w - 10) / 13), 13, "font-weight=\"bold\"", "middle");
    svg.text(x + w / 2, y + 34, fit(line2, (w - 10) / 11), 11, "fill=\"#37474f\"", "middle");
    svg.text(x + w / 2, y + 49, fit(line3, (w - 10) / 10), 10, "fill=\"#546e7a\"", "middle");
    if (!badge.empty()) {
        double bw = text_em(badge) * 11 + 10;
        svg.rect(x + w - bw - 4, y - 10, bw, 16, std::string("fill=\"") + kRed + "\"", 3);
        svg.text(x + w - bw / 2 - 4, y + 2, badge, 11, "fill=\"#ffffff\" font-weight=\"bold\"",
                 "middle");
    }
}

std::vector<std::string> role_order() {
    return {"ehr-server", "pacs",          "modality",
            "nas",        "ehr-client",    "reception",
            "printer",    "label-printer", "eligibility-terminal"};
}

}  // namespace

std::string network_map_svg(const nlohmann::json& s, const nlohmann::json& messages) {
    const double W = 1000;
    Svg svg;
    double y = 28;
    std::string period = local_minute(s.value("from_us", Timestamp{0})) + " – " +
                         local_minute(s.value("to_us", Timestamp{0}));
    svg.text(20, y, label(messages, "title"), 20, "font-weight=\"bold\"");
    svg.text(W - 20, y, period, 12, "fill=\"#546e7a\"", "end");
    y += 20;
    // Internet.
    const double cx = W / 2;
    svg.rect(cx - 90, y, 180, 36, "fill=\"#e3f2fd\" stroke=\"#1565c0\" stroke-width=\"1.5\"", 18);
    svg.text(cx, y + 23, label(messages, "internet"), 14, "font-weight=\"bold\" fill=\"#0d47a1\"",
             "middle");
    double internet_bottom = y + 36;
    y += 70;

    // Routers: those with the internet under it, the others (a foreign home router) beside.
    const auto& routers = s["routers"];
    std::vector<const nlohmann::json*> row;
    for (const auto& r : routers)
        if (r.value("internet", false)) row.push_back(&r);
    for (const auto& r : routers)
        if (!r.value("internet", false)) row.push_back(&r);
    const double rw = 220, gap = 24;
    double total = row.size() * rw + (row.empty() ? 0 : (row.size() - 1) * gap);
    double x = cx - total / 2;
    std::vector<std::pair<double, double>> router_bottoms;
    double main_router_x = cx;
    bool have_main = false;
    for (const auto* r : row) {
        bool internet = r->value("internet", false);
        bool foreign = r->value("foreign", false), fresh = r->value("new", false);
        std::string badge = foreign ? label(messages, "foreign")
                            : fresh ? label(messages, "new")
                                    : "";
        std::string line2 = r->value("ip", "");
        if (!r->value("model", "").empty())
            line2 += (line2.empty() ? "" : "  ") + r->value("model", "").substr(0, 40);
        std::string line3 = label(messages, internet ? "router_internet" : "router_other");
        for (const auto& n : r->value("serves", nlohmann::json::array()))
            line3 += " " + n.get<std::string>();
        equipment(svg, x, y, rw, r->value("name", ""), line2, line3, foreign || fresh, badge,
                  foreign ? "#ffebee" : "#fffde7");
        if (internet)
            svg.line(x + rw / 2, y, cx, internet_bottom, "stroke=\"#1565c0\" stroke-width=\"2\"");
        if (internet && !have_main) {
            main_router_x = x + rw / 2;
            have_main = true;
        }
        router_bottoms.push_back({x + rw / 2, y + 58});
        x += rw + gap;
    }
    double uplink_x = main_router_x, uplink_y = row.empty() ? internet_bottom : y + 58;
    if (!row.empty()) y += 100;

    // Switches and access points; the root bridge first.
    std::vector<const nlohmann::json*> boxes;
    for (const auto& sw : s["switches"])
        if (sw.value("is_root", false)) boxes.push_back(&sw);
    for (const auto& sw : s["switches"])
        if (!sw.value("is_root", false)) boxes.push_back(&sw);
    for (const auto& ap : s["access_points"]) boxes.push_back(&ap);
    if (!boxes.empty()) {
        const double sw_w = std::min(200.0, (W - 40 - (boxes.size() - 1) * 16.0) / boxes.size());
        total = boxes.size() * sw_w + (boxes.size() - 1) * 16.0;
        x = cx - total / 2;
        std::map<std::string, std::pair<double, double>> at;  // bridge id -> top centre
        double root_x = -1;
        for (const auto* b : boxes) {
            bool ap = std::find_if(s["access_points"].begin(), s["access_points"].end(),
                                   [&](const nlohmann::json& j) { return &j == b; }) !=
                      s["access_points"].end();
            std::string kind = label(messages, ap ? "access_point" : "switch");
            if (b->value("is_root", false)) kind += " " + label(messages, "root_bridge");
            std::string addr = first_v4(b->value("addresses", nlohmann::json::array()));
            std::string line3 = kind + (addr.empty() ? "" : "  " + addr);
            bool fresh = b->value("new", false);
            equipment(svg, x, y, sw_w, b->value("name", ""), b->value("model", ""), line3, fresh,
                      fresh ? label(messages, "new") : "", ap ? "#e8f5e9" : "#f3e5f5");
            if (!b->value("bridge_id", "").empty())
                at[b->value("bridge_id", "")] = {x + sw_w / 2, y};
            if (b->value("is_root", false) || root_x < 0) root_x = x + sw_w / 2;
            x += sw_w + 16;
        }
        // Uplinks: the root switch (or the first) to the router; other bridges to their root;
        // access points and switches without STP to the root switch.
        double bx = cx - total / 2;
        for (const auto* b : boxes) {
            double mid = bx + sw_w / 2;
            std::string root = b->value("root", "");
            if (mid == root_x)
                svg.line(mid, y, uplink_x, uplink_y, "stroke=\"#455a64\" stroke-width=\"2\"");
            else if (at.count(root))
                svg.under(mid, at[root].first, y + 58,
                          "stroke=\"#7b1fa2\" stroke-width=\"1.5\" stroke-dasharray=\"4,3\"");
            else
                svg.under(mid, root_x, y + 58, "stroke=\"#455a64\" stroke-width=\"1.2\"");
            bx += sw_w + 16;
        }
        uplink_x = root_x;
        uplink_y = y + 58;
        y += 110;
    }

    // Segments: one frame per broadcast domain, its networks side by side, devices by role.
    const double row_h = 17;
    std::map<std::string, std::vector<std::pair<double, double>>> joining_at;
    for (const auto& seg : s["segments"]) {
        const auto& nets = seg["networks"];
        if (nets.empty()) continue;
        double seg_top = y;
        double panel_w = (W - 40 - (nets.size() - 1) * 12.0) / nets.size();
        int sub = std::max(1, static_cast<int>(panel_w / 300));
        double col_w = (panel_w - 16) / sub;
        // Lines per panel: headers and device rows, flowed into `sub` columns.
        struct Line {
            std::string text, group;
            const nlohmann::json* device = nullptr;
        };
        std::vector<std::vector<Line>> panels;
        std::size_t tallest = 0;
        for (const auto& n : nets) {
            std::vector<Line> lines;
            std::map<std::string, std::vector<const nlohmann::json*>> by_role;
            for (const auto& d : n["devices"])
                by_role[d.value("unregistered", false) ? "~unregistered"
                        : d.value("role", "").empty()  ? "~other"
                                                       : d.value("role", "")]
                    .push_back(&d);
            std::vector<std::string> order = role_order();
            for (const auto& [role, list] : by_role)
                if (std::find(order.begin(), order.end(), role) == order.end() && role[0] != '~')
                    order.push_back(role);
            order.push_back("~other");
            order.push_back("~unregistered");
            for (const auto& role : order) {
                auto it = by_role.find(role);
                if (it == by_role.end()) continue;
                std::string heading = role == "~other" ? label(messages, "other_devices")
                                      : role == "~unregistered"
                                          ? label(messages, "unregistered_devices")
                                          : it->second[0]->value("role_label", role);
                lines.push_back({heading + " (" + std::to_string(it->second.size()) + ")", role});
                for (const auto* d : it->second) lines.push_back({"", role, d});
            }
            tallest = std::max(tallest, (lines.size() + sub - 1) / sub);
            panels.push_back(std::move(lines));
        }
        double seg_h = 70 + tallest * row_h + 14;
        std::string seg_title = seg.value("vlan", 0)
                                    ? "VLAN " + std::to_string(seg.value("vlan", 0))
                                    : label(messages, "lan");
        bool mixed = nets.size() > 1;
        svg.rect(16, seg_top, W - 32, seg_h + 24,
                 std::string("fill=\"#fafafa\" stroke=\"") + (mixed ? kRed : "#90a4ae") +
                     "\" stroke-width=\"" + (mixed ? "2.5" : "1.2") + "\"",
                 10);
        svg.text(28, seg_top + 18, seg_title + (mixed ? "  " + label(messages, "mixed") : ""), 13,
                 std::string("font-weight=\"bold\" fill=\"") + (mixed ? kRed : "#263238") + "\"");
        svg.line(uplink_x, uplink_y, uplink_x, seg_top, "stroke=\"#455a64\" stroke-width=\"2\"");
        double px = 24;
        for (std::size_t i = 0; i < nets.size(); ++i) {
            const auto& n = nets[i];
            double top = seg_top + 26;
            bool closed = n.value("closed", false);
            svg.rect(
                px, top, panel_w, seg_h - 8,
                std::string("fill=\"") + (closed ? "#fff8e1" : "#ffffff") + "\" stroke=\"#b0bec5\"",
                6);
            std::string head = n.value("network", "");
            if (!n.value("name", "").empty()) head += "  " + n.value("name", "");
            svg.text(px + 8, top + 18, fit(head, (panel_w - 16) / 13), 13, "font-weight=\"bold\"");
            std::string status = n.value("internet", false) ? label(messages, "internet_access")
                                 : closed                   ? label(messages, "no_router")
                                                            : label(messages, "routed");
            svg.text(px + 8, top + 35, fit(status, (panel_w - 16) / 11), 11,
                     std::string("fill=\"") + (closed ? kOrange : "#2e7d32") + "\"");
            const auto& lines = panels[i];
            std::size_t per_col = (lines.size() + sub - 1) / std::max(1, sub);
            for (std::size_t k = 0; k < lines.size(); ++k) {
                double lx = px + 8 + (per_col ? k / per_col : 0) * col_w;
                double ly = top + 56 + (per_col ? k % per_col : k) * row_h;
                const Line& l = lines[k];
                if (!l.device) {
                    svg.text(lx, ly, fit(l.text, col_w / 11.5), 11.5,
                             "font-weight=\"bold\" fill=\"#37474f\"");
                    continue;
                }
                const auto& d = *l.device;
                // The mark: EHR server (blue), modality (purple square), others grey.
                if (d.value("ehr_server", false))
                    svg.circle(lx + 6, ly - 4, 5, "fill=\"#1565c0\"");
                else if (d.value("modality", false))
                    svg.rect(lx + 1.5, ly - 8.5, 9, 9, "fill=\"#6a1b9a\"", 1);
                else
                    svg.circle(lx + 6, ly - 4, 3.5, "fill=\"#90a4ae\"");
                std::string badges;
                if (d.value("eos_past", false))
                    badges += " " + label(messages, "eos_past");
                else if (d.value("eos_check", false))
                    badges += " " + label(messages, "eos_check");
                if (d.value("unregistered", false)) badges += " " + label(messages, "unregistered");
                if (d.value("joining", false)) badges += " " + label(messages, "joining");
                if (d.value("new", false)) badges += " " + label(messages, "new");
                double avail = col_w - 18;
                double bw = text_em(badges) * 10.5;
                // "maker device (address)" already holds the address.
                std::string shown = d.value("name", "");
                if (shown.find(d.value("ip", "")) == std::string::npos)
                    shown += "  " + d.value("ip", "");
                std::string name = fit(shown, std::max(6.0, (avail - bw) / 11.5));
                svg.text(lx + 15, ly, name, 11.5,
                         d.value("ehr_server", false) || d.value("modality", false)
                             ? "font-weight=\"bold\""
                             : "");
                if (!badges.empty())
                    svg.text(lx + col_w - 6, ly, badges, 10.5,
                             std::string("fill=\"") +
                                 (d.value("eos_past", false) ? kRed : kOrange) +
                                 "\" font-weight=\"bold\"",
                             "end");
                if (d.value("joining", false))
                    joining_at[d.value("mac", "")].push_back({lx + 6, ly - 4});
            }
            px += panel_w + 12;
        }
        y = seg_top + seg_h + 40;
    }
    // A device in two networks: a red line between its two places.
    for (const auto& [mac, places] : joining_at)
        for (std::size_t i = 1; i < places.size(); ++i)
            svg.line(places[i - 1].first, places[i - 1].second, places[i].first, places[i].second,
                     std::string("stroke=\"") + kRed +
                         "\" stroke-width=\"2\" stroke-dasharray=\"5,3\" opacity=\"0.8\"");

    // Legend.
    svg.circle(30, y, 5, "fill=\"#1565c0\"");
    svg.text(40, y + 4, label(messages, "ehr_server"), 11);
    svg.rect(175, y - 5, 9, 9, "fill=\"#6a1b9a\"", 1);
    svg.text(190, y + 4, label(messages, "modality"), 11);
    svg.rect(320, y - 7, 26, 14,
             std::string("fill=\"none\" stroke=\"") + kRed +
                 "\" stroke-width=\"2.5\" stroke-dasharray=\"6,3\"",
             3);
    svg.text(352, y + 4, label(messages, "legend_new"), 11);
    svg.text(560, y + 4, label(messages, "legend_badges"), 11, "fill=\"#546e7a\"");
    y += 24;

    std::ostringstream doc;
    doc << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << W << " " << y
        << "\" width=\"" << W << "\" height=\"" << y << "\" font-family=\"sans-serif\">\n<title>"
        << escape_markup(label(messages, "title"))
        << "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        << svg.body() << "</svg>\n";
    return doc.str();
}

namespace {

std::string dot_id(const std::string& prefix, const std::string& key) {
    std::string out = prefix;
    for (char c : key) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return out;
}

std::string dot_text(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
    return out + "\"";
}

}  // namespace

std::string network_map_dot(const nlohmann::json& s, const nlohmann::json& messages) {
    std::ostringstream d;
    d << "// " << label(messages, "title") << "\n";
    d << "graph clinic {\n  rankdir=TB;\n  node [shape=box, style=rounded, "
         "fontname=\"sans-serif\"];\n";
    d << "  internet [shape=ellipse, label=" << dot_text(label(messages, "internet")) << "];\n";
    std::string uplink = "internet";
    for (const auto& r : s["routers"]) {
        std::string id = dot_id("router_", r.value("mac", ""));
        bool flagged = r.value("foreign", false) || r.value("new", false);
        d << "  " << id << " [label="
          << dot_text(r.value("name", "") + "\n" + r.value("ip", "") + "\n" + r.value("mac", ""))
          << (flagged ? ", color=red, penwidth=2, style=\"rounded,dashed\"" : "") << "];\n";
        if (r.value("internet", false)) {
            d << "  internet -- " << id << ";\n";
            if (uplink == "internet") uplink = id;
        }
    }
    std::string root_id;
    for (const char* list : {"switches", "access_points"})
        for (const auto& b : s[list]) {
            std::string id = dot_id("dev_", b.value("key", ""));
            std::string kind =
                label(messages, list == std::string("switches") ? "switch" : "access_point");
            if (b.value("is_root", false)) kind += " " + label(messages, "root_bridge");
            d << "  " << id << " [label="
              << dot_text(b.value("name", "") + "\n" + b.value("model", "") + "\n" + kind)
              << (b.value("new", false) ? ", color=red, penwidth=2" : "") << "];\n";
            if (b.value("is_root", false) || root_id.empty()) root_id = id;
        }
    for (const char* list : {"switches", "access_points"})
        for (const auto& b : s[list]) {
            std::string id = dot_id("dev_", b.value("key", ""));
            std::string root = b.value("root", "");
            std::string parent = root_id == id ? uplink : root_id;
            for (const auto& other : s["switches"])
                if (!root.empty() && other.value("bridge_id", "") == root &&
                    other.value("key", "") != b.value("key", ""))
                    parent = dot_id("dev_", other.value("key", ""));
            d << "  " << parent << " -- " << id << ";\n";
        }
    std::string lan_uplink = root_id.empty() ? uplink : root_id;
    int cluster = 0;
    for (const auto& seg : s["segments"]) {
        for (const auto& n : seg["networks"]) {
            std::string cid = "net" + std::to_string(cluster++);
            d << "  subgraph cluster_" << cid << " {\n    label="
              << dot_text(n.value("network", "") +
                          (n.value("name", "").empty() ? "" : " " + n.value("name", "")) + "\n" +
                          label(messages, n.value("internet", false) ? "internet_access"
                                          : n.value("closed", false) ? "no_router"
                                                                     : "routed"))
              << ";\n";
            d << "    " << cid << " [shape=point, label=\"\"];\n";
            for (const auto& dev : n["devices"]) {
                std::string text = dev.value("name", "") + "\n" + dev.value("ip", "");
                if (!dev.value("role_label", "").empty())
                    text += "\n" + dev.value("role_label", "");
                if (dev.value("unregistered", false))
                    text += "\n" + label(messages, "unregistered");
                if (dev.value("eos_past", false)) text += "\n" + label(messages, "eos_past");
                d << "    " << dot_id(cid + "_", dev.value("mac", ""))
                  << " [label=" << dot_text(text)
                  << (dev.value("unregistered", false) || dev.value("eos_past", false)
                          ? ", color=red"
                          : "")
                  << "];\n";
            }
            d << "  }\n  " << lan_uplink << " -- " << cid << ";\n";
        }
    }
    // A device in two networks: its two nodes joined by a red edge.
    for (const auto& j : s["joining"]) {
        std::vector<std::string> ids;
        int c = 0;
        for (const auto& seg : s["segments"])
            for (const auto& n : seg["networks"]) {
                std::string cid = "net" + std::to_string(c++);
                for (const auto& dev : n["devices"])
                    if (dev.value("mac", "") == j.value("mac", ""))
                        ids.push_back(dot_id(cid + "_", dev.value("mac", "")));
            }
        for (std::size_t i = 1; i < ids.size(); ++i)
            d << "  " << ids[i - 1] << " -- " << ids[i]
              << " [color=red, style=dashed, penwidth=2];\n";
    }
    d << "}\n";
    return d.str();
}

}  // namespace clinicwatch
