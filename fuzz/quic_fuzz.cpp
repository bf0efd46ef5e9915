// QUIC Initial parsing on arbitrary datagrams: the long header, key derivation from the DCID,
// header protection removal and AEAD (which rejects nearly everything; the plaintext side is
// fuzzed directly below), CRYPTO frame listing and the ClientHello message parser.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "capture/protocols/quic.hpp"
#include "capture/protocols/tls.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace clinicwatch;
    static quic::InitialDecryptor decryptor;
    static std::vector<std::uint8_t> out(65536);
    Bytes input(data, size);
    if (auto header = quic::parse_initial_header(input))
        if (auto keys = quic::client_initial_keys(header->version, header->dcid))
            if (auto plain = decryptor.decrypt(input, *header, *keys, out)) {
                auto frames = quic::crypto_frames(*plain);
                for (std::size_t i = 0; i < frames.count; ++i)
                    (void)tls::parse_client_hello_message(frames.frames[i].data);
            }
    // The input as a decrypted payload and as a handshake message.
    auto frames = quic::crypto_frames(input);
    for (std::size_t i = 0; i < frames.count; ++i)
        (void)tls::parse_client_hello_message(frames.frames[i].data);
    (void)tls::parse_client_hello_message(input);
    return 0;
}
