// Whole frames through the egress analyzer: decode, DNS answers, TLS/HTTP first payloads, the
// flow table and policy. The input is a sequence of frames, each prefixed by a 2-byte length.
#include <cstddef>
#include <cstdint>

#include "analyzers/egress.hpp"
#include "analyzers/packet_context.hpp"

namespace {

struct NullSink : clinicwatch::FindingSink {
    void alert(clinicwatch::AlertUpdate) override {}
    void minute(const clinicwatch::MinuteStats&) override {}
};

clinicwatch::EgressSettings settings() {
    using namespace clinicwatch;
    EgressSettings s;
    s.policy.max_flows = 64;  // small, so eviction paths run too
    s.policy.max_dns_names = 64;
    s.rules.tools.push_back(
        {"TeamViewer", {*PortMatch::parse("tcp/5938")}, {"teamviewer.com"}, {}, "f", {}});
    s.rules.tools.push_back({"RDP", {*PortMatch::parse("3389")}, {}, {}, "f", {}});
    s.rules.tools.push_back({"AnyDesk", {}, {}, {}, "f", {"anydesk/"}});
    s.rules.risky.push_back({"SMB", {*PortMatch::parse("tcp/445")}, "high", "f"});
    s.rules.services.push_back({"dns", {}, {}, {*PortMatch::parse("53")}, "f"});
    RolePolicy allow{EgressMode::allow, {"dns"}, {"example.jp"}, {}, {}};
    s.policy.roles["a"] = allow;
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace clinicwatch;
    NullSink sink;
    Egress egress(sink, settings(), [](const MacAddress& m) {
        return m.bytes[5] % 3 == 0 ? std::string("a") : m.bytes[5] % 3 == 1 ? "ehr-server" : "";
    });
    Packet packet;
    ApplicationLayer app;
    app.report_flow_ends_to(egress);
    Timestamp ts = 1'795'130'000'000'000;
    std::size_t pos = 0;
    while (pos + 2 <= size) {
        std::size_t len = (std::size_t{data[pos]} << 8 | data[pos + 1]) % 2048;
        pos += 2;
        if (len > size - pos) len = size - pos;
        ts += 700'000;
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(len),
                      Bytes(data + pos, len), packet);
        egress.on_packet(packet, app.begin(packet));
        if ((ts / 1'000'000) % 4 == 0) {
            egress.on_tick(ts);
            app.flows().expire(ts);  // flows leaving the table close egress's entries
        }
        pos += len;
    }
    egress.on_finish(ts);
    return 0;
}
