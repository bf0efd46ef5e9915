// Which devices still speak obsolete protocol versions? Raised once per device:
//   smb1-in-use        SMBv1 negotiated or used (or offered as the only dialect)
//   legacy-tls         TLS 1.0/1.1 as the highest version offered or negotiated
//   internet-explorer  an Internet Explorer user agent (retired: rules/os-eol.yaml)
// SMB messages, ClientHellos and HTTP requests come parsed from OsFingerprint
// (ProtocolMessages); ServerHellos are read here (nothing else needs them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/internal_networks.hpp"
#include "analyzers/os_rules.hpp"
#include "analyzers/protocol_messages.hpp"

namespace clinicwatch {

struct LegacyProtocolsSettings {
    std::vector<IpNetwork> internal_networks;  // empty = defaults
    std::size_t max_tracked_hosts = 20000;
    // Internet Explorer's retirement, for the alert text (rules/os-eol.yaml
    // internet-explorer-11); none: the text gives no date.
    std::optional<Day> internet_explorer_retired;
};

// The settings from the OS rules (the retirement date of Internet Explorer).
LegacyProtocolsSettings legacy_protocols_settings(const OsRules& rules);

class LegacyProtocols final : public Analyzer, public ProtocolMessages {
  public:
    LegacyProtocols(HostTable& hosts, FindingSink& sink, LegacyProtocolsSettings settings);
    std::string_view name() const override { return "legacy-protocols"; }
    void on_packet(const Packet& packet, PacketContext& context) override;  // ServerHellos
    void table_use(std::vector<TableUse>& out) const override {
        out.push_back({"legacy-protocol-devices", "devices alerted for obsolete protocols",
                       settings_.max_tracked_hosts, evictions_});
    }

    void on_smb(const Packet& p, const smb::Message& m, Host* src, Host* dst) override;
    void on_client_hello(const Packet& p, const tls::ClientHello& hello, Host* src) override;
    void on_http_request(const Packet& p, const http::Message& m, Host* src) override;

  private:
    static constexpr std::uint8_t kSmb1 = 1, kTls = 2, kIe = 4;
    void raise_once(const Packet& p, Host* h, std::uint8_t flag, AlertUpdate a);
    void legacy_tls(const Packet& p, Host* h, const IpAddress& ip, const std::string& how,
                    std::uint16_t version, const std::string& peer, const std::string& sni);

    HostTable& hosts_;
    FindingSink& sink_;
    LegacyProtocolsSettings settings_;
    InternalNetworks internal_;
    std::unordered_map<HostKey, std::uint8_t, HostKeyHash> raised_;  // alerts raised per device
    std::uint64_t evictions_ = 0;
};

}  // namespace clinicwatch
