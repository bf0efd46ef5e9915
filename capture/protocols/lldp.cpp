#include "capture/protocols/lldp.hpp"

#include "capture/protocols/text.hpp"

namespace clinicwatch::lldp {

namespace {

std::string text(Bytes b) {
    return clinicwatch::text::printable_ascii(b, kMaxText);
}

std::string id_text(std::uint8_t subtype, Bytes v, std::uint8_t mac_subtype) {
    if (subtype == mac_subtype && v.size() == 6) return MacAddress::from(v.data()).to_string();
    // Network address subtype: family byte (1 = IPv4, 2 = IPv6) then the address.
    if (subtype == (mac_subtype == 4 ? 5 : 4) && !v.empty()) {
        if (v[0] == 1 && v.size() == 5) return IpAddress::v4(v.data() + 1).to_string();
        if (v[0] == 2 && v.size() == 17) return IpAddress::v6(v.data() + 1).to_string();
    }
    return text(v);
}

}  // namespace

std::optional<Message> parse(Bytes lldpdu) {
    ByteReader r(lldpdu);
    Message m;
    int index = 0;
    while (r.remaining() >= 2) {
        std::uint16_t header = *r.be16();
        std::uint8_t type = static_cast<std::uint8_t>(header >> 9);
        std::size_t length = header & 0x01ff;
        auto value = r.take(length);
        if (!value) break;  // cut short by the snaplen: keep what we have
        Bytes v = *value;
        // The first three TLVs must be chassis id, port id and TTL.
        if (index < 3 && type != index + 1) return std::nullopt;
        ++index;
        switch (type) {
            case 0:
                return m;
            case 1:
                if (v.size() < 2) return std::nullopt;
                m.chassis_id_subtype = v[0];
                m.chassis_id = id_text(v[0], v.subspan(1), 4);
                break;
            case 2:
                if (v.size() < 2) return std::nullopt;
                m.port_id_subtype = v[0];
                m.port_id = id_text(v[0], v.subspan(1), 3);
                break;
            case 3:
                if (v.size() < 2) return std::nullopt;
                m.ttl = load_be16(v.data());
                break;
            case 4:
                m.port_description = text(v);
                break;
            case 5:
                m.system_name = text(v);
                break;
            case 6:
                m.system_description = text(v);
                break;
            case 7:
                if (v.size() >= 4) {
                    m.capabilities = load_be16(v.data());
                    m.enabled_capabilities = load_be16(v.data() + 2);
                }
                break;
            case 8: {
                // Address string length (subtype + address), subtype (IANA family), address.
                if (v.size() < 2 || m.management_addresses.size() >= kMaxManagementAddresses) break;
                std::size_t len = v[0];
                if (len < 1 || 1 + len > v.size()) break;
                if (v[1] == 1 && len == 5)
                    m.management_addresses.push_back(IpAddress::v4(v.data() + 2));
                if (v[1] == 2 && len == 17)
                    m.management_addresses.push_back(IpAddress::v6(v.data() + 2));
                break;
            }
            default:
                break;
        }
    }
    if (index < 3) return std::nullopt;
    return m;
}

std::string capabilities_text(std::uint16_t caps) {
    static constexpr const char* kNames[] = {"other",  "repeater",  "bridge", "wlan-ap",
                                             "router", "telephone", "docsis", "station"};
    std::string out;
    for (int bit = 0; bit < 8; ++bit) {
        if (!(caps & (1u << bit))) continue;
        if (!out.empty()) out.push_back(',');
        out += kNames[bit];
    }
    return out;
}

}  // namespace clinicwatch::lldp
