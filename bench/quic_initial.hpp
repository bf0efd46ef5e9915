// QUIC v1 Initial packets as a browser and a server send them (RFC 9000 §17.2.2, RFC 9001 §5),
// for the capture generator: the client's ClientHello (TLS 1.3, ALPN h3, SNI, QUIC transport
// parameters) in a CRYPTO frame, padded to 1200 bytes, protected with the Initial keys
// (AES-128-GCM, then header protection), so the sensor decrypts them as it does a real
// browser's; and the server's Initial (ACK, ServerHello) under the server's Initial keys. The
// keys come from capture/protocols/quic (the sensor's own derivation); the sealing is here,
// since the sensor itself never encrypts.
#pragma once

#include <cstdint>
#include <string_view>

#include "bench/frame_builder.hpp"

namespace clinicwatch::bench {

// A TLS 1.3 ClientHello handshake message (no record header, as QUIC carries it) naming
// `server_name`, with ALPN h3 and quic_transport_parameters carrying `scid`.
Frame quic_client_hello(std::string_view server_name, ByteView random32, ByteView scid);
// A ServerHello handshake message (TLS_AES_128_GCM_SHA256, an X25519 share).
Frame quic_server_hello(ByteView random32);

// A CRYPTO frame (RFC 9000 §19.6) and an ACK frame acknowledging packets 0..largest.
Frame quic_crypto_frame(std::uint64_t offset, ByteView data);
Frame quic_ack_frame(std::uint64_t largest);

// One protected Initial packet. `original_dcid` is the client's first Destination Connection
// ID (both directions' keys come from it); `dcid`/`scid` go in the header. `frames` is padded
// with PADDING frames so that the packet is at least `min_size` bytes (1200 for a client's
// first datagram, RFC 9000 §14.1).
Frame quic_seal_initial(bool from_client, ByteView original_dcid, ByteView dcid, ByteView scid,
                        std::uint32_t packet_number, Frame frames, std::size_t min_size);

}  // namespace clinicwatch::bench
