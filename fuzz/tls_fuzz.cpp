#include <cstddef>
#include <cstdint>

#include "capture/protocols/tls.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto hello = clinicwatch::tls::parse_client_hello(clinicwatch::Bytes(data, size));
    if (hello) {
        volatile std::size_t sink = hello->sni.size() + hello->cipher_suites.size() +
                                    hello->extension_types.size() +
                                    hello->supported_versions.size();
        (void)sink;
    }
    return 0;
}
