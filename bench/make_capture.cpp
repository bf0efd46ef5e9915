// clinicwatch-make-capture: writes the synthetic clinic capture and its ground truth.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>

#include "bench/clinic_capture.hpp"
#include "bench/ipv6_capture.hpp"
#include "bench/outage_capture.hpp"
#include "bench/topology_capture.hpp"

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
EHR server answers no SYN from 08:10 to 08:15), dns-down, dns-failing (SERVFAIL to everything
from 08:12 to 08:15), dhcp-down, router-arp,
throughput-ceiling (the NAS behind a 100 Mbit/s hop), ehr-refused (the EHR server up but its
service stopped: RST to every SYN from 08:10 to 08:14), dhcp-exhausted (DHCP out of addresses
from 08:20 to 08:23: no OFFER, NAKs), morning (EHR, DNS and DHCP outages in one morning), and
the quiet ones: clean, night-off, dead-name, capture-gap.

  clinicwatch-make-capture --scenario two-subnets --out mixed.pcap --truth mixed.json

Scenarios for the network map (--scenario NAME, 10 minutes unless --minutes):
  two-subnets    a closed 192.168.10.0/24 (no router, an EHR server and two terminals) in
                 the same broadcast domain as the internet LAN 192.168.100.0/24, and one PC
                 holding an address in both
  single-subnet  the internet LAN alone (nothing mixed)
  topology-clinic  the clinic capture above plus its router, switch and access point
                 announcing themselves (LLDP, CDP), a second switch's BPDUs, and the
                 foreign home router of the incidents
  --double-mirrored sends every frame twice (two mirror sessions on one port).)",
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
    std::vector<std::string> scenarios = {"clinic", "ipv6", "two-subnets", "single-subnet",
                                          "topology-clinic"};
    for (const auto& name : outage_scenario_names()) scenarios.push_back(name);
    app.add_option("--scenario", scenario,
                   "clinic (default), ipv6, a network-map scenario or an outage scenario "
                   "(see above)")
        ->check(CLI::IsMember(scenarios));
    app.add_flag("--no-incidents", no_incidents, "baseline traffic only");
    bool double_mirrored = false;
    bool minutes_given = false;
    app.add_flag("--double-mirrored", double_mirrored,
                 "with --scenario: every frame twice, as a port fed by two mirror sessions");
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
    minutes_given = app.count("--minutes") > 0;
    if (auto topology =
            parse_topology_scenario(scenario == "topology-clinic" ? "clinic" : scenario);
        topology && scenario != "clinic") {
        TopologyCaptureOptions to;
        to.scenario = *topology;
        to.double_mirrored = double_mirrored;
        if (app.count("--start")) to.start_us = *start_us;
        if (minutes_given) to.duration_us = static_cast<std::int64_t>(minutes * 60e6);
        if (app.count("--packets")) to.clinic_packets = options.packets;
        try {
            PcapFileWriter writer(out);
            auto truth = generate_topology_capture(
                to, [&](std::int64_t ts, ByteView frame) { writer.write(ts, frame); });
            writer.close();
            nlohmann::json j = {{"scenario", scenario},
                                {"packets", truth.packets},
                                {"double_mirrored", double_mirrored},
                                {"subnets", truth.subnets},
                                {"router_mac", truth.router_mac.to_string()}};
            if (!truth.bridging_addresses.empty())
                j["bridging"] = {{"mac", truth.bridging_mac.to_string()},
                                 {"addresses", truth.bridging_addresses}};
            if (to.scenario == TopologyScenario::clinic) {
                j["switch"] = {{"mac", truth.switch_mac.to_string()},
                               {"name", truth.switch_name},
                               {"model", truth.switch_model}};
                j["access_point"] = {{"mac", truth.ap_mac.to_string()},
                                     {"name", truth.ap_name},
                                     {"model", truth.ap_model}};
                j["foreign_router_mac"] = truth.foreign_router_mac.to_string();
                j["clinic"] = truth_json(truth.clinic);
                if (!register_path.empty()) {
                    std::ofstream r(register_path);
                    r << register_yaml(truth.clinic);
                }
            }
            std::ofstream t(truth_path);
            t << j.dump(1) << "\n";
            if (!t) throw std::runtime_error(truth_path + ": cannot write");
            std::printf("%s: %llu packets (%s)\n", out.c_str(),
                        static_cast<unsigned long long>(truth.packets), scenario.c_str());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "clinicwatch-make-capture: %s\n", e.what());
            std::remove(out.c_str());
            return 1;
        }
        return 0;
    }
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
