#include "analyzers/inventory.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string_view>

#include <algorithm>

#include "analyzers/dispatcher.hpp"
#include "tests/analyzers/frame_builder.hpp"
#include "tests/capture/protocols/frames.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch {
namespace {

using namespace test;

constexpr Timestamp kT0 = 1'763'600'000'000'000;

struct Fixture {
    HostTable hosts{1000};
    Dispatcher dispatcher{hosts};
    VendorRegistry vendors;
    AssetRegister reg;
    Fixture(std::vector<RegisterEntry> entries = {}) : reg(std::move(entries)) {
        vendors.add("00A0DE", "YAMAHA CORPORATION");
        vendors.add("70B3D5F2F", "TELEPLATFORMS");
        InventorySettings s;
        s.vendors = &vendors;
        s.asset_register = &reg;
        s.gateway_mac = MacAddress::parse("00:a0:de:00:00:01");
        dispatcher.add(std::make_unique<Inventory>(hosts, s));
    }
    void feed(const Frame& f, Timestamp ts = kT0) { dispatcher.on_packet(decode(f, ts)); }
    Host& host(const std::string& mac) {
        Host* h = hosts.find(*MacAddress::parse(mac), 0);
        EXPECT_NE(h, nullptr) << mac;
        static Host none;
        return h ? *h : none;
    }
};

bool has(const std::vector<Observed>& list, const std::string& value, const std::string& source) {
    return std::any_of(list.begin(), list.end(),
                       [&](const Observed& o) { return o.value == value && o.source == source; });
}

TEST(Inventory, DhcpClientNamesFingerprintAndAckBinding) {
    Fixture fx;
    const std::string client = "00:04:23:57:a5:7a", server = "00:a0:de:00:00:01";
    Frame discover =
        dhcp_message(1, client, "0.0.0.0",
                     {{53, {1}},
                      {12, text_bytes("DJP95S0J")},
                      {81, {0x05, 0, 0, 3, 'p', 'c', '1', 6, 'c', 'l', 'i', 'n', 'i', 'c', 0}},
                      {60, text_bytes("MSFT 5.0")},
                      {55, {1, 15, 3, 6, 44, 46, 47, 31, 33, 249, 43}}});
    fx.feed(udp("ff:ff:ff:ff:ff:ff", client, "0.0.0.0", "255.255.255.255", 68, 67, discover));
    Frame ack =
        dhcp_message(2, client, "192.168.1.249", {{53, {5}}, {54, ip_bytes("192.168.1.1")}});
    fx.feed(udp(client, server, "192.168.1.1", "192.168.1.249", 67, 68, ack), kT0 + 1000);
    Host& h = fx.host(client);
    EXPECT_TRUE(has(h.names, "DJP95S0J", "dhcp"));
    EXPECT_TRUE(has(h.names, "pc1.clinic", "dhcp-fqdn"));
    EXPECT_TRUE(has(h.evidence, "55=1,15,3,6,44,46,47,31,33,249,43", "dhcp"));
    EXPECT_TRUE(has(h.evidence, "60=MSFT 5.0", "dhcp"));
    EXPECT_TRUE(has(h.addresses, "192.168.1.249", "dhcp"));
    // The server's own address is not bound from routed-looking traffic of the gateway.
    EXPECT_EQ(fx.host(server).vendor, "YAMAHA CORPORATION");
}

TEST(Inventory, NamesFromRealNbnsMdnsLlmnrLldpCdpAndSsdp) {
    Fixture fx;
    std::vector<std::uint8_t> storage;
    Packet p;
    for (const char* hex :
         {kNbnsRegistration, kMdnsAnnouncement, kLlmnrResponse, kLldpS2, kCdpSwitch, kSsdpNotify}) {
        decode_hex(hex, storage, p);
        fx.dispatcher.on_packet(p);
    }
    Host& xp = fx.host("00:04:23:57:a5:7a");
    EXPECT_TRUE(has(xp.names, "DJP95S0J", "nbns"));
    EXPECT_TRUE(has(xp.addresses, "169.254.67.194", "nbns"));
    Host& mdns = fx.host("8a:3c:d6:e1:4d:c4");
    EXPECT_TRUE(has(mdns.names, "johanna-QEMU-Virtual-Machine.local", "mdns"));
    EXPECT_TRUE(mdns.randomized_mac);
    Host& llmnr = fx.host("00:0c:29:87:65:43");
    EXPECT_TRUE(has(llmnr.names, "malicious-c2.local", "llmnr"));
    Host& s2 = fx.host("00:19:2f:a7:b2:8d");
    EXPECT_TRUE(has(s2.names, "S2.cisco.com", "lldp"));
    EXPECT_TRUE(has(s2.evidence, "caps=bridge", "lldp"));
    EXPECT_TRUE(std::any_of(s2.evidence.begin(), s2.evidence.end(), [](const Observed& o) {
        return o.source == "lldp" && o.value.starts_with("sysdesc=Cisco IOS Software");
    }));
    Host& sw = fx.host("00:19:06:ea:b8:85");
    EXPECT_TRUE(has(sw.names, "Switch", "cdp"));
    EXPECT_TRUE(has(sw.evidence, "platform=cisco WS-C3560G-24PS", "cdp"));
    EXPECT_TRUE(has(sw.addresses, "192.168.0.1", "cdp"));
    Host& router = fx.host("e0:91:f5:73:8c:c2");
    EXPECT_TRUE(has(router.evidence,
                    "server=UPnP/Tomato 1.28.7500 MIPSR2Toastman-RT K26 USB Ext UPnP/1.0 "
                    "MiniUPnPd/1.6",
                    "ssdp"));
    EXPECT_TRUE(has(router.evidence, "usn=uuid:04645c3d-e6b4-4eea-bd35-5c320c12969f", "ssdp"));
    EXPECT_TRUE(has(router.evidence, "location=http://192.168.1.1:7406/rootDesc.xml", "ssdp"));
}

TEST(Inventory, ServicesFromSynAckInsideTheLanOnly) {
    Fixture fx;
    const std::string server = "98:e7:43:0c:55:21", client = "6c:2b:59:8a:04:e1";
    fx.feed(tcp(client, server, "192.168.100.10", "192.168.100.111", 445, 50000, 0x12));
    fx.feed(tcp(client, server, "192.168.100.10", "192.168.100.111", 3389, 50001, 0x12));
    fx.feed(tcp(client, server, "192.168.100.10", "192.168.100.111", 8080, 50002, 0x10));  // ACK
    // A SYN-ACK from the internet arrives with the gateway's MAC: not a LAN service.
    fx.feed(tcp(client, "00:a0:de:00:00:01", "203.0.113.5", "192.168.100.111", 443, 50003, 0x12));
    // The router's own web console answers from its LAN address.
    fx.feed(tcp(client, "00:a0:de:00:00:01", "192.168.100.1", "192.168.100.111", 80, 50004, 0x12));
    EXPECT_EQ(fx.host(server).tcp_services, (std::vector<std::uint16_t>{445, 3389}));
    EXPECT_EQ(fx.host("00:a0:de:00:00:01").tcp_services, (std::vector<std::uint16_t>{80}));
    EXPECT_TRUE(has(fx.host(server).addresses, "192.168.100.10", "ip"));
}

TEST(Inventory, RegisterPinsAndNamesDevicesLongestPrefixFirst) {
    RegisterEntry exact{
        *MacPrefix::parse("00:a0:de:00:00:01"), "gateway", "router", "network vendor", "", 10};
    RegisterEntry yamaha{*MacPrefix::parse("00:a0:de"), "yamaha-ap", "wifi-ap", "clinic", "", 11};
    Fixture fx({yamaha, exact});
    fx.feed(arp(1, "00:a0:de:00:00:01", "192.168.100.1", "00:00:00:00:00:00", "192.168.100.5"));
    fx.feed(arp(1, "00:a0:de:00:00:77", "192.168.100.3", "00:00:00:00:00:00", "192.168.100.5"));
    fx.feed(arp(1, "70:b3:d5:f2:f0:01", "192.168.100.4", "00:00:00:00:00:00", "192.168.100.5"));
    Host& gw = fx.host("00:a0:de:00:00:01");
    EXPECT_TRUE(gw.registered);
    EXPECT_TRUE(gw.pinned);
    EXPECT_EQ(gw.register_name, "gateway");
    EXPECT_EQ(gw.responsible, "network vendor");
    EXPECT_EQ(fx.host("00:a0:de:00:00:77").register_name, "yamaha-ap");
    Host& other = fx.host("70:b3:d5:f2:f0:01");
    EXPECT_FALSE(other.registered);
    EXPECT_FALSE(other.pinned);
    EXPECT_EQ(other.vendor, "TELEPLATFORMS");  // the 36-bit block wins over nothing
}

TEST(Inventory, NeighbourAdvertisementBindsTheTarget) {
    Fixture fx;
    Frame f = ethernet("33:33:00:00:00:01", "10:c5:95:4b:22:9e", 0x86dd);
    Frame ip6 = {0x60, 0, 0, 0, 0, 24, 58, 255};
    auto src = *IpAddress::parse("fe80::12c5:95ff:fe4b:229e");
    auto dst = *IpAddress::parse("ff02::1");
    ip6.insert(ip6.end(), src.bytes.begin(), src.bytes.end());
    ip6.insert(ip6.end(), dst.bytes.begin(), dst.bytes.end());
    Frame icmp = {136, 0, 0, 0, 0x20, 0, 0, 0};
    auto target = *IpAddress::parse("fd00::11");
    icmp.insert(icmp.end(), target.bytes.begin(), target.bytes.end());
    ip6.insert(ip6.end(), icmp.begin(), icmp.end());
    f.insert(f.end(), ip6.begin(), ip6.end());
    fx.feed(f);
    EXPECT_TRUE(has(fx.host("10:c5:95:4b:22:9e").addresses, "fd00::11", "ndp"));
}

TEST(VendorRegistry, LongestPrefixWinsAndRandomisedIsBlank) {
    VendorRegistry v;
    v.add("70B3D5", "IEEE Registration Authority");
    v.add("70B3D5F", "Some MA-M");
    v.add("70B3D5F2F", "TELEPLATFORMS");
    EXPECT_EQ(v.lookup(*MacAddress::parse("70:b3:d5:f1:00:00")), "Some MA-M");
    EXPECT_EQ(v.lookup(*MacAddress::parse("70:b3:d5:f2:f0:00")), "TELEPLATFORMS");
    EXPECT_EQ(v.lookup(*MacAddress::parse("70:b3:d5:00:00:00")), "IEEE Registration Authority");
    EXPECT_EQ(v.lookup(*MacAddress::parse("72:b3:d5:f2:f0:00")), "");  // locally administered
    EXPECT_EQ(v.lookup(*MacAddress::parse("00:00:01:00:00:00")), "");
}

TEST(VendorRegistry, AgreesWithALongestPrefixSearchOnRandomMacs) {
    // The unassigned-OUI filter must never hide an assignment: compare with a plain search over
    // random MA-L, MA-M and MA-S entries, asking for MACs under them and for random ones.
    std::mt19937_64 rng(7);
    VendorRegistry v;
    std::vector<std::pair<std::string, std::string>> entries;
    std::vector<std::uint64_t> macs;
    for (int i = 0; i < 3000; ++i) {
        std::uint64_t mac = rng() & 0xfcffffffffffULL;  // globally administered unicast
        std::size_t digits = i % 3 == 0 ? 6 : i % 3 == 1 ? 7 : 9;
        char hex[16];
        std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(mac));
        entries.emplace_back(std::string(hex, digits), "org" + std::to_string(i));
        ASSERT_TRUE(v.add(entries.back().first, entries.back().second));
        macs.push_back(mac);
        macs.push_back(mac ^ (rng() & 0xffffff));  // same OUI, maybe another block
        macs.push_back(rng() & 0xfcffffffffffULL);
    }
    for (std::uint64_t mac : macs) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(mac));
        std::string want;
        std::size_t best = 0;
        for (const auto& [prefix, org] : entries)
            if (prefix.size() > best && std::string_view(hex).starts_with(prefix)) {
                best = prefix.size();
                want = org;
            }
        MacAddress m;
        for (int b = 0; b < 6; ++b)
            m.bytes[static_cast<std::size_t>(b)] =
                static_cast<std::uint8_t>((mac >> (8 * (5 - b))) & 0xff);
        EXPECT_EQ(v.lookup(m), want) << hex;
    }
}

TEST(VendorRegistry, LoadsDebianIeeeDataCompactly) {
    VendorRegistry v;
    std::size_t n = v.load_dir(kDefaultVendorDataDir);
    if (n == 0) GTEST_SKIP() << "ieee-data is not installed in " << kDefaultVendorDataDir;
    EXPECT_GT(n, 30000u);
    EXPECT_EQ(v.lookup(*MacAddress::parse("00:a0:de:6e:21:4c")), "YAMAHA CORPORATION");
    // Quoted organisation names with commas survive the CSV reader.
    EXPECT_EQ(v.lookup(*MacAddress::parse("58:38:79:a2:10:6f")), "RICOH COMPANY, LTD.");
    EXPECT_LT(v.memory_bytes(), 3u * 1024 * 1024);
}

TEST(VendorRegistry, CsvQuotingLineEndingsAndShortLinesAsTheRfcSays) {
    // The loader reads fields in place; quoted names (commas, doubled quotes), CRLF endings, a
    // header, short and empty lines and a missing final newline must read as RFC 4180 says.
    test::TempDir dir;
    const std::string path = dir.path() / "oui.csv";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs(
        "Registry,Assignment,Organization Name,Organization Address\r\n"
        "MA-L,00A0DE,YAMAHA CORPORATION,\"10-1, Nakazawa-cho\"\r\n"
        "MA-L,583879,\"RICOH COMPANY, LTD.\",Tokyo\r\n"
        "\r\n"
        "MA-L,001122\r\n"
        "MA-L,0CBBCC,\"The \"\"Quoted\"\" Co\", Address\n"
        "MA-M,70B3D5F,  Spaced Name  ,x\n"
        "MA-L,00A0DF,YAMAHA CORPORATION,no final newline",
        f);
    std::fclose(f);
    VendorRegistry v;
    EXPECT_EQ(v.load_csv(path), 5u);
    EXPECT_EQ(v.lookup(*MacAddress::parse("00:a0:de:00:00:01")), "YAMAHA CORPORATION");
    EXPECT_EQ(v.lookup(*MacAddress::parse("00:a0:df:00:00:01")), "YAMAHA CORPORATION");
    EXPECT_EQ(v.lookup(*MacAddress::parse("58:38:79:00:00:01")), "RICOH COMPANY, LTD.");
    EXPECT_EQ(v.lookup(*MacAddress::parse("0c:bb:cc:00:00:01")), "The \"Quoted\" Co");
    EXPECT_EQ(v.lookup(*MacAddress::parse("0c:bb:cd:00:00:01")), "");  // not in the file
    EXPECT_EQ(v.lookup(*MacAddress::parse("00:11:22:00:00:01")), "");  // line without a name
    EXPECT_EQ(v.lookup(*MacAddress::parse("70:b3:d5:f0:00:01")), "Spaced Name");
}

TEST(Inventory, DevicesAreLookedUpAgainAfterTheRegisterChanges) {
    // A reload (SIGHUP) builds a new register and clears register_checked on every host; the
    // next packet of each device classifies it again, in both directions.
    RegisterEntry pc{
        *MacPrefix::parse("00:11:22:33:44:55"), "uketsuke", "reception-pc", "clinic", "", 3};
    Fixture before;
    before.feed(
        arp(1, "00:11:22:33:44:55", "192.168.100.30", "00:00:00:00:00:00", "192.168.100.1"));
    EXPECT_FALSE(before.host("00:11:22:33:44:55").registered);

    AssetRegister edited({pc});
    InventorySettings s;
    s.asset_register = &edited;
    Dispatcher after(before.hosts);
    after.add(std::make_unique<Inventory>(before.hosts, s));
    before.hosts.for_each([](Host& h) { h.register_checked = false; });
    after.on_packet(
        decode(arp(1, "00:11:22:33:44:55", "192.168.100.30", "00:00:00:00:00:00", "192.168.100.1"),
               kT0 + 1000));
    Host& h = before.host("00:11:22:33:44:55");
    EXPECT_TRUE(h.registered);
    EXPECT_TRUE(h.pinned);
    EXPECT_EQ(h.role, "reception-pc");

    AssetRegister removed;
    InventorySettings s2;
    s2.asset_register = &removed;
    Dispatcher again(before.hosts);
    again.add(std::make_unique<Inventory>(before.hosts, s2));
    before.hosts.for_each([](Host& x) { x.register_checked = false; });
    again.on_packet(
        decode(arp(1, "00:11:22:33:44:55", "192.168.100.30", "00:00:00:00:00:00", "192.168.100.1"),
               kT0 + 2000));
    EXPECT_FALSE(h.registered);
    EXPECT_FALSE(h.pinned);
    EXPECT_TRUE(h.role.empty());
}

TEST(AssetRegister, PrefixParsing) {
    EXPECT_EQ(MacPrefix::parse("00:a0:de")->bits, 24);
    EXPECT_EQ(MacPrefix::parse("00-A0-DE-1")->bits, 28);
    EXPECT_EQ(MacPrefix::parse("00a0.de12.3456")->bits, 48);
    EXPECT_FALSE(MacPrefix::parse("00:a0"));
    EXPECT_FALSE(MacPrefix::parse("00:a0:zz"));
    EXPECT_TRUE(MacPrefix::parse("00:a0:de:1")->matches(*MacAddress::parse("00:a0:de:1f:00:00")));
    EXPECT_FALSE(MacPrefix::parse("00:a0:de:1")->matches(*MacAddress::parse("00:a0:de:2f:00:00")));
    EXPECT_EQ(MacPrefix::parse("00:a0:de:1")->to_string(), "00:a0:de:1");
}

}  // namespace
}  // namespace clinicwatch
