// End-to-end checks of the inventory and the LAN hygiene alerts through the clinicwatch binary:
// the synthetic clinic capture (../shared/bench/make-clinic-pcap, with its ground truth), the
// public captures of ../shared/pcaps (CATALOG.md), and a flood of a million random MACs.
// Tests that need ../shared skip when it is absent.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "tests/support/test_support.hpp"

namespace clinicwatch::test {
namespace {

using nlohmann::json;

std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Runs the binary with arguments; on failure the test fails with its output.
void clinicwatch(const std::string& args, const TempDir& dir, const std::string& out_file = "") {
    std::string cmd = std::string("(") + CLINICWATCH_BINARY + " " + args;
    cmd += out_file.empty() ? ")" : " > " + (dir / out_file).string() + ")";
    std::string output;
    int rc = run_command(cmd, &output);
    ASSERT_EQ(rc, 0) << cmd << "\n" << output;
}

struct Result {
    json assets, alerts;
    const json* asset(const std::string& mac) const {
        for (const auto& a : assets)
            if (a["mac"] == mac) return &a;
        return nullptr;
    }
    std::vector<const json*> alerts_of(const std::string& kind) const {
        std::vector<const json*> out;
        for (const auto& a : alerts)
            if (a["kind"] == kind) out.push_back(&a);
        return out;
    }
};

Result replay(const TempDir& dir, const std::filesystem::path& pcap, const std::string& config) {
    std::ofstream(dir / "clinicwatch.yaml") << config;
    std::filesystem::remove(dir / "c.db");
    std::string common =
        " --config " + (dir / "clinicwatch.yaml").string() + " --db " + (dir / "c.db").string();
    clinicwatch("replay --no-progress " + pcap.string() + common, dir);
    clinicwatch("assets --json" + common, dir, "assets.json");
    clinicwatch("alerts --json" + common, dir, "alerts.json");
    Result r;
    r.assets = json::parse(read_text(dir / "assets.json"));
    r.alerts = json::parse(read_text(dir / "alerts.json"));
    return r;
}

bool has_value(const json& list, const std::string& value, bool ignore_case = false) {
    for (const auto& o : list) {
        std::string v = o.value("value", "");
        if (v == value || (ignore_case && lower(v) == lower(value))) return true;
    }
    return false;
}

// A host name as the truth gives it matches a seen name case-insensitively, with or without
// a domain (mDNS adds ".local", LLDP often the DNS domain).
bool has_hostname(const json& names, const std::string& hostname) {
    for (const auto& o : names) {
        std::string v = lower(o.value("value", ""));
        std::string h = lower(hostname);
        if (v == h || v.starts_with(h + ".")) return true;
    }
    return false;
}

std::string register_yaml(const json& entries) {
    std::string y = "register:\n";
    for (const auto& e : entries)
        y += "  - mac: \"" + e["mac"].get<std::string>() + "\"\n    name: \"" +
             e["name"].get<std::string>() + "\"\n    role: \"" + e.value("role", "") + "\"\n";
    return y;
}

std::optional<std::filesystem::path> bench_generator() {
    auto dir = shared_dir();
    if (!dir || !std::filesystem::exists(*dir / "bench" / "make-clinic-pcap")) return std::nullopt;
    if (run_command("python3 --version") != 0) return std::nullopt;
    return *dir / "bench" / "make-clinic-pcap";
}

json make_clinic(const TempDir& dir, const std::filesystem::path& gen, const std::string& flags) {
    std::string output;
    std::string cmd = "python3 " + gen.string() + " --out " + (dir / "clinic.pcap").string() +
                      " --truth " + (dir / "truth.json").string() + " --packets 20000 " + flags;
    EXPECT_EQ(run_command(cmd, &output), 0) << output;
    return json::parse(read_text(dir / "truth.json"));
}

std::string clinic_config(const json& truth, const json& register_entries) {
    return "network:\n  gateway_ip: " + truth["network"]["gateway_ip"].get<std::string>() +
           "\ninventory:\n  learning_days: 0\n" + register_yaml(register_entries);
}

TEST(InventoryAcceptance, SyntheticClinicHostsAndIncidents) {
    auto gen = bench_generator();
    if (!gen) GTEST_SKIP() << "../shared/bench/make-clinic-pcap (or python3) is not available";
    TempDir dir;
    json truth = make_clinic(dir, *gen, "");
    // The gateway MAC is learned, not configured: the spare router must still be caught.
    Result r = replay(dir, dir / "clinic.pcap", clinic_config(truth, truth["register"]));
    std::string capture = lower(read_text(dir / "clinic.pcap"));

    int hosts = 0, right = 0, right_mac_ip_vendor = 0, names_carried = 0, names_found = 0;
    std::string misses;
    for (const auto& h : truth["hosts"]) {
        ++hosts;
        std::string mac = h["mac"];
        const json* a = r.asset(mac);
        if (!a) {
            misses += " " + mac + "(missing)";
            continue;
        }
        bool ip = has_value((*a)["addresses"], h["ip"].get<std::string>());
        bool vendor = h["vendor"].is_null() ? (*a)["vendor"] == "" : (*a)["vendor"] == h["vendor"];
        // A host name can only be learned when the capture carries it in some form.
        bool name = true;
        if (h["hostname"].is_string() &&
            capture.find(lower(h["hostname"].get<std::string>())) != std::string::npos) {
            ++names_carried;
            name = has_hostname((*a)["names"], h["hostname"]);
            names_found += name;
        }
        right_mac_ip_vendor += ip && vendor;
        if (ip && vendor && name)
            ++right;
        else
            misses += " " + mac + (ip ? "" : "(ip)") + (vendor ? "" : "(vendor)") +
                      (name ? "" : "(name)");
    }
    RecordProperty("hosts", hosts);
    RecordProperty("right", right);
    std::printf("hosts %d: MAC+IP+vendor right %d, names carried by the capture %d, found %d\n",
                hosts, right_mac_ip_vendor, names_carried, names_found);
    EXPECT_GE(right * 100, hosts * 95) << "wrong:" << misses;
    EXPECT_GE(names_carried, hosts / 2);  // the check above must not pass vacuously

    for (const auto& inc : truth["incidents"]) {
        std::string kind = inc["kind"];
        const json& d = inc["details"];
        auto alerts = r.alerts_of(kind);
        auto with = [&](const std::string& subject, const std::string& mac) {
            for (const auto* a : alerts)
                if ((*a)["subject"] == subject && (mac.empty() || (*a)["subject_mac"] == mac))
                    return true;
            return false;
        };
        if (kind == "rogue-dhcp") {
            EXPECT_TRUE(with(d["server_ip"], d["server_mac"])) << r.alerts.dump(1);
        } else if (kind == "ip-conflict") {
            EXPECT_TRUE(with(d["ip"], "")) << r.alerts.dump(1);
        } else if (kind == "gateway-mac-change") {
            EXPECT_TRUE(with(d["ip"], d["new_mac"])) << r.alerts.dump(1);
            for (const auto* a : alerts) EXPECT_EQ((*a)["severity"], "critical");
        } else if (kind == "unregistered-device") {
            for (const auto& mac : inc["hosts"])
                EXPECT_TRUE(with(mac.get<std::string>(), mac.get<std::string>()))
                    << r.alerts.dump(1);
        }
    }
    // Registered devices (the label printer and the spare router are in the register) are never
    // reported as unregistered; the phones only in the low daily summary.
    for (const auto* a : r.alerts_of("unregistered-device")) {
        if ((*a)["subject_mac"].is_null()) {
            EXPECT_EQ((*a)["severity"], "low");
            continue;
        }
        for (const auto& h : truth["hosts"])
            if (h["mac"] == (*a)["subject_mac"]) {
                EXPECT_FALSE(h["registered"].get<bool>()) << h;
            }
    }
    EXPECT_TRUE(r.alerts_of("mac-flood").empty());
}

TEST(InventoryAcceptance, NoHygieneAlertsOnACleanClinicWithAFullRegister) {
    auto gen = bench_generator();
    if (!gen) GTEST_SKIP() << "../shared/bench/make-clinic-pcap (or python3) is not available";
    TempDir dir;
    json truth = make_clinic(dir, *gen, "--no-incidents");
    json everyone = json::array();
    for (const auto& h : truth["hosts"])
        everyone.push_back({{"mac", h["mac"]},
                            {"name", h["hostname"].is_string() ? h["hostname"] : h["mac"]},
                            {"role", h["role"]}});
    std::string config = clinic_config(truth, everyone);
    config.insert(
        config.find("inventory:"),
        "  gateway_mac: \"" + truth["network"]["gateway_mac"].get<std::string>() + "\"\n");
    Result r = replay(dir, dir / "clinic.pcap", config);
    for (const char* kind :
         {"unregistered-device", "rogue-dhcp", "ip-conflict", "gateway-mac-change", "mac-flood"})
        EXPECT_TRUE(r.alerts_of(kind).empty()) << kind << ": " << r.alerts.dump(1);
    std::size_t registered = 0;
    for (const auto& a : r.assets) registered += a["registered"].get<bool>();
    EXPECT_EQ(registered, r.assets.size());
}

// Real captures: what tshark shows for each host (CATALOG.md) is in the inventory.
struct RealCase {
    const char* file;
    const char* config;
    const char* mac;
    std::vector<std::pair<const char*, const char*>> names;  // value, source
    std::vector<const char*> addresses;
    std::vector<const char*> evidence;
};

TEST(InventoryAcceptance, RealCapturesNamesAndAddresses) {
    if (!shared_dir()) GTEST_SKIP() << "../shared/pcaps is not available";
    const std::vector<RealCase> cases = {
        {"winxp_browser_dhcp_eapol.pcap",
         "",
         "00:04:23:57:a5:7a",
         {{"DJP95S0J", "dhcp"}, {"DJP95S0J", "nbns"}, {"DJP95S0J", "netbios-dgm"}},
         {"192.168.1.249", "169.254.67.194"},
         {"55=1,15,3,6,44,46,47,31,33,249,43", "60=MSFT 5.0"}},
        {"lldp_and_cdp.pcap",
         "",
         "00:18:ba:98:68:8f",
         {{"S1.cisco.com", "lldp"}, {"S1", "cdp"}},
         {},
         {"platform=cisco WS-C3560-24TS"}},
        {"lldp_and_cdp.pcap",
         "",
         "00:19:2f:a7:b2:8d",
         {{"S2.cisco.com", "lldp"}, {"S2", "cdp"}},
         {},
         {"platform=cisco WS-C3560G-24PS", "caps=bridge"}},
        {"cdp_cisco_3560.pcap",
         "",
         "00:19:06:ea:b8:85",
         {{"Switch", "cdp"}},
         {"192.168.0.1"},
         {"platform=cisco WS-C3560G-24PS"}},
        {"mdns.pcap",
         "",
         "8a:3c:d6:e1:4d:c4",
         {{"johanna-QEMU-Virtual-Machine.local", "mdns"}},
         {"10.0.2.7"},
         {}},
        {"llmnr_query_response.pcap",
         "",
         "00:0c:29:87:65:43",
         {{"malicious-c2.local", "llmnr"}},
         {"192.168.1.200"},
         {}},
        {"ssdp_single.pcap",
         "",
         "e0:91:f5:73:8c:c2",
         {},
         {"192.168.1.1"},
         {"server=UPnP/Tomato 1.28.7500 MIPSR2Toastman-RT K26 USB Ext UPnP/1.0 MiniUPnPd/1.6"}},
        {"dhcp_dora_single_server.pcapng",
         "",
         "00:0c:29:59:fd:21",
         {{"ubuntu2", "dhcp"}},
         {"192.168.1.10"},
         {"55=1,28,2,3,15,6,119,12,44,47,26,121,42"}},
        {"dhcp_all_message_types.pcap",
         "network:\n  internal_networks: [128.2.0.0/16]\n",
         "90:b1:1c:99:49:29",
         {{"btest.is.cool", "dhcp"}},
         {"128.2.6.189"},
         {}},
        {"winxp_win2000_browser_dhcp_smb_to_internet.pcap",
         "",
         "00:e0:ed:01:6e:bd",
         {{"d002465", "dhcp"}, {"D002465", "netbios-dgm"}},
         {"192.168.1.2"},
         {"60=MSFT 5.0"}},
        {"arp_request_reply.pcapng", "", "00:13:46:0b:22:ba", {}, {"192.168.0.1"}, {}},
    };
    TempDir dir;
    for (const auto& c : cases) {
        auto pcap = shared_pcap(c.file);
        if (!pcap) {
            ADD_FAILURE() << c.file << " is missing from ../shared/pcaps";
            continue;
        }
        SCOPED_TRACE(c.file);
        Result r = replay(dir, *pcap, c.config);
        const json* a = r.asset(c.mac);
        ASSERT_NE(a, nullptr) << c.mac << " in " << r.assets.dump(1);
        for (const auto& [value, source] : c.names) {
            bool found = false;
            for (const auto& o : (*a)["names"])
                found |= o["value"] == value && o["source"] == source;
            EXPECT_TRUE(found) << value << " (" << source << ") in " << (*a)["names"].dump();
        }
        for (const auto* ip : c.addresses)
            EXPECT_TRUE(has_value((*a)["addresses"], ip)) << ip << " in " << (*a)["addresses"];
        for (const auto* e : c.evidence)
            EXPECT_TRUE(has_value((*a)["evidence"], e)) << e << " in " << (*a)["evidence"];
        // Single-server, single-owner captures raise none of the hygiene alerts.
        for (const char* kind : {"rogue-dhcp", "ip-conflict", "gateway-mac-change", "mac-flood"})
            EXPECT_TRUE(r.alerts_of(kind).empty()) << kind << " " << r.alerts.dump(1);
    }
}

TEST(InventoryAcceptance, ArpSpoofOfTheGatewayIsAlerted) {
    auto pcap = shared_pcap("arp_spoof_gateway_mitm.pcapng");
    if (!pcap) GTEST_SKIP() << "../shared/pcaps is not available";
    TempDir dir;
    // Configured gateway MAC; learned (from the victim's outbound traffic, since the real
    // gateway never sends an ARP in this capture); and no gateway configured at all (the
    // victim's internet traffic moves to the MAC that claimed the gateway's address).
    for (const char* config : {"network:\n  gateway_ip: 172.16.0.1\n  gateway_mac: "
                               "\"00:26:0b:31:07:33\"\n",
                               "network:\n  gateway_ip: 172.16.0.1\n", ""}) {
        SCOPED_TRACE(config);
        Result r = replay(dir, *pcap, config);
        auto g = r.alerts_of("gateway-mac-change");
        ASSERT_EQ(g.size(), 1u) << r.alerts.dump(1);
        EXPECT_EQ((*g[0])["subject"], "172.16.0.1");
        EXPECT_EQ((*g[0])["subject_mac"], "00:25:b3:bf:91:ee");
        EXPECT_EQ((*g[0])["evidence"]["expected_mac"], "00:26:0b:31:07:33");
    }
}

TEST(InventoryAcceptance, DhcpDiscoverFloodIsAlerted) {
    // 10,000 DISCOVERs from one MAC, all with one timestamp (written by a tool).
    auto pcap = shared_pcap("dhcp_discover_broadcast_flood.pcap");
    if (!pcap) GTEST_SKIP() << "../shared/pcaps is not available";
    TempDir dir;
    Result r = replay(dir, *pcap, "");
    auto f = r.alerts_of("dhcp-flood");
    ASSERT_EQ(f.size(), 1u) << r.alerts.dump(1);
    EXPECT_EQ((*f[0])["severity"], "high");
    EXPECT_EQ((*f[0])["subject_mac"], "de:ad:be:ef:aa:bb");
    EXPECT_EQ((*f[0])["evidence"]["discovers"], 10000);
}

TEST(InventoryAcceptance, RegisterDraftRoundTripsThroughTheConfig) {
    auto pcap = shared_pcap("lldp_and_cdp.pcap");
    if (!pcap) GTEST_SKIP() << "../shared/pcaps is not available";
    TempDir dir;
    replay(dir, *pcap, "");
    std::string common =
        " --config " + (dir / "clinicwatch.yaml").string() + " --db " + (dir / "c.db").string();
    clinicwatch("register draft --out " + (dir / "draft.yaml").string() + common, dir);
    std::string draft = read_text(dir / "draft.yaml");
    EXPECT_NE(draft.find("- mac: \"00:18:ba:98:68:8f\""), std::string::npos) << draft;
    EXPECT_NE(draft.find("name: \"S1\""), std::string::npos) << draft;
    // Comments in the configured language (digest.language, Japanese by default).
    EXPECT_NE(draft.find("# 検出した名前: S1 (cdp), S1.cisco.com (lldp)"), std::string::npos)
        << draft;
    clinicwatch("check-config " + (dir / "draft.yaml").string(), dir);
    // With the draft as the register, every device is registered and named.
    Result r = replay(dir, *pcap, draft);
    for (const auto& a : r.assets) {
        EXPECT_TRUE(a["registered"].get<bool>()) << a["mac"];
        EXPECT_NE(a["register_name"], "");
    }
    clinicwatch("assets --unregistered --json" + common, dir, "unreg.json");
    EXPECT_TRUE(json::parse(read_text(dir / "unreg.json")).empty());
}

TEST(InventoryAcceptance, MillionRandomMacsKeepTheCapAndTheRegisteredDevices) {
    TempDir dir;
    const std::string ehr = "98:e7:43:0c:55:21";
    {
        PcapWriter w(dir / "flood.pcap");
        std::int64_t ts = 1'763'600'000'000'000;
        auto arp = [](const std::string& mac, std::uint8_t last) {
            std::vector<std::uint8_t> f(60, 0);
            for (int i = 0; i < 6; ++i) f[i] = 0xff;
            auto m = from_hex(mac);
            std::copy(m.begin(), m.end(), f.begin() + 6);
            std::vector<std::uint8_t> body = {0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2};
            std::copy(body.begin(), body.end(), f.begin() + 12);
            std::copy(m.begin(), m.end(), f.begin() + 22);
            std::vector<std::uint8_t> ip = {192, 168, 100, last};
            std::copy(ip.begin(), ip.end(), f.begin() + 28);
            return f;
        };
        w.write(ts, arp(ehr, 10));
        std::mt19937_64 rng(42);
        std::vector<std::uint8_t> f(60, 0);
        for (int i = 0; i < 6; ++i) f[i] = 0xff;
        f[12] = 0x88;
        f[13] = 0xb5;  // local experimental ethertype: nothing but a source MAC
        for (int i = 0; i < 1'000'000; ++i) {
            std::uint64_t v = rng();
            for (int b = 0; b < 6; ++b) f[6 + b] = static_cast<std::uint8_t>(v >> (8 * b));
            f[6] &= 0xfe;  // unicast source
            ts += 50;      // 20,000 frames a second for 50 s
            w.write(ts, f);
        }
        w.write(ts + 120'000'000, arp(ehr, 10));
    }
    std::string config =
        "limits:\n  max_hosts: 20000\ninventory:\n  learning_days: 0\nregister:\n  - mac: \"" +
        ehr + "\"\n    name: ehr\n    role: ehr-server\n";
    std::ofstream(dir / "clinicwatch.yaml") << config;
    std::string common =
        " --config " + (dir / "clinicwatch.yaml").string() + " --db " + (dir / "c.db").string();
    clinicwatch("replay --no-progress " + (dir / "flood.pcap").string() + common, dir);
    // Only the replay has run as a child so far: its peak RSS is the children's maximum.
    struct rusage usage {};
    getrusage(RUSAGE_CHILDREN, &usage);
    long peak_mb = usage.ru_maxrss / 1024;
    std::printf("peak RSS of the replay: %ld MB\n", peak_mb);
    if (!kSanitizedBuild) {
        EXPECT_LT(peak_mb, 128);
    }
    Result r;
    clinicwatch("assets --role ehr-server --json" + common, dir, "assets.json");
    clinicwatch("alerts --json" + common, dir, "alerts.json");
    r.assets = json::parse(read_text(dir / "assets.json"));
    r.alerts = json::parse(read_text(dir / "alerts.json"));
    auto flood = r.alerts_of("mac-flood");
    ASSERT_EQ(flood.size(), 1u) << r.alerts.dump(1);
    EXPECT_EQ((*flood[0])["evidence"]["host_table_capacity"], 20000);
    EXPECT_GT((*flood[0])["evidence"]["frames_refused_during_flood"].get<std::uint64_t>(), 900000u);
    const json* e = r.asset(ehr);
    ASSERT_NE(e, nullptr);
    EXPECT_TRUE((*e)["registered"].get<bool>());
    EXPECT_TRUE(has_value((*e)["addresses"], "192.168.100.10"));
    // The flood's MACs are summarised by the mac-flood alert, not one alert each.
    EXPECT_LE(r.alerts_of("unregistered-device").size(), 1u);
}

}  // namespace
}  // namespace clinicwatch::test
