#include "analyzers/os_fingerprint.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "analyzers/packet_context.hpp"
#include "capture/protocols/http.hpp"
#include "capture/protocols/netbios_browser.hpp"
#include "capture/protocols/ntlmssp.hpp"
#include "capture/protocols/smb.hpp"
#include "capture/protocols/ssh.hpp"
#include "capture/protocols/text.hpp"
#include "capture/protocols/tls.hpp"

namespace clinicwatch {

namespace {

constexpr Timestamp kRefresh = 60 * kMicrosPerSecond;    // re-store seen evidence this often
constexpr Timestamp kScanEvery = 30 * kMicrosPerSecond;  // look for evidence others added
constexpr Timestamp kRealert = 3600 * kMicrosPerSecond;  // keep open alerts' last_seen fresh
constexpr std::size_t kMaxValue = 200;

std::uint64_t fnv(std::uint64_t h, std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h;
}

std::uint64_t evidence_hash(std::string_view source, std::string_view value) {
    return fnv(fnv(1469598103934665603ULL, source) * 31, value);
}

// Evidence text as stored and shown: at most kMaxValue bytes, cut at a character boundary, with
// invalid UTF-8 and control characters replaced. HTTP and SMB header values reach this unchanged
// from the wire, and a stray byte (or a cut through a character) made the explanation's JSON
// throw.
std::string clip(std::string_view s) {
    return text::safe_name(s, kMaxValue);
}

const char* ntlm_type(std::uint32_t t) {
    return t == ntlmssp::kNegotiate   ? "negotiate"
           : t == ntlmssp::kChallenge ? "challenge"
                                      : "authenticate";
}

nlohmann::json claims_json(const std::vector<OsClaim>& claims) {
    auto out = nlohmann::json::array();
    for (const auto& c : claims) {
        nlohmann::json j = {
            {"source", c.kind}, {"value", c.value}, {"rule", c.rule}, {"weight", c.weight}};
        std::string says = c.family;
        if (!c.version.empty()) says += (says.empty() ? "" : " ") + c.version;
        if (!c.nt.empty()) says += (says.empty() ? "NT " : " NT ") + c.nt;
        if (c.build) says += " build " + std::to_string(c.build);
        if (!c.role.empty()) says += " (" + c.role + ")";
        j["says"] = says;
        out.push_back(std::move(j));
    }
    return out;
}

}  // namespace

OsFingerprint::OsFingerprint(HostTable& hosts, FindingSink& sink, OsRules rules,
                             OsFingerprintSettings settings)
    : hosts_(hosts),
      sink_(sink),
      rules_(std::move(rules)),
      settings_(std::move(settings)),
      internal_(settings_.internal_networks) {}

bool OsFingerprint::internal(const IpAddress& a) const {
    return internal_.contains(a);
}

OsFingerprint::State& OsFingerprint::state(const HostKey& key) {
    auto it = states_.find(key);
    if (it != states_.end()) return it->second;
    if (states_.size() >= settings_.max_tracked_hosts) {
        states_.erase(states_.begin());
        ++state_evictions_;
    }
    return states_[key];
}

bool OsFingerprint::seen_recently(State& st, std::uint64_t hash, Timestamp ts) {
    for (auto& s : st.seen) {
        if (s.hash != hash) continue;
        if (ts - s.refreshed < kRefresh) return true;
        s.refreshed = ts;
        return false;
    }
    st.seen[st.next] = Seen{hash, ts};
    st.next = static_cast<std::uint8_t>((st.next + 1) % st.seen.size());
    return false;
}

bool OsFingerprint::add_evidence_to(Host& h, std::uint16_t vlan, std::string_view source,
                                    std::string_view value, Timestamp ts) {
    State& st = state(HostKey{h.key.mac, vlan});
    if (seen_recently(st, evidence_hash(source, value), ts)) return false;
    // A refresh only moves last_seen: re-infer only when the evidence is new.
    if (h.observe_evidence(clip(value), std::string(source), ts)) st.pending = true;
    return true;
}

bool OsFingerprint::add_evidence(const Packet& p, std::string_view source, std::string_view value) {
    if (!internal(p.ip->src)) return false;  // routed traffic: the sender is not on the LAN
    Host* h = hosts_.find(p.src_mac, p.vlan);
    if (!h) return false;
    return add_evidence_to(*h, p.vlan, source, value, p.ts);
}

void OsFingerprint::on_packet(const Packet& packet, PacketContext& context) {
    if (!packet.ip) {
        // Bridges speak STP and LLDP: a sender of BPDUs is a network device.
        if (packet.llc && packet.llc->dsap == 0x42 && packet.llc->ssap == 0x42)
            on_l2(packet, "stp-bpdu");
        else if (packet.ethertype == 0x88cc)
            on_l2(packet, "lldp");
        return;
    }
    if (packet.ip->is_later_fragment) return;
    if (packet.tcp) {
        const TcpView& t = *packet.tcp;
        if (t.syn()) {
            on_syn(packet);
            return;
        }
        if (packet.payload.empty()) return;
        std::uint16_t sp = t.src_port, dp = t.dst_port;
        if (sp == 445 || dp == 445 || sp == 139 || dp == 139) return on_smb(packet, context);
        std::uint8_t b0 = packet.payload[0];
        if (b0 == 0x16) return on_tls(packet, context);
        if (b0 == 'S' && packet.payload.size() >= 4 && packet.payload[1] == 'S' &&
            packet.payload[2] == 'H' && packet.payload[3] == '-')
            return on_ssh(packet);
        if (b0 >= 'A' && b0 <= 'Z' && http::looks_like_http(packet.payload))
            on_http(packet, context, false);
        return;
    }
    if (packet.udp && !packet.payload.empty()) {
        if (packet.udp->dst_port == 138 && packet.udp->src_port == 138) return on_browser(packet);
        if (packet.udp->dst_port == 1900 || packet.udp->src_port == 1900)
            return on_http(packet, context, true);
    }
}

void OsFingerprint::on_l2(const Packet& p, std::string_view what) {
    if (p.src_mac.is_multicast() || p.src_mac.is_zero()) return;
    Host* h = hosts_.find(p.src_mac, p.vlan);
    if (h) add_evidence_to(*h, p.vlan, "l2", what, p.ts);
}

void OsFingerprint::on_syn(const Packet& p) {
    if (!internal(p.ip->src)) return;
    const TcpView& t = *p.tcp;
    Host* h = hosts_.find(p.src_mac, p.vlan);
    if (!h) return;
    // Hash the shape first: a host's thousandth SYN costs a hash, not a string.
    std::uint64_t hash = 1469598103934665603ULL;
    auto mix = [&](std::uint64_t v) { hash = (hash ^ v) * 1099511628211ULL; };
    mix(p.ip->ttl);
    mix(t.window);
    mix(t.options.mss.value_or(0xffffffff));
    mix(t.options.window_scale.value_or(0xff));
    mix(t.is_syn_ack());
    for (std::size_t i = 0; i < t.options.layout_length; ++i) mix(t.options.layout[i]);
    State& st = state(h->key);
    if (seen_recently(st, hash, p.ts)) return;
    TcpObservation o;
    o.ttl = p.ip->ttl;
    o.mss = t.options.mss ? *t.options.mss : -1;
    o.window = t.window;
    o.scale = t.options.window_scale ? *t.options.window_scale : -1;
    o.layout.assign(t.options.layout.begin(), t.options.layout.begin() + t.options.layout_length);
    o.df = p.ip->dont_fragment;
    o.syn_ack = t.is_syn_ack();
    if (h->observe_evidence(o.to_string(), "tcp-syn", p.ts)) st.pending = true;
}

void OsFingerprint::on_smb(const Packet& p, PacketContext& context) {
    auto m = smb::parse(p.payload);
    if (!m) return;
    const bool src_internal = internal(p.ip->src);
    Host* src = src_internal ? hosts_.find(p.src_mac, p.vlan) : nullptr;
    Host* dst = internal(p.ip->dst) ? hosts_.find(p.dst_mac, p.vlan) : nullptr;
    switch (m->kind) {
        case smb::Kind::smb1_negotiate_request: {
            bool smb2 = false;
            for (const auto& d : m->dialect_names) smb2 |= d.rfind("SMB 2", 0) == 0;
            if (m->dialect_names.empty()) break;
            if (!smb2) {
                add_evidence(p, "smb-dialects", "client smb1 only");
            } else {
                add_evidence(p, "smb-dialects", "client smb1 max=" + m->dialect_names.back());
            }
            break;
        }
        case smb::Kind::smb1_session_setup_request:
        case smb::Kind::smb1_session_setup_response:
            if (!m->native_os.empty()) add_evidence(p, "smb-native-os", clip(m->native_os));
            if (!m->native_lanman.empty())
                add_evidence(p, "smb-native-lanman", clip(m->native_lanman));
            break;
        case smb::Kind::smb2_negotiate_request: {
            if (m->dialects.empty()) break;
            char buf[160];
            std::uint16_t max = *std::max_element(m->dialects.begin(), m->dialects.end());
            int n = std::snprintf(buf, sizeof buf, "client smb2 max=%04x dialects=", max);
            std::string v(buf, static_cast<std::size_t>(std::max(n, 0)));
            for (std::size_t i = 0; i < m->dialects.size() && i < 8; ++i) {
                std::snprintf(buf, sizeof buf, "%s%04x", i ? "," : "", m->dialects[i]);
                v += buf;
            }
            if (!m->context_types.empty()) {
                v += " contexts=";
                for (std::size_t i = 0; i < m->context_types.size(); ++i)
                    v += (i ? "," : "") + std::to_string(m->context_types[i]);
            }
            add_evidence(p, "smb-dialects", v);
            break;
        }
        default:
            break;
    }
    for (ProtocolMessages* s : subscribers_) s->on_smb(p, *m, src, dst);
    if (!m->security_blob.empty()) {
        if (const ntlmssp::Message* n = context.ntlmssp()) {  // found once for every unit
            if (n->version) {
                char buf[48];
                std::snprintf(buf, sizeof buf, "%u.%u.%u %s", n->version->major, n->version->minor,
                              n->version->build, ntlm_type(n->type));
                add_evidence(p, "ntlmssp", buf);
            }
            if (n->type == ntlmssp::kAuthenticate && !n->workstation.empty() && src)
                src->observe_name(n->workstation, "ntlmssp", p.ts);
        }
    }
}

void OsFingerprint::on_http(const Packet& p, PacketContext& context, bool ssdp) {
    if (!internal(p.ip->src)) return;
    const http::Message* m = context.http();  // parsed once for every unit
    if (!m) return;
    Host* h = hosts_.find(p.src_mac, p.vlan);
    if (!h) return;
    auto matched = [&](std::string_view source, std::string_view value) {
        // Store only evidence some rule understands; every UA a browser sends would crowd out
        // what matters. The seen-cache makes the rule check once per value and host.
        State& st = state(h->key);
        std::uint64_t hash = evidence_hash(source, value);
        if (seen_recently(st, hash, p.ts)) return;
        Observed o{clip(value), std::string(source), p.ts, p.ts};
        if (!understood(o)) return;
        if (h->observe_evidence(o.value, o.source, p.ts)) st.pending = true;
    };
    if (m->request && !m->user_agent.empty()) {
        std::string_view ua = m->user_agent;
        if (ua.rfind("Microsoft NCSI", 0) == 0 && !m->host.empty()) {
            std::string v = std::string(ua) + " host=" + clip(m->host);
            matched("http-ua", v);
        } else {
            matched("http-ua", ua);
        }
    }
    if (m->request)
        for (ProtocolMessages* s : subscribers_) s->on_http_request(p, *m, h);
    if (!m->request && !m->server.empty()) matched(ssdp ? "ssdp-server" : "http-server", m->server);
    if (ssdp && m->request && !m->server.empty()) {  // NOTIFY carries SERVER
        std::string v = clip(m->server);
        if (m->nls) v += " (01-NLS)";
        matched("ssdp-server", v);
    }
    // A request's Authorization is parsed once for every unit (legacy handshakes read it for
    // NTLMv1); a response's WWW-Authenticate only here.
    std::optional<ntlmssp::Message> challenge;
    if (!m->www_authenticate.empty()) challenge = ntlmssp::parse_http_auth(m->www_authenticate);
    const std::array<const ntlmssp::Message*, 2> messages{context.http_authorization_ntlmssp(),
                                                          challenge ? &*challenge : nullptr};
    for (const ntlmssp::Message* n : messages) {
        if (!n || !n->version) continue;
        char buf[48];
        std::snprintf(buf, sizeof buf, "%u.%u.%u %s", n->version->major, n->version->minor,
                      n->version->build, ntlm_type(n->type));
        add_evidence_to(*h, p.vlan, "ntlmssp", buf, p.ts);
    }
}

void OsFingerprint::on_tls(const Packet& p, PacketContext& context) {
    if (tls::is_handshake(p.payload, 1)) {
        if (!internal(p.ip->src)) return;
        const tls::ClientHello* ch = context.tls_client_hello();  // parsed once for every unit
        if (!ch) return;
        Host* h = hosts_.find(p.src_mac, p.vlan);
        if (!h) return;
        std::uint16_t max = ch->highest_version();
        State& st = state(h->key);
        // A host repeats its hello on every connection: the JA3 string and its MD5 are built
        // only for a hello not seen recently (the key hashes what JA3 reads).
        std::uint64_t hash = (evidence_hash("tls-client", {}) ^ ch->ja3_key()) * 31 + max;
        if (!seen_recently(st, hash, p.ts)) {
            std::string value = "max=" + tls::version_name(max) + " ja3=" + ch->ja3_hash();
            Observed o{value, "tls-client", p.ts, p.ts};
            if (max <= tls::kTls11 || understood(o)) {
                if (h->observe_evidence(value, "tls-client", p.ts)) st.pending = true;
            }
        }
        for (ProtocolMessages* s : subscribers_) s->on_client_hello(p, *ch, h);
    }
}

void OsFingerprint::on_ssh(const Packet& p) {
    auto b = ssh::parse_banner(p.payload);
    if (b) add_evidence(p, "ssh", b->line);
}

void OsFingerprint::on_browser(const Packet& p) {
    auto a = browser::parse_datagram(p.payload);
    if (!a || !internal(p.ip->src)) return;
    char buf[48];
    std::snprintf(buf, sizeof buf, "os=%u.%u type=0x%08x", a->os_major, a->os_minor,
                  a->server_type);
    add_evidence(p, "browser", buf);
    if (a->opcode != browser::kDomainAnnouncement && !a->server_name.empty())
        if (Host* h = hosts_.find(p.src_mac, p.vlan)) {
            State& st = state(h->key);
            if (!seen_recently(st, evidence_hash("browser-name", a->server_name), p.ts))
                h->observe_name(a->server_name, "browser", p.ts);
        }
}

namespace {
// Changes when evidence is added or replaced (by us or by another analyzer).
std::uint64_t evidence_signature(const Host& h) {
    std::uint64_t sig = h.evidence.size() * 1000003ULL + h.tcp_services.size() + h.vendor.size();
    for (const auto& e : h.evidence) sig = sig * 31 + static_cast<std::uint64_t>(e.first_seen);
    return sig;
}
}  // namespace

void OsFingerprint::evaluate(Host& h, State& st, Timestamp now) {
    ++evaluations_;
    st.evidence_signature = evidence_signature(h);
    st.pending = false;
    st.last_eval = now;
    OsVerdict v = infer_os(h.evidence, h.tcp_services, rules_, h.vendor, &claims_);
    const Day today = static_cast<Day>(std::max(now, settings_.judge_support_no_earlier_than) /
                                       (86400LL * kMicrosPerSecond));
    SupportStatus s = support_status(v, rules_, today);
    std::string version = v.version;
    if (v.build && version.find(std::to_string(v.build)) == std::string::npos)
        version += " (build " + std::to_string(v.build) + ")";
    nlohmann::json why = {{"family", v.family},
                          {"version", version},
                          {"product", v.product},
                          {"nt", v.nt},
                          {"build", v.build},
                          {"role", v.role},
                          {"confidence", v.confidence},
                          {"level", v.level},
                          {"evidence", claims_json(v.support)},
                          {"conflicts", claims_json(v.conflicts)}};
    nlohmann::json support = {{"state", to_string(s.state)}};
    if (s.entry) {
        if (s.entry->end_of_support) support["end"] = format_day(*s.entry->end_of_support);
        if (s.entry->extended_until)
            support["extended_until"] = format_day(*s.entry->extended_until);
        if (!s.entry->extended_note.empty()) support["extended_note"] = s.entry->extended_note;
        if (!s.entry->note.empty()) support["note"] = s.entry->note;
        support["source"] = s.entry->source;
    }
    if (s.state == SupportStatus::State::check && s.entry) {
        support["earliest_end"] = format_day(s.end);
        support["earliest_name"] = s.entry->check_earliest_name;
        support["settle"] = s.entry->check_settle;
        support["check_source"] = s.entry->check_source;
    }
    if (s.state == SupportStatus::State::past) support["days_past"] = s.days;
    if (s.state == SupportStatus::State::ending_soon) support["days_left"] = s.days;
    why["support"] = support;
    std::string explanation = why.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (explanation != h.os_explanation) {
        h.os_family = v.family;
        h.os_version = version;
        h.os_confidence = v.confidence;
        h.os_support = v.family.empty() ? "" : std::string(to_string(s.state));
        h.os_support_end = s.state == SupportStatus::State::check ? format_day(s.end)
                           : s.entry && s.entry->end_of_support
                               ? format_day(*s.entry->end_of_support)
                               : "";
        h.os_explanation = std::move(explanation);
        h.dirty = true;
    }

    if (s.state != SupportStatus::State::past && s.state != SupportStatus::State::ending_soon &&
        s.state != SupportStatus::State::check)
        return;
    std::string signature = v.product + "|" + std::string(to_string(s.state)) + "|" + v.level;
    if (signature == st.alerted && now - st.alerted_at < kRealert) return;
    st.alerted = signature;
    st.alerted_at = now;
    const Observed* ip = h.first_address();
    AlertUpdate a;
    a.subject_mac = h.key.mac;
    a.subject = (ip ? ip->value : h.key.mac.to_string()) +
                (h.names.empty() ? "" : " " + h.names.front().value);
    a.first_seen = a.last_seen = now;
    char conf[16];
    std::snprintf(conf, sizeof conf, "%.2f", v.confidence);
    if (s.state == SupportStatus::State::past) {
        a.kind = "legacy-os";
        a.key = "legacy-os:" + h.key.mac.to_string();
        a.severity = v.level == "low" ? Severity::medium : Severity::high;
        a.summary = version + " on " + a.subject + ": end of support " + format_day(s.end) + ", " +
                    std::to_string(s.days) + " days ago (confidence " + v.level + " " + conf + ")";
        if (s.entry && s.entry->extended_until && *s.entry->extended_until >= today) {
            a.severity = Severity::medium;
            a.summary += "; " + s.entry->extended_note;
        }
    } else if (s.state == SupportStatus::State::check) {
        // Possibly past its end: the clinic must look (the edition and version settle it).
        a.kind = "os-support-check";
        a.key = "os-support-check:" + h.key.mac.to_string();
        a.severity = Severity::low;
        a.summary = version + " on " + a.subject + ": support status to be checked; if it is " +
                    s.entry->check_earliest_name + ", support ended " + format_day(s.end);
    } else {
        a.kind = "os-support-ending";
        a.key = "os-support-ending:" + h.key.mac.to_string();
        a.severity = Severity::low;
        a.summary = version + " on " + a.subject + ": end of support " + format_day(s.end) +
                    ", in " + std::to_string(s.days) + " days (confidence " + v.level + " " + conf +
                    ")";
    }
    a.evidence = why;
    sink_.alert(std::move(a));
}

void OsFingerprint::on_tick(Timestamp now) {
    for (auto& [key, st] : states_) {
        if (!st.pending || now - st.last_eval < kMicrosPerSecond) continue;
        if (Host* h = hosts_.find(key.mac, key.vlan))
            evaluate(*h, st, now);
        else
            st.pending = false;
    }
    if (now - last_scan_ < kScanEvery) return;
    last_scan_ = now;
    // Other analyzers add evidence too (the inventory's DHCP options): re-evaluate hosts whose
    // evidence list changed since we last looked.
    hosts_.for_each([&](Host& h) {
        if (h.evidence.empty() && h.vendor.empty()) return;
        State& st = state(h.key);
        if (evidence_signature(h) == st.evidence_signature) return;
        evaluate(h, st, now);
    });
}

void OsFingerprint::on_finish(Timestamp now) {
    last_scan_ = 0;
    for (auto& [key, st] : states_) st.last_eval = 0;
    on_tick(now);
}

}  // namespace clinicwatch
