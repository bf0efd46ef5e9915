// The network map's model and the mixed-segment incidents (issue 18), on generated captures
// replayed by the real binary into a fresh database: a closed network without a router beside
// the internet LAN with one PC in both gives one incident naming both networks and the PC; the
// internet LAN alone gives none; a double-mirrored capture gives the same; the clinic's router,
// switch and access point are known by their own announcements.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "analyzers/topology.hpp"
#include "bench/topology_capture.hpp"
#include "capture/packet.hpp"
#include "capture/protocols/dhcp.hpp"
#include "daemon/config.hpp"
#include "daemon/map/network_map.hpp"
#include "daemon/report/template.hpp"
#include "daemon/store/store.hpp"
#include "tests/analyzers/loop_frames.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch {
namespace {

using test::run_command;
using test::TempDir;

struct Replayed {
    TempDir dir;
    bench::TopologyTruth truth;
    std::string db() const { return (dir / "t.db").string(); }
    std::string config() const { return (dir / "t.yaml").string(); }
};

// Writes the capture and the configuration into r.dir and replays it; false when the replay
// failed.
bool replay_into(Replayed& r, const bench::TopologyCaptureOptions& o,
                 const std::string& extra_config, const std::string& language) {
    {
        bench::PcapFileWriter w((r.dir / "t.pcap").string());
        r.truth = bench::generate_topology_capture(
            o, [&](std::int64_t ts, bench::ByteView f) { w.write(ts, f); });
        w.close();
    }
    {
        std::ofstream out(r.config());
        out << "digest:\n  language: " << language << "\n" << extra_config;
        if (o.scenario == bench::TopologyScenario::clinic)
            out << bench::register_yaml(r.truth.clinic);
    }
    std::string out;
    int code =
        run_command(std::string(CLINICWATCH_BINARY) + " replay " + (r.dir / "t.pcap").string() +
                        " --db " + r.db() + " --config " + r.config() + " --no-progress",
                    &out);
    EXPECT_EQ(code, 0) << out;
    return code == 0;
}

// With a `shared_key`, the replay is made once for all test processes (test::shared_fixture).
std::unique_ptr<Replayed> replay(bench::TopologyScenario scenario, bool twice,
                                 const std::string& extra_config = "",
                                 const std::string& language = "ja",
                                 const std::string& shared_key = "") {
    auto r = std::make_unique<Replayed>();
    bench::TopologyCaptureOptions o;
    o.scenario = scenario;
    o.double_mirrored = twice;
    if (!shared_key.empty()) {
        r->truth = bench::generate_topology_capture(o, [](std::int64_t, bench::ByteView) {});
        test::shared_fixture(shared_key, r->dir.path(), [&](const std::filesystem::path&) {
            return replay_into(*r, o, extra_config, language);
        });
    } else {
        replay_into(*r, o, extra_config, language);
    }
    return r;
}

nlohmann::json incidents(const Replayed& r, const std::string& kind) {
    std::string out;
    EXPECT_EQ(run_command("CLINICWATCH_TEMPLATES=" + std::string(CLINICWATCH_SOURCE_DIR) +
                              "/daemon/report/templates " + CLINICWATCH_BINARY +
                              " incidents --json --db " + r.db() + " --config " + r.config() +
                              " 2>/dev/null",
                          &out),
              0)
        << out;
    auto all = nlohmann::json::parse(out, nullptr, false);
    EXPECT_TRUE(all.is_array()) << out;
    auto of_kind = nlohmann::json::array();
    for (const auto& i : all)
        if (i.value("kind", "") == kind) of_kind.push_back(i);
    return of_kind;
}

// (kind, vlan, key, attributes) of every stored element, in order.
std::vector<std::string> elements(const Replayed& r) {
    SQLite::Database db(r.db());
    SQLite::Statement st(db,
                         "SELECT kind || ' ' || vlan || ' ' || key || ' ' || attributes || ' ' || "
                         "evidence FROM topology ORDER BY kind, vlan, key");
    std::vector<std::string> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getString());
    return out;
}

TEST(MixedSegment, TwoNetworksAndAPcInBothAreOneIncident) {
    auto r = replay(bench::TopologyScenario::two_subnets, false);
    auto found = incidents(*r, "mixed-segment");
    ASSERT_EQ(found.size(), 1u) << found.dump(1);
    const auto& in = found[0];
    std::string detail = in["detail"];
    EXPECT_NE(detail.find("192.168.100.0/24"), std::string::npos) << detail;
    EXPECT_NE(detail.find("192.168.10.0/24"), std::string::npos) << detail;
    // The PC named as the inventory knows it (its DHCP host name), and what to do.
    EXPECT_NE(detail.find("KARTE-GW"), std::string::npos) << detail;
    EXPECT_EQ(in["device_mac"], r->truth.bridging_mac.to_string());
    EXPECT_EQ(in["severity"], "high");  // a network without a router now reaches the internet
    EXPECT_NE(std::string(in["action"]).find("電子カルテ業者"), std::string::npos);

    // The model: both networks, the router with the internet, the DHCP server, the PC in both.
    auto rows = elements(*r);
    auto has = [&](const std::string& prefix) {
        for (const auto& e : rows)
            if (e.rfind(prefix, 0) == 0) return true;
        return false;
    };
    EXPECT_TRUE(has("subnet 0 192.168.10.0/24")) << rows.size();
    EXPECT_TRUE(has("subnet 0 192.168.100.0/24"));
    EXPECT_TRUE(has("router 0 " + r->truth.router_mac.to_string()));
    EXPECT_TRUE(has("dhcp-server 0 " + r->truth.router_mac.to_string()));
    EXPECT_TRUE(has("multi-homed 0 " + r->truth.bridging_mac.to_string()));
}

TEST(MixedSegment, OneCleanNetworkRaisesNothing) {
    auto r = replay(bench::TopologyScenario::single_subnet, false);
    EXPECT_TRUE(incidents(*r, "mixed-segment").empty());
    SQLite::Database db(r->db());
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM alerts WHERE kind = 'mixed-segment'").getInt(),
              0);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM topology WHERE kind = 'subnet'").getInt(), 1);
}

TEST(MixedSegment, DoubleMirroredCaptureChangesNothing) {
    auto once = replay(bench::TopologyScenario::two_subnets, false);
    auto twice = replay(bench::TopologyScenario::two_subnets, true);
    EXPECT_EQ(twice->truth.packets, 2 * once->truth.packets);
    EXPECT_EQ(elements(*once), elements(*twice));
    auto a = incidents(*once, "mixed-segment"), b = incidents(*twice, "mixed-segment");
    ASSERT_EQ(b.size(), 1u);
    for (const char* field : {"severity", "title", "detail", "device_mac", "first_seen"})
        EXPECT_EQ(a[0][field], b[0][field]) << field;
}

TEST(MixedSegment, NamedClosedNetworkReachingTheInternetIsCritical) {
    auto r = replay(bench::TopologyScenario::two_subnets, false,
                    "topology:\n  segments:\n    - name: EHR closed network\n"
                    "      network: 192.168.10.0/24\n      closed: true\n",
                    "en");
    auto found = incidents(*r, "mixed-segment");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0]["severity"], "critical");
    std::string detail = found[0]["detail"];
    EXPECT_NE(detail.find("192.168.10.0/24 (EHR closed network)"), std::string::npos) << detail;
    EXPECT_NE(detail.find("has a path to the internet"), std::string::npos) << detail;
}

TEST(MixedSegment, IntendedMultiHomedDeviceIsNotNamed) {
    auto r = replay(bench::TopologyScenario::two_subnets, false,
                    "topology:\n  intended_multi_homed:\n    - 50:81:40:aa:bb:01\n", "en");
    auto found = incidents(*r, "mixed-segment");
    ASSERT_EQ(found.size(), 1u);  // two networks in one LAN is still worth knowing
    EXPECT_EQ(found[0]["severity"], "medium");
    EXPECT_EQ(std::string(found[0]["detail"]).find("KARTE-GW"), std::string::npos);
}

// A MAC flood's forged ARP senders, which the full host table turned away, are not members of
// the map: the members table (32 here) keeps its room for devices, and reports no drops.
TEST(TopologyUnderMacFlood, ForgedSendersDoNotFillTheMembersTable) {
    constexpr Timestamp kS = kMicrosPerSecond, kT0 = 1'763'600'000LL * kS;
    HostTable hosts(16);
    Dispatcher dispatcher(hosts);
    test::RecordingSink sink;
    TopologySettings settings;
    settings.max_members = 32;
    auto unit = std::make_unique<Topology>(sink, settings, &hosts);
    const Topology* topology = unit.get();
    dispatcher.add(std::move(unit));
    Packet packet;
    auto feed = [&](Timestamp ts, const test::Frame& f) {
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(f.size()),
                      Bytes(f.data(), f.size()), packet);
        dispatcher.on_packet(packet);
    };
    for (std::uint64_t d = 0; d < 16; ++d)
        feed(kT0 + static_cast<Timestamp>(d),
             test::arp_request(0x001132000100ULL + d, 0xc0a86410u + static_cast<std::uint32_t>(d),
                               0xc0a86401u));
    ASSERT_EQ(hosts.size(), hosts.capacity());
    for (int i = 0; i < 5000; ++i)
        feed(kT0 + kS + i * 100,
             test::arp_request(0x020000000000ULL + static_cast<std::uint64_t>(i),
                               0xc0a86400u + static_cast<std::uint32_t>(i % 250), 0xc0a86401u));
    dispatcher.finish();
    std::vector<TableUse> use;
    topology->table_use(use);
    bool found = false;
    for (const auto& u : use)
        if (u.table == "topology-addresses") {
            found = true;
            EXPECT_EQ(u.dropped, 0u);
        }
    EXPECT_TRUE(found);
}

TEST(TopologyConfig, BadEntriesAreNamedWithTheirLine) {
    try {
        parse_config(
            "topology:\n  segments:\n    - name: EHR\n      network: 192.168.10.0/33\n"
            "    - network: 10.0.0.0/8\n      closed: maybe\n"
            "  intended_multi_homed:\n    - not-a-mac\n",
            "t.yaml");
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        std::string text = e.what();
        EXPECT_NE(text.find("t.yaml:4: topology.segments[0].network"), std::string::npos) << text;
        EXPECT_NE(text.find("192.168.10.0/33"), std::string::npos) << text;
        EXPECT_NE(text.find("topology.segments[1].name"), std::string::npos) << text;
        EXPECT_NE(text.find("t.yaml:6: topology.segments[1].closed"), std::string::npos) << text;
        EXPECT_NE(text.find("t.yaml:8: topology.intended_multi_homed"), std::string::npos) << text;
        EXPECT_NE(text.find("not-a-mac"), std::string::npos) << text;
    }
    auto ok = parse_config(
        "topology:\n  segments:\n    - name: 電子カルテ閉域網\n      network: 192.168.10.0/24\n"
        "      closed: true\n  intended_multi_homed: [50:81:40:aa:bb:01]\n",
        "t.yaml");
    ASSERT_EQ(ok.topology.segments.size(), 1u);
    EXPECT_TRUE(ok.topology.segments[0].closed);
    EXPECT_EQ(ok.topology.intended_multi_homed.size(), 1u);
}

class ClinicTopology : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        clinic_ =
            replay(bench::TopologyScenario::clinic, false, "", "ja", "topology-clinic").release();
    }
    static void TearDownTestSuite() {
        delete clinic_;
        clinic_ = nullptr;
    }
    static Replayed* clinic_;
};
Replayed* ClinicTopology::clinic_ = nullptr;

TEST_F(ClinicTopology, EquipmentIsKnownByItsOwnAnnouncements) {
    SQLite::Database db(clinic_->db());
    auto announced = [&](const MacAddress& mac) {
        SQLite::Statement st(
            db, "SELECT attributes FROM topology WHERE kind = 'announced' AND key = ?");
        st.bind(1, mac.to_string());
        return st.executeStep() ? nlohmann::json::parse(st.getColumn(0).getString())
                                : nlohmann::json();
    };
    auto router = announced(clinic_->truth.router_mac);
    EXPECT_EQ(router.value("name", ""), "RTX830");
    EXPECT_EQ(router.value("role", ""), "router");
    auto sw = announced(clinic_->truth.switch_mac);
    EXPECT_EQ(sw.value("name", ""), clinic_->truth.switch_name);
    EXPECT_EQ(sw.value("role", ""), "switch");
    EXPECT_NE(sw.value("description", "").find(clinic_->truth.switch_model), std::string::npos);
    auto ap = announced(clinic_->truth.ap_mac);
    EXPECT_EQ(ap.value("name", ""), clinic_->truth.ap_name);
    EXPECT_EQ(ap.value("role", ""), "access-point");
    EXPECT_NE(ap.value("platform", "").find(clinic_->truth.ap_model), std::string::npos);
    // The second switch is a bridge below the core switch, which is the root.
    SQLite::Statement st(db, "SELECT attributes FROM topology WHERE kind = 'bridge' AND key = ?");
    st.bind(1, clinic_->truth.second_switch_bridge);
    ASSERT_TRUE(st.executeStep());
    auto bridge = nlohmann::json::parse(st.getColumn(0).getString());
    EXPECT_EQ(bridge["root"], "32768/" + clinic_->truth.switch_mac.to_string());
    EXPECT_FALSE(bridge["is_root"].get<bool>());
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM topology WHERE kind = 'root-bridge'").getInt(),
              1);
}

TEST_F(ClinicTopology, ForeignRoutersNetworkJoinsItsIncident) {
    // The home router's 192.168.11.0/24 is a second network in the LAN: that is the foreign
    // router's doing, told in its incident, not a second incident.
    SQLite::Database db(clinic_->db());
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM alerts WHERE kind = 'mixed-segment'").getInt(),
              1);
    EXPECT_TRUE(incidents(*clinic_, "mixed-segment").empty());
    auto foreign = incidents(*clinic_, "foreign-router");
    ASSERT_EQ(foreign.size(), 1u);
    EXPECT_EQ(foreign[0]["device_mac"], clinic_->truth.foreign_router_mac.to_string());
}

std::string map_cli(const Replayed& r, const std::string& args) {
    std::string out;
    EXPECT_EQ(run_command("CLINICWATCH_TEMPLATES=" + std::string(CLINICWATCH_SOURCE_DIR) +
                              "/daemon/report/templates " + CLINICWATCH_BINARY + " map " + args +
                              " --db " + r.db() + " --config " + r.config(),
                          &out),
              0)
        << out;
    return out;
}

// The text of every <text> element, through Python's XML parser (which also proves the SVG is
// well-formed XML).
std::string svg_texts(const std::string& path) {
    std::string out;
    int rc = run_command(
        "python3 -c \"import sys, xml.etree.ElementTree as E; "
        "t = E.parse(sys.argv[1]); "
        "print('\\n'.join(e.text or '' for e in t.iter('{http://www.w3.org/2000/svg}text')))\" " +
            path,
        &out);
    EXPECT_EQ(rc, 0) << out;
    return out;
}

TEST_F(ClinicTopology, MapNamesTheEquipmentAndMarksTheForeignRouter) {
    std::string svg = (clinic_->dir / "map.svg").string();
    map_cli(*clinic_, "--out " + svg);
    std::string texts = svg_texts(svg);
    for (const std::string& name :
         {std::string("RTX830"), clinic_->truth.switch_name, clinic_->truth.ap_name,
          std::string("192.168.100.0/24"), std::string("192.168.11.0/24"), std::string("EHR-SRV"),
          std::string("FCR-CONSOLE")})
        EXPECT_NE(texts.find(name), std::string::npos) << name << "\n" << texts;
    EXPECT_NE(texts.find("持ち込み機器"), std::string::npos) << texts;    // the home router
    EXPECT_NE(texts.find("ルートブリッジ"), std::string::npos) << texts;  // the core switch
    EXPECT_NE(texts.find("サポート終了"), std::string::npos) << texts;    // Server 2008 R2

    // The plain data behind it (what the report embeds).
    SQLite::Database db(clinic_->db());
    auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", "en");
    auto summary = network_summary(db, messages);
    bool foreign_seen = false, rtx_internet = false;
    for (const auto& r : summary["routers"]) {
        if (r["mac"] == clinic_->truth.foreign_router_mac.to_string()) {
            foreign_seen = true;
            EXPECT_TRUE(r["foreign"].get<bool>());
            EXPECT_TRUE(r["new"].get<bool>());  // plugged in during the period
        }
        if (r["mac"] == clinic_->truth.router_mac.to_string()) {
            rtx_internet = r["internet"].get<bool>();
            EXPECT_EQ(r["name"], "RTX830");
            EXPECT_FALSE(r["new"].get<bool>());
        }
    }
    EXPECT_TRUE(foreign_seen) << summary["routers"].dump(1);
    EXPECT_TRUE(rtx_internet);
    ASSERT_EQ(summary["access_points"].size(), 1u);
    EXPECT_EQ(summary["access_points"][0]["name"], clinic_->truth.ap_name);
    EXPECT_EQ(summary["root_bridge"], "32768/" + clinic_->truth.switch_mac.to_string());
    EXPECT_TRUE(summary["mixed"].get<bool>());
}

TEST_F(ClinicTopology, DotExportParsesWithGraphviz) {
    std::string dot = (clinic_->dir / "map.dot").string();
    map_cli(*clinic_, "--format dot --language en --out " + dot);
    std::string out;
    if (run_command("command -v dot", &out) != 0)
        GTEST_SKIP() << "Graphviz dot is not installed (packaging/install-deps.sh --tests)";
    EXPECT_EQ(run_command("dot -Tsvg " + dot + " -o " + (clinic_->dir / "dot.svg").string(), &out),
              0)
        << out;
    std::string texts = svg_texts((clinic_->dir / "dot.svg").string());
    EXPECT_NE(texts.find(clinic_->truth.switch_name), std::string::npos) << texts;
    EXPECT_NE(texts.find("RTX830"), std::string::npos) << texts;
}

TEST_F(ClinicTopology, TheForeignRoutersNetworkIsATopologyChange) {
    SQLite::Database db(clinic_->db());
    auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", "ja");
    auto lines = topology_changes(db, messages, 0);
    std::string all;
    for (const auto& l : lines) all += l["text"].get<std::string>() + "\n";
    EXPECT_NE(all.find("新しいIPネットワーク 192.168.11.0/24"), std::string::npos) << all;
    // What was there from the sensor's first minute is no change.
    EXPECT_EQ(all.find("192.168.100.0/24"), std::string::npos) << all;
    EXPECT_EQ(all.find(clinic_->truth.switch_name), std::string::npos) << all;
}

// The vendor report's network summary (issue 17) on the clinic with its equipment announcing
// itself: both DHCP servers with their offers (the router's as well as the home router's), the
// router's DNS forwarder among the DNS servers with the devices that asked it, and the switch
// and access point with the port they announced. Counts compared with the generated frames.
TEST_F(ClinicTopology, ReportNetworkSummaryListsServersAndAnnouncedPorts) {
    // Ground truth from the frames themselves: DHCP offers per server, DNS queries per server.
    std::map<std::string, int> offers;   // server MAC -> OFFERs
    std::map<std::string, int> queries;  // server address -> queries
    std::map<std::string, std::set<std::string>> askers;
    bench::TopologyCaptureOptions o;
    o.scenario = bench::TopologyScenario::clinic;
    Packet p;
    bench::generate_topology_capture(o, [&](std::int64_t ts, bench::ByteView f) {
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(f.size()),
                      Bytes(f.data(), f.size()), p);
        if (!p.ip || !p.udp) return;
        if (p.udp->src_port == 67)
            if (auto m = dhcp::parse(p.payload); m && m->op == 2 && m->message_type == dhcp::kOffer)
                ++offers[p.src_mac.to_string()];
        if (p.udp->dst_port == 53 && p.payload.size() >= 12 && !(p.payload[2] & 0x80) &&
            p.ip->src.is_v4()) {
            ++queries[p.ip->dst.to_string()];
            askers[p.ip->dst.to_string()].insert(p.src_mac.to_string());
        }
    });
    const std::string router_mac = clinic_->truth.router_mac.to_string();
    const std::string router_ip = bench::ip4_text(clinic_->truth.clinic.gateway_ip);
    const std::string foreign_mac = clinic_->truth.foreign_router_mac.to_string();
    ASSERT_GT(offers[router_mac], 0);
    ASSERT_GT(offers[foreign_mac], 0);
    ASSERT_GT(queries[router_ip], 0);

    // The report's configuration names the router (the approved DHCP server).
    auto config = (clinic_->dir / "report.yaml").string();
    {
        std::ofstream out(config);
        out << "network:\n  gateway_ip: " << router_ip << "\n  gateway_mac: " << router_mac << "\n"
            << bench::register_yaml(clinic_->truth.clinic);
    }
    auto report = [&](const std::string& format, const std::string& lang) {
        std::string out;
        EXPECT_EQ(run_command("CLINICWATCH_TEMPLATES=" + std::string(CLINICWATCH_SOURCE_DIR) +
                                  "/daemon/report/templates " + CLINICWATCH_BINARY +
                                  " report --format " + format + " --lang " + lang + " --db " +
                                  clinic_->db() + " --config " + config + " 2>/dev/null",
                              &out),
                  0)
            << out;
        return out;
    };
    auto j = nlohmann::json::parse(report("json", "en"), nullptr, false);
    ASSERT_TRUE(j.is_object());
    const auto& n = j["network"];

    bool approved = false, rogue = false;
    for (const auto& d : n["dhcp_servers"]) {
        if (d["mac"] == router_mac) {
            approved = true;
            EXPECT_EQ(d["approved"], true);
            EXPECT_EQ(d["address"], router_ip);
            EXPECT_EQ(d["offers"], offers[router_mac]) << d.dump();
            EXPECT_NE(std::find(d["offered_dns"].begin(), d["offered_dns"].end(), router_ip),
                      d["offered_dns"].end())
                << d.dump();
        }
        if (d["mac"] == foreign_mac) {
            rogue = true;
            EXPECT_EQ(d["approved"], false);
            EXPECT_EQ(d["offers"], offers[foreign_mac]) << d.dump();
        }
    }
    EXPECT_TRUE(approved) << n["dhcp_servers"].dump(1);
    EXPECT_TRUE(rogue) << n["dhcp_servers"].dump(1);

    // Every DNS server the devices asked, the router's forwarder on the LAN first of all.
    for (const auto& [server, count] : queries) {
        const nlohmann::json* row = nullptr;
        for (const auto& d : n["dns_servers"])
            if (d["address"] == server) row = &d;
        ASSERT_NE(row, nullptr) << server << " missing from " << n["dns_servers"].dump(1);
        EXPECT_EQ((*row)["queries"], count) << server;
        EXPECT_EQ((*row)["devices"], askers[server].size()) << server;
        if (server == router_ip) {
            EXPECT_EQ((*row)["where"], "lan");
            EXPECT_EQ((*row)["mac"], router_mac);
            EXPECT_EQ((*row)["handed_out_by"], nlohmann::json::array({router_ip}));
        }
    }

    // The switch and the access point with the port they announced (LLDP port id and
    // description; the AP's CDP port id), the second floor's switch by its BPDUs.
    auto find_switch = [&](const MacAddress& mac) -> nlohmann::json {
        for (const auto& s : n["switches"])
            if (s["mac"] == mac.to_string()) return s;
        return nullptr;
    };
    auto core = find_switch(clinic_->truth.switch_mac);
    ASSERT_TRUE(core.is_object()) << n["switches"].dump(1);
    EXPECT_EQ(core["name"], clinic_->truth.switch_name);
    EXPECT_EQ(core["kind"], "switch");
    EXPECT_EQ(core["port"], "port1.0.1");
    EXPECT_EQ(core["port_description"], "to RTX830 LAN1");
    EXPECT_NE(core["model"].get<std::string>().find(clinic_->truth.switch_model),
              std::string::npos);
    auto ap = find_switch(clinic_->truth.ap_mac);
    ASSERT_TRUE(ap.is_object()) << n["switches"].dump(1);
    EXPECT_EQ(ap["name"], clinic_->truth.ap_name);
    EXPECT_EQ(ap["kind"], "access-point");
    EXPECT_EQ(ap["port"], "GigabitEthernet0");
    EXPECT_EQ(ap["model"], clinic_->truth.ap_model);
    auto second = find_switch(clinic_->truth.second_switch_mac);
    ASSERT_TRUE(second.is_object()) << n["switches"].dump(1);
    EXPECT_EQ(second["source"], "stp");
    EXPECT_TRUE(second["port"].is_null());

    // And in the printed report, in both languages.
    for (const char* lang : {"ja", "en"}) {
        std::string html = report("html", lang);
        EXPECT_NE(html.find("port1.0.1"), std::string::npos) << lang;
        EXPECT_NE(html.find("to RTX830 LAN1"), std::string::npos) << lang;
        EXPECT_NE(html.find("GigabitEthernet0"), std::string::npos) << lang;
        EXPECT_NE(html.find(std::string(lang) == "ja" ? "問い合わせ数" : "Queries"),
                  std::string::npos)
            << lang;
    }
}

TEST(DigestTopology, NewSwitchNetworkAndRootBridgeAreOneLineEach) {
    TempDir dir;
    std::string path = (dir / "d.db").string();
    std::int64_t now = static_cast<std::int64_t>(std::time(nullptr)) * kMicrosPerSecond;
    std::int64_t hour = 3600 * kMicrosPerSecond, day = 24 * hour;
    {
        Store store(path);
        store.set_meta("first_packet_us", std::to_string(now - 10 * day));
        TopologyElement old_root{"root-bridge", 0, "32768/00:1a:eb:00:00:01"};
        old_root.first_seen = now - 10 * day;
        TopologyElement new_root{"root-bridge", 0, "4096/cc:e1:d5:00:00:02"};
        new_root.first_seen = now - hour;
        TopologyElement sw{"announced", 0, "cc:e1:d5:00:00:02"};
        sw.attributes = {{"name", "SW-2F"}, {"role", "switch"}, {"platform", "BS-GS2016P"}};
        sw.first_seen = now - 2 * hour;
        TopologyElement net{"subnet", 0, "192.168.20.0/24"};
        net.first_seen = now - 3 * hour;
        TopologyElement lan{"subnet", 0, "192.168.100.0/24"};
        lan.first_seen = now - 10 * day;
        StoreBatch batch;
        for (auto* e : {&old_root, &new_root, &sw, &net, &lan}) {
            e->last_seen = now;
            batch.topology.push_back(*e);
        }
        store.write(batch);
    }
    std::ofstream(dir / "c.yaml") << "digest:\n  language: en\n";
    std::string out;
    ASSERT_EQ(run_command("CLINICWATCH_TEMPLATES=" + std::string(CLINICWATCH_SOURCE_DIR) +
                              "/daemon/report/templates " + CLINICWATCH_BINARY +
                              " digest --dry-run --db " + path + " --config " +
                              (dir / "c.yaml").string() + " 2>&1",
                          &out),
              0)
        << out;
    EXPECT_NE(out.find("Changes in the network"), std::string::npos) << out;
    EXPECT_NE(out.find("A new switch, SW-2F (BS-GS2016P), appeared"), std::string::npos) << out;
    EXPECT_NE(out.find("A new IP network, 192.168.20.0/24, appeared"), std::string::npos) << out;
    EXPECT_NE(
        out.find("root bridge changed from 32768/00:1a:eb:00:00:01 to 4096/cc:e1:d5:00:00:02"),
        std::string::npos)
        << out;
    EXPECT_EQ(out.find("192.168.100.0/24"), std::string::npos) << out;  // ten days old
}

// The public captures with STP, LLDP and CDP: the elements match what tshark shows in them
// (tshark -V, checked by hand; bridge ids here carry the 802.1t system-id extension in the
// priority, tshark prints it apart: "32768 / 1 / 00:19:06:ea:b8:80" is 32769/00:19:06:ea:b8:80).
struct PublicCapture {
    const char* file;
    std::vector<std::string> expected;  // "kind key field=value" (field empty: present)
    int bridges, roots, announced;
};

TEST(PublicCaptures, MapElementsMatchTshark) {
    if (!test::shared_dir()) GTEST_SKIP() << "../shared is absent: no public captures";
    const std::vector<PublicCapture> captures = {
        {"lldp_and_cdp.pcap",
         {"announced 00:18:ba:98:68:8f name=S1.cisco.com",
          "announced 00:18:ba:98:68:8f platform=cisco WS-C3560-24TS",
          "announced 00:18:ba:98:68:8f role=switch",
          "announced 00:19:2f:a7:b2:8d name=S2.cisco.com",
          "announced 00:19:2f:a7:b2:8d platform=cisco WS-C3560G-24PS",
          "announced 00:19:2f:a7:b2:8d role=switch"},
         0,
         0,
         2},
        {"cdp_cisco_3560.pcap",
         {"announced 00:19:06:ea:b8:85 name=Switch",
          "announced 00:19:06:ea:b8:85 platform=cisco WS-C3560G-24PS",
          "announced 00:19:06:ea:b8:85 role=switch"},
         0,
         0,
         1},
        {"stp_8021d_config_bpdu.pcap",
         {"bridge 32769/00:19:06:ea:b8:80 protocol=stp",
          "bridge 32769/00:19:06:ea:b8:80 ports=[\"5\"]", "root-bridge 32769/00:19:06:ea:b8:80 "},
         1,
         1,
         0},
        {"stp_rstp_topology_change.pcap",
         {"bridge 32769/00:19:06:ea:b8:80 protocol=rstp",
          "bridge 32769/00:19:06:ea:b8:80 ports=[\"12\"]"},
         1,
         1,
         0},
        {"stp_mstp_bpdu.pcap",
         {"bridge 32768/00:16:46:b5:8c:80 root=0/00:1f:27:b4:7d:80",
          "bridge 32768/00:1e:f7:05:a8:80 root=0/00:1f:27:b4:7d:80",
          "bridge 32768/00:16:46:b5:8c:80 protocol=mstp", "root-bridge 0/00:1f:27:b4:7d:80 "},
         2,
         1,
         0},
    };
    for (const auto& c : captures) {
        SCOPED_TRACE(c.file);
        auto pcap = test::shared_pcap(c.file);
        ASSERT_TRUE(pcap);
        TempDir dir;
        std::string db_path = (dir / "p.db").string(), out;
        ASSERT_EQ(run_command(std::string(CLINICWATCH_BINARY) + " replay " + pcap->string() +
                                  " --db " + db_path + " --no-progress",
                              &out),
                  0)
            << out;
        SQLite::Database db(db_path);
        auto count = [&](const char* kind) {
            SQLite::Statement st(db, "SELECT count(*) FROM topology WHERE kind = ?");
            st.bind(1, kind);
            st.executeStep();
            return st.getColumn(0).getInt();
        };
        EXPECT_EQ(count("bridge"), c.bridges);
        EXPECT_EQ(count("root-bridge"), c.roots);
        EXPECT_EQ(count("announced"), c.announced);
        for (const auto& e : c.expected) {
            auto sp1 = e.find(' '), sp2 = e.find(' ', sp1 + 1);
            std::string kind = e.substr(0, sp1), key = e.substr(sp1 + 1, sp2 - sp1 - 1);
            std::string rest = e.substr(sp2 + 1);
            SQLite::Statement st(db, "SELECT attributes FROM topology WHERE kind = ? AND key = ?");
            st.bind(1, kind);
            st.bind(2, key);
            ASSERT_TRUE(st.executeStep()) << e;
            if (rest.empty()) continue;
            auto eq = rest.find('=');
            auto attrs = nlohmann::json::parse(st.getColumn(0).getString());
            const auto& v = attrs[rest.substr(0, eq)];
            EXPECT_EQ(v.is_string() ? v.get<std::string>() : v.dump(), rest.substr(eq + 1)) << e;
        }
    }
}

TEST(NetworkMap, FiftyDevicesFitOnA4) {
    auto devices = nlohmann::json::array();
    for (int i = 0; i < 50; ++i)
        devices.push_back({{"mac", "00:00:00:00:00:" + std::to_string(10 + i)},
                           {"name", "SHINSATSU-PC-" + std::to_string(i)},
                           {"ip", "192.168.100." + std::to_string(100 + i)},
                           {"role", i % 5 ? "ehr-client" : "printer"},
                           {"role_label", i % 5 ? "電子カルテ端末" : "プリンター"},
                           {"unregistered", i % 7 == 0},
                           {"eos_past", i % 9 == 0},
                           {"ehr_server", i == 1}});
    nlohmann::json summary = {
        {"from_us", 0},
        {"to_us", 0},
        {"routers", {{{"mac", "00:a0:de:00:00:01"}, {"name", "RTX830"}, {"internet", true}}}},
        {"dhcp_servers", nlohmann::json::array()},
        {"switches", nlohmann::json::array()},
        {"access_points", nlohmann::json::array()},
        {"joining", nlohmann::json::array()},
        {"segments",
         {{{"vlan", 0},
           {"networks",
            {{{"network", "192.168.100.0/24"}, {"internet", true}, {"devices", devices}}}}}}}};
    auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", "ja");
    std::string svg = network_map_svg(summary, messages);
    // viewBox 0 0 1000 H: on A4 portrait (1 : 1.414) the page holds H up to 1414.
    auto at = svg.find("viewBox=\"0 0 1000 ");
    ASSERT_NE(at, std::string::npos);
    double height = std::stod(svg.substr(at + 17));
    EXPECT_LT(height, 1414.0);
    // Every device is named, none cut to nothing.
    for (int i = 0; i < 50; i += 7)
        EXPECT_NE(svg.find("SHINSATSU-PC-" + std::to_string(i) + " "), std::string::npos) << i;
    TempDir dir;
    {
        std::ofstream f(dir / "fifty.svg");
        f << svg;
    }
    EXPECT_NE(svg_texts((dir / "fifty.svg").string()).find("192.168.100.149"), std::string::npos);
}

}  // namespace
}  // namespace clinicwatch
