#include <cstddef>
#include <cstdint>

#include "capture/protocols/dhcpv6.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = clinicwatch::dhcpv6::parse(clinicwatch::Bytes(data, size));
    volatile std::size_t sink = 0;
    if (m) sink = sink + m->address_count + m->prefix_count + m->dns_count;
    return 0;
}
