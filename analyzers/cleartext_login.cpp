#include "analyzers/cleartext_login.hpp"

#include "analyzers/packet_context.hpp"

#include <algorithm>
#include <cctype>

namespace clinicwatch {

namespace {

std::string host_subject(const Host* h, const IpAddress& ip) {
    std::string s = ip.empty() ? (h ? h->key.mac.to_string() : "") : ip.to_string();
    if (h && !h->names.empty()) s += " " + h->names.front().value;
    return s;
}

bool icontains(std::string_view hay, std::string_view needle) {
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
    });
    return it != hay.end();
}

}  // namespace

CleartextLogin::CleartextLogin(HostTable& hosts, FindingSink& sink,
                               std::vector<CleartextLoginRule> rules,
                               const std::vector<IpNetwork>& internal_networks)
    : hosts_(hosts), sink_(sink), rules_(std::move(rules)), internal_(internal_networks) {}

void CleartextLogin::on_packet(const Packet& p, PacketContext& context) {
    if (!p.tcp || !p.ip || p.payload.empty() || p.ip->is_later_fragment || p.tcp->syn()) return;
    Flow* flow = context.flow();
    if (!flow) return;  // a connection the full flow table did not let in (counted there)
    for (const auto& rule : rules_) {
        if (p.tcp->dst_port == rule.port) return on_login(p, *flow, rule, true);
        if (p.tcp->src_port == rule.port) return on_login(p, *flow, rule, false);
    }
}

void CleartextLogin::on_flow_end(Flow& flow) {
    if (LoginAttempt* a = attempts_.find(flow.slots.cleartext_login)) attempts_.close(*a);
    flow.slots.cleartext_login = {};
}

void CleartextLogin::on_login(const Packet& p, Flow& connection, const CleartextLoginRule& rule,
                              bool to_server) {
    const TcpView& t = *p.tcp;
    const std::uint16_t server_port = to_server ? t.dst_port : t.src_port;
    const IpAddress& client = to_server ? p.ip->src : p.ip->dst;
    const IpAddress& server = to_server ? p.ip->dst : p.ip->src;
    const std::uint16_t client_port = to_server ? t.src_port : t.dst_port;
    LoginAttempt* flow = attempts_.find(connection.slots.cleartext_login);
    std::string_view text = as_chars(p.payload);
    if (!flow) {
        // Only start tracking at something login-like, so the table holds login attempts.
        bool start =
            rule.style == CleartextLoginRule::Style::ftp
                ? (to_server && text.rfind("USER ", 0) == 0)
                : (!to_server && (icontains(text, "login") || icontains(text, "password")));
        if (!start) return;
        if (attempts_.full()) {
            if (LoginAttempt* oldest = attempts_.oldest_sampled(
                    [](const LoginAttempt& a, const LoginAttempt& b) { return a.last < b.last; }))
                attempts_.close(*oldest);
            ++replaced_;
        }
        LoginAttempt& f = attempts_.open(connection.slots.cleartext_login);
        f.client = client;
        f.server = server;
        f.client_port = client_port;
        f.server_port = server_port;
        f.client_mac = to_server ? p.src_mac : p.dst_mac;
        f.server_mac = to_server ? p.dst_mac : p.src_mac;
        f.vlan = p.vlan;
        flow = &f;
    }
    flow->last = p.ts;
    if (flow->reported) return;
    bool login = false;
    if (rule.style == CleartextLoginRule::Style::ftp) {
        if (to_server && text.rfind("USER ", 0) == 0) {
            std::string_view user = text.substr(5, std::min<std::size_t>(64, text.size() - 5));
            user = user.substr(0, user.find_first_of("\r\n"));
            flow->user.assign(user);
        }
        login = to_server && text.rfind("PASS ", 0) == 0;  // the password itself is not read
    } else {
        if (!to_server && icontains(text, "password")) flow->prompted = true;
        login = to_server && flow->prompted;
    }
    if (!login) return;
    flow->reported = true;
    const std::string& proto = rule.protocol;
    Host* srv = internal_.contains(server) ? hosts_.find(flow->server_mac, flow->vlan) : nullptr;
    AlertUpdate a;
    a.kind = "cleartext-login";
    a.key = "cleartext-login:" + device_key(flow->server_mac, server) + ":" + proto;
    a.severity = Severity::high;
    a.subject_mac = flow->server_mac;
    a.subject = host_subject(srv, server);
    a.summary = proto + " login in clear text from " + client.to_string() + " to " +
                server.to_string() + " (the password crossed the network unencrypted)";
    a.evidence = {{"protocol", proto},
                  {"client", client.to_string()},
                  {"client_mac", flow->client_mac.to_string()},
                  {"server", server.to_string()},
                  {"server_port", server_port}};
    if (!flow->user.empty()) a.evidence["user"] = flow->user;
    a.first_seen = a.last_seen = p.ts;
    sink_.alert(std::move(a));
}

}  // namespace clinicwatch
