// Legacy OS fingerprinting from passive evidence. Collects evidence per asset from NetBIOS
// browser announcements, SMB, NTLMSSP, HTTP, SSDP, TLS, SSH and TCP SYN shapes (DHCP comes from
// the inventory as Host::evidence with source "dhcp"), infers the OS at most once a second per
// changed asset, and raises:
//   legacy-os            the asset's OS is past its end of support
//   os-support-ending    end of support within rules' ending_soon_days (180)
//   os-support-check     possibly past its end: the edition or version settles it
// "Today" is packet time. The SMB messages, ClientHellos and HTTP requests it parses go on to
// the units that publish_to() names (LegacyProtocols), so they are parsed once.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/internal_networks.hpp"
#include "analyzers/os_inference.hpp"
#include "analyzers/os_rules.hpp"
#include "analyzers/protocol_messages.hpp"

namespace clinicwatch {

struct OsFingerprintSettings {
    std::vector<IpNetwork> internal_networks;  // empty = defaults; evidence only from these
    std::size_t max_tracked_hosts = 20000;
    // End of support is judged on the later of packet time and this day (the pipeline sets the
    // wall clock at its start). Live, packet time is the wall clock anyway; a replay of an old
    // capture then answers what the clinic asks, and what the report says: is that OS
    // supported today? (Windows XP seen in a 2004 capture is past its end now.)
    Timestamp judge_support_no_earlier_than = 0;
};

class OsFingerprint final : public Analyzer {
  public:
    OsFingerprint(HostTable& hosts, FindingSink& sink, OsRules rules,
                  OsFingerprintSettings settings);
    const OsRules& rules() const { return rules_; }
    std::string_view name() const override { return "os-fingerprint"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override {
        out.push_back({"os-observations", "devices with OS observations in progress",
                       settings_.max_tracked_hosts, state_evictions_});
    }

    // Hands every SMB message, ClientHello and HTTP request parsed here to `unit` as well.
    void publish_to(ProtocolMessages* unit) { subscribers_.push_back(unit); }

    std::uint64_t evaluations() const { return evaluations_; }
    std::uint64_t state_evictions() const { return state_evictions_; }

  private:
    struct Seen {
        std::uint64_t hash = 0;
        Timestamp refreshed = 0;
    };
    // Per-asset bookkeeping, bounded: which evidence we stored recently (so repeated packets
    // cost a hash, not a string), and what we last concluded.
    struct State {
        std::array<Seen, 48> seen{};
        std::uint8_t next = 0;
        bool pending = false;
        Timestamp last_eval = 0;
        std::uint64_t evidence_signature = 0;
        std::string alerted;  // "product|state|level" last alerted
        Timestamp alerted_at = 0;
    };

    bool internal(const IpAddress& a) const;
    State& state(const HostKey& key);
    // Stores evidence on the packet's sender; false when it was seen recently (no change).
    bool add_evidence(const Packet& p, std::string_view source, std::string_view value);
    bool add_evidence_to(Host& h, std::uint16_t vlan, std::string_view source,
                         std::string_view value, Timestamp ts);
    bool seen_recently(State& st, std::uint64_t hash, Timestamp ts);
    // Whether any rule claims something from `o`. Remembered (claims_): every host sends the
    // same user agents and server banners all day, and the rules' regular expressions are slow.
    bool understood(const Observed& o) { return !claims_.claims(o, rules_).empty(); }

    void on_syn(const Packet& p);
    void on_smb(const Packet& p, PacketContext& context);
    void on_http(const Packet& p, PacketContext& context, bool ssdp);
    void on_tls(const Packet& p, PacketContext& context);
    void on_ssh(const Packet& p);
    void on_browser(const Packet& p);
    void on_l2(const Packet& p, std::string_view what);

    void evaluate(Host& h, State& st, Timestamp now);

    HostTable& hosts_;
    FindingSink& sink_;
    OsRules rules_;
    ClaimsCache claims_;  // what each piece of evidence says under rules_
    OsFingerprintSettings settings_;
    InternalNetworks internal_;
    std::unordered_map<HostKey, State, HostKeyHash> states_;
    std::vector<ProtocolMessages*> subscribers_;
    Timestamp last_scan_ = 0;
    std::uint64_t evaluations_ = 0;
    std::uint64_t state_evictions_ = 0;
};

}  // namespace clinicwatch
