#include "capture/protocols/ssdp.hpp"

#include <gtest/gtest.h>

#include "tests/capture/protocols/frames.hpp"

namespace clinicwatch {
namespace {

TEST(Ssdp, ParsesNotifyFromHomeRouter) {
    std::vector<std::uint8_t> storage;
    Packet p;
    test::decode_hex(test::kSsdpNotify, storage, p);
    ASSERT_TRUE(p.udp);
    EXPECT_EQ(p.udp->dst_port, ssdp::kPort);
    auto m = ssdp::parse(p.payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, ssdp::Kind::notify);
    EXPECT_EQ(m->server,
              "UPnP/Tomato 1.28.7500 MIPSR2Toastman-RT K26 USB Ext UPnP/1.0 MiniUPnPd/1.6");
    EXPECT_EQ(m->location, "http://192.168.1.1:7406/rootDesc.xml");  // header sent as "lOCATION"
    EXPECT_EQ(m->usn, "uuid:04645c3d-e6b4-4eea-bd35-5c320c12969f::upnp:rootdevice");
    EXPECT_EQ(m->nts, "ssdp:alive");
    EXPECT_EQ(m->nt, "upnp:rootdevice");
}

TEST(Ssdp, ParsesSearchResponseAndRejectsOthers) {
    std::string resp =
        "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\n"
        "USN: uuid:abc::upnp:rootdevice\r\nServer: Linux/4.4 UPnP/1.0 RICOH/1.0\r\n\r\n";
    auto m = ssdp::parse(Bytes(reinterpret_cast<const std::uint8_t*>(resp.data()), resp.size()));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, ssdp::Kind::response);
    EXPECT_EQ(m->server, "Linux/4.4 UPnP/1.0 RICOH/1.0");
    EXPECT_EQ(m->nt, "upnp:rootdevice");
    std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_FALSE(ssdp::parse(Bytes(reinterpret_cast<const std::uint8_t*>(get.data()), get.size())));
    EXPECT_FALSE(ssdp::parse({}));
}

}  // namespace
}  // namespace clinicwatch
