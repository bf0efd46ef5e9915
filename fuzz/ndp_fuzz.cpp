#include <cstddef>
#include <cstdint>

#include "capture/protocols/ndp.hpp"

// Every NDP parser sees the same bytes (an ICMPv6 message; the type byte selects one).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace clinicwatch;
    Bytes m(data, size);
    volatile std::size_t sink = 0;
    if (auto ra = ndp::parse_router_advert(m)) sink = sink + ra->prefix_count + ra->dns_count;
    if (auto rs = ndp::parse_router_solicit(m)) sink = sink + rs->source_mac.has_value();
    if (auto ns = ndp::parse_neighbour_solicit(m)) sink = sink + ns->target.bytes[15];
    if (auto na = ndp::parse_neighbour_advert(m)) sink = sink + na->target_mac.has_value();
    if (auto r = ndp::parse_redirect(m)) sink = sink + r->destination.bytes[0];
    return 0;
}
