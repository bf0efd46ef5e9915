// clinicwatch-make-hostile: writes a capture of one kind of hostile traffic (see
// bench/hostile_capture.hpp) for the robustness benchmark bench/run-hostile.sh.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "bench/hostile_capture.hpp"

int main(int argc, char** argv) {
    using namespace clinicwatch::bench;
    CLI::App app{R"(clinicwatch-make-hostile - hostile traffic against the sensor's limits

Writes a classic pcap (Ethernet, microsecond timestamps) of one kind of flood that anyone on
the LAN, or malware on a clinic PC, could send. Nine frames in ten are the flood; the tenth is
ordinary ARP and DNS of a few PCs. Kinds:
  mac-flood     random source MACs (macof-style)           -> the device table
  ip-flood      one MAC sending from random source IPs     -> per-device address lists
  destinations  one PC connecting to random internet hosts -> the boundary-flow table
  fragments     IPv4 fragments, random ids and offsets     -> the decoder's fragment path
  broadcasts    distinct broadcast frames                  -> the loop detector's signatures
  dns-huge      DNS answers with many long records         -> the DNS name cache
  syn-scan      SYNs to random ports, a quarter answered   -> per-device service lists

The same options always give byte-identical output.

Example:
  clinicwatch-make-hostile --kind mac-flood --packets 1000000 --out flood.pcap)",
                 "clinicwatch-make-hostile"};
    std::string out, kind_text;
    HostileOptions options;
    app.add_option("--kind", kind_text, "which flood (see above)")->required();
    app.add_option("--out", out, "pcap file to write")->required();
    app.add_option("--packets", options.packets, "exact number of frames (default 1000000)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
    app.add_option("--rate", options.packets_per_second,
                   "frames per second of packet time (default 20000)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}));
    app.add_option("--seed", options.seed, "random seed (default 1)");
    app.footer("Exit codes: 0 written, 2 bad command line, 1 could not write.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    auto kind = parse_hostile_kind(kind_text);
    if (!kind) {
        std::fprintf(stderr, "clinicwatch-make-hostile: --kind: unknown kind '%s'\n",
                     kind_text.c_str());
        return 2;
    }
    options.kind = *kind;
    try {
        PcapFileWriter writer(out);
        generate_hostile_capture(options,
                                 [&](std::int64_t ts, ByteView frame) { writer.write(ts, frame); });
        writer.close();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "clinicwatch-make-hostile: %s\n", e.what());
        return 1;
    }
    return 0;
}
