#include "capture/protocols/cdp.hpp"

#include "capture/protocols/text.hpp"

namespace clinicwatch::cdp {

namespace {

std::string text(Bytes b) {
    return clinicwatch::text::printable_ascii(b, kMaxText);
}

// Address TLV: a count, then per address protocol type, protocol length, protocol, address
// length, address. Only IPv4 (NLPID 0xcc) and IPv6 (802.2 SNAP 0x86dd) are kept.
void read_addresses(Bytes v, std::vector<IpAddress>& out) {
    ByteReader r(v);
    auto count = r.be32();
    if (!count) return;
    for (std::uint32_t i = 0; i < *count && out.size() < kMaxAddresses; ++i) {
        auto ptype = r.u8();
        auto plen = r.u8();
        if (!ptype || !plen) return;
        auto proto = r.take(*plen);
        auto alen = r.be16();
        if (!proto || !alen) return;
        auto addr = r.take(*alen);
        if (!addr) return;
        if (*ptype == 1 && *plen == 1 && (*proto)[0] == 0xcc && *alen == 4)
            out.push_back(IpAddress::v4(addr->data()));
        else if (*ptype == 2 && *plen == 8 && *alen == 16 && load_be16(proto->data() + 6) == 0x86dd)
            out.push_back(IpAddress::v6(addr->data()));
    }
}

}  // namespace

std::optional<Message> parse(Bytes pdu) {
    ByteReader r(pdu);
    Message m;
    auto version = r.u8();
    auto ttl = r.u8();
    if (!version || !ttl || !r.skip(2)) return std::nullopt;
    if (*version != 1 && *version != 2) return std::nullopt;
    m.version = *version;
    m.ttl = *ttl;
    bool any = false;
    while (r.remaining() >= 4) {
        std::uint16_t type = *r.be16();
        std::uint16_t length = *r.be16();
        if (length < 4) return any ? std::optional<Message>(m) : std::nullopt;
        auto value = r.take(length - 4u);
        if (!value) break;  // cut short: keep what we have
        any = true;
        Bytes v = *value;
        switch (type) {
            case 0x0001:
                m.device_id = text(v);
                break;
            case 0x0002:
                read_addresses(v, m.addresses);
                break;
            case 0x0003:
                m.port_id = text(v);
                break;
            case 0x0004:
                if (v.size() >= 4) m.capabilities = load_be32(v.data());
                break;
            case 0x0005:
                m.software_version = text(v);
                break;
            case 0x0006:
                m.platform = text(v);
                break;
            default:
                break;
        }
    }
    if (!any) return std::nullopt;
    return m;
}

std::string capabilities_text(std::uint32_t caps) {
    static constexpr const char* kNames[] = {
        "router", "transparent-bridge", "source-route-bridge", "switch", "host", "igmp", "repeater",
        "phone"};
    std::string out;
    for (int bit = 0; bit < 8; ++bit) {
        if (!(caps & (1u << bit))) continue;
        if (!out.empty()) out.push_back(',');
        out += kNames[bit];
    }
    return out;
}

}  // namespace clinicwatch::cdp
