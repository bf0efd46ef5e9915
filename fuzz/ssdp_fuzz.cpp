#include <cstddef>
#include <cstdint>

#include "capture/protocols/ssdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = clinicwatch::ssdp::parse(clinicwatch::Bytes(data, size));
    volatile std::size_t sink = 0;
    if (m) sink = sink + m->server.size() + m->usn.size();
    return 0;
}
