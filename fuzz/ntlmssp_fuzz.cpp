#include <cstddef>
#include <cstdint>
#include <string_view>

#include "capture/protocols/ntlmssp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = clinicwatch::ntlmssp::find(clinicwatch::Bytes(data, size));
    if (m) {
        volatile std::size_t sink = m->workstation.size() + m->domain.size() + m->user.size();
        (void)sink;
    }
    clinicwatch::ntlmssp::parse_http_auth(
        std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
