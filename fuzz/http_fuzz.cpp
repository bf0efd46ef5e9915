#include <cstddef>
#include <cstdint>

#include "capture/protocols/http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = clinicwatch::http::parse(clinicwatch::Bytes(data, size));
    if (m) {
        volatile std::size_t sink = m->host.size() + m->user_agent.size() + m->server.size() +
                                    m->method.size() + m->target.size();
        (void)sink;
    }
    return 0;
}
