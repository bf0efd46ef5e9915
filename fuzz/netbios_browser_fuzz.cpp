#include <cstddef>
#include <cstdint>

#include "capture/protocols/netbios_browser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto a = clinicwatch::browser::parse_datagram(clinicwatch::Bytes(data, size));
    if (a) {
        volatile std::size_t sink = a->server_name.size() + a->comment.size() + a->os_major;
        (void)sink;
    }
    return 0;
}
