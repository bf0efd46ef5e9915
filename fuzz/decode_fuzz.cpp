// Fuzzes link/network/transport decoding for every supported link type.
#include <cstddef>
#include <cstdint>

#include "capture/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace clinicwatch;
    if (size < 1) return 0;
    // The first byte picks the link type, the rest is the frame.
    static constexpr LinkType kLinks[] = {LinkType::ethernet,     LinkType::linux_sll,
                                          LinkType::linux_sll2,   LinkType::raw_ip,
                                          LinkType::bsd_loopback, LinkType::openbsd_loop};
    Packet p;
    decode_packet(kLinks[data[0] % std::size(kLinks)], 0, static_cast<std::uint32_t>(size - 1),
                  Bytes(data + 1, size - 1), p);
    // Touch what was decoded so out-of-range views are caught by ASan.
    volatile std::uint8_t sink = 0;
    for (auto b : p.payload) sink = sink ^ b;
    for (auto b : p.l3_payload) sink = sink ^ b;
    return 0;
}
