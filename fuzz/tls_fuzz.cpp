#include <cstddef>
#include <cstdint>

#include "capture/protocols/tls.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    clinicwatch::Bytes in(data, size);
    if (auto ch = clinicwatch::tls::parse_client_hello(in)) {
        volatile std::size_t sink = ch->ja3_hash().size() + ch->sni.size() + ch->highest_version();
        (void)sink;
    }
    if (auto sh = clinicwatch::tls::parse_server_hello(in)) {
        volatile std::uint16_t sink = sh->negotiated_version();
        (void)sink;
    }
    return 0;
}
