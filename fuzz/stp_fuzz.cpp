#include <cstddef>
#include <cstdint>

#include "capture/protocols/stp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto b = clinicwatch::stp::parse(clinicwatch::Bytes(data, size));
    if (b) {
        volatile std::size_t sink = b->sender().to_string().size() + b->topology_change();
        if (b->mst) sink = sink + b->mst->msti_count;
        (void)sink;
    }
    return 0;
}
