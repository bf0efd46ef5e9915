// HTTP/1.x message heads (also SSDP, which is HTTP over UDP 1900): the request or status line
// and the few headers the analyzers use. Only the first segment of a message is looked at;
// every field is a view into the payload, so parsing allocates nothing. Made general so the
// egress analyzer can reuse it for the Host header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "capture/bytes.hpp"

namespace clinicwatch::http {

struct Message {
    bool request = false;
    std::string_view method, target, version;  // request line ("NOTIFY * HTTP/1.1" for SSDP)
    int status = 0;                            // response
    std::string_view reason;
    std::string_view host, user_agent, server;
    std::string_view authorization, www_authenticate;  // first of each
    bool nls = false;                                  // an "01-NLS" header (Windows Vista+ UPnP)
    bool headers_complete = false;  // the empty line ending the head was in this segment
    std::uint16_t header_count = 0;
};

constexpr std::size_t kMaxHeaders = 64;
constexpr std::size_t kMaxLine = 8192;

// Cheap check on the first bytes: a known method or "HTTP/".
bool looks_like_http(Bytes payload);

std::optional<Message> parse(Bytes payload);

// A request as the egress analyzer wants it: owned strings, the host normalised.
struct HttpRequest {
    std::string method;      // GET, POST ...
    std::string target;      // as sent (path, absolute URI, or authority for CONNECT)
    std::string host;        // Host header, lower-case, without the port; empty if absent
    std::string user_agent;  // as sent
};

// parse() for requests only (responses and SSDP answers give nothing).
std::optional<HttpRequest> parse_http_request(Bytes payload);
// The request in a message parse() gave (its text made safe); nothing when it is a response.
std::optional<HttpRequest> request_of(const Message& message);

// "ORCA.Example.JP:8000" -> "orca.example.jp"; "[2001:db8::1]:8080" -> "2001:db8::1".
std::string host_name(std::string_view host_header);

}  // namespace clinicwatch::http
