#include "capture/protocols/dhcp.hpp"

namespace clinicwatch::dhcp {

namespace {

constexpr std::size_t kFixedHeader = 236;
constexpr std::uint32_t kMagicCookie = 0x63825363;

std::string printable(Bytes b) {
    std::string out;
    for (auto c : b.first(std::min(b.size(), kMaxTextOption))) {
        if (c == 0) break;  // some clients NUL-terminate
        out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    }
    return out;
}

void addresses(Bytes v, std::vector<IpAddress>& out) {
    for (std::size_t i = 0; i + 4 <= v.size() && out.size() < kMaxAddressesPerOption; i += 4)
        out.push_back(IpAddress::v4(v.data() + i));
}

// Option 81 (RFC 4702): flags, two obsolete rcodes, then the name; the E flag says whether it
// is in DNS wire format or plain ASCII.
std::string fqdn_name(Bytes v) {
    if (v.size() < 3) return {};
    Bytes name = v.subspan(3);
    if ((v[0] & 0x04) == 0) return printable(name);
    std::string out;
    std::size_t pos = 0;
    while (pos < name.size()) {
        std::size_t len = name[pos];
        if (len == 0 || (len & 0xc0) != 0 || pos + 1 + len > name.size()) break;
        if (!out.empty()) out.push_back('.');
        out += printable(name.subspan(pos + 1, len));
        pos += 1 + len;
        if (out.size() > kMaxTextOption) break;
    }
    return out;
}

}  // namespace

std::optional<Message> parse(Bytes payload) {
    if (payload.size() < kFixedHeader + 4) return std::nullopt;
    const auto* p = payload.data();
    if (load_be32(p + kFixedHeader) != kMagicCookie) return std::nullopt;
    Message m;
    m.op = p[0];
    if (m.op != 1 && m.op != 2) return std::nullopt;
    m.xid = load_be32(p + 4);
    m.ciaddr = IpAddress::v4(p + 12);
    m.yiaddr = IpAddress::v4(p + 16);
    m.siaddr = IpAddress::v4(p + 20);
    m.giaddr = IpAddress::v4(p + 24);
    // htype 1 / hlen 6: Ethernet client hardware address.
    if (p[1] == 1 && p[2] == 6) {
        m.chaddr = MacAddress::from(p + 28);
        m.chaddr_is_ethernet = true;
    }
    ByteReader r(payload.subspan(kFixedHeader + 4));
    while (r.remaining() > 0) {
        std::uint8_t code = *r.u8();
        if (code == 0) continue;
        if (code == 255) break;
        auto len = r.u8();
        if (!len) break;
        auto value = r.take(*len);
        if (!value) break;  // cut short (snaplen): keep what we have
        Bytes v = *value;
        switch (code) {
            case 53:
                if (v.size() == 1) m.message_type = v[0];
                break;
            case 12:
                m.host_name = printable(v);
                break;
            case 81:
                m.fqdn = fqdn_name(v);
                break;
            case 60:
                m.vendor_class = printable(v);
                break;
            case 55:
                m.parameter_list.assign(v.begin(), v.end());
                break;
            case 61:
                m.client_id.assign(v.begin(), v.end());
                break;
            case 50:
                if (v.size() == 4) m.requested_ip = IpAddress::v4(v.data());
                break;
            case 54:
                if (v.size() == 4) m.server_id = IpAddress::v4(v.data());
                break;
            case 1:
                if (v.size() == 4) m.subnet_mask = IpAddress::v4(v.data());
                break;
            case 3:
                addresses(v, m.routers);
                break;
            case 6:
                addresses(v, m.dns_servers);
                break;
            default:
                break;
        }
    }
    return m;
}

std::string parameter_list_text(const Message& m) {
    std::string out;
    for (auto code : m.parameter_list) {
        if (!out.empty()) out.push_back(',');
        out += std::to_string(code);
    }
    return out;
}

std::string_view message_type_name(std::uint8_t type) {
    static constexpr std::string_view kNames[] = {
        "BOOTP", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"};
    return type < std::size(kNames) ? kNames[type] : "UNKNOWN";
}

}  // namespace clinicwatch::dhcp
