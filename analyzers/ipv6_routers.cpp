#include "analyzers/ipv6_routers.hpp"

#include "capture/protocols/dhcpv6.hpp"
#include "capture/protocols/ndp.hpp"

namespace clinicwatch {

namespace {

constexpr std::uint8_t kProtoIcmpv6 = 58;

nlohmann::json addresses(const IpAddress* begin, std::size_t n) {
    auto out = nlohmann::json::array();
    for (std::size_t i = 0; i < n; ++i) out.push_back(begin[i].to_string());
    return out;
}

}  // namespace

Ipv6Routers::Ipv6Routers(Ipv6Lan& lan, FindingSink& sink, Ipv6RoutersSettings settings)
    : lan_(lan), sink_(sink), settings_(std::move(settings)) {
    lan_.configure(settings_.routers, settings_.expected_prefixes);
}

bool Ipv6Routers::trusted(const MacAddress& mac) const {
    if (lan_.is_router(mac)) return true;
    if (settings_.gateway_mac)
        if (auto g = settings_.gateway_mac(); g && *g == mac) return true;
    if (settings_.asset_register)
        if (const auto* e = settings_.asset_register->find(mac); e && e->role == "router")
            return true;
    return false;
}

std::string Ipv6Routers::router_mac_text() const {
    for (const auto& r : lan_.routers())
        if (!r.link_local.empty()) return r.mac.to_string();
    if (settings_.gateway_mac)
        if (auto g = settings_.gateway_mac()) return g->to_string();
    return lan_.routers().empty() ? std::string() : lan_.routers().front().mac.to_string();
}

void Ipv6Routers::on_packet(const Packet& packet, PacketContext& /*context*/) {
    // Cheap tests first: this runs for every frame.
    if (!packet.ip || !packet.ip->src.is_v6() || packet.ip->is_later_fragment) return;
    if (packet.ip->protocol == kProtoIcmpv6) {
        if (!packet.icmp || packet.ip->ttl != ndp::kHopLimit) return;
        switch (packet.icmp->type) {
            case ndp::kRouterAdvert:
                return on_router_advert(packet);
            case ndp::kNeighbourSolicit:
                return on_neighbour_solicit(packet);
            case ndp::kNeighbourAdvert:
                return on_neighbour_advert(packet);
            case ndp::kRedirect:
                return on_redirect(packet);
            default:
                return;
        }
    }
    if (packet.udp && packet.udp->src_port == dhcpv6::kServerPort &&
        packet.udp->dst_port == dhcpv6::kClientPort)
        on_dhcpv6(packet);
}

void Ipv6Routers::on_router_advert(const Packet& packet) {
    auto ra = ndp::parse_router_advert(packet.l3_payload);
    if (!ra) return;
    const MacAddress& mac = packet.src_mac;
    const IpAddress& src = packet.ip->src;
    bool is_trusted = trusted(mac);
    bool nobody_known = lan_.routers().empty() &&
                        !(settings_.gateway_mac && settings_.gateway_mac()) &&
                        !(settings_.asset_register && [&] {
                            for (const auto& e : settings_.asset_register->entries())
                                if (e.role == "router") return true;
                            return false;
                        }());
    // With nothing configured, the first device to offer itself as a default router is the
    // clinic's router (it is there from the start; what comes later is judged against it).
    if (!is_trusted && nobody_known && ra->router_lifetime > 0 && ra->prefix_count > 0)
        is_trusted = true;

    nlohmann::json prefixes = nlohmann::json::array();
    for (std::size_t i = 0; i < ra->prefix_count; ++i)
        prefixes.push_back(ra->prefixes[i].prefix.to_string());
    if (is_trusted) {
        // The router changing its M/O flags changes how every PC gets its address and DNS
        // server (M: addresses by DHCPv6, O: DNS by DHCPv6): worth one finding, as a vendor
        // may have changed the router's settings or the line's (v6プラス, transix) changed.
        // Compared with what it announced before (this run, or stored by an earlier one);
        // a configured router not heard yet has nothing to compare with.
        for (const auto& before : lan_.routers())
            if (before.mac == mac && !before.link_local.empty() &&
                (before.managed != ra->managed || before.other != ra->other))
                raise("ra-flags-changed", Severity::medium, packet,
                      "the router " + mac.to_string() + " changed its RA flags from " +
                          ndp::flags_text(before.managed, before.other) + " to " +
                          ndp::flags_text(ra->managed, ra->other),
                      {{"device_mac", mac.to_string()},
                       {"link_local", src.to_string()},
                       {"router_mac", mac.to_string()},
                       {"previous_flags", ndp::flags_text(before.managed, before.other)},
                       {"flags", ndp::flags_text(ra->managed, ra->other)},
                       {"managed_set", !before.managed && ra->managed},
                       {"managed_cleared", before.managed && !ra->managed},
                       {"other_set", !before.other && ra->other},
                       {"other_cleared", before.other && !ra->other},
                       {"prefixes", prefixes},
                       {"dns", addresses(ra->dns.data(), ra->dns_count)},
                       {"lifetime", ra->router_lifetime}});
        Ipv6Router r;
        r.mac = mac;
        r.link_local = src;
        r.first_seen = r.last_seen = packet.ts;
        r.lifetime = ra->router_lifetime;
        r.managed = ra->managed;
        r.other = ra->other;
        r.preference = ra->preference;
        r.mtu = ra->mtu.value_or(0);
        r.dns.assign(ra->dns.begin(), ra->dns.begin() + ra->dns_count);
        r.source = "ra";
        dirty_ |= lan_.learn_router(r);
        for (std::size_t i = 0; i < ra->prefix_count; ++i) {
            const auto& p = ra->prefixes[i];
            if (!p.on_link && !p.autonomous) continue;
            if (p.prefix.base.bytes[0] == 0xfe && (p.prefix.base.bytes[1] & 0xc0) == 0x80) continue;
            Ipv6Prefix x;
            x.prefix = p.prefix;
            x.router = mac;
            x.first_seen = x.last_seen = packet.ts;
            x.valid_lifetime = p.valid_lifetime;
            x.preferred_lifetime = p.preferred_lifetime;
            x.source = "ra";
            bool expected = settings_.expected_prefixes.empty();
            for (const auto& e : settings_.expected_prefixes)
                expected = expected || (e.base.is_v6() && e.prefix <= p.prefix.prefix &&
                                        e.contains(p.prefix.base));
            if (!expected && p.valid_lifetime > 0)
                raise("ra-unexpected-prefix", Severity::medium, packet,
                      "the router announced prefix " + p.prefix.to_string() +
                          ", which network.ipv6_prefixes does not list",
                      {{"device_mac", mac.to_string()},
                       {"link_local", src.to_string()},
                       {"prefixes", nlohmann::json::array({p.prefix.to_string()})},
                       {"flags", ndp::flags_text(ra->managed, ra->other)},
                       {"lifetime", ra->router_lifetime}});
            dirty_ |= lan_.learn_prefix(x);
        }
        return;
    }
    const Ipv6Router* owner = lan_.router_with_address(src);
    nlohmann::json evidence = {{"device_mac", mac.to_string()},
                               {"link_local", src.to_string()},
                               {"prefixes", prefixes},
                               {"flags", ndp::flags_text(ra->managed, ra->other)},
                               {"lifetime", ra->router_lifetime},
                               {"preference", ra->preference},
                               {"dns", addresses(ra->dns.data(), ra->dns_count)},
                               {"mtu", ra->mtu.value_or(0)},
                               {"router_mac", router_mac_text()},
                               {"impersonated", owner ? src.to_string() : ""}};
    std::string announced = prefixes.empty() ? std::string("no prefix")
                                             : "prefix " + prefixes.front().get<std::string>();
    if (ra->router_lifetime == 0) {
        raise("ra-router-lifetime-zero", owner ? Severity::high : Severity::medium, packet,
              "router advertisement with lifetime 0 from " + mac.to_string() +
                  (owner ? " using the router's address " + src.to_string() : "") +
                  ": hosts drop that default route",
              std::move(evidence));
    } else if (owner) {
        raise("ra-impersonation", Severity::high, packet,
              mac.to_string() + " sends router advertisements as the router (" + src.to_string() +
                  ", which is " + owner->mac.to_string() + ")",
              std::move(evidence));
    } else {
        raise("rogue-ra", Severity::high, packet,
              "router advertisements from " + mac.to_string() + " (" + announced + ", flags " +
                  ndp::flags_text(ra->managed, ra->other) + "), not the clinic's router",
              std::move(evidence));
    }
}

namespace {

bool link_local(const IpAddress& a) {
    return a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
}

}  // namespace

void Ipv6Routers::on_neighbour_advert(const Packet& packet) {
    auto na = ndp::parse_neighbour_advert(packet.l3_payload);
    if (!na) return;
    MacAddress claimed = na->target_mac.value_or(packet.src_mac);
    // The router answering for one of its global addresses (hosts resolving it as their DNS
    // server or static gateway): that address is the router's from now on.
    if (claimed == packet.src_mac && lan_.is_router(packet.src_mac) && !link_local(na->target) &&
        lan_.on_link(na->target))
        dirty_ |= lan_.learn_router_address(packet.src_mac, na->target);
    const Ipv6Router* owner = lan_.router_with_address(na->target);
    if (!owner) return;
    if (claimed == owner->mac && packet.src_mac == owner->mac) return;
    raise("ndp-router-spoof", Severity::high, packet,
          packet.src_mac.to_string() + " claims the router's address " + na->target.to_string() +
              " (the router is " + owner->mac.to_string() + ")",
          {{"device_mac", packet.src_mac.to_string()},
           {"link_local", packet.ip->src.to_string()},
           {"address", na->target.to_string()},
           {"claimed_mac", claimed.to_string()},
           {"router_mac", owner->mac.to_string()},
           {"how", "neighbour-advert"},
           {"override", na->override_flag}});
}

void Ipv6Routers::on_neighbour_solicit(const Packet& packet) {
    if (lan_.routers().empty() || lan_.is_router(packet.src_mac)) return;
    auto ns = ndp::parse_neighbour_solicit(packet.l3_payload);
    if (!ns) return;
    const IpAddress& src = packet.ip->src;
    // Duplicate address detection for the router's address (RFC 4862 5.4: from the unspecified
    // address): another device about to take it. Or a solicitation sent from the router's
    // address: every neighbour receiving it stores that address with the sender's MAC
    // (RFC 4861 7.2.3), which puts the sender in the router's place.
    const bool dad = src.is_unspecified();
    const Ipv6Router* owner = lan_.router_with_address(dad ? ns->target : src);
    if (!owner) return;
    const IpAddress& address = dad ? ns->target : src;
    raise("ndp-router-spoof", Severity::high, packet,
          packet.src_mac.to_string() +
              (dad ? " probes to take the router's address " : " solicits as the router (") +
              address.to_string() + (dad ? "" : ")") + " (the router is " + owner->mac.to_string() +
              ")",
          {{"device_mac", packet.src_mac.to_string()},
           {"link_local", dad ? std::string() : src.to_string()},
           {"address", address.to_string()},
           {"claimed_mac", ns->source_mac.value_or(packet.src_mac).to_string()},
           {"router_mac", owner->mac.to_string()},
           {"how", dad ? "duplicate-address-detection" : "neighbour-solicit"}});
}

void Ipv6Routers::on_redirect(const Packet& packet) {
    auto r = ndp::parse_redirect(packet.l3_payload);
    if (!r || lan_.routers().empty() || trusted(packet.src_mac)) return;
    // Only the current first-hop router may redirect (RFC 4861 8.1); hosts accept it when the
    // source address is the router's: another MAC using it is spoofing the router.
    const Ipv6Router* owner = lan_.router_with_address(packet.ip->src);
    if (!owner) return;
    raise("ndp-router-spoof", Severity::high, packet,
          packet.src_mac.to_string() + " sends redirects as the router (" +
              packet.ip->src.to_string() + ")",
          {{"device_mac", packet.src_mac.to_string()},
           {"link_local", packet.ip->src.to_string()},
           {"address", packet.ip->src.to_string()},
           {"router_mac", owner->mac.to_string()},
           {"how", "redirect"},
           {"destination", r->destination.to_string()},
           {"target", r->target.to_string()}});
}

void Ipv6Routers::on_dhcpv6(const Packet& packet) {
    auto m = dhcpv6::parse(packet.payload);
    if (!m || !m->from_server() || m->type == dhcpv6::kRelayReply) return;
    // Without a known router there is nothing to compare a server with yet.
    if (lan_.routers().empty() || trusted(packet.src_mac)) return;
    nlohmann::json prefixes = nlohmann::json::array();
    for (std::size_t i = 0; i < m->prefix_count; ++i)
        prefixes.push_back(m->prefixes[i].to_string());
    raise("rogue-dhcpv6", Severity::high, packet,
          "DHCPv6 " + std::string(dhcpv6::message_type_name(m->type)) + " from " +
              packet.src_mac.to_string() + ", not the clinic's router",
          {{"device_mac", packet.src_mac.to_string()},
           {"link_local", packet.ip->src.to_string()},
           {"message", std::string(dhcpv6::message_type_name(m->type))},
           {"offered", addresses(m->addresses.data(), m->address_count)},
           {"prefixes", prefixes},
           {"dns", addresses(m->dns.data(), m->dns_count)},
           {"client_mac", packet.dst_mac.to_string()},
           {"router_mac", router_mac_text()}});
}

void Ipv6Routers::raise(const std::string& kind, Severity severity, const Packet& packet,
                        const std::string& summary, nlohmann::json evidence) {
    std::string key = kind + ":" + packet.src_mac.to_string();
    auto it = alerts_.find(key);
    if (it == alerts_.end()) {
        if (alerts_.size() >= kMaxAlertKeys) {
            ++alerts_dropped_;
            return;
        }
        it = alerts_.emplace(key, Pending{}).first;
    }
    Pending& p = it->second;
    AlertUpdate& a = p.last;
    a.kind = kind;
    a.key = key;
    a.severity = severity;
    a.subject_mac = packet.src_mac;
    a.subject = packet.src_mac.to_string();
    a.summary = summary;
    if (a.first_seen == 0) a.first_seen = packet.ts;
    a.last_seen = packet.ts;
    a.evidence = std::move(evidence);
    ++p.count;
    if (p.sent == 0 || packet.ts >= p.sent + kAlertRefresh) {
        a.count = p.count;
        p.count = 0;
        p.sent = packet.ts;
        sink_.alert(a);
    }
}

void Ipv6Routers::flush(Timestamp now, bool all) {
    for (auto& [key, p] : alerts_) {
        if (p.count == 0 || (!all && now < p.sent + kAlertRefresh)) continue;
        p.last.count = p.count;
        p.count = 0;
        p.sent = now;
        sink_.alert(p.last);
    }
}

void Ipv6Routers::store(Timestamp now) {
    if (!settings_.record) return;
    settings_.record(lan_.to_json().dump());
    dirty_ = false;
    stored_at_ = now;
}

void Ipv6Routers::on_tick(Timestamp now) {
    flush(now, false);
    if (dirty_ || (stored_at_ && now >= stored_at_ + kStoreEvery) ||
        (!stored_at_ && !lan_.routers().empty()))
        store(now);
}

void Ipv6Routers::on_finish(Timestamp now) {
    flush(now, true);
    if (!lan_.routers().empty() || !lan_.prefixes().empty()) store(now);
}

}  // namespace clinicwatch
