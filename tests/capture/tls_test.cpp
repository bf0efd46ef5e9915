#include "capture/protocols/tls.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using clinicwatch::test::from_hex;

namespace {

// Written by OpenSSL 3.0.19 (Python's ssl module, memory BIO) for server_hostname
// "sync.medibox-cloud.net": TLS 1.3-capable, padded to 512 bytes.
const std::string kOpenSsl3Hello =
    "1603010200010001fc0303a105057bbacb588bd3fc88467b2b95bace74f143ec0060f598d420d7610b7afe200b148e"
    "de"
    "e6df3a99127e683de3d4841b6d8dd48adc4383533ec31a5cfd04c3550024130213031301c02cc030c02bc02fcca9cc"
    "a8"
    "c024c028c023c027009f009e006b006700ff0100018f0000001b001900001673796e632e6d656469626f782d636c6f"
    "75"
    "642e6e6574000b000403000102000a00160014001d0017001e00190018010001010102010301040023000000160000"
    "00"
    "170000000d002a0028040305030603080708080809080a080b08040805080604010501060103030301030204020502"
    "06"
    "02002b00050403040303002d00020101003300260024001d0020e3232cd01d864463b9340e65bd6121388ef505c1d9"
    "d2"
    "1431c609b6243a9fb16a001500d7000000000000000000000000000000000000000000000000000000000000000000"
    "00"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00"
    "00000000000000000000000000000000000000000000000000000000000000000000000000";

// The same library limited to TLS 1.2 and without a server name (as a client that connects to
// an address does).
const std::string kNoSniTls12Hello =
    "160301009d01000099030329c2146b49d6ded4448036010543ae902bb1f664997a1e7f3b29d5e83c3d264a00001ec0"
    "2c"
    "c030c02bc02fcca9cca8c024c028c023c027009f009e006b006700ff01000052000b000403000102000a000c000a00"
    "1d"
    "0017001e00190018002300000016000000170000000d002a0028040305030603080708080809080a080b0804080508"
    "06"
    "040105010601030303010302040205020602";

// The same library (OpenSSL 3.0.19) limited to TLS 1.2, offering one ALPN name as AnyDesk's
// client does to its relays.
const std::string kAlpnHello =
    "16030100d1010000cd03030f5eded5b9145cfb52ad6369d4a4bfdb57d80be08ed44d31777577f84008656d000038c0"
    "2cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d"
    "003c0035002f00ff0100006c000b000403000102000a000c000a001d0017001e001900180023000000100016001413"
    "616e796465736b2f362e322e302f6c696e75780016000000170000000d002a0028040305030603080708080809080a"
    "080b080408050806040105010601030303010302040205020602";

}  // namespace

TEST(TlsClientHello, OpenSsl3WithSni) {
    auto bytes = from_hex(kOpenSsl3Hello);
    auto hello = tls::parse_client_hello(bytes);
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->record_version, 0x0301);
    EXPECT_EQ(hello->handshake_version, 0x0303);
    EXPECT_EQ(hello->sni, "sync.medibox-cloud.net");
    EXPECT_EQ(hello->supported_versions, (std::vector<std::uint16_t>{0x0304, 0x0303}));
    ASSERT_EQ(hello->cipher_suites.size(), 18u);
    EXPECT_EQ(hello->cipher_suites.front(), 0x1302);
    EXPECT_EQ(hello->cipher_suites.back(), 0x00ff);
    ASSERT_FALSE(hello->extensions.empty());
    EXPECT_EQ(hello->extensions.front(), 0);    // server_name first
    EXPECT_EQ(hello->extensions.back(), 0x15);  // padding last
    EXPECT_FALSE(hello->extensions_truncated);
}

TEST(TlsClientHello, Tls12WithoutSni) {
    auto bytes = from_hex(kNoSniTls12Hello);
    auto hello = tls::parse_client_hello(bytes);
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->handshake_version, 0x0303);
    EXPECT_TRUE(hello->sni.empty());
    EXPECT_TRUE(hello->supported_versions.empty());
    EXPECT_EQ(hello->cipher_suites.size(), 15u);
}

TEST(TlsClientHello, SegmentCutAfterSniStillNamesTheServer) {
    auto bytes = from_hex(kOpenSsl3Hello);
    bytes.resize(160);  // the first TCP segment of a hello split by a small MSS
    auto hello = tls::parse_client_hello(bytes);
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->sni, "sync.medibox-cloud.net");
    EXPECT_TRUE(hello->extensions_truncated);
}

TEST(TlsClientHello, RejectsWhatIsNotAClientHello) {
    EXPECT_FALSE(tls::parse_client_hello({}));
    EXPECT_FALSE(tls::parse_client_hello(from_hex("17 03 03 00 10 00 00")));        // app data
    EXPECT_FALSE(tls::parse_client_hello(from_hex("16 03 03 00 04 02 00 00 00")));  // ServerHello
    auto http = std::string("GET / HTTP/1.1\r\n");
    EXPECT_FALSE(tls::parse_client_hello(
        Bytes(reinterpret_cast<const std::uint8_t*>(http.data()), http.size())));
    // Every prefix of a real hello parses or is refused, never reads past the end (ASan).
    auto bytes = from_hex(kOpenSsl3Hello);
    for (std::size_t n = 0; n < bytes.size(); ++n)
        (void)tls::parse_client_hello(Bytes(bytes.data(), n));
}

TEST(TlsClientHello, AlpnNamesAreRead) {
    auto bytes = from_hex(kAlpnHello);
    auto hello = tls::parse_client_hello(bytes);
    ASSERT_TRUE(hello);
    EXPECT_TRUE(hello->sni.empty());
    EXPECT_EQ(hello->alpn, (std::vector<std::string>{"anydesk/6.2.0/linux"}));
    // The OpenSSL hello without ALPN has none.
    auto plain = tls::parse_client_hello(from_hex(kNoSniTls12Hello));
    ASSERT_TRUE(plain);
    EXPECT_TRUE(plain->alpn.empty());
    // Cut anywhere, the name is either whole or absent.
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto cut = tls::parse_client_hello(Bytes(bytes.data(), n));
        if (cut && !cut->alpn.empty()) {
            EXPECT_EQ(cut->alpn[0], "anydesk/6.2.0/linux");
        }
    }
}

TEST(TlsClientHello, SniWithControlBytesIsIgnored) {
    auto bytes = from_hex(kOpenSsl3Hello);
    // Offset of the first name byte: record 5 + handshake 4 + version 2 + random 32 + sid 1+32
    // + suites 2+36 + comp 1+1 + ext len 2 + ext hdr 4 + list len 2 + type 1 + len 2.
    std::size_t name_at = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 36 + 2 + 2 + 4 + 2 + 1 + 2;
    ASSERT_EQ(bytes[name_at], 's');
    bytes[name_at] = 0x07;
    auto hello = tls::parse_client_hello(bytes);
    ASSERT_TRUE(hello);
    EXPECT_TRUE(hello->sni.empty());
}

// ja3_key() stands for the JA3 string in the OS fingerprint's seen-cache: the same hello gives
// the same key whatever GREASE values it carries, and any change JA3 sees changes the key.
TEST(TlsClientHello, Ja3KeyFollowsWhatJa3Reads) {
    auto parsed = tls::parse_client_hello(from_hex(kOpenSsl3Hello));
    ASSERT_TRUE(parsed);
    const tls::ClientHello base = *parsed;

    tls::ClientHello greased = base;  // Chrome-style GREASE values, which JA3 drops
    greased.cipher_suites.insert(greased.cipher_suites.begin(), 0x3a3a);
    greased.extensions.insert(greased.extensions.begin(), 0xdada);
    greased.groups.insert(greased.groups.begin(), 0x8a8a);
    EXPECT_EQ(greased.ja3(), base.ja3());
    EXPECT_EQ(greased.ja3_key(), base.ja3_key());

    tls::ClientHello reordered = base;  // extension order is part of JA3
    ASSERT_GE(reordered.extensions.size(), 2u);
    std::swap(reordered.extensions[0], reordered.extensions[1]);
    EXPECT_NE(reordered.ja3(), base.ja3());
    EXPECT_NE(reordered.ja3_key(), base.ja3_key());

    tls::ClientHello moved = base;  // a value moved from one list to the next
    ASSERT_FALSE(moved.cipher_suites.empty());
    moved.extensions.insert(moved.extensions.begin(), moved.cipher_suites.back());
    moved.cipher_suites.pop_back();
    EXPECT_NE(moved.ja3(), base.ja3());
    EXPECT_NE(moved.ja3_key(), base.ja3_key());

    tls::ClientHello other_version = base;
    other_version.handshake_version = tls::kTls11;
    EXPECT_NE(other_version.ja3_key(), base.ja3_key());
}
