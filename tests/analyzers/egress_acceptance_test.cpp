// The egress analyzer on whole captures: the synthetic clinic from ../shared/bench and the
// public captures in ../shared/pcaps. Skipped when /work/shared is absent.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "analyzers/egress.hpp"
#include "analyzers/packet_context.hpp"
#include "capture/packet_source.hpp"
#include "daemon/egress_rules.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

struct CollectSink : FindingSink {
    std::vector<AlertUpdate> alerts;
    std::vector<BoundaryFlowSummary> flows;
    void alert(AlertUpdate a) override { alerts.push_back(std::move(a)); }
    void minute(const MinuteStats&) override {}
    void boundary_flows(const std::vector<BoundaryFlowSummary>& rows) override {
        flows.insert(flows.end(), rows.begin(), rows.end());
    }
    std::vector<const AlertUpdate*> of(const std::string& kind) const {
        std::vector<const AlertUpdate*> out;
        for (const auto& a : alerts)
            if (a.kind == kind) out.push_back(&a);
        return out;
    }
};

EgressRules repo_rules() {
    return load_egress_rules(CLINICWATCH_SOURCE_DIR "/rules");
}

// Replays a capture through the egress analyzer alone, with ticks as the dispatcher gives them.
void replay(const std::string& path, EgressSettings settings,
            const std::map<std::string, std::string>& roles, CollectSink& sink) {
    Egress egress(sink, std::move(settings), [&roles](const MacAddress& m) {
        auto it = roles.find(m.to_string());
        return it == roles.end() ? std::string() : it->second;
    });
    auto source = open_capture_files({path});
    RawFrame raw;
    Packet packet;
    ApplicationLayer app;
    app.report_flow_ends_to(egress);
    Timestamp next_tick = 0, now = 0;
    while (source->next(raw) == PacketSource::Next::frame) {
        decode_packet(raw.link, raw.ts, raw.wire_length, raw.data, packet);
        now = std::max(now, packet.ts);
        if (next_tick == 0) next_tick = (now / kMicrosPerSecond + 1) * kMicrosPerSecond;
        if (now >= next_tick) {
            egress.on_tick(now / kMicrosPerSecond * kMicrosPerSecond);
            next_tick = now / kMicrosPerSecond * kMicrosPerSecond + kMicrosPerSecond;
        }
        egress.on_packet(packet, app.begin(packet));
    }
    egress.on_finish(now);
}

// What a clinic would write for the synthetic clinic's roles.
EgressPolicy clinic_policy() {
    EgressPolicy p;
    RolePolicy ehr{EgressMode::allow, {"windows-update", "certificate-revocation"}, {}, {}, {}};
    RolePolicy orca{
        EgressMode::allow, {"ubuntu-updates", "orca-updates"}, {"www.google.com"}, {}, {}};
    RolePolicy modality{EgressMode::allow,
                        {"windows-update", "certificate-revocation", "connectivity-check"},
                        {},
                        {},
                        {}};
    // The online-eligibility terminal's IPsec VPN to the contracted provider's gateway.
    RolePolicy oqs{EgressMode::allow,
                   {"windows-update", "certificate-revocation", "connectivity-check"},
                   {"oqs-network.jp"},
                   {*IpNetwork::parse("61.213.150.0/24")},
                   {}};
    p.roles["ehr-server"] = ehr;
    p.roles["orca-server"] = orca;
    p.roles["modality-workstation"] = modality;
    p.roles["online-eligibility"] = oqs;
    return p;
}

struct BenchCapture {
    std::filesystem::path pcap, truth_path;
    nlohmann::json truth;
    std::map<std::string, std::string> roles;
};

std::optional<BenchCapture> make_bench(const TempDir& dir, bool incidents) {
    auto shared = shared_dir();
    if (!shared) return std::nullopt;
    auto script = *shared / "bench" / "make-clinic-pcap";
    if (!std::filesystem::exists(script)) return std::nullopt;
    BenchCapture b;
    b.pcap = dir / (incidents ? "clinic.pcap" : "quiet.pcap");
    b.truth_path = dir / (incidents ? "clinic.json" : "quiet.json");
    std::string cmd = "python3 " + script.string() + " --out " + b.pcap.string() + " --truth " +
                      b.truth_path.string() + " --packets 60000" +
                      (incidents ? "" : " --no-incidents");
    std::string out;
    if (run_command(cmd, &out) != 0) {
        ADD_FAILURE() << "make-clinic-pcap failed: " << out;
        return std::nullopt;
    }
    std::ifstream in(b.truth_path);
    b.truth = nlohmann::json::parse(in);
    for (const auto& h : b.truth["hosts"]) b.roles[h["mac"].get<std::string>()] = h["role"];
    return b;
}

const nlohmann::json* incident(const nlohmann::json& truth, const std::string& kind) {
    for (const auto& i : truth["incidents"])
        if (i["kind"] == kind) return &i;
    return nullptr;
}

}  // namespace

TEST(EgressAcceptance, ClinicIncidentsAreAlertedWithAssetAndName) {
    TempDir dir;
    auto bench = make_bench(dir, true);
    if (!bench) GTEST_SKIP() << "../shared/bench/make-clinic-pcap not available";
    EgressSettings settings;
    settings.internal_networks = {
        *IpNetwork::parse(bench->truth["network"]["cidr"].get<std::string>())};
    settings.policy = clinic_policy();
    settings.rules = repo_rules();
    CollectSink sink;
    replay(bench->pcap.string(), std::move(settings), bench->roles, sink);

    const auto* egress = incident(bench->truth, "egress-denied");
    ASSERT_NE(egress, nullptr);
    bool found = false;
    for (const auto* a : sink.of("egress-denied"))
        if (a->subject_mac->to_string() == egress->at("hosts")[0] &&
            a->evidence["destination_name"] == egress->at("details")["tls_sni"] &&
            a->evidence["destination_ip"] == egress->at("details")["dst_ip"] &&
            a->evidence["port"] == egress->at("details")["dst_port"])
            found = true;
    EXPECT_TRUE(found) << "no egress-denied for the EHR server to "
                       << egress->at("details")["tls_sni"];

    const auto* remote = incident(bench->truth, "remote-access");
    ASSERT_NE(remote, nullptr);
    found = false;
    for (const auto* a : sink.of("remote-access"))
        if (a->subject_mac->to_string() == remote->at("hosts")[0] &&
            a->evidence["destination_name"] == remote->at("details")["dst_name"] &&
            a->evidence["port"] == remote->at("details")["dst_port"] &&
            a->evidence["application"] == remote->at("details")["tool"])
            found = true;
    EXPECT_TRUE(found) << "no remote-access alert for TeamViewer from the reception PC";

    const auto* inbound = incident(bench->truth, "inbound-exposure");
    ASSERT_NE(inbound, nullptr);
    std::set<std::string> sources;
    for (const auto* a : sink.of("inbound-exposure")) {
        EXPECT_EQ(a->subject_mac->to_string(), inbound->at("hosts")[0]);
        EXPECT_EQ(a->severity, Severity::critical);
        EXPECT_EQ(a->evidence["port"], inbound->at("details")["dst_port"]);
        sources.insert(a->evidence["destination_ip"].get<std::string>());
    }
    std::set<std::string> expected;
    for (const auto& s : inbound->at("details")["src_ips"]) expected.insert(s.get<std::string>());
    EXPECT_EQ(sources, expected);

    // Nothing else: the baseline's allowed destinations raise no alert.
    for (const auto& a : sink.alerts) {
        bool explained =
            (a.kind == "egress-denied" && a.subject_mac->to_string() == egress->at("hosts")[0]) ||
            (a.kind == "remote-access" || a.kind == "risky-protocol-wan"
                 ? (a.subject_mac->to_string() == remote->at("hosts")[0] ||
                    a.subject_mac->to_string() == inbound->at("hosts")[0])
                 : false) ||
            a.kind == "inbound-exposure";
        EXPECT_TRUE(explained) << a.kind << " " << a.summary;
    }
}

TEST(EgressAcceptance, QuietClinicRaisesNothingForAllowedDestinations) {
    TempDir dir;
    auto bench = make_bench(dir, false);
    if (!bench) GTEST_SKIP() << "../shared/bench/make-clinic-pcap not available";
    EgressSettings settings;
    settings.internal_networks = {
        *IpNetwork::parse(bench->truth["network"]["cidr"].get<std::string>())};
    settings.policy = clinic_policy();
    settings.rules = repo_rules();
    CollectSink sink;
    replay(bench->pcap.string(), std::move(settings), bench->roles, sink);
    for (const auto& a : sink.alerts) ADD_FAILURE() << a.kind << ": " << a.summary;
    // The EHR server's CryptoAPI fetches were seen, named and allowed.
    std::string ehr;
    for (const auto& h : bench->truth["hosts"])
        if (h["role"] == "ehr-server") ehr = h["mac"];
    bool allowed = false;
    for (const auto& row : sink.flows)
        if (row.mac.to_string() == ehr && row.verdict == "allowed" && !row.name.empty())
            allowed = true;
    EXPECT_TRUE(allowed);
    EXPECT_FALSE(sink.flows.empty());
}

TEST(EgressAcceptance, AnyDeskIsRemoteAccess) {
    auto pcap = shared_pcap("anydesk_wan_and_lan.pcapng");
    if (!pcap) GTEST_SKIP() << "../shared/pcaps not available";
    EgressSettings settings;
    settings.rules = repo_rules();
    CollectSink sink;
    replay(pcap->string(), std::move(settings), {}, sink);
    // The direct session inside the LAN on tcp/7070, and the relay on tcp/443 known by the
    // ClientHello's ALPN (the capture has no DNS answer for it and no SNI).
    std::set<int> ports;
    for (const auto* a : sink.of("remote-access"))
        if (a->evidence.value("tool", a->evidence.value("application", "")) == "AnyDesk")
            ports.insert(a->evidence["port"].get<int>());
    EXPECT_EQ(ports, (std::set<int>{443, 7070}));
}

TEST(EgressAcceptance, SmbToTheInternetIsRiskyForTheWindows2000Host) {
    auto pcap = shared_pcap("winxp_win2000_browser_dhcp_smb_to_internet.pcap");
    if (!pcap) GTEST_SKIP() << "../shared/pcaps not available";
    EgressSettings settings;
    settings.rules = repo_rules();
    CollectSink sink;
    replay(pcap->string(), std::move(settings), {}, sink);
    std::set<int> ports;
    for (const auto* a : sink.of("risky-protocol-wan")) {
        if (a->evidence["asset_ip"] != "192.168.1.2") continue;
        EXPECT_EQ(a->subject_mac->to_string(), "00:e0:ed:01:6e:bd");
        if (a->evidence["destination_ip"] == "147.137.21.94")
            ports.insert(a->evidence["port"].get<int>());
    }
    EXPECT_TRUE(ports.count(445)) << "SMB 445 to 147.137.21.94 not flagged";
    EXPECT_TRUE(ports.count(139)) << "NetBIOS 139 to 147.137.21.94 not flagged";
}

TEST(EgressAcceptance, RdpAndVncSessionsOnTheLan) {
    for (const char* name :
         {"rdp_standard_rdp_security.pcap", "rdp_tls_security.pcap", "vnc_rfb_session.pcap"}) {
        auto pcap = shared_pcap(name);
        if (!pcap) GTEST_SKIP() << "../shared/pcaps not available";
        EgressSettings settings;
        settings.rules = repo_rules();
        CollectSink sink;
        replay(pcap->string(), std::move(settings), {}, sink);
        auto ra = sink.of("remote-access");
        ASSERT_FALSE(ra.empty()) << name;
        for (const auto* a : ra) {
            EXPECT_EQ(a->evidence["scope"], "lan") << name;
            EXPECT_EQ(a->severity, Severity::low) << name;
            EXPECT_EQ(a->evidence["tool"], std::string(name).substr(0, 3) == "vnc" ? "VNC" : "RDP");
        }
        EXPECT_TRUE(sink.of("risky-protocol-wan").empty()) << name;  // nothing crossed the boundary
    }
}
