#include <cstddef>
#include <cstdint>

#include "capture/protocols/lldp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = clinicwatch::lldp::parse(clinicwatch::Bytes(data, size));
    volatile std::size_t sink = 0;
    if (m) sink = sink + m->system_name.size() + m->chassis_id.size();
    return 0;
}
