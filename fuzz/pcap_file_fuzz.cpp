// Fuzzes the capture-file reader through the real PacketSource: the input is written to a
// file and read to the end; a corrupt file must give a CaptureError, never a crash.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "capture/packet_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/tmp/clinicwatch-fuzz-" + std::to_string(getpid()) + ".pcap";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        auto source = clinicwatch::open_capture_files({path});
        clinicwatch::RawFrame frame;
        clinicwatch::Packet packet;
        while (source->next(frame) == clinicwatch::PacketSource::Next::frame)
            clinicwatch::decode_packet(frame.link, frame.ts, frame.wire_length, frame.data, packet);
    } catch (const clinicwatch::CaptureError&) {
    }
    return 0;
}
