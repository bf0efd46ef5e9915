// The clinic's own address ranges: what is "inside" (the LAN) and what is the internet. Every
// analyzer that tells the two apart asks this, on the per-packet path, so IPv4 ranges are kept
// as base/mask pairs and tested without building addresses.
#pragma once

#include <cstdint>
#include <vector>

#include "capture/address.hpp"

namespace clinicwatch {

// RFC 1918, RFC 6598 (CGNAT), link-local, ULA: the ranges used when none are configured.
std::vector<IpNetwork> default_internal_networks();

class InternalNetworks {
  public:
    // Empty: default_internal_networks().
    explicit InternalNetworks(const std::vector<IpNetwork>& networks = {});
    bool contains(const IpAddress& a) const {
        if (a.is_v4()) {
            std::uint32_t v = a.v4_host_order();
            for (const auto& n : v4_)
                if ((v & n.mask) == n.base) return true;
            return false;
        }
        for (const auto& n : v6_)
            if (n.contains(a)) return true;
        return false;
    }

  private:
    struct V4Net {
        std::uint32_t base, mask;
    };
    std::vector<V4Net> v4_;
    std::vector<IpNetwork> v6_;
};

}  // namespace clinicwatch
