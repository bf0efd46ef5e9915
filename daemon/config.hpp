// The configuration file: one YAML document, validated on load. Every error names the file, the
// line and the key, so the IT contact can fix it without reading code.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "analyzers/asset_register.hpp"
#include "capture/address.hpp"

namespace YAML {
class Node;
}

namespace clinicwatch {

class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(std::vector<std::string> problems);
    const std::vector<std::string>& problems() const { return problems_; }

private:
    std::vector<std::string> problems_;
};

struct CaptureConfig {
    std::string interface;  // required for `run`
    int snaplen = 2048;
    int buffer_mb = 16;
    std::string filter;  // BPF, optional
    int ring_slots = 8192;
};

struct NetworkConfig {
    std::vector<IpNetwork> internal_networks;  // empty = defaults (RFC 1918 ...)
    std::optional<IpAddress> gateway_ip;
    std::optional<MacAddress> gateway_mac;
};

struct StoreConfig {
    std::string path = "/var/lib/clinicwatch/clinicwatch.db";
    int flush_interval_ms = 1000;
    int retention_days = 400;
};

struct LimitsConfig {
    int max_hosts = 20000;
};

struct LoggingConfig {
    std::string level = "info";
};

// The `inventory:` section: how the asset inventory and the LAN hygiene checks behave.
struct InventoryConfig {
    int learning_days = 7;  // devices first seen this long after the first packet ever are
                            // recorded without an alert
    std::vector<IpAddress> dhcp_servers;      // empty = the gateway (or the first one seen)
    std::vector<IpAddress> shared_addresses;  // virtual IPs (VRRP, clusters): no ip-conflict
    bool alert_each_randomized = false;       // else one low summary per day
    int max_new_macs_per_minute = 200;        // above this: mac-flood
    int ip_conflict_window_seconds = 300;
    std::string vendor_data_dir = "/usr/share/ieee-data";
};

struct Config {
    std::string source;  // file it came from, or "(defaults)"
    CaptureConfig capture;
    NetworkConfig network;
    StoreConfig store;
    LimitsConfig limits;
    LoggingConfig logging;
    std::vector<RegisterEntry> asset_register;  // the `register:` list
    InventoryConfig inventory;
};

constexpr const char* kDefaultConfigPath = "/etc/clinicwatch/clinicwatch.yaml";

// Loads and validates; throws ConfigError listing every problem found (not just the first).
Config load_config(const std::string& path);
Config parse_config(const std::string& yaml_text, const std::string& source_name);

}  // namespace clinicwatch
