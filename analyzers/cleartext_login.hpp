// Does a password cross the LAN in clear text? A Telnet or FTP login (ports and how a login
// shows: rules/os-fingerprints.yaml `cleartext_logins`) is one `cleartext-login` alert (high)
// per server and protocol. Only the login's shape is read: the password itself never is, and
// only an FTP account name is kept. A login attempt in progress is an entry of its connection in
// the one flow table (64 at most, the oldest of a few sampled replaced).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/flow_entries.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/internal_networks.hpp"
#include "analyzers/os_rules.hpp"

namespace clinicwatch {

class CleartextLogin final : public Analyzer {
  public:
    // `internal_networks` empty = defaults.
    CleartextLogin(HostTable& hosts, FindingSink& sink, std::vector<CleartextLoginRule> rules,
                   const std::vector<IpNetwork>& internal_networks);
    std::string_view name() const override { return "cleartext-login"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_flow_end(Flow& flow) override;
    void table_use(std::vector<TableUse>& out) const override {
        out.push_back({"login-flows", "Telnet/FTP logins in progress", kMaxFlows, replaced_});
    }

  private:
    struct LoginAttempt {
        IpAddress client, server;
        std::uint16_t client_port = 0, server_port = 0;
        MacAddress client_mac, server_mac;
        std::uint16_t vlan = 0;
        bool prompted = false;  // the server asked for a password
        bool reported = false;
        std::string user;  // FTP USER (an account name, not a secret)
        Timestamp last = 0;
    };
    static constexpr std::size_t kMaxFlows = 64;

    void on_login(const Packet& p, Flow& flow, const CleartextLoginRule& rule, bool to_server);

    HostTable& hosts_;
    FindingSink& sink_;
    std::vector<CleartextLoginRule> rules_;
    InternalNetworks internal_;
    FlowEntries<LoginAttempt> attempts_{kMaxFlows};
    std::uint64_t replaced_ = 0;
};

}  // namespace clinicwatch
