// Spanning-tree BPDUs: 802.1D configuration and topology-change notification (TCN), 802.1w
// RSTP and 802.1s MSTP. They arrive as LLC frames with DSAP = SSAP = 0x42 to 01:80:c2:00:00:00;
// the loop detector reads the topology-change flags per bridge. A pure function from the bytes
// after the LLC header to a typed BPDU; MSTI records are counted, not kept, so parsing never
// allocates.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "capture/address.hpp"
#include "capture/bytes.hpp"
#include "capture/packet.hpp"

namespace clinicwatch::stp {

constexpr std::uint8_t kLlcSap = 0x42;

enum class BpduType : std::uint8_t { config = 0x00, rapid = 0x02, tcn = 0x80 };

// Protocol version identifier.
enum Version : std::uint8_t { kStp = 0, kRstp = 2, kMstp = 3 };

// Flag bits of config and RST/MST BPDUs. 802.1D config BPDUs use only TC and TCA.
constexpr std::uint8_t kFlagTopologyChange = 0x01;
constexpr std::uint8_t kFlagProposal = 0x02;
constexpr std::uint8_t kFlagPortRoleMask = 0x0c;
constexpr std::uint8_t kFlagLearning = 0x10;
constexpr std::uint8_t kFlagForwarding = 0x20;
constexpr std::uint8_t kFlagAgreement = 0x40;
constexpr std::uint8_t kFlagTopologyChangeAck = 0x80;

enum class PortRole : std::uint8_t { unknown = 0, alternate_backup = 1, root = 2, designated = 3 };

// Priority (with the 802.1t system-id extension in its low 12 bits) and MAC address.
struct BridgeId {
    std::uint16_t priority = 0;
    MacAddress mac;
    // "32768/00:19:06:ea:b8:80"
    std::string to_string() const;
    auto operator<=>(const BridgeId&) const = default;
};

// MSTP extension (version 3 length > 0): the region and the CIST bridge that sent it.
struct MstExtension {
    std::uint8_t format_selector = 0;
    std::array<char, 33> config_name{};  // NUL-terminated, up to 32 characters
    std::uint16_t revision = 0;
    std::array<std::uint8_t, 16> digest{};
    std::uint32_t cist_internal_root_path_cost = 0;
    BridgeId cist_bridge;
    std::uint8_t cist_remaining_hops = 0;
    std::uint8_t msti_count = 0;
    std::uint8_t msti_topology_changes = 0;  // MSTI records with their TC flag set
};

struct Bpdu {
    std::uint8_t version = 0;
    BpduType type = BpduType::config;
    std::uint8_t flags = 0;  // zero for TCN
    // Not present in TCN BPDUs (left zero).
    BridgeId root;
    std::uint32_t root_path_cost = 0;
    BridgeId bridge;  // for MSTP: the CIST regional root; see sender()
    std::uint16_t port_id = 0;
    // Timers in 1/256 s, as sent.
    std::uint16_t message_age = 0, max_age = 0, hello_time = 0, forward_delay = 0;
    std::optional<MstExtension> mst;

    bool is_tcn() const { return type == BpduType::tcn; }
    // A topology-change notification, or a BPDU announcing one (TC flag, on the CIST or on any
    // MSTI).
    bool topology_change() const {
        return is_tcn() || (flags & kFlagTopologyChange) || (mst && mst->msti_topology_changes);
    }
    bool topology_change_ack() const { return flags & kFlagTopologyChangeAck; }
    PortRole port_role() const {
        if (type != BpduType::rapid) return PortRole::unknown;
        return static_cast<PortRole>((flags & kFlagPortRoleMask) >> 2);
    }
    // The bridge that sent this BPDU (for MSTP the CIST bridge id, not the regional root).
    const BridgeId& sender() const { return mst ? mst->cist_bridge : bridge; }
};

// Parses a BPDU starting at the protocol identifier (the bytes after the LLC header). Returns
// nothing when the protocol identifier is not 0, the type is unknown, or the BPDU is truncated.
std::optional<Bpdu> parse(Bytes bpdu);

// True when the decoded packet is an LLC frame addressed to the spanning-tree SAP.
inline bool is_bpdu_frame(const Packet& p) {
    return p.llc && p.llc->dsap == kLlcSap && p.llc->ssap == kLlcSap && !p.llc->snap;
}

// parse(packet.l3_payload) when is_bpdu_frame(packet).
inline std::optional<Bpdu> parse_packet(const Packet& p) {
    if (!is_bpdu_frame(p)) return std::nullopt;
    return parse(p.l3_payload);
}

}  // namespace clinicwatch::stp
