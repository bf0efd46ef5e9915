#include "capture/protocols/http.hpp"

#include <gtest/gtest.h>

using namespace clinicwatch;

namespace {
std::optional<http::HttpRequest> parse(const std::string& s) {
    return http::parse_http_request(
        Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}
}  // namespace

// The request Windows CryptoAPI sends for its certificate trust list (header order and
// spacing as Windows writes them).
TEST(HttpRequest, CryptoApiTrustListFetch) {
    auto r = parse(
        "GET /msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab?4e8f3c1b2a HTTP/1.1\r\n"
        "Connection: Keep-Alive\r\n"
        "Accept: */*\r\n"
        "If-Modified-Since: Tue, 14 Oct 2025 19:42:10 GMT\r\n"
        "User-Agent: Microsoft-CryptoAPI/6.1\r\n"
        "Host: ctldl.windowsupdate.com\r\n"
        "\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "GET");
    EXPECT_EQ(r->target,
              "/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab?4e8f3c1b2a");
    EXPECT_EQ(r->host, "ctldl.windowsupdate.com");
    EXPECT_EQ(r->user_agent, "Microsoft-CryptoAPI/6.1");
}

TEST(HttpRequest, HostWithPortAndCaseIsNormalised) {
    auto r = parse("POST /api01rv2/patientgetv2 HTTP/1.1\r\nhost: ORCA.Example.JP:8000\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "POST");
    EXPECT_EQ(r->host, "orca.example.jp");
    EXPECT_TRUE(r->user_agent.empty());
    auto v6 = parse("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "2001:db8::1");
}

TEST(HttpRequest, ConnectThroughAProxy) {
    auto r =
        parse("CONNECT router15.teamviewer.com:443 HTTP/1.0\r\nUser-Agent: Mozilla/4.0\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "CONNECT");
    EXPECT_EQ(r->target, "router15.teamviewer.com:443");
    EXPECT_TRUE(r->host.empty());
}

TEST(HttpRequest, HeaderCutBySegmentEndIsIgnored) {
    auto r = parse("GET / HTTP/1.1\r\nUser-Agent: APT-HTTP/1.3 (2.4.11)\r\nHost: jp.archive.ubu");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->user_agent, "APT-HTTP/1.3 (2.4.11)");
    EXPECT_TRUE(r->host.empty());
}

TEST(HttpRequest, RejectsResponsesAndNoise) {
    EXPECT_FALSE(parse(""));
    EXPECT_FALSE(parse("HTTP/1.1 200 OK\r\n\r\n"));
    EXPECT_FALSE(parse("GET / SIP/2.0\r\n\r\n"));
    EXPECT_FALSE(parse("GET /\r\n"));  // HTTP/0.9 has no headers to name the host
    EXPECT_FALSE(parse("GETX / HTTP/1.1\r\n"));
    EXPECT_FALSE(parse(std::string("GET /\x01 HTTP/1.1\r\n\r\n")));
    std::string line = "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n";
    for (std::size_t n = 0; n < line.size(); ++n) (void)parse(line.substr(0, n));
}
