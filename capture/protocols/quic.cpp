#include "capture/protocols/quic.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <string_view>

namespace clinicwatch::quic {

namespace {

// Initial salts: RFC 9001 §5.2 (v1), RFC 9369 §3.3.1 (v2), draft-ietf-quic-tls-29 §5.2
// (drafts 29-32).
constexpr std::array<std::uint8_t, 20> kSaltV1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
                                                  0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
                                                  0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr std::array<std::uint8_t, 20> kSaltV2 = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6,
                                                  0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
                                                  0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
constexpr std::array<std::uint8_t, 20> kSaltDraft29 = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2,
                                                       0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61,
                                                       0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};

bool is_draft(std::uint32_t v) {
    return v >= kDraft29 && v <= kDraft32;
}

// The long-header packet type of an Initial: 0 in v1 and the drafts, 1 in v2 (RFC 9369 §3.2).
std::uint8_t initial_type(std::uint32_t version) {
    return version == kVersion2 ? 1 : 0;
}

using Secret = std::array<std::uint8_t, 32>;

Secret hmac_sha256(Bytes key, Bytes data) {
    Secret out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
         out.data(), &len);
    return out;
}

// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for outputs of at most 32 bytes
// (one HKDF-Expand block, RFC 5869 §2.3).
template <std::size_t N>
std::array<std::uint8_t, N> expand_label(const Secret& secret, std::string_view label) {
    static_assert(N <= 32);
    std::array<std::uint8_t, 2 + 1 + 6 + 32 + 1 + 1> info{};
    std::size_t n = 0;
    info[n++] = 0;
    info[n++] = static_cast<std::uint8_t>(N);
    info[n++] = static_cast<std::uint8_t>(6 + label.size());
    std::memcpy(info.data() + n, "tls13 ", 6);
    n += 6;
    std::memcpy(info.data() + n, label.data(), label.size());
    n += label.size();
    info[n++] = 0;  // context length
    info[n++] = 1;  // HKDF-Expand block counter
    Secret block = hmac_sha256(secret, Bytes(info.data(), n));
    std::array<std::uint8_t, N> out{};
    std::memcpy(out.data(), block.data(), N);
    return out;
}

}  // namespace

bool is_supported(std::uint32_t version) {
    return version == kVersion1 || version == kVersion2 || is_draft(version);
}

std::optional<std::uint64_t> read_varint(ByteReader& r) {
    auto first = r.u8();
    if (!first) return std::nullopt;
    std::uint64_t v = *first & 0x3f;
    std::size_t more = (std::size_t{1} << (*first >> 6)) - 1;
    for (std::size_t i = 0; i < more; ++i) {
        auto b = r.u8();
        if (!b) return std::nullopt;
        v = (v << 8) | *b;
    }
    return v;
}

std::optional<LongHeader> parse_initial_header(Bytes datagram) {
    ByteReader r(datagram);
    LongHeader h;
    auto first = r.u8();
    auto version = r.be32();
    // Long header form and the fixed bit (RFC 9000 §17.2).
    if (!first || !version || (*first & 0xc0) != 0xc0 || !is_supported(*version))
        return std::nullopt;
    if (((*first >> 4) & 0x03) != initial_type(*version)) return std::nullopt;
    h.first_byte = *first;
    h.version = *version;
    auto dcid_len = r.u8();
    if (!dcid_len || *dcid_len > kMaxConnectionId) return std::nullopt;
    auto dcid = r.take(*dcid_len);
    auto scid_len = r.u8();
    if (!dcid || !scid_len || *scid_len > kMaxConnectionId) return std::nullopt;
    auto scid = r.take(*scid_len);
    auto token_len = read_varint(r);
    if (!scid || !token_len || *token_len > r.remaining()) return std::nullopt;
    auto token = r.take(static_cast<std::size_t>(*token_len));
    auto length = read_varint(r);
    if (!token || !length || *length > r.remaining()) return std::nullopt;
    h.dcid = *dcid;
    h.scid = *scid;
    h.token = *token;
    h.length = *length;
    h.pn_offset = r.offset();
    h.packet_size = h.pn_offset + static_cast<std::size_t>(*length);
    return h;
}

namespace {

// RFC 9001 §5.2: both directions' Initial secrets come from the client's first DCID; they
// differ only in the label ("client in", "server in").
std::optional<InitialKeys> initial_keys(std::uint32_t version, Bytes original_dcid,
                                        std::string_view direction) {
    Bytes salt;
    if (version == kVersion1)
        salt = kSaltV1;
    else if (version == kVersion2)
        salt = kSaltV2;
    else if (is_draft(version))
        salt = kSaltDraft29;
    else
        return std::nullopt;
    const bool v2 = version == kVersion2;
    Secret initial = hmac_sha256(salt, original_dcid);  // HKDF-Extract
    Secret secret = expand_label<32>(initial, direction);
    InitialKeys k;
    k.key = expand_label<16>(secret, v2 ? "quicv2 key" : "quic key");
    k.iv = expand_label<12>(secret, v2 ? "quicv2 iv" : "quic iv");
    k.hp = expand_label<16>(secret, v2 ? "quicv2 hp" : "quic hp");
    return k;
}

}  // namespace

std::optional<InitialKeys> client_initial_keys(std::uint32_t version, Bytes original_dcid) {
    return initial_keys(version, original_dcid, "client in");
}

std::optional<InitialKeys> server_initial_keys(std::uint32_t version, Bytes original_dcid) {
    return initial_keys(version, original_dcid, "server in");
}

struct InitialDecryptor::Contexts {
    EVP_CIPHER_CTX* ecb = nullptr;
    EVP_CIPHER_CTX* gcm = nullptr;
};

InitialDecryptor::InitialDecryptor() : ctx_(new Contexts) {
    ctx_->ecb = EVP_CIPHER_CTX_new();
    ctx_->gcm = EVP_CIPHER_CTX_new();
}

InitialDecryptor::~InitialDecryptor() {
    EVP_CIPHER_CTX_free(ctx_->ecb);
    EVP_CIPHER_CTX_free(ctx_->gcm);
    delete ctx_;
}

std::optional<Bytes> InitialDecryptor::decrypt(Bytes packet, const LongHeader& header,
                                               const InitialKeys& keys, std::span<std::uint8_t> out,
                                               std::uint64_t* packet_number) {
    if (!ctx_->ecb || !ctx_->gcm) return std::nullopt;
    // RFC 9001 §5.4.2: the sample starts 4 bytes after the packet number's start, whatever its
    // length; the packet must hold it, and the payload a 16-byte tag.
    const std::size_t end = header.packet_size;
    if (end > packet.size() || header.pn_offset + 4 + 16 > end || end > out.size())
        return std::nullopt;
    std::array<std::uint8_t, 16> mask{};
    int len = 0;
    if (EVP_EncryptInit_ex(ctx_->ecb, EVP_aes_128_ecb(), nullptr, keys.hp.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx_->ecb, 0) != 1 ||
        EVP_EncryptUpdate(ctx_->ecb, mask.data(), &len, packet.data() + header.pn_offset + 4, 16) !=
            1)
        return std::nullopt;
    // The unprotected header is the AEAD's associated data; it is rebuilt in `out`.
    std::memcpy(out.data(), packet.data(), header.pn_offset);
    out[0] = static_cast<std::uint8_t>(packet[0] ^ (mask[0] & 0x0f));
    const std::size_t pn_len = (out[0] & 0x03) + 1;
    const std::size_t header_len = header.pn_offset + pn_len;
    if (header_len + 16 > end) return std::nullopt;
    std::uint64_t pn = 0;
    for (std::size_t i = 0; i < pn_len; ++i) {
        out[header.pn_offset + i] =
            static_cast<std::uint8_t>(packet[header.pn_offset + i] ^ mask[1 + i]);
        pn = (pn << 8) | out[header.pn_offset + i];
    }
    std::array<std::uint8_t, 12> nonce = keys.iv;
    for (std::size_t i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<std::uint8_t>(pn >> (8 * i));

    const std::uint8_t* ciphertext = packet.data() + header_len;
    const std::size_t ct_len = end - header_len - 16;
    std::uint8_t* plain = out.data() + header_len;
    int plain_len = 0, final_len = 0;
    if (EVP_DecryptInit_ex(ctx_->gcm, EVP_aes_128_gcm(), nullptr, keys.key.data(), nonce.data()) !=
            1 ||
        EVP_DecryptUpdate(ctx_->gcm, nullptr, &len, out.data(), static_cast<int>(header_len)) !=
            1 ||
        EVP_DecryptUpdate(ctx_->gcm, plain, &plain_len, ciphertext, static_cast<int>(ct_len)) !=
            1 ||
        EVP_CIPHER_CTX_ctrl(ctx_->gcm, EVP_CTRL_GCM_SET_TAG, 16,
                            const_cast<std::uint8_t*>(ciphertext + ct_len)) != 1 ||
        EVP_DecryptFinal_ex(ctx_->gcm, plain + plain_len, &final_len) != 1)
        return std::nullopt;
    if (packet_number) *packet_number = pn;
    return Bytes(plain, static_cast<std::size_t>(plain_len + final_len));
}

CryptoFrames crypto_frames(Bytes plaintext) {
    CryptoFrames out;
    ByteReader r(plaintext);
    while (r.remaining() > 0) {
        auto type = read_varint(r);
        if (!type) {
            out.complete = false;
            break;
        }
        if (*type == 0x00 || *type == 0x01) continue;  // PADDING, PING
        if (*type == 0x02 || *type == 0x03) {          // ACK (with ECN counts for 0x03)
            auto largest = read_varint(r);
            auto delay = read_varint(r);
            auto ranges = read_varint(r);
            auto first = read_varint(r);
            bool ok = largest && delay && ranges && first && *ranges <= 256;
            for (std::uint64_t i = 0; ok && i < *ranges; ++i) ok = read_varint(r) && read_varint(r);
            if (ok && *type == 0x03) ok = read_varint(r) && read_varint(r) && read_varint(r);
            if (!ok) {
                out.complete = false;
                break;
            }
            continue;
        }
        if (*type == 0x06) {  // CRYPTO: offset, length, data
            auto offset = read_varint(r);
            auto length = read_varint(r);
            if (!offset || !length || *length > r.remaining()) {
                out.complete = false;
                break;
            }
            auto data = r.take(static_cast<std::size_t>(*length));
            if (out.count == out.frames.size()) {
                out.complete = false;
                break;
            }
            out.frames[out.count++] = {*offset, *data};
            continue;
        }
        // CONNECTION_CLOSE (0x1c) or a frame not allowed in Initial packets: stop here.
        if (*type != 0x1c) out.complete = false;
        break;
    }
    return out;
}

}  // namespace clinicwatch::quic
