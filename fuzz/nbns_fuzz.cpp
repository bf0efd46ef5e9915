#include <cstddef>
#include <cstdint>

#include "capture/protocols/nbns.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = clinicwatch::nbns::parse(clinicwatch::Bytes(data, size));
    volatile std::size_t sink = 0;
    if (m)
        for (const auto& b : m->bindings) sink = sink + b.name.name.size();
    return 0;
}
