// Generated clinic mornings with outages the mirror port can explain (issue 22): the EHR server
// not answering SYNs, the router's DNS forwarder or DHCP server silent, the router not answering
// ARP, a 100 Mbit/s ceiling on the NAS; and the cases that must stay quiet (a clean morning, a
// server switched off at night with nobody trying, one client retrying a dead name, a capture
// gap). Small on purpose (a few thousand frames) so tests stay fast. The ground truth uses the
// clinic capture's types: hosts (for the register) and incidents with start, end and the clients
// affected (TruthIncident::hosts, details.server_ip).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/clinic_capture.hpp"

namespace clinicwatch::bench {

enum class OutageScenario {
    clean,               // a normal morning
    ehr_down,            // the EHR server answers no SYN for five minutes
    dns_down,            // the router's DNS forwarder answers nothing for three minutes
    dhcp_down,           // DHCP answers no DISCOVER for three minutes
    router_arp,          // the router answers no ARP request for three minutes
    throughput_ceiling,  // the NAS behind a 100 Mbit/s hop: slow transfers, retransmissions
    morning,             // ehr_down, dns_down and dhcp_down in one morning (the story)
    night_off,           // the EHR server switched off at night, no client trying
    dead_name,           // one client retrying a name that does not exist and a dead address
    capture_gap,         // a clean morning with five minutes missing from the capture
    ehr_refused,         // the EHR server up (answers ARP) but its service stopped: SYNs get RST
    dhcp_exhausted,      // DHCP out of addresses: renewals ACKed, newcomers get no OFFER and NAKs
    dns_failing,         // the router's DNS forwarder answers SERVFAIL to everything for 3 min
};

struct OutageCaptureOptions {
    OutageScenario scenario = OutageScenario::clean;
    std::int64_t start_us = 1'795'129'200'000'000;  // 2026-11-20T08:00:00+09:00
    int minutes = 30;
    std::uint64_t seed = 1;
    // The scenario's outage in minutes after the start, instead of its usual window
    // (outage_from == outage_to: none, the same morning without the outage).
    std::optional<int> outage_from, outage_to;
};

// Scenario names as the make_capture option spells them ("ehr-down", ...).
std::optional<OutageScenario> parse_outage_scenario(const std::string& name);
std::string outage_scenario_name(OutageScenario s);
std::vector<std::string> outage_scenario_names();

// Writes the capture into `sink` in time order. Incidents in the truth: kind (the alert kind
// clinicwatch should raise: server-not-answering, dns-not-answering, dhcp-not-answering,
// router-not-answering-arp, throughput-ceiling, service-not-running, dhcp-out-of-addresses),
// start/end of the outage, hosts = clients affected, details = {server_ip, server_mac}.
ClinicCaptureTruth generate_outage_capture(const OutageCaptureOptions& options,
                                           const FrameSink& sink);

}  // namespace clinicwatch::bench
