#include "analyzers/internal_networks.hpp"

namespace clinicwatch {

std::vector<IpNetwork> default_internal_networks() {
    std::vector<IpNetwork> nets;
    for (const char* cidr : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                             "169.254.0.0/16", "fc00::/7", "fe80::/10"})
        nets.push_back(*IpNetwork::parse(cidr));
    return nets;
}

InternalNetworks::InternalNetworks(const std::vector<IpNetwork>& networks) {
    for (const auto& n : networks.empty() ? default_internal_networks() : networks) {
        if (n.base.is_v4()) {
            std::uint32_t mask = n.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - n.prefix);
            v4_.push_back({n.base.v4_host_order() & mask, mask});
        } else {
            v6_.push_back(n);
        }
    }
}

}  // namespace clinicwatch
