#include "capture/protocols/ndp.hpp"

namespace clinicwatch::ndp {

namespace {

// Walks the options from `pos`; calls f(type, body) with body = the option after its two-byte
// header. False when an option has length 0 or runs past the end (RFC 4861 4.6: discard).
template <typename F>
bool walk_options(Bytes m, std::size_t pos, F&& f) {
    while (pos + 2 <= m.size()) {
        std::size_t len = std::size_t{m[pos + 1]} * 8;
        if (len == 0 || pos + len > m.size()) return false;
        f(m[pos], m.subspan(pos + 2, len - 2));
        pos += len;
    }
    return pos == m.size();
}

std::optional<MacAddress> link_layer(Bytes body) {
    if (body.size() < 6) return std::nullopt;  // Ethernet: 6 bytes in a one-unit option
    return MacAddress::from(body.data());
}

bool header_ok(Bytes m, std::uint8_t type, std::size_t fixed) {
    return m.size() >= fixed && m[0] == type && m[1] == 0;
}

}  // namespace

std::optional<RouterAdvert> parse_router_advert(Bytes m) {
    if (!header_ok(m, kRouterAdvert, 16)) return std::nullopt;
    RouterAdvert ra;
    ra.hop_limit = m[4];
    ra.managed = m[5] & 0x80;
    ra.other = m[5] & 0x40;
    int prf = (m[5] >> 3) & 0x03;
    ra.preference = prf == 1 ? 1 : prf == 3 ? -1 : 0;
    ra.router_lifetime = load_be16(m.data() + 6);
    ra.reachable_time = load_be32(m.data() + 8);
    ra.retrans_timer = load_be32(m.data() + 12);
    bool ok = walk_options(m, 16, [&](std::uint8_t type, Bytes body) {
        switch (type) {
            case 1:
                if (!ra.source_mac) ra.source_mac = link_layer(body);
                break;
            case 3: {
                if (body.size() < 30) return;
                if (ra.prefix_count == RouterAdvert::kMaxPrefixes) {
                    ++ra.options_not_kept;
                    return;
                }
                PrefixInfo& p = ra.prefixes[ra.prefix_count++];
                p.prefix.prefix = std::min<int>(body[0], 128);
                p.on_link = body[1] & 0x80;
                p.autonomous = body[1] & 0x40;
                p.valid_lifetime = load_be32(body.data() + 2);
                p.preferred_lifetime = load_be32(body.data() + 6);
                p.prefix.base = IpAddress::v6(body.data() + 14);
                // Bits past the prefix length are ignored by receivers: clear them.
                for (int bit = p.prefix.prefix; bit < 128; ++bit)
                    p.prefix.base.bytes[static_cast<std::size_t>(bit / 8)] &=
                        static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
                break;
            }
            case 5:
                if (body.size() >= 6) ra.mtu = load_be32(body.data() + 2);
                break;
            case 25: {
                if (body.size() < 6) return;
                ra.dns_lifetime = load_be32(body.data() + 2);
                for (std::size_t at = 6; at + 16 <= body.size(); at += 16) {
                    if (ra.dns_count == RouterAdvert::kMaxDns) {
                        ++ra.options_not_kept;
                        continue;
                    }
                    ra.dns[ra.dns_count++] = IpAddress::v6(body.data() + at);
                }
                break;
            }
            default:
                break;
        }
    });
    if (!ok) return std::nullopt;
    return ra;
}

std::optional<RouterSolicit> parse_router_solicit(Bytes m) {
    if (!header_ok(m, kRouterSolicit, 8)) return std::nullopt;
    RouterSolicit rs;
    bool ok = walk_options(m, 8, [&](std::uint8_t type, Bytes body) {
        if (type == 1 && !rs.source_mac) rs.source_mac = link_layer(body);
    });
    if (!ok) return std::nullopt;
    return rs;
}

std::optional<NeighbourSolicit> parse_neighbour_solicit(Bytes m) {
    if (!header_ok(m, kNeighbourSolicit, 24)) return std::nullopt;
    NeighbourSolicit ns;
    ns.target = IpAddress::v6(m.data() + 8);
    bool ok = walk_options(m, 24, [&](std::uint8_t type, Bytes body) {
        if (type == 1 && !ns.source_mac) ns.source_mac = link_layer(body);
    });
    if (!ok) return std::nullopt;
    return ns;
}

std::optional<NeighbourAdvert> parse_neighbour_advert(Bytes m) {
    if (!header_ok(m, kNeighbourAdvert, 24)) return std::nullopt;
    NeighbourAdvert na;
    na.router = m[4] & 0x80;
    na.solicited = m[4] & 0x40;
    na.override_flag = m[4] & 0x20;
    na.target = IpAddress::v6(m.data() + 8);
    bool ok = walk_options(m, 24, [&](std::uint8_t type, Bytes body) {
        if (type == 2 && !na.target_mac) na.target_mac = link_layer(body);
    });
    if (!ok) return std::nullopt;
    return na;
}

std::optional<Redirect> parse_redirect(Bytes m) {
    if (!header_ok(m, kRedirect, 40)) return std::nullopt;
    Redirect r;
    r.target = IpAddress::v6(m.data() + 8);
    r.destination = IpAddress::v6(m.data() + 24);
    bool ok = walk_options(m, 40, [&](std::uint8_t type, Bytes body) {
        if (type == 2 && !r.target_mac) r.target_mac = link_layer(body);
    });
    if (!ok) return std::nullopt;
    return r;
}

const char* flags_text(bool managed, bool other) {
    return managed && other ? "M O" : managed ? "M" : other ? "O" : "-";
}

}  // namespace clinicwatch::ndp
