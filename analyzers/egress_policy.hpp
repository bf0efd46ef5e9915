// What the egress analyzer knows (rules/: remote-access tools, well-known services, risky
// protocols) and what the clinic wants (config `egress:`: a policy per role). Plain data plus
// the small functions that match a flow against them; the YAML readers live in daemon/.
#pragma once

#include <algorithm>

#include <bitset>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/address.hpp"
#include "capture/bytes.hpp"
#include "capture/protocols/handshake_recognisers.hpp"

namespace clinicwatch {

constexpr std::uint8_t kProtoTcp = 6, kProtoUdp = 17;

// "443", "tcp/5938", "udp/123", "tcp/5900-5906". proto 0 = TCP or UDP.
struct PortMatch {
    std::uint8_t proto = 0;
    std::uint16_t first = 0, last = 0;
    static std::optional<PortMatch> parse(std::string_view text);
    bool matches(std::uint8_t p, std::uint16_t port) const {
        return (proto == 0 || proto == p) && port >= first && port <= last;
    }
};

// `name` equals `suffix` or ends with "." + suffix. A leading "*." or "." on the suffix is
// ignored, so "*.teamviewer.com" and "teamviewer.com" mean the same.
bool domain_matches(std::string_view name, std::string_view suffix);
// Role patterns: exact, or with one leading or trailing '*' ("*-server", "modality-*").
bool role_matches(std::string_view role, std::string_view pattern);

// The first bytes (or the framing) of a tool's protocol, as rules/remote-access.yaml gives them:
// `bytes` at `offset` of a TCP or UDP payload, where `mask` bits are compared (0x00 = any byte),
// and/or a named recogniser (capture/protocols/handshake_recognisers.hpp) for what a pattern
// cannot say (length fields, fixed message sizes).
struct HandshakeSignature {
    enum class Sender : std::uint8_t { client, server, either };
    Sender sent_by = Sender::either;
    std::uint8_t protocol = 6;  // kProtoTcp or kProtoUdp
    std::size_t offset = 0;
    std::vector<std::uint8_t> bytes, mask;
    std::size_t min_length = 0;    // payload at least this long (and offset + bytes)
    std::size_t exact_length = 0;  // payload exactly this long (0 = any)
    std::size_t max_length = 0;    // payload at most this long (0 = any)
    HandshakeRecogniser recognise = nullptr;
    // Matching payload packets needed in one session before it is called the tool's; with
    // `mid_stream` the pattern frames every message, so a running session is recognised too,
    // but only while at least half of its payload packets since the first match match.
    std::uint16_t packets = 1;
    bool mid_stream = false;
    // Session properties a single packet cannot show (a running tunnel's data packets): every
    // matching packet from one side repeats that side's first `same_prefix` bytes (a connection
    // constant such as OpenVPN's opcode and peer id), and the 32-bit big-endian number at
    // `counter_at` grows from packet to packet on each side (a packet id). -1 = not checked.
    std::uint8_t same_prefix = 0;
    int counter_at = -1;
    bool per_session() const { return same_prefix > 0 || counter_at >= 0; }
    std::string source;

    bool matches(Bytes payload) const {
        if (payload.size() < std::max(min_length, offset + bytes.size())) return false;
        if (exact_length && payload.size() != exact_length) return false;
        if (max_length && payload.size() > max_length) return false;
        for (std::size_t i = 0; i < bytes.size(); ++i)
            if ((payload[offset + i] & mask[i]) != bytes[i]) return false;
        return !recognise || recognise(payload);
    }
};

struct RemoteAccessTool {
    std::string name;
    std::vector<PortMatch> ports;      // the service side's port
    std::vector<std::string> domains;  // suffixes
    std::vector<std::string> dpi;      // application names a DPI engine reports
    std::string source;
    std::vector<std::string> tls_alpn;  // prefixes of the ALPN names its client offers in TLS
    std::vector<HandshakeSignature> handshakes = {};  // its protocol recognised on any port
};

struct WellKnownService {
    std::string name;
    std::vector<std::string> domains;
    std::vector<IpNetwork> networks;
    std::vector<PortMatch> ports;
    std::string source;
};

struct RiskyProtocol {
    std::string name;
    std::vector<PortMatch> ports;
    std::string severity = "high";
    std::string source;
};

struct EgressRules {
    std::vector<RemoteAccessTool> tools;
    std::vector<WellKnownService> services;
    std::vector<RiskyProtocol> risky;

    // Builds the per-port lookup bitmaps; call after filling the lists.
    void index();
    const RemoteAccessTool* tool_for_port(std::uint8_t proto, std::uint16_t port) const;
    const RemoteAccessTool* tool_for_name(std::string_view name) const;
    // The tool whose ALPN prefix one of `alpn` (from a TLS ClientHello) starts with.
    const RemoteAccessTool* tool_for_alpn(const std::vector<std::string>& alpn) const;
    const RiskyProtocol* risky_for_port(std::uint8_t proto, std::uint16_t port) const;
    const WellKnownService* service(std::string_view name) const;
    // Cheap pre-check for the per-packet path (LAN-to-LAN handshakes).
    bool maybe_remote_port(std::uint8_t proto, std::uint16_t port) const {
        return proto == kProtoTcp ? remote_tcp_[port] : proto == kProtoUdp && remote_udp_[port];
    }

  private:
    std::bitset<65536> remote_tcp_, remote_udp_;
};

enum class EgressMode { none, observe, allow };
std::string_view to_string(EgressMode m);

struct RolePolicy {
    EgressMode mode = EgressMode::observe;
    std::vector<std::string> services;  // names from rules/well-known-services.yaml
    std::vector<std::string> domains;   // suffixes
    std::vector<IpNetwork> networks;
    std::vector<PortMatch> ports;
};

struct EgressPolicy {
    std::map<std::string, RolePolicy> roles;                       // explicit per-role policies
    RolePolicy unknown_role{EgressMode::observe, {}, {}, {}, {}};  // devices without a role
    // Roles with no explicit entry that default to `none`: servers and modalities should not
    // reach the internet unless the clinic says so.
    std::vector<std::string> closed_roles = {"ehr-server", "pacs",     "pacs-server",
                                             "nas",        "modality", "modality-*",
                                             "*-modality", "*-server", "server"};
    std::size_t max_flows = 65536;
    std::size_t max_dns_names = 16384;
    // Connections whose first client bytes are put in order at once (a ClientHello spanning
    // segments), and how many bytes of each are kept.
    std::size_t max_streams = 512;
    std::size_t stream_depth = 4096;

    const RolePolicy& for_role(const std::string& role) const;
};

enum class Verdict { allowed, denied, observed };
std::string_view to_string(Verdict v);

// The verdict for a connection from a device with `policy` to `name` (may be empty) at
// `address`, `proto`/`port`. Names `why` what allowed it (for the report).
Verdict evaluate_egress(const RolePolicy& policy, const EgressRules& rules, std::string_view name,
                        const IpAddress& address, std::uint8_t proto, std::uint16_t port,
                        std::string* why = nullptr);

}  // namespace clinicwatch
