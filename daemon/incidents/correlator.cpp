// The rules of correlation: which alerts are one physical event or one device's conditions.
// Each rule claims the alerts it groups; an alert no rule claims is an incident on its own.
#include <algorithm>
#include <map>
#include <set>

#include "daemon/incidents/incidents.hpp"

#include "analyzers/findings.hpp"

namespace clinicwatch {

namespace {

// A topology change announced up to this long before or after a loop or storm belongs to it
// (a TC lasts up to 35 s; the loop detector's quiet period to end an incident is similar).
constexpr Timestamp kOverlapSlack = 60 * kMicrosPerSecond;

const std::set<std::string>& standing_kinds() {
    static const std::set<std::string> kinds = {
        "legacy-os",         "os-support-ending", "os-support-check",
        "internet-explorer", "smb1-in-use",       "legacy-tls",
        "cleartext-login",   "legacy-ssh",        "ntlmv1",
    };
    return kinds;
}

std::string text_of(const nlohmann::json& j, const char* field) {
    if (!j.is_object()) return {};
    auto it = j.find(field);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void add_unique(nlohmann::json& list, const nlohmann::json& value) {
    if (value.is_null() || (value.is_string() && value.get<std::string>().empty())) return;
    if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

class Grouper {
  public:
    explicit Grouper(const std::vector<AlertRecord>& alerts) : alerts_(alerts) {
        for (const auto& a : alerts_) by_kind_[a.kind].push_back(&a);
    }

    std::vector<const AlertRecord*> free_of(const std::string& kind) const {
        std::vector<const AlertRecord*> out;
        auto it = by_kind_.find(kind);
        if (it == by_kind_.end()) return out;
        for (const auto* a : it->second)
            if (!claimed_.count(a->id)) out.push_back(a);
        return out;
    }

    // The unclaimed unregistered-device alert of this MAC, if any.
    const AlertRecord* unregistered(const std::string& mac) const {
        for (const auto* a : free_of("unregistered-device"))
            if (a->subject_mac == mac) return a;
        return nullptr;
    }

    // Every alert of a kind, claimed or not.
    std::vector<const AlertRecord*> all_of(const std::string& kind) const {
        auto it = by_kind_.find(kind);
        return it == by_kind_.end() ? std::vector<const AlertRecord*>{} : it->second;
    }

    Incident& open(const std::string& key, const std::string& kind, const std::string& mac) {
        Incident& in = out_[key];
        if (in.key.empty()) {
            in.key = key;
            in.kind = kind;
            in.subject_mac = mac;
        }
        return in;
    }

    Incident* find(const std::string& key) {
        auto it = out_.find(key);
        return it == out_.end() ? nullptr : &it->second;
    }
    std::vector<std::string> keys_of(const std::string& kind) const {
        std::vector<std::string> out;
        for (const auto& [key, in] : out_)
            if (in.kind == kind) out.push_back(key);
        return out;
    }

    void add(Incident& in, const AlertRecord& a) {
        if (!claimed_.insert(a.id).second) return;
        if (in.alerts.empty()) {
            in.first_seen = a.first_seen;
            in.last_seen = a.last_seen;
        }
        in.alerts.push_back(a.id);
        in.severity = std::max(in.severity, a.severity);
        in.first_seen = std::min(in.first_seen, a.first_seen);
        in.last_seen = std::max(in.last_seen, a.last_seen);
        // Only events the analyzers end (a loop, a storm, a flood) can be "still going on";
        // other alerts have no end.
        in.ongoing = in.ongoing || (a.ongoing && a.status != "resolved" && is_episode_kind(a.kind));
        if (a.status != "resolved") in.status = "open";
        members_[in.key].push_back(&a);
    }

    std::vector<Incident> finish() {
        for (const auto& a : alerts_) {
            if (claimed_.count(a.id)) continue;
            // The daily summary of phones with changing MACs is not "a device joined".
            bool phones = a.kind == "unregistered-device" && a.evidence.contains("devices_total");
            Incident& in =
                open("alert:" + a.key, phones ? "randomized-devices" : a.kind, a.subject_mac);
            in.facts = a.evidence.is_object() ? a.evidence : nlohmann::json::object();
            in.facts["subject"] = a.subject;
            in.facts["count"] = a.count;
            add(in, a);
        }
        std::vector<Incident> out;
        for (auto& [key, in] : out_) {
            if (in.alerts.empty()) continue;
            if (in.status.empty()) in.status = "resolved";
            std::sort(in.alerts.begin(), in.alerts.end());
            std::map<std::int64_t, std::int64_t> revisions;
            for (const auto* a : members_[key]) revisions[a->id] = a->revision;
            for (const auto& [id, rev] : revisions)
                in.fingerprint += std::to_string(id) + ":" + std::to_string(rev) + ",";
            out.push_back(std::move(in));
        }
        std::sort(out.begin(), out.end(), [](const Incident& a, const Incident& b) {
            if (a.severity != b.severity) return a.severity > b.severity;
            if (a.first_seen != b.first_seen) return a.first_seen < b.first_seen;
            return a.key < b.key;
        });
        return out;
    }

  private:
    const std::vector<AlertRecord>& alerts_;
    std::map<std::string, std::vector<const AlertRecord*>> by_kind_;
    std::set<std::int64_t> claimed_;
    std::map<std::string, Incident> out_;
    std::map<std::string, std::vector<const AlertRecord*>> members_;
};

bool overlaps(const AlertRecord& a, Timestamp first, Timestamp last) {
    return a.first_seen <= last + kOverlapSlack && a.last_seen + kOverlapSlack >= first;
}

// A loop (or a storm with no loop) and what it caused at the same time: the storm alert it
// began as, STP topology changes, ARP storms on the whole LAN.
void group_loops(Grouper& g) {
    for (const char* lead_kind : {"l2-loop", "broadcast-storm"}) {
        for (const auto* lead : g.free_of(lead_kind)) {
            Incident& in = g.open(lead_kind + std::string(":") + lead->key, lead_kind, "");
            g.add(in, *lead);
            nlohmann::json hosts = nlohmann::json::array(), bridges = nlohmann::json::array();
            for (const auto& f :
                 lead->evidence.value("top_repeated_frames", nlohmann::json::array()))
                add_unique(hosts, f.value("src_mac", ""));
            for (const auto& b :
                 lead->evidence.value("stp_topology_changes", nlohmann::json::array()))
                add_unique(bridges, b.value("src_mac", b.value("bridge", "")));
            for (const char* kind : {"broadcast-storm", "stp-topology-change", "arp-storm"}) {
                for (const auto* a : g.free_of(kind)) {
                    if (!overlaps(*a, lead->first_seen, lead->last_seen)) continue;
                    if (std::string(kind) == "arp-storm" && !a->subject_mac.empty()) continue;
                    g.add(in, *a);
                    if (std::string(kind) == "stp-topology-change")
                        add_unique(bridges, a->subject_mac.empty() ? text_of(a->evidence, "bridge")
                                                                   : a->subject_mac);
                }
            }
            in.facts = {{"hosts", hosts},
                        {"bridges", bridges},
                        {"peak_fps", lead->evidence.value("peak_repeated_frames_per_second",
                                                          lead->evidence.value("peak_fps", 0))},
                        {"seconds", (lead->last_seen - lead->first_seen) / kMicrosPerSecond},
                        {"ended", !lead->ongoing}};
        }
    }
}

// A router somebody plugged in: the DHCP server that is not ours, its claims on the gateway's
// address, and its unregistered-device alert.
void group_foreign_routers(Grouper& g) {
    for (const auto* a : g.free_of("rogue-dhcp")) {
        std::string mac = text_of(a->evidence, "server_mac");
        if (mac.empty()) mac = a->subject_mac;
        // A capture without MACs (raw IP) names the server by its address only.
        const std::string server_ip = text_of(a->evidence, "server_ip");
        Incident& in =
            g.open("foreign-router:" + (mac.empty() ? server_ip : mac), "foreign-router", mac);
        if (in.alerts.empty())
            in.facts = {{"device_mac", mac},
                        {"device_ip", mac.empty() ? server_ip : ""},
                        {"server_ips", nlohmann::json::array()},
                        {"gateway_claims", nlohmann::json::array()},
                        {"offered", nlohmann::json::array()}};
        g.add(in, *a);
        add_unique(in.facts["server_ips"], text_of(a->evidence, "server_ip"));
        add_unique(in.facts["offered"], text_of(a->evidence, "offered_ip"));
    }
    for (const auto* a : g.free_of("gateway-mac-change")) {
        std::string mac = text_of(a->evidence, "new_mac");
        if (mac.empty()) mac = a->subject_mac;
        if (Incident* in = g.find("foreign-router:" + mac)) {
            g.add(*in, *a);
            add_unique(in->facts["gateway_claims"], text_of(a->evidence, "ip"));
        }
    }
    for (const auto& key : g.keys_of("foreign-router"))
        if (Incident* in = g.find(key))
            if (const auto* u = g.unregistered(in->subject_mac)) g.add(*in, *u);
}

// Two IP networks in one broadcast domain (issue 18): one incident per segment naming the
// networks and the devices joining them. When the second network is only the one a foreign
// router hands out, it is that router's doing and joins its incident.
void group_mixed_segments(Grouper& g) {
    std::set<std::string> foreign;
    for (const auto& key : g.keys_of("foreign-router"))
        if (Incident* in = g.find(key)) foreign.insert(in->subject_mac);
    for (const auto* a : g.free_of("mixed-segment")) {
        const auto& e = a->evidence;
        auto joining = e.value("joining", nlohmann::json::array());
        auto networks = e.value("networks", nlohmann::json::array());
        if (joining.empty() && !foreign.empty()) {
            std::string by;
            std::size_t own = 0;
            for (const auto& n : networks) {
                std::string server;
                bool all_foreign = true, any = false;
                for (const char* field : {"dhcp_servers", "routers"})
                    for (const auto& m : n.value(field, nlohmann::json::array())) {
                        any = true;
                        if (m.is_string() && foreign.count(m.get<std::string>()))
                            server = m.get<std::string>();
                        else
                            all_foreign = false;
                    }
                if (any && all_foreign && !server.empty())
                    by = server;
                else
                    ++own;
            }
            if (!by.empty() && own <= 1) {
                if (Incident* in = g.find("foreign-router:" + by)) {
                    g.add(*in, *a);
                    continue;
                }
            }
        }
        Incident& in = g.open("mixed-segment:" + a->key, "mixed-segment", "");
        nlohmann::json list = nlohmann::json::array(), macs = nlohmann::json::array(),
                       addresses = nlohmann::json::array();
        for (const auto& n : networks) {
            std::string text = n.value("network", "");
            std::string name = n.value("intended_name", "");
            list.push_back(name.empty() ? text : text + " (" + name + ")");
        }
        for (const auto& j : joining) {
            add_unique(macs, j.value("mac", ""));
            auto addr = j.value("addresses", nlohmann::json::array());
            addresses.push_back(addr.empty() ? "" : addr[0]);
        }
        if (!macs.empty()) in.subject_mac = macs[0].get<std::string>();
        int vlan = e.value("vlan", 0);
        in.facts = {{"segment", vlan ? "VLAN " + std::to_string(vlan) : std::string()},
                    {"networks_list", list},
                    {"networks_count", list.size()},
                    {"joining_macs", macs},
                    {"joining_addresses", addresses},
                    {"closed_networks", text_of(e, "closed_networks")},
                    {"internet_networks", text_of(e, "internet_networks")},
                    {"closed_to_internet", e.value("closed_to_internet", false)},
                    {"named_closed_reached", text_of(e, "named_closed_reached")}};
        g.add(in, *a);
    }
}

// Another device answering for the gateway's address (ARP spoofing or a swapped router): every
// claim by the same MAC, the IP conflict on that address it causes, its unregistered alert.
void group_gateway_takeovers(Grouper& g) {
    for (const auto* a : g.free_of("gateway-mac-change")) {
        std::string mac = text_of(a->evidence, "new_mac");
        if (mac.empty()) mac = a->subject_mac;
        Incident& in = g.open("gateway-takeover:" + mac, "gateway-takeover", mac);
        if (in.alerts.empty())
            in.facts = {{"device_mac", mac},
                        {"ips", nlohmann::json::array()},
                        {"expected_mac", text_of(a->evidence, "expected_mac")},
                        {"affected", nlohmann::json::array()}};
        g.add(in, *a);
        add_unique(in.facts["ips"], text_of(a->evidence, "ip"));
        add_unique(in.facts["affected"], text_of(a->evidence, "device_ip"));
    }
    for (const auto& key : g.keys_of("gateway-takeover")) {
        Incident* in = g.find(key);
        if (!in) continue;
        for (const auto* c : g.free_of("ip-conflict")) {
            auto macs = c->evidence.value("macs", nlohmann::json::array());
            bool ours = std::find(macs.begin(), macs.end(), in->subject_mac) != macs.end();
            auto ips = in->facts["ips"];
            bool same_ip =
                std::find(ips.begin(), ips.end(), text_of(c->evidence, "ip")) != ips.end();
            if (ours && same_ip) g.add(*in, *c);
        }
        if (const auto* u = g.unregistered(in->subject_mac)) g.add(*in, *u);
    }
}

// Two devices on one address: the conflict and the newcomer's unregistered alert.
void group_ip_conflicts(Grouper& g) {
    for (const auto* a : g.free_of("ip-conflict")) {
        std::string ip = text_of(a->evidence, "ip");
        if (ip.empty()) ip = a->subject;
        Incident& in = g.open("ip-conflict:" + ip, "ip-conflict", a->subject_mac);
        if (in.alerts.empty())
            in.facts = {{"ip", ip}, {"macs", nlohmann::json::array()}, {"newcomer", ""}};
        g.add(in, *a);
        for (const auto& m : a->evidence.value("macs", nlohmann::json::array()))
            add_unique(in.facts["macs"], m);
    }
    for (const auto& key : g.keys_of("ip-conflict")) {
        Incident* in = g.find(key);
        if (!in) continue;
        for (const auto& m : in->facts["macs"]) {
            if (const auto* u = g.unregistered(m.get<std::string>())) {
                g.add(*in, *u);
                in->facts["newcomer"] = m;
                in->subject_mac = m.get<std::string>();
            }
        }
    }
}

std::string asset_of(const AlertRecord& a) {
    std::string mac = text_of(a.evidence, "asset_mac");
    return mac.empty() ? a.subject_mac : mac;
}

// Connections from the internet to one device, from any number of sources, with the
// remote-access and risky-protocol findings the same connections raise.
void group_inbound(Grouper& g) {
    auto inbound = [](const AlertRecord& a) {
        return text_of(a.evidence, "direction") == "inbound";
    };
    for (const char* kind : {"inbound-exposure", "remote-access", "risky-protocol-wan"}) {
        for (const auto* a : g.free_of(kind)) {
            if (std::string(kind) != "inbound-exposure" && !inbound(*a)) continue;
            std::string mac = asset_of(*a);
            // Without MACs (a raw-IP capture) the device is its address.
            const std::string who = mac.empty() ? text_of(a->evidence, "asset_ip") : mac;
            Incident& in = g.open("inbound-exposure:" + who, "inbound-exposure", mac);
            if (in.alerts.empty())
                in.facts = {{"device_mac", mac},
                            {"device_ip", text_of(a->evidence, "asset_ip")},
                            {"sources", nlohmann::json::array()},
                            {"ports", nlohmann::json::array()},
                            {"applications", nlohmann::json::array()},
                            {"accepted", false}};
            g.add(in, *a);
            add_unique(in.facts["sources"], text_of(a->evidence, "destination_ip"));
            add_unique(in.facts["ports"], text_of(a->evidence, "protocol") + "/" +
                                              std::to_string(a->evidence.value("port", 0)));
            add_unique(in.facts["applications"], text_of(a->evidence, "application"));
            if (std::string(kind) == "inbound-exposure") in.facts["accepted"] = true;
        }
    }
}

// IPv6 routers that are not the clinic's (issue 20): every RA, DHCPv6 and NDP finding about
// one MAC is one incident, of the kind of its worst finding; a device that also hands out IPv4
// addresses joins its foreign-router incident instead. Its unregistered-device alert joins too.
void group_ipv6_routers(Grouper& g) {
    // Worst first: the first kind found for a MAC names its incident.
    static const char* const kinds[] = {"ra-router-lifetime-zero",
                                        "ra-impersonation",
                                        "ndp-router-spoof",
                                        "rogue-ra",
                                        "rogue-dhcpv6",
                                        "ra-unexpected-prefix",
                                        "ra-flags-changed"};
    for (const char* kind : kinds) {
        for (const auto* a : g.free_of(kind)) {
            std::string mac = text_of(a->evidence, "device_mac");
            if (mac.empty()) mac = a->subject_mac;
            Incident* in = g.find("foreign-router:" + mac);
            if (!in) {
                in = &g.open("ipv6-router:" + mac, kind, mac);
                if (in->alerts.empty())
                    in->facts = {{"device_mac", mac},
                                 {"link_local", text_of(a->evidence, "link_local")},
                                 {"router_mac", text_of(a->evidence, "router_mac")},
                                 {"impersonated", ""},
                                 {"prefixes", nlohmann::json::array()},
                                 {"dns", nlohmann::json::array()},
                                 {"offered", nlohmann::json::array()},
                                 {"attacks", nlohmann::json::array()}};
            }
            g.add(*in, *a);
            nlohmann::json& f = in->facts;
            if (!f.contains("attacks")) f["attacks"] = nlohmann::json::array();
            add_unique(f["attacks"], a->kind);
            for (const char* list : {"prefixes", "dns", "offered"}) {
                if (!f.contains(list)) f[list] = nlohmann::json::array();
                for (const auto& v : a->evidence.value(list, nlohmann::json::array()))
                    add_unique(f[list], v);
            }
            std::string impersonated = text_of(a->evidence, "impersonated");
            if (impersonated.empty()) impersonated = text_of(a->evidence, "address");
            if (!impersonated.empty()) f["impersonated"] = impersonated;
            if (a->evidence.contains("flags")) f["flags"] = a->evidence["flags"];
            if (a->evidence.contains("lifetime")) f["lifetime"] = a->evidence["lifetime"];
            // The router's M/O flags before and after, and each change (ra-flags-changed).
            for (const char* k :
                 {"previous_flags", "managed_set", "managed_cleared", "other_set", "other_cleared"})
                if (a->evidence.contains(k)) f[k] = a->evidence[k];
        }
    }
    for (const char* kind : kinds)
        for (const auto& key : g.keys_of(kind))
            if (Incident* in = g.find(key))
                if (const auto* u = g.unregistered(in->subject_mac)) g.add(*in, *u);
}

// One entry per device for its standing conditions.
void group_conditions(Grouper& g) {
    for (const auto& kind : standing_kinds()) {
        for (const auto* a : g.free_of(kind)) {
            std::string mac = a->subject_mac;
            std::string who = mac.empty() ? a->subject : mac;
            Incident& in = g.open("device-conditions:" + who, "device-conditions", mac);
            if (in.alerts.empty())
                in.facts = {{"device_mac", mac},
                            {"device_ip", a->subject.substr(0, a->subject.find(' '))},
                            {"conditions", nlohmann::json::array()}};
            g.add(in, *a);
            nlohmann::json c = {{"kind", kind}, {"severity", a->severity}};
            const auto& e = a->evidence;
            auto support = e.value("support", nlohmann::json::object());
            if (kind == "legacy-os" || kind == "os-support-ending" || kind == "os-support-check") {
                // The rules name the product in full ("Windows 7", "Windows 10 or 11").
                c["os"] =
                    text_of(e, "version").empty() ? text_of(e, "family") : text_of(e, "version");
                c["end"] = text_of(support, "end");
                c["earliest_end"] = text_of(support, "earliest_end");
                c["earliest_name"] = text_of(support, "earliest_name");
                c["settle"] = text_of(support, "settle");
            } else if (kind == "legacy-tls") {
                c["version"] = text_of(e, "version");
            } else if (kind == "cleartext-login") {
                c["protocol"] = text_of(e, "protocol");
                c["client"] = text_of(e, "client");
            } else if (kind == "smb1-in-use") {
                c["client"] = text_of(e, "client");
            } else if (kind == "legacy-ssh") {
                c["version"] = text_of(e, "version");
                c["software"] = text_of(e, "software");
            } else if (kind == "ntlmv1") {
                c["server"] = text_of(e, "server_ip");
            }
            in.facts["conditions"].push_back(std::move(c));
        }
    }
}

// An outage (issue 22): one incident per outage alert. A loop or storm in the same minutes is
// its likely cause and is named in its facts (the loop stays its own incident).
void group_outages(Grouper& g) {
    for (const char* kind :
         {"server-not-answering", "service-not-running", "dns-not-answering", "dhcp-not-answering",
          "dhcp-out-of-addresses", "router-not-answering-arp", "throughput-ceiling"}) {
        for (const auto* a : g.free_of(kind)) {
            Incident& in = g.open("outage:" + a->key, kind, a->subject_mac);
            in.facts = a->evidence.is_object() ? a->evidence : nlohmann::json::object();
            in.facts["subject"] = a->subject;
            in.facts["loop_cause"] = "";
            for (const char* cause : {"l2-loop", "broadcast-storm"})
                for (const auto* l : g.all_of(cause))
                    if (in.facts["loop_cause"] == "" && l->first_seen <= a->last_seen &&
                        l->last_seen >= a->first_seen)
                        in.facts["loop_cause"] = cause;
            g.add(in, *a);
        }
    }
}

}  // namespace

bool is_standing_condition(const std::string& alert_kind) {
    return standing_kinds().count(alert_kind) > 0;
}

std::vector<Incident> correlate(const std::vector<AlertRecord>& alerts) {
    Grouper g(alerts);
    group_loops(g);
    group_outages(g);
    group_foreign_routers(g);
    group_ipv6_routers(g);
    group_mixed_segments(g);
    group_gateway_takeovers(g);
    group_ip_conflicts(g);
    group_inbound(g);
    group_conditions(g);
    return g.finish();
}

}  // namespace clinicwatch
