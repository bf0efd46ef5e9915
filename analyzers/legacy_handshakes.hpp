// Legacy protocol versions a handshake shows, where no other unit flags them (issue 19):
//   legacy-ssh   an SSH identification line of version 1 ("SSH-1.5-..."; "SSH-1.99" also speaks
//                2.0, RFC 4253 §5.1), on any port: a device that offers or speaks only SSH-1
//   ntlmv1       an NTLMSSP AUTHENTICATE whose NT response is 24 bytes (MS-NLMP 3.3.1; NTLMv2's
//                is longer), in SMB/NetBIOS/RPC sessions or an HTTP Authorization header: the
//                client's login can be cracked from a capture
// SMBv1 and TLS 1.0/1.1 are flagged by the OS fingerprint unit (smb1-in-use, legacy-tls) and are
// not repeated here. Each device is flagged once per kind per run (the store merges repeats).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/internal_networks.hpp"

namespace clinicwatch {

class LegacyHandshakes final : public Analyzer {
  public:
    LegacyHandshakes(FindingSink& sink, const std::vector<IpNetwork>& internal_networks);
    std::string_view name() const override { return "legacy-handshakes"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void table_use(std::vector<TableUse>& out) const override;

    // Devices remembered as already flagged (per kind); beyond it a device may be flagged
    // again (the alert key merges it), counted.
    static constexpr std::size_t kMaxFlagged = 4096;

  private:
    void on_ssh(const Packet& packet);
    // `context` for a login in HTTP (its request parsed once for every unit), else null.
    // The NTLMSSP message the packet carries (in an HTTP request's Authorization when `carrier`
    // is "http"), from the context: parsed once for every unit.
    void on_ntlm(const Packet& packet, std::string_view carrier, PacketContext& context);
    // True the first time (kind, mac) is seen.
    bool first_time(std::uint8_t kind, const MacAddress& mac, const IpAddress& ip);

    FindingSink& sink_;
    InternalNetworks internal_;
    std::unordered_set<std::uint64_t> flagged_;
    std::uint64_t flagged_dropped_ = 0;
};

}  // namespace clinicwatch
