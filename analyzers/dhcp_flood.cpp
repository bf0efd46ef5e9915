#include "analyzers/dhcp_flood.hpp"

#include <algorithm>
#include <functional>
#include <string>

#include "analyzers/packet_context.hpp"
#include "capture/protocols/dhcp.hpp"

namespace clinicwatch {

namespace {
constexpr Timestamp kMinute = 60 * kMicrosPerSecond;
constexpr std::size_t kSendersInEvidence = 8;
}  // namespace

DhcpFlood::DhcpFlood(FindingSink& sink, DhcpFloodSettings settings)
    : sink_(sink), settings_(settings) {}

void DhcpFlood::on_packet(const Packet& packet, PacketContext& context) {
    if (!packet.udp || packet.udp->src_port != dhcp::kClientPort ||
        packet.udp->dst_port != dhcp::kServerPort)
        return;
    const dhcp::Message* m = context.dhcp();
    if (!m || m->op != 1) return;
    if (m->message_type != dhcp::kDiscover && m->message_type != dhcp::kRequest) return;
    advance(packet.ts);
    // Who the request claims to be for: chaddr, else the client identifier option.
    std::uint64_t client = 0;
    if (m->chaddr_is_ethernet)
        client = m->chaddr.as_u64();
    else if (!m->client_id.empty())
        client = std::hash<std::string_view>{}(std::string_view(
                     reinterpret_cast<const char*>(m->client_id.data()), m->client_id.size())) |
                 (std::uint64_t{1} << 63);  // never equal to a MAC (48 bits)
    last_request_ = packet.ts;
    count(packet.src_mac, client, m->message_type == dhcp::kDiscover);
    if (!open_ && this_minute_ > settings_.max_requests_per_minute) {
        open_ = true;
        start_ = minute_start_;
        peak_ = 0;
        emit(packet.ts, false);
    }
}

void DhcpFlood::count(const MacAddress& sender, std::uint64_t client, bool discover) {
    ++this_minute_;
    (discover ? discovers_ : requests_) += 1;
    if (clients_.size() < kMaxClients) clients_.insert(client);
    auto it = std::find_if(senders_.begin(), senders_.end(),
                           [&](const Sender& s) { return s.mac == sender; });
    if (it != senders_.end())
        ++it->requests;
    else if (senders_.size() < kMaxSenders)
        senders_.push_back(Sender{sender, 1});
    else
        ++other_senders_requests_;
}

void DhcpFlood::on_tick(Timestamp now) {
    advance(now);
}

void DhcpFlood::on_finish(Timestamp now) {
    advance(now);
    // The capture stopped (or the sensor, or a reload rebuilds the analyzers): as far as we
    // can tell the incident ends here, as loops do. A flood still going opens a new one.
    if (open_) {
        emit(std::max(now, last_request_), true);
        open_ = counted_ = false;
        reset_counts();
    }
}

void DhcpFlood::advance(Timestamp now) {
    if (minute_start_ < 0) minute_start_ = now;
    if (now - minute_start_ < kMinute) return;
    if (open_) {
        bool ended = this_minute_ <= settings_.max_requests_per_minute;
        emit(now, ended);
        if (ended) {
            open_ = counted_ = false;
            reset_counts();
        }
    } else {
        reset_counts();
    }
    this_minute_ = 0;
    // Whole minutes from the first request: a gap of hours is one step, not one per minute.
    minute_start_ += (now - minute_start_) / kMinute * kMinute;
}

void DhcpFlood::reset_counts() {
    discovers_ = requests_ = other_senders_requests_ = 0;
    senders_.clear();
    clients_.clear();
}

void DhcpFlood::emit(Timestamp now, bool ended) {
    peak_ = std::max(peak_, this_minute_);
    std::vector<Sender> top = senders_;
    std::sort(top.begin(), top.end(),
              [](const Sender& a, const Sender& b) { return a.requests > b.requests; });
    nlohmann::json busiest = nlohmann::json::array();
    for (std::size_t i = 0; i < std::min(top.size(), kSendersInEvidence); ++i)
        busiest.push_back({{"mac", top[i].mac.to_string()}, {"requests", top[i].requests}});
    AlertUpdate u;
    u.kind = "dhcp-flood";
    u.key = u.kind + ":" + std::to_string(start_);
    u.severity = Severity::high;
    bool one_sender = top.size() == 1 && other_senders_requests_ == 0;
    if (one_sender) u.subject_mac = top[0].mac;
    u.subject = one_sender ? top[0].mac.to_string() : "LAN";
    std::string from = one_sender ? "one device"
                                  : (other_senders_requests_ ? "more than " : "") +
                                        std::to_string(top.size()) + " devices";
    std::string clients = (clients_.size() >= kMaxClients ? "at least " : "") +
                          std::to_string(clients_.size()) +
                          (clients_.size() == 1 ? " client" : " clients");
    u.summary = "DHCP flood: up to " + std::to_string(peak_) + " DHCP requests a minute (limit " +
                std::to_string(settings_.max_requests_per_minute) + ") from " + from + " for " +
                clients + ": DHCP starvation or a broken client; devices may get no address";
    u.first_seen = start_;
    u.last_seen = std::max(now, last_request_);
    u.count = counted_ ? 0 : 1;  // one incident; the evidence carries the numbers
    counted_ = true;
    u.evidence = {{"requests_last_minute", this_minute_},
                  {"peak_requests_per_minute", peak_},
                  {"limit_per_minute", settings_.max_requests_per_minute},
                  {"discovers", discovers_},
                  {"requests", requests_},
                  {"distinct_clients", clients_.size()},
                  {"distinct_clients_capped", clients_.size() >= kMaxClients},
                  {"senders", top.size()},
                  {"requests_from_other_senders", other_senders_requests_},
                  {"busiest_senders", busiest}};
    u.ended = ended;
    sink_.alert(std::move(u));
}

}  // namespace clinicwatch
