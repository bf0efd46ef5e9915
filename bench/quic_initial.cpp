#include "bench/quic_initial.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

#include "capture/protocols/quic.hpp"

namespace clinicwatch::bench {

namespace {

void put24(Frame& f, std::uint32_t v) {
    put8(f, static_cast<std::uint8_t>(v >> 16));
    put16(f, static_cast<std::uint16_t>(v));
}
void put_varint(Frame& f, std::uint64_t v) {
    if (v < 64) {
        put8(f, static_cast<std::uint8_t>(v));
    } else if (v < 16384) {
        put16(f, static_cast<std::uint16_t>(0x4000 | v));
    } else {
        put32(f, static_cast<std::uint32_t>(0x80000000u | v));
    }
}
void put_ext(Frame& f, std::uint16_t type, const Frame& body) {
    put16(f, type);
    put16(f, static_cast<std::uint16_t>(body.size()));
    put_bytes(f, body);
}
Frame u16_list(std::initializer_list<std::uint16_t> values) {
    Frame f;
    put16(f, static_cast<std::uint16_t>(values.size() * 2));
    for (auto v : values) put16(f, v);
    return f;
}
Frame handshake(std::uint8_t type, const Frame& body) {
    Frame h;
    // Sized once: growing it byte by byte makes GCC 12 at -O3 warn falsely about the copy below
    // (-Wstringop-overread), which the ordinary build check in packaging/test.sh rejects.
    h.reserve(4 + body.size());
    put8(h, type);
    put24(h, static_cast<std::uint32_t>(body.size()));
    put_bytes(h, body);
    return h;
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

Frame quic_client_hello(std::string_view server_name, ByteView random32, ByteView scid) {
    Frame hello;
    put16(hello, 0x0303);  // legacy_version
    put_bytes(hello, random32.subspan(0, 32));
    put8(hello, 0);  // no legacy session id in QUIC (RFC 9001 §8.4)
    put_bytes(hello, u16_list({0x1301, 0x1302, 0x1303}));
    put8(hello, 1);  // compression methods: null
    put8(hello, 0);
    Frame ext;
    Frame sni;
    put16(sni, static_cast<std::uint16_t>(server_name.size() + 3));
    put8(sni, 0);  // host_name
    put16(sni, static_cast<std::uint16_t>(server_name.size()));
    put_text(sni, server_name);
    put_ext(ext, 0x0000, sni);
    put_ext(ext, 0x000a, u16_list({0x001d, 0x0017, 0x0018}));  // supported_groups
    put_ext(ext, 0x000d,
            u16_list({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
                      0x0601}));  // signature_algorithms
    Frame alpn;
    put16(alpn, 3);
    put8(alpn, 2);
    put_text(alpn, "h3");
    put_ext(ext, 0x0010, alpn);
    put_ext(ext, 0x002b, Frame{2, 0x03, 0x04});  // supported_versions: TLS 1.3
    put_ext(ext, 0x002d, Frame{1, 1});           // psk_key_exchange_modes: psk_dhe_ke
    Frame share;
    put16(share, 36);
    put16(share, 0x001d);
    put16(share, 32);
    put_bytes(share, random32.subspan(0, 32));
    put_ext(ext, 0x0033, share);
    // quic_transport_parameters (RFC 9000 §18): initial_source_connection_id, max_idle_timeout
    // 30 s, initial_max_data 15 MB, the streams a browser allows.
    Frame tp;
    auto param = [&tp](std::uint64_t id, const Frame& value) {
        put_varint(tp, id);
        put_varint(tp, value.size());
        put_bytes(tp, value);
    };
    auto number = [](std::uint64_t v) {
        Frame f;
        put_varint(f, v);
        return f;
    };
    param(0x0f, Frame(scid.begin(), scid.end()));
    param(0x01, number(30000));
    param(0x04, number(15728640));
    param(0x08, number(100));
    param(0x09, number(103));
    put_ext(ext, 0x0039, tp);
    put16(hello, static_cast<std::uint16_t>(ext.size()));
    put_bytes(hello, ext);
    return handshake(1, hello);
}

Frame quic_server_hello(ByteView random32) {
    Frame hello;
    put16(hello, 0x0303);
    put_bytes(hello, random32.subspan(0, 32));
    put8(hello, 0);        // legacy session id echo: empty
    put16(hello, 0x1301);  // TLS_AES_128_GCM_SHA256
    put8(hello, 0);        // compression: null
    Frame ext;
    put_ext(ext, 0x002b, Frame{0x03, 0x04});
    Frame share;
    put16(share, 0x001d);
    put16(share, 32);
    put_bytes(share, random32.subspan(0, 32));
    put_ext(ext, 0x0033, share);
    put16(hello, static_cast<std::uint16_t>(ext.size()));
    put_bytes(hello, ext);
    return handshake(2, hello);
}

Frame quic_crypto_frame(std::uint64_t offset, ByteView data) {
    Frame f{0x06};
    put_varint(f, offset);
    put_varint(f, data.size());
    put_bytes(f, data);
    return f;
}

Frame quic_ack_frame(std::uint64_t largest) {
    Frame f{0x02};
    put_varint(f, largest);
    put_varint(f, 0);        // ack delay
    put_varint(f, 0);        // no further ranges
    put_varint(f, largest);  // first range: down to packet 0
    return f;
}

Frame quic_seal_initial(bool from_client, ByteView original_dcid, ByteView dcid, ByteView scid,
                        std::uint32_t packet_number, Frame frames, std::size_t min_size) {
    constexpr std::size_t kPnLength = 2, kTag = 16;
    auto keys = from_client ? quic::client_initial_keys(quic::kVersion1, original_dcid)
                            : quic::server_initial_keys(quic::kVersion1, original_dcid);
    if (!keys) throw std::logic_error("QUIC v1 Initial keys");
    Frame h;
    h.push_back(static_cast<std::uint8_t>(0xc0 | (kPnLength - 1)));  // long header, Initial
    put32(h, quic::kVersion1);
    put8(h, static_cast<std::uint8_t>(dcid.size()));
    put_bytes(h, dcid);
    put8(h, static_cast<std::uint8_t>(scid.size()));
    put_bytes(h, scid);
    put_varint(h, 0);  // no token
    // Length is a 2-byte varint: header + frames + tag must reach min_size.
    const std::size_t fixed = h.size() + 2 + kPnLength + kTag;
    if (fixed + frames.size() < min_size) frames.resize(min_size - fixed, 0x00);  // PADDING
    put16(h, static_cast<std::uint16_t>(0x4000 | (kPnLength + frames.size() + kTag)));
    const std::size_t pn_offset = h.size();
    put16(h, static_cast<std::uint16_t>(packet_number));

    // AEAD (RFC 9001 §5.3): the nonce is the IV with the packet number XORed into its end; the
    // unprotected header is the associated data.
    std::array<std::uint8_t, 12> nonce = keys->iv;
    for (int i = 0; i < 4; ++i)
        nonce[11 - i] ^= static_cast<std::uint8_t>(packet_number >> (8 * i));
    Frame packet = h;
    packet.resize(h.size() + frames.size() + kTag);
    CipherContext gcm(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    int len = 0;
    if (!gcm ||
        EVP_EncryptInit_ex(gcm.get(), EVP_aes_128_gcm(), nullptr, keys->key.data(), nonce.data()) !=
            1 ||
        EVP_EncryptUpdate(gcm.get(), nullptr, &len, h.data(), static_cast<int>(h.size())) != 1 ||
        EVP_EncryptUpdate(gcm.get(), packet.data() + h.size(), &len, frames.data(),
                          static_cast<int>(frames.size())) != 1 ||
        EVP_EncryptFinal_ex(gcm.get(), packet.data() + h.size() + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(gcm.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                            packet.data() + h.size() + frames.size()) != 1)
        throw std::runtime_error("AES-128-GCM");
    // Header protection (RFC 9001 §5.4): AES-ECB of the 16 bytes sampled 4 bytes after the
    // packet number's start masks the first byte's low bits and the packet number.
    std::array<std::uint8_t, 16> mask{};
    CipherContext ecb(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    if (!ecb ||
        EVP_EncryptInit_ex(ecb.get(), EVP_aes_128_ecb(), nullptr, keys->hp.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ecb.get(), 0) != 1 ||
        EVP_EncryptUpdate(ecb.get(), mask.data(), &len, packet.data() + pn_offset + 4, 16) != 1)
        throw std::runtime_error("AES-128-ECB");
    packet[0] ^= mask[0] & 0x0f;
    for (std::size_t i = 0; i < kPnLength; ++i) packet[pn_offset + i] ^= mask[1 + i];
    return packet;
}

}  // namespace clinicwatch::bench
