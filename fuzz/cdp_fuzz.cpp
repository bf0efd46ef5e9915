#include <cstddef>
#include <cstdint>

#include "capture/protocols/cdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = clinicwatch::cdp::parse(clinicwatch::Bytes(data, size));
    volatile std::size_t sink = 0;
    if (m) sink = sink + m->device_id.size() + m->addresses.size();
    return 0;
}
