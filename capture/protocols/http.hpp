// HTTP/1.x request head (RFC 9112 §3, RFC 9110 §7.2): method, target, Host and User-Agent
// from the first bytes a client sends. A pure function; only the bytes given are read and
// every field is bounded.
#pragma once

#include <optional>
#include <string>

#include "capture/bytes.hpp"

namespace clinicwatch::http {

struct HttpRequest {
    std::string method;      // GET, POST ...
    std::string target;      // as sent (path, absolute URI, or authority for CONNECT)
    std::string host;        // Host header, lower-case, without the port; empty if absent
    std::string user_agent;  // as sent
};

constexpr std::size_t kMaxHead = 8192;        // bytes of the request head we look at
constexpr std::size_t kMaxFieldValue = 1024;  // longer values are cut

std::optional<HttpRequest> parse_http_request(Bytes data);

}  // namespace clinicwatch::http
