#include "capture/protocols/stp.hpp"

namespace clinicwatch::stp {

namespace {

constexpr std::size_t kConfigLength = 35;    // 802.1D config BPDU
constexpr std::size_t kMstFixedLength = 64;  // MST config id .. CIST remaining hops
constexpr std::size_t kMstiLength = 16;
constexpr std::size_t kMaxMsti = 64;  // 802.1s allows 64 MSTIs (4094 ids, 64 instances)

BridgeId read_bridge(const std::uint8_t* p) {
    BridgeId id;
    id.priority = load_be16(p);
    id.mac = MacAddress::from(p + 2);
    return id;
}

std::optional<MstExtension> parse_mst(Bytes ext) {
    if (ext.size() < kMstFixedLength) return std::nullopt;
    const auto* p = ext.data();
    MstExtension m;
    m.format_selector = p[0];
    for (std::size_t i = 0; i < 32 && p[1 + i] != 0; ++i)
        m.config_name[i] = static_cast<char>(p[1 + i]);
    m.revision = load_be16(p + 33);
    for (std::size_t i = 0; i < 16; ++i) m.digest[i] = p[35 + i];
    m.cist_internal_root_path_cost = load_be32(p + 51);
    m.cist_bridge = read_bridge(p + 55);
    m.cist_remaining_hops = p[63];
    std::size_t records = (ext.size() - kMstFixedLength) / kMstiLength;
    if (records > kMaxMsti) return std::nullopt;
    m.msti_count = static_cast<std::uint8_t>(records);
    for (std::size_t i = 0; i < records; ++i) {
        std::uint8_t msti_flags = p[kMstFixedLength + i * kMstiLength];
        if (msti_flags & kFlagTopologyChange) ++m.msti_topology_changes;
    }
    return m;
}

}  // namespace

std::string BridgeId::to_string() const {
    return std::to_string(priority) + "/" + mac.to_string();
}

std::optional<Bpdu> parse(Bytes data) {
    if (data.size() < 4) return std::nullopt;
    const auto* p = data.data();
    if (load_be16(p) != 0) return std::nullopt;
    Bpdu b;
    b.version = p[2];
    switch (p[3]) {
        case 0x80:
            b.type = BpduType::tcn;
            return b;
        case 0x00:
            b.type = BpduType::config;
            break;
        case 0x02:
            b.type = BpduType::rapid;
            // An RST BPDU from a bridge claiming version 0 is malformed.
            if (b.version < kRstp) return std::nullopt;
            break;
        default:
            return std::nullopt;
    }
    if (data.size() < kConfigLength) return std::nullopt;
    b.flags = p[4];
    b.root = read_bridge(p + 5);
    b.root_path_cost = load_be32(p + 13);
    b.bridge = read_bridge(p + 17);
    b.port_id = load_be16(p + 25);
    b.message_age = load_be16(p + 27);
    b.max_age = load_be16(p + 29);
    b.hello_time = load_be16(p + 31);
    b.forward_delay = load_be16(p + 33);
    if (b.type != BpduType::rapid || b.version < kMstp) return b;
    // MSTP: version 1 length (one byte, 0), then version 3 length and the MST extension.
    if (data.size() < kConfigLength + 3) return b;  // an MSTP bridge talking RSTP-sized BPDUs
    std::size_t v3_length = load_be16(p + kConfigLength + 1);
    Bytes rest = data.subspan(kConfigLength + 3);
    if (v3_length == 0) return b;
    if (v3_length > rest.size()) return std::nullopt;
    auto mst = parse_mst(rest.first(v3_length));
    if (!mst) return std::nullopt;
    b.mst = *mst;
    return b;
}

}  // namespace clinicwatch::stp
