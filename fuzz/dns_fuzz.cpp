#include <cstddef>
#include <cstdint>

#include "capture/protocols/dns.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = clinicwatch::dns::parse(clinicwatch::Bytes(data, size));
    if (m) {
        volatile std::size_t sink = 0;
        for (const auto& r : m->answers) sink = sink + r.name.size() + r.rdata.size();
    }
    return 0;
}
