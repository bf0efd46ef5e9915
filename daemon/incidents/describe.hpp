// Incidents in words, for the digest, the immediate mail, the `incidents` command and the
// report: every text comes from messages.yaml (ja or en) with named fields filled from the
// incident's facts, never from an analyzer's English summary. Devices are named by register
// name, else host name, else "maker device (address)".
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/config.hpp"
#include "daemon/incidents/incidents.hpp"

namespace clinicwatch {

// The devices of the ledger (load_assets) by MAC and by address, and the language's texts.
class DeviceNames {
  public:
    DeviceNames(const nlohmann::json& messages, const nlohmann::json& assets);
    // "EHR-SRV", "UKETSUKE-PC", "BUFFALO.INCの機器（192.168.11.1）" ...
    std::string name(const std::string& mac, const std::string& ip = {}) const;
    // The same without the address, where the address stands beside it anyway (the
    // availability chart's rows): "BUFFALO.INCの機器".
    std::string name_without_address(const std::string& mac, const std::string& ip) const;
    // The register's role and responsible party, translated where the clinic used a known key.
    std::string role(const std::string& mac) const;
    std::string responsible(const std::string& mac) const;  // empty when the register has none
    // "電子カルテのサービス" / "the EHR service": the service a server of this role runs (issue
    // 22, messages `health.services`), or the generic words when the role is unknown.
    std::string service_phrase(const std::string& mac) const;
    const nlohmann::json* asset(const std::string& mac) const;

  private:
    std::string name(const std::string& mac, const std::string& ip, bool with_address) const;
    const nlohmann::json& messages_;
    std::map<std::string, nlohmann::json> by_mac_;
    std::map<std::string, std::string> mac_by_ip_;
};

// "緊急" / "要対応" / "参考" bucket of a severity: critical, attention, info.
std::string severity_bucket(int severity);

// Everything a person reads about one incident: title, detail, action, party to call, device,
// times, severity label and bucket; plus conditions (device-conditions) one text each.
nlohmann::json describe_incident(const Incident& incident, std::int64_t id,
                                 const nlohmann::json& messages, const DeviceNames& names);

// The incidents as they stand now: correlated and stored first when `db` can be written (titles
// in the configured language), else correlated in memory only (ids 0, everything unmailed).
// `where` filters the stored ones (SQL over incidents, no user input).
std::vector<StoredIncident> current_incidents(SQLite::Database& db, const Config& config,
                                              const std::string& where = "1");

}  // namespace clinicwatch
