#include <cstddef>
#include <cstdint>

#include "capture/protocols/dhcp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = clinicwatch::dhcp::parse(clinicwatch::Bytes(data, size));
    volatile std::size_t sink = 0;
    if (m) sink = sink + m->host_name.size() + m->fqdn.size() + m->parameter_list.size();
    return 0;
}
