// The configuration file: one YAML document, validated on load. Every error names the file, the
// line and the key, so the IT contact can fix it without reading code.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "analyzers/asset_register.hpp"
#include "analyzers/egress_policy.hpp"
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
    // IPv6 (issue 20): routers and on-link prefixes are learned from RAs; these add to them.
    std::vector<MacAddress> ipv6_routers;
    std::vector<IpNetwork> ipv6_prefixes;  // also: an RA announcing another prefix is reported
};

struct StoreConfig {
    std::string path = "/var/lib/clinicwatch/clinicwatch.db";
    int flush_interval_ms = 1000;
    int retention_days = 400;
    // Findings waiting for the database writer (a disk-full spell): beyond either cap they are
    // dropped and counted (sensor-limit "held-findings").
    int max_queued_findings = 50000;
    int max_queued_megabytes = 16;
};

struct LimitsConfig {
    int max_hosts = 20000;
    // Memory budget: the tables' default sizes fit in it with room to spare (measured by
    // bench/run-hostile.sh). Above it the sensor raises a sensor-limit alert.
    int memory_megabytes = 128;
};

struct DaemonConfig {
    // When started as root, drop to this user after opening the capture (empty: stay as
    // started; under systemd the unit sets the user and gives only CAP_NET_RAW instead).
    std::string user;
};

struct ExportConfig {
    std::string events_path;  // JSON-lines event log; empty = off
    int max_megabytes = 10;   // rotate when the file would grow beyond this
    int keep = 5;             // rotated files kept
    // Prometheus textfile for node_exporter, rewritten every 15 s; empty = off.
    std::string metrics_path;
    int metrics_interval_seconds = 15;
    // The same events as the JSON-lines log, to syslog (RFC 5424): udp://HOST:PORT or
    // unix:/PATH (a datagram socket); empty = off.
    std::string syslog_target;
    std::string syslog_facility = "local0";
};

struct LoggingConfig {
    std::string level = "info";
};

// The nightly e-mail to the clinic's IT contact (section `digest:`).
struct DigestConfig {
    int hour = 7, minute = 30;             // `time: "07:30"`, local time in `timezone`
    std::string timezone = "Asia/Tokyo";   // a name under /usr/share/zoneinfo
    std::string language = "ja";           // ja or en
    bool all_quiet_mail = true;            // send a short mail when nothing is new
    bool critical_immediate = true;        // critical alerts also go out at once
    int critical_rate_limit_minutes = 60;  // at most one immediate mail per alert kind per window
    // Kinds mailed at once even when an analyzer rated them below critical.
    std::vector<std::string> critical_kinds = {"l2-loop", "broadcast-storm", "gateway-mac-change",
                                               "rogue-dhcp", "inbound-exposure"};
};

// The mail server (section `smtp:`). Empty url = no mail is sent.
struct SmtpConfig {
    std::string url;               // smtp://host:587 (STARTTLS) or smtps://host:465
    bool require_starttls = true;  // smtp:// only: refuse to send without STARTTLS
    std::string from;
    std::vector<std::string> to;
    std::string username;
    std::string password_file;  // must be readable by its owner only
    std::string ca_file;        // extra CA bundle (a private mail server's certificate)
    int timeout_seconds = 60;
};

// The discovered-asset report (section `report:`).
struct ReportConfig {
    std::string clinic_name;
    std::string language = "ja";
    std::string templates_dir;  // empty: CLINICWATCH_DATA_DIR/templates
};

// Loop and storm detection thresholds (analyzers/loop_settings.hpp explains each).
struct LoopConfig {
    int repeat_threshold = 20;   // copies of one frame within a second that mark it looping
    int storm_floor = 1500;      // broadcast + multicast frames/s never alerted below this
    int storm_factor = 8;        // ... nor below this many times the learned baseline
    int arp_host_floor = 50;     // ARP requests/s from one host
    int arp_lan_floor = 300;     // ARP requests/s on the whole LAN
    int table_capacity = 16384;  // duplicate-frame signatures kept
    int quiet_seconds = 5;       // an incident ends after this long without its condition
};

// OS fingerprinting (issue 4): rules/os-fingerprints.yaml and rules/os-eol.yaml.
struct OsFingerprintConfig {
    bool enabled = true;
    std::string rules_dir;  // empty: the installed rules, else the source tree's rules/
    std::string p0f_database = "/etc/p0f/p0f.fp";  // read too when present; "" to skip
};

// `egress:`: what each role may reach across the internet boundary (see EgressPolicy).
struct EgressConfig {
    EgressPolicy policy;
    std::string rules_dir;  // empty = the installed rules/ (see daemon/rules.hpp)
    // Line of each service name in an allow list ("egress.roles.ROLE.services/NAME" -> line),
    // so a service the rules do not know is reported with its line.
    std::map<std::string, int> service_lines;
};

// The `inventory:` section: how the asset inventory and the LAN hygiene checks behave.
struct InventoryConfig {
    int learning_days = 7;  // devices first seen this long after the first packet ever are
                            // recorded without an alert
    std::vector<IpAddress> dhcp_servers;      // empty = the gateway (or the first one seen)
    std::vector<IpAddress> shared_addresses;  // virtual IPs (VRRP, clusters): no ip-conflict
    bool alert_each_randomized = false;       // else one low summary per day
    int max_new_macs_per_minute = 200;        // above this: mac-flood
    int max_dhcp_requests_per_minute = 500;   // DISCOVER + REQUEST, above this: dhcp-flood
    int ip_conflict_window_seconds = 300;
    std::string vendor_data_dir = "/usr/share/ieee-data";
};

// The `topology:` section (issue 18): networks the clinic names, and devices meant to sit in
// two networks.
struct TopologySegmentConfig {
    std::string name;     // "電子カルテ閉域網"
    IpNetwork network;    // 192.168.10.0/24
    bool closed = false;  // must never reach the internet: any path there is critical
};
struct TopologyConfig {
    std::vector<TopologySegmentConfig> segments;
    std::vector<MacAddress> intended_multi_homed;
};

struct Config {
    std::string source;  // file it came from, or "(defaults)"
    CaptureConfig capture;
    NetworkConfig network;
    StoreConfig store;
    LimitsConfig limits;
    LoggingConfig logging;
    DaemonConfig daemon;
    ExportConfig export_events;
    DigestConfig digest;
    SmtpConfig smtp;
    ReportConfig report;
    LoopConfig loop;
    OsFingerprintConfig os_fingerprint;
    EgressConfig egress;
    std::vector<RegisterEntry> asset_register;  // the `register:` list
    InventoryConfig inventory;
    TopologyConfig topology;
    // Each top-level section as read (YAML text), so a reload can tell what changed.
    std::map<std::string, std::string> section_text;
};

constexpr const char* kDefaultConfigPath = "/etc/clinicwatch/clinicwatch.yaml";

// Loads and validates; throws ConfigError listing every problem found (not just the first).
Config load_config(const std::string& path);
Config parse_config(const std::string& yaml_text, const std::string& source_name);

}  // namespace clinicwatch
