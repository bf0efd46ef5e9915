#include <cstddef>
#include <cstdint>

#include "capture/protocols/http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto request = clinicwatch::http::parse_http_request(clinicwatch::Bytes(data, size));
    if (request) {
        volatile std::size_t sink = request->method.size() + request->target.size() +
                                    request->host.size() + request->user_agent.size();
        (void)sink;
    }
    return 0;
}
