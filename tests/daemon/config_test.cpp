#include "daemon/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/prepared_config.hpp"

using namespace clinicwatch;

namespace {
std::vector<std::string> problems_of(const std::string& yaml) {
    try {
        parse_config(yaml, "test.yaml");
    } catch (const ConfigError& e) {
        return e.problems();
    }
    return {};
}
}  // namespace

TEST(Config, EmptyFileMeansDefaults) {
    Config c = parse_config("", "empty.yaml");
    EXPECT_EQ(c.capture.snaplen, 2048);
    EXPECT_EQ(c.store.retention_days, 400);
    EXPECT_TRUE(c.network.internal_networks.empty());
}

TEST(Config, ReadsEverySection) {
    Config c = parse_config(R"(
capture:
  interface: eth1
  snaplen: 1600
  filter: "not port 22"
network:
  internal_networks: [192.168.100.0/24, fd00::/8]
  gateway_ip: 192.168.100.1
  gateway_mac: 00:a0:de:6e:21:4c
store:
  path: /tmp/x.db
limits:
  max_hosts: 500
logging:
  level: debug
)",
                            "full.yaml");
    EXPECT_EQ(c.capture.interface, "eth1");
    EXPECT_EQ(c.capture.snaplen, 1600);
    EXPECT_EQ(c.capture.filter, "not port 22");
    ASSERT_EQ(c.network.internal_networks.size(), 2u);
    EXPECT_EQ(c.network.gateway_mac->to_string(), "00:a0:de:6e:21:4c");
    EXPECT_EQ(c.network.gateway_ip->to_string(), "192.168.100.1");
    EXPECT_EQ(c.store.path, "/tmp/x.db");
    EXPECT_EQ(c.limits.max_hosts, 500);
    EXPECT_EQ(c.logging.level, "debug");
}

TEST(Config, UnknownKeyNamesKeyAndLine) {
    auto p = problems_of("capture:\n  interface: eth1\n  snaplenn: 100\n");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("test.yaml:3"), std::string::npos) << p[0];
    EXPECT_NE(p[0].find("capture.snaplenn"), std::string::npos) << p[0];
    EXPECT_NE(p[0].find("unknown setting"), std::string::npos) << p[0];
}

TEST(Config, WrongTypeAndRangeAreErrors) {
    auto p = problems_of("capture:\n  snaplen: lots\nstore:\n  retention_days: 0\n");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NE(p[0].find("test.yaml:2: capture.snaplen: expected a whole number, got 'lots'"),
              std::string::npos)
        << p[0];
    EXPECT_NE(p[1].find("test.yaml:4: store.retention_days: must be from 1 to 3650, got 0"),
              std::string::npos)
        << p[1];
}

TEST(Config, BadAddressesAreErrors) {
    auto p = problems_of(
        "network:\n  internal_networks: [10.0.0.0/8, 300.1.1.0/24]\n  gateway_mac: zz\n");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NE(p[0].find("300.1.1.0/24"), std::string::npos);
    EXPECT_NE(p[1].find("network.gateway_mac"), std::string::npos);
}

TEST(Config, UnknownTopLevelSectionAndMalformedYaml) {
    auto p = problems_of("captur:\n  interface: eth0\n");
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("test.yaml:1: captur: unknown setting"), std::string::npos) << p[0];
    auto bad = problems_of("capture: [unclosed\n");
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_NE(bad[0].find("not valid YAML"), std::string::npos) << bad[0];
}

TEST(Config, MissingFileIsAClearError) {
    try {
        load_config("/nonexistent/clinicwatch.yaml");
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/clinicwatch.yaml"), std::string::npos);
    }
}

TEST(Config, ExampleFileIsValid) {
    Config c =
        load_config(std::string(CLINICWATCH_SOURCE_DIR) + "/config/clinicwatch.example.yaml");
    EXPECT_FALSE(c.capture.interface.empty());
}

TEST(Config, ReadsRegisterAndInventory) {
    Config c = parse_config(R"(
inventory:
  learning_days: 3
  dhcp_servers: [192.168.100.1, 192.168.100.2]
  shared_addresses: [192.168.100.250]
  alert_each_randomized: true
  max_new_macs_per_minute: 50
  max_dhcp_requests_per_minute: 1000
  vendor_data_dir: /opt/ieee
register:
  - mac: "00:a0:de:6e:21:4c"
    name: gateway
    role: router
    responsible: network vendor
    notes: RTX830 in the rack
  - mac_prefix: "ac:44:f2"
    name: yamaha-aps
    role: wifi-ap
)",
                            "test.yaml");
    EXPECT_EQ(c.inventory.learning_days, 3);
    ASSERT_EQ(c.inventory.dhcp_servers.size(), 2u);
    EXPECT_EQ(c.inventory.shared_addresses[0].to_string(), "192.168.100.250");
    EXPECT_TRUE(c.inventory.alert_each_randomized);
    EXPECT_EQ(c.inventory.max_new_macs_per_minute, 50);
    EXPECT_EQ(c.inventory.max_dhcp_requests_per_minute, 1000);
    EXPECT_EQ(c.inventory.vendor_data_dir, "/opt/ieee");
    ASSERT_EQ(c.asset_register.size(), 2u);
    EXPECT_EQ(c.asset_register[0].mac.bits, 48);
    EXPECT_EQ(c.asset_register[0].responsible, "network vendor");
    EXPECT_EQ(c.asset_register[0].line, 11);
    EXPECT_EQ(c.asset_register[1].mac.bits, 24);
    EXPECT_EQ(c.asset_register[1].role, "wifi-ap");
}

TEST(Config, InventoryDefaults) {
    Config c = parse_config("", "empty.yaml");
    EXPECT_EQ(c.inventory.learning_days, 7);
    EXPECT_TRUE(c.inventory.dhcp_servers.empty());
    EXPECT_FALSE(c.inventory.alert_each_randomized);
    EXPECT_TRUE(c.asset_register.empty());
}

TEST(Config, RegisterProblemsNameTheLine) {
    auto problems = problems_of(R"(register:
  - mac: "00:a0:de:6e:21:4c"
    name: gateway
  - mac: "not-a-mac"
    name: x
  - mac_prefix: "00:a0"
    name: y
  - name: no-mac
  - mac: "00:a0:de:6e:21:4c"
    name: again
    colour: red
inventory:
  learning_days: -1
  dhcp_servers: [192.168.100.999]
  alert_each_randomized: maybe
)");
    auto has = [&](const std::string& part) {
        for (const auto& p : problems)
            if (p.find(part) != std::string::npos) return true;
        return false;
    };
    EXPECT_TRUE(has("test.yaml:4: register[1].mac: expected a MAC address")) << problems.size();
    EXPECT_TRUE(has("test.yaml:6: register[2].mac_prefix: expected at least 6 hex digits"));
    EXPECT_TRUE(has("test.yaml:8: register[3]: give exactly one of mac or mac_prefix"));
    EXPECT_TRUE(has("register[4].colour: unknown setting"));
    EXPECT_TRUE(has("register[4]: the same MAC is already listed at line 2"));
    EXPECT_TRUE(has("test.yaml:13: inventory.learning_days: must be from 0 to 365"));
    EXPECT_TRUE(has("test.yaml:14: inventory.dhcp_servers: expected an IP address"));
    EXPECT_TRUE(has("inventory.alert_each_randomized: expected true or false"));
}

TEST(Config, MetricsPathMustBeAnAbsolutePromFile) {
    auto c = parse_config(
        "export:\n  metrics_path: /var/lib/prometheus/node-exporter/clinicwatch.prom\n",
        "test.yaml");
    EXPECT_EQ(c.export_events.metrics_path, "/var/lib/prometheus/node-exporter/clinicwatch.prom");
    EXPECT_EQ(c.export_events.metrics_interval_seconds, 15);
    auto p = problems_of(
        "export:\n  events_path: /tmp/e.json\n  metrics_path: clinicwatch.txt\n"
        "  metrics_interval_seconds: 0\n");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NE(p[0].find("test.yaml:4: export.metrics_interval_seconds: must be from 1 to 3600"),
              std::string::npos)
        << p[0];
    EXPECT_NE(p[1].find("test.yaml:3: export.metrics_path: expected an absolute path ending in "
                        ".prom"),
              std::string::npos)
        << p[1];
}

TEST(Config, SyslogTargetAndFacilityAreChecked) {
    auto c = parse_config("export:\n  syslog_target: udp://127.0.0.1:5514\n", "test.yaml");
    EXPECT_EQ(c.export_events.syslog_target, "udp://127.0.0.1:5514");
    EXPECT_EQ(c.export_events.syslog_facility, "local0");
    auto p = problems_of("export:\n  syslog_target: tcp://siem:514\n  syslog_facility: kern\n");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NE(p[0].find("test.yaml:2: export.syslog_target: expected udp://HOST:PORT or "
                        "unix:/PATH (datagrams only), got 'tcp://siem:514'"),
              std::string::npos)
        << p[0];
    EXPECT_NE(p[1].find("test.yaml:3: export.syslog_facility: expected local0 ... local7"),
              std::string::npos)
        << p[1];
}

// A reload, a start and check-config read the digest's and the report's texts and templates
// before anything runs with them: a broken file is a configuration error naming it, not a
// failed e-mail at night.
TEST(PreparedConfig, BrokenOrMissingTemplatesAreConfigurationErrors) {
    auto dir = std::filesystem::temp_directory_path() /
               ("clinicwatch-templates-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::filesystem::path source =
        std::filesystem::path(CLINICWATCH_SOURCE_DIR) / "daemon/report/templates";
    auto problems_with = [&]() -> std::string {
        Config c = parse_config("report:\n  templates_dir: " + dir.string() + "\n", "t.yaml");
        try {
            prepare_config(c);
        } catch (const ConfigError& e) {
            std::string all;
            for (const auto& p : e.problems()) all += p + "\n";
            return all;
        }
        return "";
    };
    for (const auto& entry : std::filesystem::directory_iterator(source))
        std::filesystem::copy_file(entry.path(), dir / entry.path().filename(),
                                   std::filesystem::copy_options::overwrite_existing);
    EXPECT_EQ(problems_with(), "");

    std::filesystem::remove(dir / "digest.ja.txt");
    auto missing = problems_with();
    EXPECT_NE(missing.find("digest.ja.txt"), std::string::npos) << missing;
    EXPECT_NE(missing.find("report.templates_dir"), std::string::npos) << missing;

    std::filesystem::copy_file(source / "digest.ja.txt", dir / "digest.ja.txt");
    std::ofstream(dir / "messages.yaml") << "ja: [unclosed\n";
    auto broken = problems_with();
    EXPECT_NE(broken.find("messages.yaml"), std::string::npos) << broken;
    // Replay and capture write no digest or report: they analyse with broken texts (the report
    // command reports them), and skip reading them at start-up.
    Config c = parse_config("report:\n  templates_dir: " + dir.string() + "\n", "t.yaml");
    EXPECT_NO_THROW(prepare_config(c, ConfigUse::analysis));
    std::filesystem::remove_all(dir);
}
