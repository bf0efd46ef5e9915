#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "daemon/config.hpp"
#include "daemon/egress_rules.hpp"
#include "daemon/store/store.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::TempDir;

namespace {
std::vector<std::string> problems_of(const std::string& yaml) {
    try {
        parse_config(yaml, "test.yaml");
    } catch (const ConfigError& e) {
        return e.problems();
    }
    return {};
}
void write(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p) << text;
}
}  // namespace

TEST(EgressConfig, ReadsRolePolicies) {
    Config c = parse_config(R"(
egress:
  unknown_role: none
  max_flows: 10000
  roles:
    ehr-server: none
    ehr-client: observe
    orca-server:
      services: [ubuntu-updates, orca-updates]
      domains: [ORCA.med.or.jp]
      networks: [61.213.150.0/24, 203.0.113.7]
      ports: [udp/123, tcp/5938]
)",
                            "clinic.yaml");
    const auto& p = c.egress.policy;
    EXPECT_EQ(p.unknown_role.mode, EgressMode::none);
    EXPECT_EQ(p.max_flows, 10000u);
    EXPECT_EQ(p.for_role("ehr-server").mode, EgressMode::none);
    EXPECT_EQ(p.for_role("ehr-client").mode, EgressMode::observe);
    const auto& orca = p.for_role("orca-server");
    EXPECT_EQ(orca.mode, EgressMode::allow);
    EXPECT_EQ(orca.services, (std::vector<std::string>{"ubuntu-updates", "orca-updates"}));
    EXPECT_EQ(orca.domains, (std::vector<std::string>{"orca.med.or.jp"}));
    ASSERT_EQ(orca.networks.size(), 2u);
    EXPECT_TRUE(orca.networks[1].contains(*IpAddress::parse("203.0.113.7")));
    EXPECT_FALSE(orca.networks[1].contains(*IpAddress::parse("203.0.113.8")));
    ASSERT_EQ(orca.ports.size(), 2u);
    EXPECT_TRUE(orca.ports[1].matches(kProtoTcp, 5938));
    EXPECT_EQ(p.for_role("pacs-server").mode, EgressMode::none);  // built-in closed roles
}

TEST(EgressConfig, ProblemsNameLineAndKey) {
    auto problems = problems_of(R"(
egress:
  roles:
    ehr-server: deny
    orca-server:
      ports: [tcp/99999]
      networks: [not-a-network]
      colour: blue
  max_flows: 3
)");
    ASSERT_EQ(problems.size(), 5u);
    EXPECT_NE(problems[0].find("test.yaml:4: egress.roles.ehr-server"), std::string::npos)
        << problems[0];
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    EXPECT_NE(all.find("egress.roles.orca-server.ports"), std::string::npos) << all;
    EXPECT_NE(all.find("egress.roles.orca-server.networks"), std::string::npos) << all;
    EXPECT_NE(all.find("egress.roles.orca-server.colour: unknown setting"), std::string::npos)
        << all;
    EXPECT_NE(all.find("egress.max_flows"), std::string::npos) << all;
}

TEST(EgressRulesFiles, ShippedRulesLoadAndCiteSources) {
    auto rules = load_egress_rules(CLINICWATCH_SOURCE_DIR "/rules");
    for (const char* tool : {"RDP", "VNC", "TeamViewer", "AnyDesk", "Splashtop", "ScreenConnect",
                             "Chrome Remote Desktop", "ISL Online", "MagicConnect", "RustDesk"}) {
        bool found = false;
        for (const auto& t : rules.tools) found |= t.name == tool;
        EXPECT_TRUE(found) << tool;
    }
    for (const auto& t : rules.tools) EXPECT_FALSE(t.source.empty()) << t.name;
    for (const auto& s : rules.services) EXPECT_FALSE(s.source.empty()) << s.name;
    for (const auto& r : rules.risky) EXPECT_FALSE(r.source.empty()) << r.name;
    ASSERT_NE(rules.tool_for_port(kProtoTcp, 5938), nullptr);
    EXPECT_EQ(rules.tool_for_port(kProtoTcp, 5938)->name, "TeamViewer");
    EXPECT_EQ(rules.tool_for_name("relay-3185a847.net.anydesk.com")->name, "AnyDesk");
    ASSERT_NE(rules.tool_for_alpn({"h2", "anydesk/6.2.0/linux"}), nullptr);
    EXPECT_EQ(rules.tool_for_alpn({"h2", "anydesk/6.2.0/linux"})->name, "AnyDesk");
    EXPECT_EQ(rules.tool_for_alpn({"h2", "http/1.1"}), nullptr);
    EXPECT_EQ(rules.tool_for_port(kProtoTcp, 443), nullptr);
    for (int port : {445, 139, 23, 21, 104, 11112, 1433, 3306, 5432, 3389})
        EXPECT_NE(rules.risky_for_port(kProtoTcp, static_cast<std::uint16_t>(port)), nullptr)
            << port;
    for (const char* s : {"windows-update", "certificate-revocation", "time", "ubuntu-updates"})
        EXPECT_NE(rules.service(s), nullptr) << s;
}

TEST(EgressRulesFiles, ExampleConfigurationNamesKnownServices) {
    Config c = load_config(CLINICWATCH_SOURCE_DIR "/config/clinicwatch.example.yaml");
    auto rules = load_egress_rules(CLINICWATCH_SOURCE_DIR "/rules");
    EXPECT_NO_THROW(check_egress_policy(c.egress.policy, rules));
    EXPECT_EQ(c.egress.policy.for_role("ehr-server").mode, EgressMode::allow);
    EXPECT_EQ(c.egress.policy.for_role("pacs-server").mode, EgressMode::none);
}

TEST(EgressRulesFiles, BadEntriesAreReportedWithTheirLine) {
    TempDir dir;
    write(dir / "remote-access.yaml",
          "tools:\n  - name: X\n    ports: [tcp/abc]\n    source: s\n"
          "  - name: Y\n    domains: [y.example]\n");
    write(dir / "well-known-services.yaml",
          "services:\n  - name: time\n    ports: [udp/123]\n    source: RFC 5905\n");
    write(dir / "risky-protocols.yaml", "protocols: []\n");
    try {
        load_egress_rules(dir.path().string());
        FAIL() << "bad rules accepted";
    } catch (const ConfigError& e) {
        // The bad port, the tool left with nothing to match, the entry without a source.
        ASSERT_EQ(e.problems().size(), 3u);
        EXPECT_NE(e.problems()[0].find("remote-access.yaml:3: port 'tcp/abc'"), std::string::npos)
            << e.problems()[0];
        EXPECT_NE(e.problems()[1].find("tool 'X' has no ports"), std::string::npos)
            << e.problems()[1];
        EXPECT_NE(e.problems()[2].find("remote-access.yaml:5: entry without 'source'"),
                  std::string::npos)
            << e.problems()[2];
    }
    EgressRules rules;
    rules.services.push_back({"time", {}, {}, {}, "x"});
    EgressPolicy policy;
    policy.roles["reception"] = {EgressMode::allow, {"windows-updates"}, {}, {}, {}};
    EXPECT_THROW(check_egress_policy(policy, rules), ConfigError);
}

TEST(EgressStore, BoundaryFlowsAreSummedPerKey) {
    TempDir dir;
    auto path = (dir / "c.db").string();
    {
        Store store(path);
        EXPECT_EQ(Store::schema_version(store.db()), Store::kSchemaVersion);
        BoundaryFlowSummary row;
        row.mac = *MacAddress::parse("98:e7:43:0c:55:21");
        row.day = "2026-11-20";
        row.direction = "egress";
        row.address = *IpAddress::parse("45.76.210.84");
        row.name = "sync.medibox-cloud.net";
        row.name_source = "tls-sni";
        row.port = 443;
        row.protocol = 6;
        row.verdict = "denied";
        row.flows = 1;
        row.packets = 10;
        row.bytes_out = 1000;
        row.bytes_in = 200;
        row.first_seen = 100;
        row.last_seen = 200;
        store.boundary_flows({row});
        HostTable hosts(16);
        store.flush(hosts);
        row.flows = 0;
        row.packets = 5;
        row.first_seen = 150;
        row.last_seen = 900;
        store.boundary_flows({row});
        store.flush(hosts);
    }
    SQLite::Database db(path);
    SQLite::Statement st(db,
                         "SELECT count(*), sum(flows), sum(packets), sum(bytes_out), "
                         "min(first_seen), max(last_seen) FROM boundary_flows");
    ASSERT_TRUE(st.executeStep());
    EXPECT_EQ(st.getColumn(0).getInt(), 1);
    EXPECT_EQ(st.getColumn(1).getInt(), 1);
    EXPECT_EQ(st.getColumn(2).getInt(), 15);
    EXPECT_EQ(st.getColumn(3).getInt(), 2000);
    EXPECT_EQ(st.getColumn(4).getInt(), 100);
    EXPECT_EQ(st.getColumn(5).getInt(), 900);
}

TEST(EgressStore, OlderDatabaseIsMigrated) {
    TempDir dir;
    auto path = (dir / "old.db").string();
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        Store::migrate(db, 2);
        EXPECT_EQ(Store::schema_version(db), 2);
    }
    Store store(path);
    EXPECT_EQ(Store::schema_version(store.db()), Store::kSchemaVersion);
    EXPECT_EQ(store.db().execAndGet("SELECT count(*) FROM boundary_flows").getInt(), 0);
}

TEST(EgressCli, ReplayThenListDestinations) {
    auto shared = clinicwatch::test::shared_dir();
    if (!shared || !std::filesystem::exists(*shared / "bench" / "make-clinic-pcap"))
        GTEST_SKIP() << "../shared/bench/make-clinic-pcap not available";
    TempDir dir;
    std::string out;
    ASSERT_EQ(clinicwatch::test::run_command(
                  "python3 " + (*shared / "bench" / "make-clinic-pcap").string() + " --out " +
                      (dir / "c.pcap").string() + " --truth " + (dir / "c.json").string() +
                      " --packets 20000",
                  &out),
              0)
        << out;
    std::string bin = CLINICWATCH_BINARY;
    std::string db = (dir / "c.db").string();
    ASSERT_EQ(clinicwatch::test::run_command(
                  bin + " replay --no-progress --db " + db + " " + (dir / "c.pcap").string(), &out),
              0)
        << out;
    ASSERT_EQ(clinicwatch::test::run_command(
                  bin + " egress --json --asset 98-E7-43-0C-55-21 --db " + db + " 2>&1", &out),
              0)
        << out;
    auto rows = nlohmann::json::parse(out);
    ASSERT_TRUE(rows.is_array());
    bool sync = false, inbound = false;
    for (const auto& r : rows) {
        EXPECT_EQ(r["mac"], "98:e7:43:0c:55:21");
        if (r["name"] == "sync.medibox-cloud.net" && r["port"] == 443 && r["bytes_out"] > 100000)
            sync = true;
        if (r["direction"] == "inbound" && r["port"] == 3389 && r["application"] == "RDP")
            inbound = true;
    }
    EXPECT_TRUE(sync) << out;
    EXPECT_TRUE(inbound) << out;
    EXPECT_EQ(clinicwatch::test::run_command(bin + " egress --asset nonsense --db " + db, &out), 2);
    ASSERT_EQ(clinicwatch::test::run_command(bin + " egress --csv --db " + db, &out), 0);
    EXPECT_EQ(out.rfind("ASSET,DIRECTION,NAME,ADDRESS,PORT", 0), 0u) << out.substr(0, 200);
}
