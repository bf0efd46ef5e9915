// Whole frames through everything a packet meets after capture: decode, the shared host table,
// every analyzer the pipeline installs (inventory, loop detector, OS fingerprint, remote-access
// sessions, legacy handshakes, egress with its stream reassembly, QUIC Initial decryption and
// DNS query matching, LAN hygiene, traffic statistics, sensor limits), ticks and the end of input.
// Tables are small so eviction paths run. The input is a sequence of frames, each prefixed by a
// 2-byte length; a third byte before each frame advances packet time (so reassembly, timeouts and
// windows see both bursts and gaps).
#include <cstddef>
#include <cstdint>

#include "analyzers/cleartext_login.hpp"
#include "analyzers/dispatcher.hpp"
#include "analyzers/egress.hpp"
#include "analyzers/inventory.hpp"
#include "analyzers/lan_hygiene.hpp"
#include "analyzers/legacy_handshakes.hpp"
#include "analyzers/legacy_protocols.hpp"
#include "analyzers/loop_detector.hpp"
#include "analyzers/os_fingerprint.hpp"
#include "analyzers/remote_access.hpp"
#include "analyzers/sensor_limits.hpp"
#include "analyzers/traffic_stats.hpp"
#include "daemon/egress_rules.hpp"

namespace {

using namespace clinicwatch;

struct NullSink : FindingSink {
    void alert(AlertUpdate) override {}
    void minute(const MinuteStats&) override {}
};

// The shipped rules (the fuzz targets run from the source tree), read once.
const EgressRules& egress_rules() {
    static const EgressRules rules = load_egress_rules("rules");
    return rules;
}
const OsRules& os_rules() {
    static const OsRules rules = OsRules::load("rules/os-fingerprints.yaml", "rules/os-eol.yaml");
    return rules;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    NullSink sink;
    HostTable hosts(64);
    Dispatcher dispatcher(hosts);
    const std::vector<IpNetwork> internal = {*IpNetwork::parse("192.168.100.0/24"),
                                             *IpNetwork::parse("fd00::/8")};
    InventorySettings inventory;
    inventory.internal_networks = internal;
    dispatcher.add(std::make_unique<TrafficStats>(sink, [] { return DropCounters{}; }));
    dispatcher.add(std::make_unique<Inventory>(hosts, inventory));
    LoopDetector loop;
    for (auto& unit : loop.build_all(sink, LoopDetectorSettings{}, &hosts))
        dispatcher.add(std::move(unit));
    OsFingerprintSettings os;
    os.internal_networks = internal;
    os.max_tracked_hosts = 64;
    auto fingerprint = std::make_unique<OsFingerprint>(hosts, sink, os_rules(), os);
    LegacyProtocolsSettings legacy = legacy_protocols_settings(os_rules());
    legacy.internal_networks = internal;
    legacy.max_tracked_hosts = 64;
    auto legacy_unit = std::make_unique<LegacyProtocols>(hosts, sink, std::move(legacy));
    fingerprint->publish_to(legacy_unit.get());
    dispatcher.add(std::move(fingerprint));
    dispatcher.add(std::move(legacy_unit));
    dispatcher.add(
        std::make_unique<CleartextLogin>(hosts, sink, os_rules().cleartext_logins, internal));
    dispatcher.add(std::make_unique<RemoteAccessSessions>(sink, internal, egress_rules()));
    dispatcher.add(std::make_unique<LegacyHandshakes>(sink, internal));
    EgressSettings egress;
    egress.internal_networks = internal;
    egress.rules = egress_rules();
    egress.policy.max_flows = 64;
    egress.policy.max_dns_names = 64;
    egress.policy.max_streams = 16;
    egress.policy.stream_depth = 2048;
    RolePolicy allow{EgressMode::allow, {"windows-update"}, {"example.jp"}, {}, {}};
    egress.policy.roles["reception"] = allow;
    dispatcher.add(std::make_unique<Egress>(sink, std::move(egress), [](const MacAddress& m) {
        return m.bytes[5] % 3 == 0   ? std::string("reception")
               : m.bytes[5] % 3 == 1 ? "ehr-server"
                                     : "";
    }));
    LanHygieneSettings hygiene;
    hygiene.internal_networks = internal;
    dispatcher.add(std::make_unique<LanHygiene>(hosts, sink, std::move(hygiene)));
    dispatcher.add(std::make_unique<SensorLimits>(sink, [&](std::vector<TableUse>& out) {
        for (const auto& a : dispatcher.analyzers()) a->table_use(out);
    }));

    Packet packet;
    Timestamp ts = 1'795'130'000'000'000;
    std::size_t pos = 0;
    while (pos + 3 <= size) {
        std::size_t len = (std::size_t{data[pos]} << 8 | data[pos + 1]) % 4096;
        ts += static_cast<Timestamp>(data[pos + 2]) * data[pos + 2] * 1000;  // 0 .. 65 s
        pos += 3;
        if (len > size - pos) len = size - pos;
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(len),
                      Bytes(data + pos, len), packet);
        dispatcher.on_packet(packet);
        pos += len;
    }
    dispatcher.finish();
    return 0;
}
