#include "capture/protocols/dhcpv6.hpp"

namespace clinicwatch::dhcpv6 {

namespace {

// Calls f(code, value) for each option in `data`; false when one runs past the end.
template <typename F>
bool walk_options(Bytes data, F&& f) {
    std::size_t pos = 0;
    while (pos + 4 <= data.size()) {
        std::uint16_t code = load_be16(data.data() + pos);
        std::size_t len = load_be16(data.data() + pos + 2);
        if (pos + 4 + len > data.size()) return false;
        f(code, data.subspan(pos + 4, len));
        pos += 4 + len;
    }
    return pos == data.size();
}

// DUID-LLT (1) and DUID-LL (3) over Ethernet (hardware type 1) carry a MAC.
std::optional<MacAddress> duid_mac(Bytes duid) {
    if (duid.size() < 4 || load_be16(duid.data() + 2) != 1) return std::nullopt;
    std::uint16_t kind = load_be16(duid.data());
    std::size_t at = kind == 1 ? 8 : kind == 3 ? 4 : 0;
    if (at == 0 || duid.size() != at + 6) return std::nullopt;
    return MacAddress::from(duid.data() + at);
}

}  // namespace

std::optional<Message> parse(Bytes p) {
    if (p.size() < 4 || p[0] == 0 || p[0] > kRelayReply) return std::nullopt;
    Message m;
    m.type = p[0];
    if (m.type == kRelayForward || m.type == kRelayReply) {
        if (p.size() < 34) return std::nullopt;  // hop count, link and peer addresses
        return m;
    }
    m.transaction_id = (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    bool ok = walk_options(p.subspan(4), [&](std::uint16_t code, Bytes v) {
        switch (code) {
            case 1:
                m.has_client_id = true;
                m.client_mac = duid_mac(v);
                break;
            case 2:
                m.has_server_id = true;
                m.server_mac = duid_mac(v);
                break;
            case 3:  // IA_NA: IAID, T1, T2, then IAADDR options
                m.has_ia_na = true;
                if (v.size() < 12) break;
                walk_options(v.subspan(12), [&](std::uint16_t c, Bytes a) {
                    if (c != 5 || a.size() < 24) return;
                    if (m.address_count == Message::kMaxAddresses) {
                        ++m.values_not_kept;
                        return;
                    }
                    m.addresses[m.address_count++] = IpAddress::v6(a.data());
                });
                break;
            case 25:  // IA_PD: IAID, T1, T2, then IAPREFIX options
                m.has_ia_pd = true;
                if (v.size() < 12) break;
                walk_options(v.subspan(12), [&](std::uint16_t c, Bytes a) {
                    if (c != 26 || a.size() < 25) return;
                    if (m.prefix_count == Message::kMaxPrefixes) {
                        ++m.values_not_kept;
                        return;
                    }
                    IpNetwork& n = m.prefixes[m.prefix_count++];
                    n.prefix = std::min<int>(a[8], 128);
                    n.base = IpAddress::v6(a.data() + 9);
                });
                break;
            case 13:
                if (v.size() >= 2) m.status = load_be16(v.data());
                break;
            case 23:
                for (std::size_t at = 0; at + 16 <= v.size(); at += 16) {
                    if (m.dns_count == Message::kMaxDns) {
                        ++m.values_not_kept;
                        continue;
                    }
                    m.dns[m.dns_count++] = IpAddress::v6(v.data() + at);
                }
                break;
            default:
                break;
        }
    });
    if (!ok) return std::nullopt;
    return m;
}

std::string_view message_type_name(std::uint8_t type) {
    switch (type) {
        case kSolicit:
            return "solicit";
        case kAdvertise:
            return "advertise";
        case kRequest:
            return "request";
        case kConfirm:
            return "confirm";
        case kRenew:
            return "renew";
        case kRebind:
            return "rebind";
        case kReply:
            return "reply";
        case kRelease:
            return "release";
        case kDecline:
            return "decline";
        case kReconfigure:
            return "reconfigure";
        case kInformationRequest:
            return "information-request";
        case kRelayForward:
            return "relay-forward";
        case kRelayReply:
            return "relay-reply";
        default:
            return "unknown";
    }
}

}  // namespace clinicwatch::dhcpv6
