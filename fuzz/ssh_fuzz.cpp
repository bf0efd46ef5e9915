#include <cstddef>
#include <cstdint>

#include "capture/protocols/ssh.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto b = clinicwatch::ssh::parse_banner(clinicwatch::Bytes(data, size));
    if (b) {
        volatile std::size_t sink = b->software.size() + b->comments.size();
        (void)sink;
    }
    return 0;
}
