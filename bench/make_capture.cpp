// clinicwatch-make-capture: writes the synthetic clinic capture and its ground truth.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>

#include "bench/clinic_capture.hpp"
#include "bench/ipv6_capture.hpp"
#include "bench/outage_capture.hpp"

int main(int argc, char** argv) {
    using namespace clinicwatch::bench;
    CLI::App app{R"(clinicwatch-make-capture - a synthetic capture of a small clinic LAN

Writes a classic pcap (Ethernet, microsecond timestamps) of a clinic network as a mirror port
beside its Yamaha router sees it: the router (192.168.100.1, DHCP server and DNS forwarder),
an EHR server on Windows Server 2008 R2, Windows 10/11 clients, a Windows 7 reception PC, a
printer, a NAS, a PACS and an X-ray modality, and staff phones with private MAC addresses.
Traffic: DHCP, ARP, NBNS, mDNS, SSDP, LLMNR, STP, DNS with CNAME chains, and complete TCP
sessions (HTTP and SMB2 to the EHR server, SMB2 to the NAS, DICOM to the PACS, printing, HTTPS
with TLS SNI to the internet). Unless --no-incidents: a rogue DHCP server, an IP conflict, a
gateway MAC change, a layer-2 loop, a TeamViewer session, inbound RDP from the internet and a
cleartext Telnet login, each recorded with its first and last frame in the ground-truth JSON.

The same options and seed always give byte-identical output. Frames are streamed to disk,
so millions of packets need little memory.

Example:
  clinicwatch-make-capture --out clinic.pcap --truth clinic-truth.json
  clinicwatch-make-capture --out big.pcap --truth big.json --packets 2000000 --seed 7
  clinicwatch-make-capture --scenario ipv6 --out v6.pcap --truth v6.json

--scenario ipv6 writes a dual-stack clinic on IPv6 IPoE instead (router advertisements with
the ISP's /64, SLAAC with rotating temporary addresses, AAAA answers, HTTPS and QUIC over
IPv6, an EHR server uploading to a cloud, TeamViewer, an internet host opening the NAS, a
prefix renumbering; unless --no-incidents a home router's RAs and DHCPv6, an RA impersonating
the router, a router-lifetime-0 RA and NDP spoofing). It is a few thousand frames; --packets
does not apply.

  clinicwatch-make-capture --out ehr.pcap --truth ehr.json --scenario ehr-down

--scenario NAME (an outage) writes instead a small clinic morning (a few thousand frames, --packets is
ignored) built around one outage or its look-alike (bench/outage_capture.hpp): ehr-down (the
EHR server answers no SYN from 08:10 to 08:15), dns-down, dhcp-down, router-arp,
throughput-ceiling (the NAS behind a 100 Mbit/s hop), morning (EHR, DNS and DHCP outages in
one morning), and the quiet ones: clean, night-off, dead-name, capture-gap.)",
                 "clinicwatch-make-capture"};
    std::string out, truth_path, register_path, start = "2026-11-20T08:00:00+09:00";
    ClinicCaptureOptions options;
    double minutes = 30;
    bool no_incidents = false;
    std::string scenario = "clinic";
    app.add_option("--out", out, "pcap file to write")->required();
    app.add_option("--truth", truth_path, "ground-truth JSON file to write")->required();
    app.add_option("--packets", options.packets,
                   "exact number of frames (default 60000; the scripted traffic needs about "
                   "15000 with incidents)")
        ->check(CLI::Range(std::uint64_t{1000}, std::uint64_t{1'000'000'000}));
    app.add_option("--seed", options.seed, "random seed (default 1)");
    app.add_option("--start", start,
                   "first packet time, ISO 8601 (default 2026-11-20T08:00:00+09:00; without an "
                   "offset the time is taken as JST)");
    app.add_option("--minutes", minutes, "period covered, in minutes (default 30)")
        ->check(CLI::Range(10.0, 24.0 * 60));
    std::vector<std::string> scenarios = {"clinic", "ipv6"};
    for (const auto& name : outage_scenario_names()) scenarios.push_back(name);
    app.add_option("--scenario", scenario,
                   "clinic (default), ipv6, or an outage scenario (see above)")
        ->check(CLI::IsMember(scenarios));
    app.add_flag("--no-incidents", no_incidents, "baseline traffic only");
    app.add_option("--register", register_path,
                   "also write the registered devices as a `register:` YAML fragment here");
    app.footer("Exit codes: 0 written, 2 bad command line, 1 could not write or generate.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    auto start_us = parse_iso_time(start);
    if (!start_us) {
        std::fprintf(stderr, "clinicwatch-make-capture: --start: not an ISO 8601 time: %s\n",
                     start.c_str());
        return 2;
    }
    options.start_us = *start_us;
    options.duration_us = static_cast<std::int64_t>(minutes * 60e6);
    options.incidents = !no_incidents;
    try {
        if (scenario == "ipv6") {
            Ipv6CaptureOptions v6;
            v6.seed = options.seed;
            v6.start_us = options.start_us;
            v6.duration_us = options.duration_us;
            v6.incidents = options.incidents;
            PcapFileWriter writer(out);
            auto truth = generate_ipv6_capture(
                v6, [&](std::int64_t ts, ByteView frame) { writer.write(ts, frame); });
            writer.close();
            std::ofstream t(truth_path);
            t << ipv6_truth_json(truth).dump(1) << "\n";
            if (!t) throw std::runtime_error(truth_path + ": cannot write");
            std::printf("%s: %llu packets (IPv6 clinic), %zu hosts, %zu incidents\n", out.c_str(),
                        static_cast<unsigned long long>(truth.packets), truth.hosts.size(),
                        truth.incidents.size());
            return 0;
        }
        PcapFileWriter writer(out);
        auto write = [&](std::int64_t ts, ByteView frame) { writer.write(ts, frame); };
        ClinicCaptureTruth truth;
        if (scenario == "clinic") {
            truth = generate_clinic_capture(options, write);
        } else {
            OutageCaptureOptions o;
            o.scenario = *parse_outage_scenario(scenario);
            o.start_us = options.start_us;
            o.minutes = static_cast<int>(minutes);
            o.seed = options.seed;
            truth = generate_outage_capture(o, write);
        }
        writer.close();
        std::ofstream t(truth_path);
        t << truth_json(truth).dump(1) << "\n";
        if (!t) throw std::runtime_error(truth_path + ": cannot write");
        if (!register_path.empty()) {
            std::ofstream r(register_path);
            r << register_yaml(truth);
            if (!r) throw std::runtime_error(register_path + ": cannot write");
        }
        std::printf("%s: %llu packets, %llu bytes, %s .. %s, %zu hosts, %zu incidents\n",
                    out.c_str(), static_cast<unsigned long long>(truth.packets),
                    static_cast<unsigned long long>(truth.bytes),
                    format_iso_time(truth.first_us).c_str(), format_iso_time(truth.last_us).c_str(),
                    truth.hosts.size(), truth.incidents.size());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "clinicwatch-make-capture: %s\n", e.what());
        std::remove(out.c_str());  // no half-written capture left behind
        return 1;
    }
    return 0;
}
