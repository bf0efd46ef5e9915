// The whole binary on the generated dual-stack IPoE clinic (bench/ipv6_capture), replayed with
// the configuration a vendor writes (the IPv4 LAN, the gateway address, the register and the
// EHR server's egress policy) and nothing about IPv6: every device's global and temporary
// addresses in the inventory, IPv6 egress named from AAAA answers and TLS SNI, egress-denied,
// remote access and inbound exposure over IPv6 for the right device, one incident per
// attacking router; and the public captures in ../shared/pcaps read without IPv6 findings that
// tshark contradicts.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "analyzers/dispatcher.hpp"
#include "analyzers/inventory.hpp"
#include "analyzers/ipv6_routers.hpp"
#include "bench/ipv6_capture.hpp"
#include "capture/packet_source.hpp"
#include "capture/protocols/dhcpv6.hpp"
#include "daemon/ipv6_network.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch::test {
namespace {

using nlohmann::json;

json run_json(const TempDir& dir, const std::string& args) {
    std::string out;
    std::string cmd = std::string(CLINICWATCH_BINARY) + " " + args + " 2>/dev/null";
    EXPECT_EQ(run_command(cmd, &out), 0) << cmd << "\n" << out;
    (void)dir;
    return json::parse(out, nullptr, false);
}

struct Replayed {
    bench::Ipv6CaptureTruth truth;
    json assets, alerts, egress, incidents, report;
    std::string report_csv;   // the ledger in Japanese
    std::string report_html;  // the report in English
    const json* asset(const std::string& mac) const {
        for (const auto& a : assets)
            if (a["mac"] == mac) return &a;
        return nullptr;
    }
    std::vector<const json*> alerts_of(const std::string& kind) const {
        std::vector<const json*> out;
        for (const auto& a : alerts)
            if (a["kind"] == kind) out.push_back(&a);
        return out;
    }
};

Replayed replay_ipv6_clinic(const TempDir& dir, const bench::Ipv6CaptureOptions& options) {
    Replayed r;
    {
        bench::PcapFileWriter writer((dir / "v6.pcap").string());
        r.truth = bench::generate_ipv6_capture(
            options, [&](std::int64_t ts, bench::ByteView f) { writer.write(ts, f); });
    }
    json truth = bench::ipv6_truth_json(r.truth);
    std::string config = "network:\n  internal_networks: [192.168.100.0/24]\n  gateway_ip: " +
                         truth["network"]["gateway_ip"].get<std::string>() +
                         "\ninventory:\n  learning_days: 0\negress:\n  roles:\n"
                         "    ehr-server:\n      services: [windows-update]\nregister:\n";
    for (const auto& e : truth["register"])
        config += "  - mac: \"" + e["mac"].get<std::string>() + "\"\n    name: \"" +
                  e["name"].get<std::string>() + "\"\n    role: \"" + e["role"].get<std::string>() +
                  "\"\n";
    std::ofstream(dir / "c.yaml") << config;
    std::string common =
        " --config " + (dir / "c.yaml").string() + " --db " + (dir / "c.db").string();
    std::string out;
    std::string cmd = std::string(CLINICWATCH_BINARY) + " replay --no-progress " +
                      (dir / "v6.pcap").string() + common + " 2>&1";
    EXPECT_EQ(run_command(cmd, &out), 0) << out;
    r.assets = run_json(dir, "assets --json" + common);
    r.alerts = run_json(dir, "alerts --json" + common);
    r.egress = run_json(dir, "egress --json" + common);
    r.incidents = run_json(dir, "incidents --json" + common);
    r.report = run_json(dir, "report --format json --lang en" + common);
    std::string csv_cmd = std::string(CLINICWATCH_BINARY) + " report --format csv --lang ja" +
                          common + " 2>/dev/null";
    EXPECT_EQ(run_command(csv_cmd, &r.report_csv), 0) << r.report_csv;
    std::string html_cmd = std::string(CLINICWATCH_BINARY) + " report --format html --lang en" +
                           common + " --out " + (dir / "r.html").string() + " 2>&1";
    std::string html_out;
    EXPECT_EQ(run_command(html_cmd, &html_out), 0) << html_out;
    std::ifstream html(dir / "r.html");
    r.report_html.assign(std::istreambuf_iterator<char>(html), {});
    return r;
}

std::set<std::string> addresses_of(const json& asset) {
    std::set<std::string> out;
    for (const auto& a : asset["addresses"]) out.insert(a["value"].get<std::string>());
    return out;
}

TEST(Ipv6Acceptance, DualStackClinic) {
    TempDir dir;
    bench::Ipv6CaptureOptions options;
    Replayed r = replay_ipv6_clinic(dir, options);
    ASSERT_TRUE(r.assets.is_array() && r.alerts.is_array() && r.egress.is_array() &&
                r.incidents.is_array());

    // Inventory: every address each host used, bound to its MAC, with first/last seen; the
    // rotating temporary addresses made no devices (router + 4 hosts + 4 foreign devices).
    for (const auto& h : r.truth.hosts) {
        const json* a = r.asset(h.mac.to_string());
        ASSERT_TRUE(a) << h.hostname;
        auto have = addresses_of(*a);
        EXPECT_TRUE(have.count(h.link_local)) << h.hostname;
        for (const auto& s : h.stable) EXPECT_TRUE(have.count(s)) << h.hostname << " " << s;
        for (const auto& t : h.temporary) EXPECT_TRUE(have.count(t)) << h.hostname << " " << t;
        for (const auto& o : (*a)["addresses"]) {
            EXPECT_GT(o["first_seen"].get<std::int64_t>(), 0);
            EXPECT_GE(o["last_seen"].get<std::int64_t>(), o["first_seen"].get<std::int64_t>());
        }
    }
    EXPECT_EQ(r.assets.size(), 1 + r.truth.hosts.size() + 5);
    EXPECT_TRUE(r.alerts_of("ip-conflict").empty());

    // Each address labelled (codes in `assets --json`): the link-local one, the stable one
    // per prefix, every rotated temporary one.
    for (const auto& h : r.truth.hosts) {
        std::map<std::string, std::string> kind;
        for (const auto& o : (*r.asset(h.mac.to_string()))["addresses"])
            if (o.contains("kind")) kind[o["value"]] = o["kind"];
        EXPECT_EQ(kind[h.link_local], "link-local") << h.hostname;
        for (const auto& s : h.stable) EXPECT_EQ(kind[s], "stable") << h.hostname << " " << s;
        for (const auto& t : h.temporary) EXPECT_EQ(kind[t], "temporary") << h.hostname << " " << t;
        EXPECT_EQ(kind.size(), 1 + h.stable.size() + h.temporary.size()) << h.hostname;
    }
    // The report: codes in the JSON export, words in the ledger (ja CSV).
    const auto& recep_host = r.truth.hosts[0];
    ASSERT_TRUE(r.report.is_object());
    bool exported = false;
    for (const auto& d : r.report["devices"]) {
        if (d["mac"] != recep_host.mac.to_string()) continue;
        exported = true;
        std::map<std::string, std::string> kind;
        for (const auto& a : d["ipv6_addresses"]) kind[a["address"]] = a["kind"];
        EXPECT_EQ(kind[recep_host.link_local], "link-local");
        EXPECT_EQ(kind[recep_host.stable.front()], "stable");
        EXPECT_EQ(kind[recep_host.temporary.front()], "temporary");
    }
    EXPECT_TRUE(exported);
    EXPECT_NE(r.report_csv.find(recep_host.temporary.front() + "（一時）"), std::string::npos);
    EXPECT_NE(r.report_csv.find(recep_host.stable.front() + "（固定）"), std::string::npos);
    EXPECT_NE(r.report_html.find("<span>" + recep_host.temporary.back() + " (temporary)</span>"),
              std::string::npos);
    EXPECT_NE(r.report_html.find("<span>" + recep_host.link_local + " (link-local)</span>"),
              std::string::npos);

    // Egress over IPv6, named from TLS SNI and (QUIC) from the AAAA answer.
    const std::string recep = r.truth.hosts[0].mac.to_string();
    std::map<std::string, std::string> source_of;  // name -> name source, reception PC
    for (const auto& e : r.egress)
        if (e["mac"] == recep && e["address"].get<std::string>().find(':') != std::string::npos)
            source_of[e["name"].get<std::string>()] = e["name_source"].get<std::string>();
    EXPECT_EQ(source_of["login.microsoftonline.com"], "tls-sni");
    // QUIC: the name read from the ClientHello in the client's (decrypted) Initial.
    EXPECT_EQ(source_of["outlook.office.com"], "quic");
    ASSERT_EQ(r.truth.quic.size(), 1u);
    bool quic_row = false;
    for (const auto& e : r.egress)
        quic_row =
            quic_row || (e["mac"] == recep && e["name"] == r.truth.quic[0].first &&
                         e["address"] == r.truth.quic[0].second && e["name_source"] == "quic");
    EXPECT_TRUE(quic_row);
    EXPECT_TRUE(source_of.count("router7.teamviewer.com"));

    // The EHR server's upload is denied by its role's policy, over IPv6.
    const std::string ehr = r.truth.hosts[2].mac.to_string();
    auto denied = r.alerts_of("egress-denied");
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ((*denied[0])["subject_mac"], ehr);
    EXPECT_EQ((*denied[0])["evidence"]["destination_name"], "upload.karte-backup.jp");
    // TeamViewer from the reception PC over IPv6.
    bool teamviewer = false;
    for (const auto* a : r.alerts_of("remote-access"))
        teamviewer = teamviewer || ((*a)["subject_mac"] == recep &&
                                    (*a)["evidence"]["destination_ip"] == "2a00:11c0:48:3::153");
    EXPECT_TRUE(teamviewer);
    // The internet host that opened the NAS's DSM over IPv6.
    const std::string nas = r.truth.hosts[3].mac.to_string();
    auto inbound = r.alerts_of("inbound-exposure");
    ASSERT_EQ(inbound.size(), 1u);
    EXPECT_EQ((*inbound[0])["subject_mac"], nas);
    EXPECT_EQ((*inbound[0])["evidence"]["destination_ip"], "2a01:4f8:c0c:1234::66");
    EXPECT_EQ((*inbound[0])["evidence"]["port"], 5001);

    // One incident per attacking router, naming it; nothing about the real router.
    std::map<std::string, std::string> ipv6_incidents;  // device MAC -> kind
    for (const auto& in : r.incidents) {
        std::string k = in["kind"];
        if (k == "rogue-ra" || k == "ra-impersonation" || k == "ra-router-lifetime-zero" ||
            k == "ndp-router-spoof" || k == "rogue-dhcpv6") {
            EXPECT_FALSE(ipv6_incidents.count(in["device_mac"])) << in.dump();
            ipv6_incidents[in["device_mac"]] = k;
            // Named by its MAC: it may be using the router's own address.
            EXPECT_NE(in["device"].get<std::string>().find(in["device_mac"].get<std::string>()),
                      std::string::npos)
                << in.dump();
            EXPECT_FALSE(in["title"].get<std::string>().empty());
            EXPECT_FALSE(in["action"].get<std::string>().empty());
            EXPECT_FALSE(in["call"].get<std::string>().empty());
        }
        EXPECT_NE(in["device_mac"], r.truth.router_mac.to_string()) << in.dump();
    }
    EXPECT_EQ(ipv6_incidents,
              (std::map<std::string, std::string>{{"10:6f:3f:c0:ff:01", "rogue-ra"},
                                                  {"b8:27:eb:66:00:01", "ra-impersonation"},
                                                  {"b8:27:eb:66:00:02", "ra-router-lifetime-zero"},
                                                  {"b8:27:eb:66:00:03", "ndp-router-spoof"},
                                                  {"b8:27:eb:66:00:04", "ndp-router-spoof"}}));
}

TEST(Ipv6Acceptance, RouterRenumberingAndRotationRaiseNothing) {
    TempDir dir;
    bench::Ipv6CaptureOptions options;
    options.incidents = false;
    Replayed r = replay_ipv6_clinic(dir, options);
    std::set<std::string> kinds;
    for (const auto& a : r.alerts) kinds.insert(a["kind"].get<std::string>());
    // The scripted sessions' findings, and nothing about routers, addresses or devices.
    EXPECT_TRUE(kinds.count("egress-denied") && kinds.count("inbound-exposure"));
    for (const char* k : {"rogue-ra", "ra-impersonation", "ra-router-lifetime-zero",
                          "ndp-router-spoof", "rogue-dhcpv6", "ra-unexpected-prefix", "ip-conflict",
                          "unregistered-device", "gateway-mac-change"})
        EXPECT_FALSE(kinds.count(k)) << k;
    EXPECT_EQ(r.assets.size(), 1 + r.truth.hosts.size());

    // What the report's network summary reads: the router and both prefixes, the old one
    // deprecated by the renumbering.
    SQLite::Database db((dir / "c.db").string(), SQLite::OPEN_READONLY);
    Ipv6Network net = load_ipv6_network(db);
    ASSERT_EQ(net.routers.size(), 1u);
    EXPECT_EQ(net.routers[0].mac, r.truth.router_mac.to_string());
    EXPECT_EQ(net.routers[0].link_local, r.truth.router_link_local);
    EXPECT_EQ(net.routers[0].flags, "O");
    EXPECT_EQ(net.routers[0].mtu, 1460u);
    ASSERT_EQ(net.prefixes.size(), 2u);
    for (const auto& p : net.prefixes) {
        EXPECT_EQ(p.router_mac, r.truth.router_mac.to_string());
        EXPECT_EQ(p.deprecated, p.prefix == r.truth.prefixes.front()) << p.prefix;
    }
    EXPECT_EQ(ipv6_network_json(net)["prefixes"].size(), 2u);
}

// The generated QUIC is real QUIC v1: tshark, knowing nothing of this project, derives the
// Initial keys itself and finds each client's ClientHello (SNI, ALPN h3) and each server's
// ServerHello. Skipped without tshark (packaging/install-deps.sh --tests).
TEST(Ipv6Acceptance, GeneratedQuicInitialsDecryptInTshark) {
    if (run_command("command -v tshark >/dev/null") != 0)
        GTEST_SKIP() << "tshark is not installed (packaging/install-deps.sh --tests)";
    TempDir dir;
    bench::Ipv6CaptureOptions options;
    options.incidents = false;
    bench::Ipv6CaptureTruth truth;
    {
        bench::PcapFileWriter writer((dir / "v6.pcap").string());
        truth = bench::generate_ipv6_capture(
            options, [&](std::int64_t ts, bench::ByteView f) { writer.write(ts, f); });
    }
    ASSERT_EQ(truth.quic.size(), 1u);
    std::string out;
    ASSERT_EQ(run_command("tshark -r " + (dir / "v6.pcap").string() +
                              " -Y 'quic.long.packet_type == 0 && tls.handshake.type' -T fields "
                              "-E occurrence=f -e ipv6.dst -e ipv6.src -e tls.handshake.type -e "
                              "tls.handshake.extensions_server_name -e "
                              "tls.handshake.extensions_alpn_str 2>/dev/null",
                          &out),
              0);
    int hellos = 0, server_hellos = 0;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> f;
        std::istringstream fields(line);
        for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
        f.resize(5);
        if (f[2] == "1") {
            ++hellos;
            EXPECT_EQ(f[0], truth.quic[0].second) << line;
            EXPECT_EQ(f[3], truth.quic[0].first) << line;
            EXPECT_EQ(f[4], "h3") << line;
        } else if (f[2] == "2") {
            ++server_hellos;
            EXPECT_EQ(f[1], truth.quic[0].second) << line;
        }
    }
    EXPECT_GT(hellos, 0) << out;
    EXPECT_EQ(server_hellos, hellos) << out;
}

// The public captures: none carries an RA, NS, NA, redirect or DHCPv6 message (tshark -Y
// 'icmpv6.type >= 133 && icmpv6.type <= 137 || dhcpv6' finds none; only MLDv2 reports in
// mdns.pcap and win7_browser_cryptoapi_ua_stp_tc_llmnr.pcap), so the sensor must report no
// IPv6 router finding and learn no router, and the link-local addresses it binds are those
// tshark shows (-T fields -e eth.src -e ipv6.src). In-process (the inventory and the
// ipv6-routers unit), so reading all of them stays fast.
TEST(Ipv6Acceptance, PublicCapturesWithoutContradictingTshark) {
    auto shared = shared_dir();
    if (!shared || !std::filesystem::exists(*shared / "pcaps"))
        GTEST_SKIP() << "../shared/pcaps is absent";
    const std::map<std::string, std::pair<std::string, std::string>> link_local = {
        {"mdns.pcap", {"8a:3c:d6:e1:4d:c4", "fe80::883c:d6ff:fee1:4dc4"}},
        {"win7_browser_cryptoapi_ua_stp_tc_llmnr.pcap",
         {"12:a9:86:6c:77:de", "fe80::b9a3:aa8f:3e8e:fe86"}}};
    struct Sink : FindingSink {
        std::vector<AlertUpdate> alerts;
        void alert(AlertUpdate a) override { alerts.push_back(std::move(a)); }
        void minute(const MinuteStats&) override {}
    };
    int read = 0;
    for (const auto& entry : std::filesystem::directory_iterator(*shared / "pcaps")) {
        std::string name = entry.path().filename().string();
        if (!name.ends_with(".pcap") && !name.ends_with(".pcapng")) continue;
        HostTable hosts(4096);
        Dispatcher dispatcher(hosts);
        Ipv6Lan lan;
        Sink sink;
        InventorySettings inventory;
        inventory.ipv6_lan = &lan;
        dispatcher.add(std::make_unique<Ipv6Routers>(lan, sink, Ipv6RoutersSettings{}));
        dispatcher.add(std::make_unique<Inventory>(hosts, inventory));
        auto source = open_capture_files({entry.path().string()});
        RawFrame raw;
        Packet packet;
        while (source->next(raw) == PacketSource::Next::frame) {
            decode_packet(raw.link, raw.ts, raw.wire_length, raw.data, packet);
            dispatcher.on_packet(packet);
        }
        dispatcher.finish();
        ++read;
        for (const auto& a : sink.alerts) ADD_FAILURE() << name << ": " << a.summary;
        EXPECT_TRUE(lan.routers().empty()) << name;
        EXPECT_TRUE(lan.prefixes().empty()) << name;
        hosts.for_each([&](const Host& h) {
            for (const auto& o : h.addresses) {
                if (!o.value.starts_with("fe80:")) continue;
                auto it = link_local.find(name);
                ASSERT_NE(it, link_local.end()) << name << " bound " << o.value;
                EXPECT_EQ(h.key.mac.to_string(), it->second.first) << name;
                EXPECT_EQ(o.value, it->second.second) << name;
            }
        });
    }
    EXPECT_GT(read, 0);
}

// The same captures against tshark run now (skipped without tshark and mergecap, from
// packaging/install-deps.sh --tests): mergecap joins them so that one tshark reads them all.
// What the sensor decoded as NDP (RS, RA, NS, NA, redirect) and DHCPv6 must be what tshark
// shows, message for message by sender MAC and type; every link-local address bound to a MAC
// must be one tshark shows that MAC sending from (and the other way round); a router or prefix
// learned must be one tshark shows in an RA with a router lifetime; and a finding may only name
// a MAC that tshark shows sending NDP or DHCPv6.
TEST(Ipv6Acceptance, PublicCapturesAgreeWithTsharkNow) {
    auto shared = shared_dir();
    if (!shared || !std::filesystem::exists(*shared / "pcaps"))
        GTEST_SKIP() << "../shared/pcaps is absent";
    if (run_command("command -v tshark >/dev/null && command -v mergecap >/dev/null") != 0)
        GTEST_SKIP() << "tshark or mergecap is not installed (packaging/install-deps.sh --tests)";
    struct Sink : FindingSink {
        std::vector<AlertUpdate> alerts;
        void alert(AlertUpdate a) override { alerts.push_back(std::move(a)); }
        void minute(const MinuteStats&) override {}
    };
    std::set<std::string> sensor_messages, sensor_link_local, subjects, routers, prefixes;
    std::string files;
    for (const auto& entry : std::filesystem::directory_iterator(*shared / "pcaps")) {
        std::string name = entry.path().filename().string();
        if (!name.ends_with(".pcap") && !name.ends_with(".pcapng")) continue;
        files += " '" + entry.path().string() + "'";
        HostTable hosts(4096);
        Dispatcher dispatcher(hosts);
        Ipv6Lan lan;
        Sink sink;
        InventorySettings inventory;
        inventory.ipv6_lan = &lan;
        dispatcher.add(std::make_unique<Ipv6Routers>(lan, sink, Ipv6RoutersSettings{}));
        dispatcher.add(std::make_unique<Inventory>(hosts, inventory));
        auto source = open_capture_files({entry.path().string()});
        RawFrame raw;
        Packet packet;
        while (source->next(raw) == PacketSource::Next::frame) {
            decode_packet(raw.link, raw.ts, raw.wire_length, raw.data, packet);
            dispatcher.on_packet(packet);
            if (!packet.ip || !packet.ip->src.is_v6()) continue;
            const std::string mac = packet.src_mac.to_string();
            if (packet.icmp && packet.icmp->v6 && packet.icmp->type >= 133 &&
                packet.icmp->type <= 137)
                sensor_messages.insert(mac + " icmpv6 " + std::to_string(packet.icmp->type));
            if (packet.udp && (packet.udp->dst_port == dhcpv6::kServerPort ||
                               packet.udp->dst_port == dhcpv6::kClientPort))
                if (auto m = dhcpv6::parse(packet.payload))
                    sensor_messages.insert(mac + " dhcpv6 " + std::to_string(m->type));
        }
        dispatcher.finish();
        for (const auto& a : sink.alerts) subjects.insert(a.subject_mac->to_string());
        for (const auto& r : lan.routers()) routers.insert(r.mac.to_string());
        for (const auto& p : lan.prefixes()) prefixes.insert(p.prefix.to_string());
        hosts.for_each([&](const Host& h) {
            for (const auto& o : h.addresses)
                if (o.value.starts_with("fe80:"))
                    sensor_link_local.insert(h.key.mac.to_string() + " " + o.value);
        });
    }
    ASSERT_FALSE(files.empty());

    std::string out;
    ASSERT_EQ(run_command("mergecap -F pcapng -w -" + files +
                              " 2>/dev/null | tshark -r - -Y 'icmpv6.type >= 133 && "
                              "icmpv6.type <= 137 || dhcpv6 || ipv6.src == fe80::/10' -T fields "
                              "-E occurrence=f -e eth.src -e ipv6.src -e icmpv6.type -e "
                              "dhcpv6.msgtype -e icmpv6.nd.ra.router_lifetime 2>/dev/null",
                          &out),
              0)
        << out;
    std::set<std::string> tshark_messages, tshark_link_local, tshark_senders, tshark_routers;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> f;
        std::istringstream fields(line);
        for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
        f.resize(5);
        const std::string& mac = f[0];
        if (f[1].starts_with("fe80:")) tshark_link_local.insert(mac + " " + f[1]);
        if (!f[2].empty() && std::stoi(f[2]) >= 133 && std::stoi(f[2]) <= 137) {
            tshark_messages.insert(mac + " icmpv6 " + f[2]);
            tshark_senders.insert(mac);
            if (f[2] == "134" && !f[4].empty() && std::stoi(f[4]) > 0) tshark_routers.insert(mac);
        }
        if (!f[3].empty()) {
            tshark_messages.insert(mac + " dhcpv6 " + f[3]);
            tshark_senders.insert(mac);
        }
    }
    EXPECT_EQ(sensor_messages, tshark_messages);
    EXPECT_EQ(sensor_link_local, tshark_link_local);
    EXPECT_FALSE(tshark_link_local.empty());  // tshark did read the captures
    for (const auto& r : routers) EXPECT_TRUE(tshark_routers.count(r)) << r;
    if (tshark_routers.empty()) {
        EXPECT_TRUE(prefixes.empty());
    }
    for (const auto& s : subjects) EXPECT_TRUE(tshark_senders.count(s)) << s;
}

}  // namespace
}  // namespace clinicwatch::test
