// QUIC client Initial packets (RFC 9000 §17.2, RFC 9001 §5, RFC 9369): the long header, the
// Initial keys every observer can derive from the client's Destination Connection ID, header
// protection removed, the payload decrypted (AES-128-GCM) and its CRYPTO frames listed. The
// frames carry the TLS ClientHello (without a record header), whose SNI and ALPN name the
// destination of HTTP/3 traffic (most Google and much Microsoft traffic).
//
// Versions: 1 (RFC 9001), 2 (RFC 9369: other salt, labels and packet type bits), and drafts
// 29-32 (still sent by older clients; the draft-29 salt). OpenSSL (libcrypto) does the HMAC
// and AES; contexts are made once per InitialDecryptor and reused, so decrypting a packet does
// not allocate.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "capture/bytes.hpp"

namespace clinicwatch::quic {

constexpr std::uint32_t kVersion1 = 0x00000001;
constexpr std::uint32_t kVersion2 = 0x6b3343cf;
constexpr std::uint32_t kDraft29 = 0xff00001d;
constexpr std::uint32_t kDraft32 = 0xff000020;
constexpr std::size_t kMaxConnectionId = 20;

// True for the versions whose Initial keys we know.
bool is_supported(std::uint32_t version);

struct LongHeader {
    std::uint32_t version = 0;
    std::uint8_t first_byte = 0;  // still header-protected
    Bytes dcid, scid, token;
    std::size_t pn_offset = 0;    // where the protected packet number starts
    std::size_t packet_size = 0;  // header + payload; the rest of a datagram is another packet
    std::uint64_t length = 0;     // the Length field: packet number + payload
};

// The long header of an Initial packet at the start of `datagram` (a Retry, Handshake or 0-RTT
// packet, a short header or an unknown version yields nothing).
std::optional<LongHeader> parse_initial_header(Bytes datagram);

struct InitialKeys {
    std::array<std::uint8_t, 16> key{};
    std::array<std::uint8_t, 12> iv{};
    std::array<std::uint8_t, 16> hp{};
};

// The client's Initial keys for `version`, derived from the first Destination Connection ID the
// client chose (RFC 9001 §5.2, RFC 9369 §3.3.1-3.3.2).
std::optional<InitialKeys> client_initial_keys(std::uint32_t version, Bytes original_dcid);
// The server's Initial keys (the same derivation with the "server in" label). The sensor reads
// only clients' Initials; the capture generator (bench/) seals servers' answers with these.
std::optional<InitialKeys> server_initial_keys(std::uint32_t version, Bytes original_dcid);

// Reusable OpenSSL cipher contexts (RAII). One per thread.
class InitialDecryptor {
  public:
    InitialDecryptor();
    ~InitialDecryptor();
    InitialDecryptor(const InitialDecryptor&) = delete;
    InitialDecryptor& operator=(const InitialDecryptor&) = delete;

    // Removes header protection and decrypts the Initial packet `packet` (starting at its first
    // byte, `header` parsed from it) into `out`. Returns the plaintext frames, or nothing when
    // the packet is too short or does not authenticate with `keys`.
    std::optional<Bytes> decrypt(Bytes packet, const LongHeader& header, const InitialKeys& keys,
                                 std::span<std::uint8_t> out,
                                 std::uint64_t* packet_number = nullptr);

  private:
    struct Contexts;
    Contexts* ctx_;
};

struct CryptoFrame {
    std::uint64_t offset = 0;
    Bytes data;
};

constexpr std::size_t kMaxCryptoFrames = 32;

struct CryptoFrames {
    std::array<CryptoFrame, kMaxCryptoFrames> frames{};
    std::size_t count = 0;
    bool complete = true;  // false when a frame could not be parsed or there were too many
};

// The CRYPTO frames of a decrypted Initial payload, skipping PADDING, PING and ACK frames
// (RFC 9000 §19); parsing stops at CONNECTION_CLOSE or any other frame type.
CryptoFrames crypto_frames(Bytes plaintext);

// A QUIC variable-length integer (RFC 9000 §16).
std::optional<std::uint64_t> read_varint(ByteReader& r);

}  // namespace clinicwatch::quic
