#include "bench/clinic_capture.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "bench/clinic_payloads.hpp"

namespace clinicwatch::bench {

namespace {

constexpr std::int64_t kMs = 1000;
constexpr std::int64_t kSec = 1'000'000;

Frame from_hex_bytes(std::string_view hex) {
    Frame out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(
            static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

std::uint32_t load_be32_at(const Frame& f, std::size_t at) {
    if (f.size() < at + 4) return 0;
    return (std::uint32_t{f[at]} << 24) | (std::uint32_t{f[at + 1]} << 16) |
           (std::uint32_t{f[at + 2]} << 8) | f[at + 3];
}

// xoshiro256** seeded through splitmix64: our own generator so the bytes do not depend on the
// standard library's distributions.
class Rng {
  public:
    explicit Rng(std::uint64_t seed) {
        for (auto& s : state_) {
            seed += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            s = z ^ (z >> 31);
        }
    }
    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }
    std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }
    std::int64_t range(std::int64_t lo, std::int64_t hi) {  // inclusive
        return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
    }
    double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
    bool chance(double p) { return unit() < p; }
    std::int64_t exp_us(double mean_us) {
        return static_cast<std::int64_t>(-std::log(1.0 - unit()) * mean_us);
    }
    // Log-uniform size between lo and hi: many small transfers, a few large ones.
    std::size_t log_size(double lo, double hi) {
        return static_cast<std::size_t>(
            std::exp(std::log(lo) + unit() * (std::log(hi) - std::log(lo))));
    }
    std::uint32_t u32() { return static_cast<std::uint32_t>(next()); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(next()); }
    template <typename T>
    const T& pick(const std::vector<T>& v) {
        return v[below(v.size())];
    }

  private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t state_[4];
};

// How an operating system looks on the wire (facts from ../shared/reference/os-fingerprints.md).
struct OsProfile {
    const char* name;
    const char* family;
    std::uint8_t ttl;
    std::uint16_t syn_window;
    std::uint16_t window;  // after the handshake (scaled)
    char syn_style;        // w windows, l linux, n android, a apple, e embedded
    std::uint8_t window_scale;
    bool timestamps;
    bool global_ip_id;  // Windows: one IP ID counter per host
    std::vector<std::uint8_t> dhcp55;
    const char* vendor_class;  // DHCP option 60, or nullptr
    int tls_style;
    const char* user_agent;
};

const OsProfile kWin10{
    "Windows 10 22H2",
    "windows",
    128,
    64240,
    1026,
    'w',
    8,
    false,
    true,
    {1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252},
    "MSFT 5.0",
    1,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko"};
const OsProfile kWin11{"Windows 11 23H2",
                       "windows",
                       128,
                       64240,
                       1026,
                       'w',
                       8,
                       false,
                       true,
                       {1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252},
                       "MSFT 5.0",
                       2,
                       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                       "Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"};
const OsProfile kWin7{"Windows 7 SP1",
                      "windows",
                      128,
                      8192,
                      256,
                      'w',
                      8,
                      false,
                      true,
                      {1, 15, 3, 6, 44, 46, 47, 31, 33, 121, 249, 43},
                      "MSFT 5.0",
                      0,
                      "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko"};
const OsProfile kWin2008{
    "Windows Server 2008 R2 SP1", "windows", 128, 8192, 256, 'w', 8, false, true, {}, nullptr, 0,
    "Microsoft-CryptoAPI/6.1"};
const OsProfile kWin10Iot{"Windows 10 IoT Enterprise LTSC 2021",
                          "windows",
                          128,
                          64240,
                          1026,
                          'w',
                          8,
                          false,
                          true,
                          {},
                          nullptr,
                          1,
                          ""};
const OsProfile kLinux{"Ubuntu 22.04",
                       "linux",
                       64,
                       64240,
                       502,
                       'l',
                       7,
                       true,
                       false,
                       {},
                       nullptr,
                       2,
                       "Debian APT-HTTP/1.3 (2.4.12)"};
const OsProfile kDsm{
    "Synology DSM 7.2", "linux", 64, 64240, 502, 'l', 7, true, false, {}, nullptr, 2, ""};
const OsProfile kIos{"iOS 18", "ios", 64,   65535, 2048,
                     'a',      6,     true, false, {1, 121, 3, 6, 15, 108, 114, 119, 252},
                     nullptr,  2,     ""};
const OsProfile kAndroid{"Android 14",
                         "android",
                         64,
                         65535,
                         342,
                         'n',
                         9,
                         true,
                         false,
                         {1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108},
                         "android-dhcp-14",
                         2,
                         ""};
const OsProfile kPrinter{"Ricoh embedded", "embedded", 64, 5840, 5840, 'e', 0, false, false, {},
                         nullptr,          2,          ""};
const OsProfile kRouter{
    "Yamaha RTX830 Rev.15", "embedded", 255, 4096, 4096, 'e', 0, false, false, {}, nullptr, 2, ""};
const OsProfile kSwitch{
    "AlliedWare Plus 5.5", "embedded", 64, 4096, 4096, 'e', 0, false, false, {}, nullptr, 2, ""};
const OsProfile kInternet{"internet server", "linux", 52, 65535, 501, 'l', 9, true, false, {},
                          nullptr,           2,       ""};

enum class Role {
    gateway,
    switch_,
    ehr_server,
    nas,
    pacs,
    modality,
    printer,
    client,
    reception,
    phone,
    rogue_router,
    label_printer,
    spare_router
};

struct Host {
    TruthHost truth;
    const OsProfile* os = nullptr;
    Role role = Role::client;
    std::uint16_t ip_id = 0;
    std::int64_t boot_us = 0;
    bool dhcp = false;
};

// One side of a conversation as seen on the LAN: its MAC is the next hop (the gateway's for
// internet addresses).
struct Endpoint {
    MacAddress mac;
    std::uint32_t ip = 0;
    const OsProfile* os = nullptr;
    std::uint16_t* ip_id = nullptr;
    std::uint8_t ttl = 64;
};

struct Site {
    std::string name;
    std::vector<std::string> cnames;
    std::uint32_t ip;
};

// Internet names and CNAME chains as commonly seen from a Japanese clinic (addresses are from the
// operators' published ranges; they stand in for whatever the resolver would return today).
const std::vector<Site> kSites = {
    {"www.google.com", {}, ip4(142, 250, 196, 100)},
    {"login.microsoftonline.com",
     {"login.mso.msidentity.com", "ak.privatelink.msidentity.com"},
     ip4(20, 190, 141, 33)},
    {"outlook.office365.com",
     {"outlook.ha.office365.com", "outlook.ms-acdc.office.com"},
     ip4(52, 98, 207, 2)},
    {"ctldl.windowsupdate.com",
     {"ctldl.windowsupdate.com.delivery.microsoft.com", "wu-b-net.trafficmanager.net"},
     ip4(13, 107, 4, 50)},
    {"www.yahoo.co.jp", {"edge12.g.yimg.jp"}, ip4(183, 79, 250, 251)},
    {"www.mhlw.go.jp", {}, ip4(202, 214, 194, 138)},
    {"www.orca.med.or.jp", {}, ip4(153, 127, 22, 118)},
    {"onlineshikaku.mhlw.go.jp",
     {"onlineshikaku.mhlw.go.jp.cdn.cloudflare.net"},
     ip4(104, 18, 32, 7)},
};
const std::vector<Site> kPhoneSites = {
    {"gateway.icloud.com", {"gateway.fe2.apple-dns.net"}, ip4(17, 248, 217, 64)},
    {"connectivitycheck.gstatic.com", {}, ip4(142, 250, 207, 3)},
    {"api.line.me", {"api.line.me.akadns.net"}, ip4(147, 92, 142, 75)},
    {"www.instagram.com", {"z-p42-instagram.c10r.instagram.com"}, ip4(157, 240, 199, 174)},
};

struct Pending {
    std::int64_t ts;
    std::uint64_t order;
    int tag;  // incident index, or -1
    Frame bytes;
    bool operator>(const Pending& o) const { return ts != o.ts ? ts > o.ts : order > o.order; }
};

constexpr std::uint32_t kGatewayIp = ip4(192, 168, 100, 1);
const MacAddress kGatewayMac{{0x00, 0xa0, 0xde, 0x7a, 0x1c, 0x30}};
constexpr std::uint32_t kBroadcastIp = ip4(192, 168, 100, 255);
constexpr std::uint32_t kMdnsGroup = ip4(224, 0, 0, 251);
constexpr std::uint32_t kSsdpGroup = ip4(239, 255, 255, 250);
constexpr std::uint32_t kLlmnrGroup = ip4(224, 0, 0, 252);
const MacAddress kStpMac{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}};

class Clinic;

// One TCP connection; frames go to the clinic's current collection.
class TcpFlow {
  public:
    TcpFlow(Clinic& clinic, Rng& rng, Endpoint client, Endpoint server, std::uint16_t sport,
            std::uint16_t dport, std::int64_t t, std::int64_t rtt, std::uint16_t mss,
            std::int64_t segment_gap);
    void handshake(bool answered = true);
    void send(bool from_client, ByteView data, std::int64_t think);
    void close(bool client_first, std::int64_t think);
    void reset_from_client(std::int64_t think);
    std::int64_t t;

  private:
    void segment(bool from_client, std::uint8_t flags, ByteView payload, Frame options,
                 std::uint16_t window, std::int64_t at);
    Frame data_options(bool from_client, std::int64_t at) const;

    Clinic& clinic_;
    Rng& rng_;
    Endpoint c_, s_;
    std::uint16_t sport_, dport_;
    std::int64_t rtt_, gap_;
    std::uint16_t mss_;
    std::uint32_t cseq_, sseq_;
    std::uint16_t cid_, sid_;
    bool ts_ = false;
    std::uint32_t c_tsbase_, s_tsbase_;
};

class Clinic {
  public:
    explicit Clinic(const ClinicCaptureOptions& o)
        : o_(o), rng_(o.seed), bulk_rng_(o.seed * 0x2545f4914f6cdd1dULL + 7) {
        build_hosts();
        blob_.resize(1 << 16);
        for (auto& b : blob_) b = static_cast<std::uint8_t>(rng_.next());
    }

    std::vector<Pending> scripted();
    ClinicCaptureTruth run(const FrameSink& sink);

    void emit(std::int64_t ts, Frame f) {
        out_->push_back(Pending{ts, order_++, tag_, std::move(f)});
    }
    // Any length, from several slices of the random blob.
    Frame blob_bytes(Rng& r, std::size_t n) {
        Frame out;
        out.reserve(n);
        while (out.size() < n) {
            auto part = blob(r, n - out.size());
            out.insert(out.end(), part.begin(), part.end());
        }
        return out;
    }
    // At most half the blob (32 KB): callers needing more use blob_bytes.
    ByteView blob(Rng& r, std::size_t n) {
        n = std::min(n, blob_.size() / 2);
        std::size_t at = r.below(blob_.size() - n);
        return ByteView(blob_.data() + at, n);
    }

  private:
    Host& add_host(Role role, const char* name, const char* oui_hex, const char* vendor,
                   std::uint32_t ip, const OsProfile& os, const char* role_text, bool dhcp,
                   bool registered, const char* responsible);
    void build_hosts();
    Host& host(Role r, int nth = 0);
    std::vector<Host*> hosts_with(std::initializer_list<Role> roles);
    Endpoint ep(Host& h) { return Endpoint{h.truth.mac, h.truth.ip, h.os, &h.ip_id, h.os->ttl}; }
    Endpoint remote(std::uint32_t ip, Rng& r) {
        return Endpoint{gateway().truth.mac, ip, &kInternet, &remote_ip_id_,
                        static_cast<std::uint8_t>(r.range(44, 58))};
    }
    Host& gateway() { return hosts_[0]; }

    Frame udp_frame(const Endpoint& src, const MacAddress& dst_mac, std::uint32_t dst_ip,
                    std::uint16_t sport, std::uint16_t dport, ByteView payload,
                    std::uint8_t ttl = 0);
    Frame arp_frame(std::uint16_t op, const MacAddress& eth_dst, const MacAddress& sha,
                    std::uint32_t spa, const MacAddress& tha, std::uint32_t tpa);

    // Scripted pieces.
    void dhcp_dora(std::int64_t t, Host& h, bool full);
    void arp_exchange(std::int64_t t, Host& asker, Host& answerer);
    void nbns_register_all(std::int64_t t, Host& h);
    void periodic(std::int64_t from, std::int64_t to, std::int64_t period,
                  const std::function<void(std::int64_t)>& fn);
    void dns_lookup(std::int64_t t, Host& c, const std::string& name,
                    const std::vector<std::string>& cnames, std::uint32_t ip, Rng& r);
    void incidents();
    int begin_incident(const std::string& kind, std::vector<MacAddress> hosts,
                       nlohmann::json details = nlohmann::json::object());

    // Bulk sessions (drawn from bulk_rng_).
    void bulk_session(std::int64_t t);
    void https_session(std::int64_t t, Host& c, const Site& site);
    void ehr_http_session(std::int64_t t, Host& c);
    void smb_session(std::int64_t t, Host& c, Host& server);
    void dicom_session(std::int64_t t);
    void print_session(std::int64_t t, Host& c);
    std::uint16_t ephemeral(Host& h, Rng& r) {
        return static_cast<std::uint16_t>(
            h.os->family == std::string("windows") ? r.range(49152, 65535) : r.range(32768, 60999));
    }

    const ClinicCaptureOptions& o_;
    Rng rng_, bulk_rng_;
    std::vector<Host> hosts_;
    std::vector<std::uint8_t> blob_;
    std::vector<Pending>* out_ = nullptr;
    std::uint64_t order_ = 0;
    int tag_ = -1;
    std::uint16_t remote_ip_id_ = 0;
    std::vector<TruthIncident> incidents_;
    friend class TcpFlow;
};

// ------------------------------------------------------------------------------ TcpFlow

TcpFlow::TcpFlow(Clinic& clinic, Rng& rng, Endpoint client, Endpoint server, std::uint16_t sport,
                 std::uint16_t dport, std::int64_t start, std::int64_t rtt, std::uint16_t mss,
                 std::int64_t segment_gap)
    : t(start),
      clinic_(clinic),
      rng_(rng),
      c_(client),
      s_(server),
      sport_(sport),
      dport_(dport),
      rtt_(rtt),
      gap_(segment_gap),
      mss_(mss) {
    cseq_ = rng.u32();
    sseq_ = rng.u32();
    // Windows hosts share one IP ID counter across connections; Linux-like stacks start each
    // connection at a random value.
    cid_ =
        c_.os->global_ip_id ? static_cast<std::uint16_t>(*c_.ip_id += rng.range(1, 30)) : rng.u16();
    sid_ =
        s_.os->global_ip_id ? static_cast<std::uint16_t>(*s_.ip_id += rng.range(1, 30)) : rng.u16();
    c_tsbase_ = rng.u32() & 0x7fffffff;
    s_tsbase_ = rng.u32() & 0x7fffffff;
}

Frame TcpFlow::data_options(bool from_client, std::int64_t at) const {
    if (!ts_) return {};
    auto ms = static_cast<std::uint32_t>(at / kMs);
    std::uint32_t mine = (from_client ? c_tsbase_ : s_tsbase_) + ms;
    std::uint32_t theirs = (from_client ? s_tsbase_ : c_tsbase_) + ms - 1;
    return TcpOptions().nop().nop().timestamps(mine, theirs).finish();
}

void TcpFlow::segment(bool from_client, std::uint8_t flags, ByteView payload, Frame options,
                      std::uint16_t window, std::int64_t at) {
    const Endpoint& a = from_client ? c_ : s_;
    const Endpoint& b = from_client ? s_ : c_;
    std::uint32_t& seq = from_client ? cseq_ : sseq_;
    std::uint32_t ack = (flags & tcpflag::ack) ? (from_client ? sseq_ : cseq_) : 0;
    std::uint16_t& id = from_client ? cid_ : sid_;
    if (a.os->global_ip_id)
        id = ++*a.ip_id;
    else
        ++id;
    TcpHeader h;
    h.src_port = from_client ? sport_ : dport_;
    h.dst_port = from_client ? dport_ : sport_;
    h.seq = seq;
    h.ack = ack;
    h.flags = flags;
    h.window = window;
    h.options = std::move(options);
    Frame seg = tcp4(a.ip, b.ip, h, payload);
    Frame ip = ipv4(Ipv4Header{a.ip, b.ip, ipproto::tcp, a.ttl, id, true, 0}, seg);
    clinic_.emit(at, ethernet(b.mac, a.mac, ethertype::ipv4, ip));
    seq += static_cast<std::uint32_t>(payload.size()) +
           ((flags & (tcpflag::syn | tcpflag::fin)) ? 1 : 0);
}

namespace {
Frame syn_options(char style, std::uint8_t ws, std::uint16_t mss, std::uint32_t tsval) {
    TcpOptions o;
    switch (style) {
        case 'w':
            o.mss(mss).nop().window_scale(ws).nop().nop().sack_permitted();
            break;
        case 'l':
        case 'n':
            o.mss(mss).sack_permitted().timestamps(tsval, 0).nop().window_scale(ws);
            break;
        case 'a':
            o.mss(mss)
                .nop()
                .window_scale(ws)
                .nop()
                .nop()
                .timestamps(tsval, 0)
                .sack_permitted()
                .eol();
            break;
        default:
            o.mss(mss);
            break;
    }
    return o.finish();
}
}  // namespace

void TcpFlow::handshake(bool answered) {
    std::uint32_t ctv = c_tsbase_ + static_cast<std::uint32_t>(t / kMs);
    segment(true, tcpflag::syn, {}, syn_options(c_.os->syn_style, c_.os->window_scale, 1460, ctv),
            c_.os->syn_window, t);
    if (!answered) return;
    t += rtt_;
    ts_ = c_.os->timestamps && s_.os->timestamps;
    TcpOptions o;
    std::uint32_t stv = s_tsbase_ + static_cast<std::uint32_t>(t / kMs);
    switch (s_.os->syn_style) {
        case 'w':
            o.mss(mss_).nop().window_scale(s_.os->window_scale);
            if (c_.os->timestamps)
                o.sack_permitted().timestamps(stv, ctv);
            else
                o.nop().nop().sack_permitted();
            break;
        case 'e':
            o.mss(mss_);
            break;
        default:
            if (ts_)
                o.mss(mss_).sack_permitted().timestamps(stv, ctv).nop().window_scale(
                    s_.os->window_scale);
            else
                o.mss(mss_).nop().nop().sack_permitted().nop().window_scale(s_.os->window_scale);
    }
    segment(false, tcpflag::syn | tcpflag::ack, {}, o.finish(),
            s_.os->syn_style == 'l' ? 65160 : s_.os->syn_window, t);
    t += std::max<std::int64_t>(rtt_ / 20, 60);
    segment(true, tcpflag::ack, {}, data_options(true, t), c_.os->window, t);
}

void TcpFlow::send(bool from_client, ByteView data, std::int64_t think) {
    t += think;
    const Endpoint& a = from_client ? c_ : s_;
    const Endpoint& b = from_client ? s_ : c_;
    std::size_t n = (data.size() + mss_ - 1) / mss_;
    std::int64_t at = t;
    for (std::size_t i = 0; i < n; ++i) {
        auto chunk = data.subspan(i * mss_, std::min<std::size_t>(mss_, data.size() - i * mss_));
        std::uint8_t flags = tcpflag::ack | (i + 1 == n ? tcpflag::psh : 0);
        segment(from_client, flags, chunk, data_options(from_client, at), a.os->window, at);
        // The receiver acknowledges every second segment and the last one.
        if (i % 2 == 1 || i + 1 == n) {
            std::int64_t ack_at = at + rtt_ / 2 + rng_.range(20, 120);
            segment(!from_client, tcpflag::ack, {}, data_options(!from_client, ack_at),
                    b.os->window, ack_at);
            if (i + 1 == n) t = ack_at;
        }
        at += gap_ + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(gap_) + 1));
    }
}

void TcpFlow::close(bool client_first, std::int64_t think) {
    t += think;
    segment(client_first, tcpflag::fin | tcpflag::ack, {}, data_options(client_first, t),
            (client_first ? c_ : s_).os->window, t);
    t += rtt_ / 2 + rng_.range(30, 300);
    segment(!client_first, tcpflag::fin | tcpflag::ack, {}, data_options(!client_first, t),
            (client_first ? s_ : c_).os->window, t);
    t += rtt_ / 2 + rng_.range(30, 300);
    segment(client_first, tcpflag::ack, {}, data_options(client_first, t),
            (client_first ? c_ : s_).os->window, t);
}

void TcpFlow::reset_from_client(std::int64_t think) {
    t += think;
    segment(true, tcpflag::rst | tcpflag::ack, {}, {}, 0, t);
}

// ------------------------------------------------------------------------------ hosts

Host& Clinic::add_host(Role role, const char* name, const char* oui_hex, const char* vendor,
                       std::uint32_t ip, const OsProfile& os, const char* role_text, bool dhcp,
                       bool registered, const char* responsible) {
    Host h;
    h.role = role;
    h.os = &os;
    h.dhcp = dhcp;
    auto oui = MacAddress::parse(std::string(oui_hex) + ":00:00:00");
    h.truth.mac = oui.value_or(MacAddress{});
    for (int i = 3; i < 6; ++i)
        h.truth.mac.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(rng_.next());
    if (!vendor) {  // a phone's private Wi-Fi address: random, locally administered, unicast
        for (auto& b : h.truth.mac.bytes) b = static_cast<std::uint8_t>(rng_.next());
        h.truth.mac.bytes[0] = static_cast<std::uint8_t>((h.truth.mac.bytes[0] & 0xfc) | 0x02);
        h.truth.randomized_mac = true;
    }
    h.truth.ip = ip;
    h.truth.hostname = name;
    h.truth.vendor = vendor ? vendor : "";
    h.truth.role = role_text;
    h.truth.os = os.name;
    h.truth.os_family = os.family;
    h.truth.registered = registered;
    h.truth.addressing = dhcp ? "dhcp" : "static";
    h.truth.responsible = responsible;
    h.ip_id = rng_.u16();
    hosts_.push_back(std::move(h));
    return hosts_.back();
}

void Clinic::build_hosts() {
    hosts_.reserve(24);
    auto ip = [](int last) { return ip4(192, 168, 100, static_cast<std::uint8_t>(last)); };
    add_host(Role::gateway, "RTX830", "00:a0:de", "YAMAHA CORPORATION", kGatewayIp, kRouter,
             "router", false, true, "network vendor");
    // The gateway's MAC is fixed whatever the seed, so config/demo.yaml can name it.
    hosts_.back().truth.mac = kGatewayMac;
    add_host(Role::switch_, "AT-x230", "00:1a:eb", "Allied Telesis R&D Center K.K.", ip(2), kSwitch,
             "switch", false, true, "network vendor");
    add_host(Role::ehr_server, "EHR-SRV", "c8:f7:50", "Dell Inc.", ip(10), kWin2008, "ehr-server",
             false, true, "EHR vendor");
    add_host(Role::nas, "NAS01", "00:11:32", "Synology Incorporated", ip(11), kDsm, "nas", false,
             true, "clinic");
    add_host(Role::pacs, "PACS01", "4c:ae:a3", "Hewlett Packard Enterprise", ip(12), kLinux, "pacs",
             false, true, "PACS vendor");
    add_host(Role::modality, "FCR-CONSOLE", "88:b4:36", "FUJIFILM Corporation", ip(13), kWin10Iot,
             "modality", false, true, "modality vendor");
    add_host(Role::printer, "RICOH-MP", "00:26:73", "RICOH COMPANY,LTD.", ip(20), kPrinter,
             "printer", false, true, "clinic");
    const char* client_oui[] = {"98:e7:43", "f8:0d:ac", "10:c5:95",
                                "6c:e4:da", "50:81:40", "a4:11:94"};
    const char* client_vendor[] = {"Dell Inc.",           "HP Inc.", "Lenovo",
                                   "NEC Platforms, Ltd.", "HP Inc.", "Lenovo"};
    for (int i = 0; i < 6; ++i) {
        static const char* names[] = {"SHINSATSU-1", "SHINSATSU-2", "SHINSATSU-3",
                                      "NURSE-PC",    "OFFICE-PC",   "DOCTOR-NB"};
        add_host(Role::client, names[i], client_oui[i], client_vendor[i], ip(101 + i),
                 i < 4 ? kWin10 : kWin11, "ehr-client", true, true, "clinic");
    }
    add_host(Role::reception, "UKETSUKE-PC", "b0:ac:fa", "FUJITSU LIMITED", ip(110), kWin7,
             "reception", true, true, "clinic");
    add_host(Role::phone, "iPhone", "02:00:00", nullptr, ip(120), kIos, "staff-phone", true, false,
             "");
    add_host(Role::phone, "iPhone-2", "02:00:00", nullptr, ip(121), kIos, "staff-phone", true,
             false, "");
    add_host(Role::phone, "Galaxy-S23", "02:00:00", nullptr, ip(122), kAndroid, "staff-phone", true,
             false, "");
    // Incident devices: present in the truth only when they send (incidents on).
    add_host(Role::rogue_router, "WSR-1800AX4", "34:3d:c4", "BUFFALO.INC", ip4(192, 168, 11, 1),
             kRouter, "home-router", false, false, "");
    add_host(Role::label_printer, "QL-820NWB", "00:80:77", "Brother industries, LTD.", ip(20),
             kPrinter, "label-printer", false, false, "");
    add_host(Role::spare_router, "RTX830-SPARE", "ac:44:f2", "YAMAHA CORPORATION", kGatewayIp,
             kRouter, "router", false, false, "");
    for (auto& h : hosts_) {
        // Infrastructure is up before the capture starts; PCs and phones join in the first
        // minute (a morning at the clinic).
        bool early = h.role == Role::gateway || h.role == Role::switch_;
        h.boot_us =
            o_.start_us + (early ? rng_.range(0, 2 * kSec) : rng_.range(2 * kSec, 50 * kSec));
    }
}

Host& Clinic::host(Role r, int nth) {
    for (auto& h : hosts_)
        if (h.role == r && nth-- == 0) return h;
    throw std::logic_error("no such host");
}

std::vector<Host*> Clinic::hosts_with(std::initializer_list<Role> roles) {
    std::vector<Host*> out;
    for (auto& h : hosts_)
        for (auto r : roles)
            if (h.role == r) out.push_back(&h);
    return out;
}

// ------------------------------------------------------------------------------ frames

Frame Clinic::udp_frame(const Endpoint& src, const MacAddress& dst_mac, std::uint32_t dst_ip,
                        std::uint16_t sport, std::uint16_t dport, ByteView payload,
                        std::uint8_t ttl) {
    Frame seg = udp4(src.ip, dst_ip, sport, dport, payload);
    std::uint16_t id = src.ip_id ? ++*src.ip_id : 0;
    Frame ip =
        ipv4(Ipv4Header{src.ip, dst_ip, ipproto::udp, ttl ? ttl : src.ttl, id, false, 0}, seg);
    return ethernet(dst_mac, src.mac, ethertype::ipv4, ip);
}

Frame Clinic::arp_frame(std::uint16_t op, const MacAddress& eth_dst, const MacAddress& sha,
                        std::uint32_t spa, const MacAddress& tha, std::uint32_t tpa) {
    return ethernet(eth_dst, sha, ethertype::arp, arp(op, sha, spa, tha, tpa));
}

void Clinic::arp_exchange(std::int64_t t, Host& asker, Host& answerer) {
    emit(t, arp_frame(1, kBroadcastMac, asker.truth.mac, asker.truth.ip, MacAddress{},
                      answerer.truth.ip));
    emit(t + rng_.range(150, 900), arp_frame(2, asker.truth.mac, answerer.truth.mac,
                                             answerer.truth.ip, asker.truth.mac, asker.truth.ip));
}

void Clinic::dhcp_dora(std::int64_t t, Host& h, bool full) {
    Host& gw = gateway();
    std::uint32_t xid = rng_.u32();
    auto client_options = [&](std::uint8_t type, bool with_server) {
        DhcpOptions opt;
        opt.add_u8(53, type);
        Frame id{1};
        put_mac(id, h.truth.mac);
        opt.add(61, id);
        opt.add_ip(50, h.truth.ip);
        if (with_server) opt.add_ip(54, kGatewayIp);
        opt.add(12, h.truth.hostname);
        if (h.os->vendor_class) opt.add(60, h.os->vendor_class);
        opt.add(55, ByteView(h.os->dhcp55));
        return opt;
    };
    auto server_options = [&](std::uint8_t type) {
        DhcpOptions opt;
        opt.add_u8(53, type);
        opt.add_ip(54, kGatewayIp);
        opt.add_u32(51, 86400);
        opt.add_ip(1, ip4(255, 255, 255, 0));
        opt.add_ip(3, kGatewayIp);
        opt.add_ip(6, kGatewayIp);
        return opt;
    };
    Endpoint unbound{h.truth.mac, 0, h.os, &h.ip_id, h.os->ttl};
    Endpoint server = ep(gw);
    DhcpMessage m;
    m.xid = xid;
    m.chaddr = h.truth.mac;
    if (full) {
        emit(t, udp_frame(unbound, kBroadcastMac, 0xffffffff, 68, 67,
                          dhcp_payload(m, client_options(1, false))));
        t += rng_.range(800, 3000);
        DhcpMessage offer = m;
        offer.op = 2;
        offer.yiaddr = h.truth.ip;
        emit(t, udp_frame(server, h.truth.mac, h.truth.ip, 67, 68,
                          dhcp_payload(offer, server_options(2))));
        t += rng_.range(1000, 20000);
    }
    emit(t, udp_frame(unbound, kBroadcastMac, 0xffffffff, 68, 67,
                      dhcp_payload(m, client_options(3, full))));
    t += rng_.range(800, 3000);
    DhcpMessage ack = m;
    ack.op = 2;
    ack.yiaddr = h.truth.ip;
    emit(t,
         udp_frame(server, h.truth.mac, h.truth.ip, 67, 68, dhcp_payload(ack, server_options(5))));
    // The new address is announced with a gratuitous ARP (Windows probes first, then announces).
    t += rng_.range(50 * kMs, 400 * kMs);
    emit(t, arp_frame(1, kBroadcastMac, h.truth.mac, h.truth.ip, MacAddress{}, h.truth.ip));
}

void Clinic::nbns_register_all(std::int64_t t, Host& h) {
    Endpoint e = ep(h);
    auto reg = [&](std::uint8_t suffix, bool group, std::string_view name) {
        emit(t, udp_frame(e, kBroadcastMac, kBroadcastIp, 137, 137,
                          nbns_registration(rng_.u16(), name, suffix, group, h.truth.ip)));
        t += rng_.range(1 * kMs, 5 * kMs);
    };
    reg(0x00, false, h.truth.hostname);
    reg(0x20, false, h.truth.hostname);
    reg(0x00, true, "WORKGROUP");
}

void Clinic::periodic(std::int64_t from, std::int64_t to, std::int64_t period,
                      const std::function<void(std::int64_t)>& fn) {
    for (std::int64_t t =
             from + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(period)));
         t < to; t += period + rng_.range(-period / 10, period / 10))
        fn(t);
}

void Clinic::dns_lookup(std::int64_t t, Host& c, const std::string& name,
                        const std::vector<std::string>& cnames, std::uint32_t ip, Rng& r) {
    std::uint16_t id = r.u16();
    std::uint16_t sport = static_cast<std::uint16_t>(r.range(49152, 65535));
    emit(t, udp_frame(ep(c), gateway().truth.mac, kGatewayIp, sport, 53, dns_query(id, name, 1)));
    DnsAnswerChain a{name, cnames, {ip}, static_cast<std::uint32_t>(r.range(30, 3600))};
    emit(t + r.range(2 * kMs, 25 * kMs),
         udp_frame(ep(gateway()), c.truth.mac, c.truth.ip, 53, sport, dns_response(id, a)));
}

int Clinic::begin_incident(const std::string& kind, std::vector<MacAddress> hosts,
                           nlohmann::json details) {
    TruthIncident inc;
    inc.kind = kind;
    inc.hosts = std::move(hosts);
    inc.details = std::move(details);
    incidents_.push_back(std::move(inc));
    tag_ = static_cast<int>(incidents_.size() - 1);
    return tag_;
}

// ------------------------------------------------------------------------------ scripted

std::vector<Pending> Clinic::scripted() {
    std::vector<Pending> frames;
    out_ = &frames;
    const std::int64_t t0 = o_.start_us, end = o_.start_us + o_.duration_us;
    Host& gw = gateway();
    Host& sw = host(Role::switch_);
    auto lan =
        hosts_with({Role::gateway, Role::switch_, Role::ehr_server, Role::nas, Role::pacs,
                    Role::modality, Role::printer, Role::client, Role::reception, Role::phone});

    // Joining the network: DHCP for clients and phones, a gratuitous ARP for fixed addresses.
    for (Host* h : lan) {
        if (h->dhcp) {
            dhcp_dora(h->boot_us, *h, true);
        } else {
            emit(h->boot_us,
                 arp_frame(1, kBroadcastMac, h->truth.mac, h->truth.ip, MacAddress{}, h->truth.ip));
        }
        if (h->os->family == std::string("windows"))
            nbns_register_all(h->boot_us + rng_.range(1 * kSec, 3 * kSec), *h);
    }

    // Spanning tree hello every 2 s from the switch (the loop incident sets the TC flag).
    std::int64_t tc_from = 0, tc_to = 0;
    const std::int64_t loop_at = t0 + o_.duration_us / 2;
    if (o_.incidents) {
        tc_from = loop_at + 500 * kMs;
        tc_to = loop_at + 35 * kSec;
    }
    int loop_tag = -1;
    std::vector<std::int64_t> tc_bpdu_times;
    for (std::int64_t t = t0 + 700 * kMs; t < end; t += 2 * kSec) {
        bool tc = t >= tc_from && t < tc_to;
        if (tc) {
            tc_bpdu_times.push_back(t);
            continue;  // emitted with the loop incident's tag below
        }
        emit(t, ethernet_llc(kStpMac, sw.truth.mac, 0x42, 0x42, 0x03,
                             stp_config_bpdu(sw.truth.mac, false)));
    }

    // ARP: every device refreshes the gateway's address; the gateway refreshes theirs.
    for (Host* h : lan) {
        if (h == &gw) continue;
        periodic(h->boot_us + 5 * kSec, end, 120 * kSec,
                 [&](std::int64_t t) { arp_exchange(t, *h, gw); });
        periodic(h->boot_us + 10 * kSec, end, 300 * kSec,
                 [&](std::int64_t t) { arp_exchange(t, gw, *h); });
    }
    // Clients look up the servers they use.
    for (Host* c : hosts_with({Role::client, Role::reception}))
        periodic(c->boot_us + 8 * kSec, end, 240 * kSec,
                 [&](std::int64_t t) { arp_exchange(t, *c, host(Role::ehr_server)); });
    periodic(t0 + 3 * kSec, end, 240 * kSec,
             [&](std::int64_t t) { arp_exchange(t, host(Role::modality), host(Role::pacs)); });

    // Windows: NBNS refreshes and SSDP searches; the reception PC also queries names.
    for (Host* h : hosts_with({Role::ehr_server, Role::client, Role::reception, Role::modality})) {
        periodic(h->boot_us + 60 * kSec, end, 600 * kSec,
                 [&](std::int64_t t) { nbns_register_all(t, *h); });
        if (h->role != Role::ehr_server)
            periodic(h->boot_us + 20 * kSec, end, 300 * kSec, [&](std::int64_t t) {
                auto text = ssdp_msearch("urn:dial-multiscreen-org:service:dial:1");
                emit(t, udp_frame(ep(*h), multicast_mac(kSsdpGroup), kSsdpGroup,
                                  static_cast<std::uint16_t>(rng_.range(49152, 65535)), 1900,
                                  ByteView(reinterpret_cast<const std::uint8_t*>(text.data()),
                                           text.size()),
                                  4));
            });
    }
    Host& recep = host(Role::reception);
    periodic(recep.boot_us + 30 * kSec, end, 400 * kSec, [&](std::int64_t t) {
        emit(t, udp_frame(ep(recep), kBroadcastMac, kBroadcastIp, 137, 137,
                          nbns_query(rng_.u16(), "RECEPT-PRN", 0x20)));
    });

    // NAS and printer: mDNS and SSDP announcements.
    Host& nas = host(Role::nas);
    Host& prn = host(Role::printer);
    periodic(nas.boot_us + 2 * kSec, end, 120 * kSec, [&](std::int64_t t) {
        emit(t, udp_frame(ep(nas), multicast_mac(kMdnsGroup), kMdnsGroup, 5353, 5353,
                          mdns_announcement(
                              "NAS01", nas.truth.ip,
                              {{"_smb._tcp.local", "NAS01"}, {"_http._tcp.local", "NAS01"}}),
                          255));
    });
    periodic(nas.boot_us + 4 * kSec, end, 180 * kSec, [&](std::int64_t t) {
        auto text = ssdp_notify(nas.truth.ip, "73796e6f-6c6f-6779-6e61-001132aabbcc",
                                "Synology/DSM/192.168.100.11", "upnp:rootdevice");
        emit(t, udp_frame(ep(nas), multicast_mac(kSsdpGroup), kSsdpGroup, 1900, 1900,
                          ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                          4));
    });
    periodic(prn.boot_us + 3 * kSec, end, 120 * kSec, [&](std::int64_t t) {
        emit(t, udp_frame(ep(prn), multicast_mac(kMdnsGroup), kMdnsGroup, 5353, 5353,
                          mdns_announcement("RICOH-MP", prn.truth.ip,
                                            {{"_ipp._tcp.local", "RICOH MP C3004"},
                                             {"_pdl-datastream._tcp.local", "RICOH MP C3004"}}),
                          255));
    });
    // The NAS checks the gateway is alive (ICMP echo).
    periodic(nas.boot_us + 6 * kSec, end, 60 * kSec, [&](std::int64_t t) {
        std::uint16_t seq = rng_.u16();
        Frame data(48);
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(0x10 + i);
        Frame req =
            ipv4(Ipv4Header{nas.truth.ip, kGatewayIp, ipproto::icmp, 64, ++nas.ip_id, true, 0},
                 icmp4(8, 0, (0x0d01u << 16) | seq, data));
        emit(t, ethernet(gw.truth.mac, nas.truth.mac, ethertype::ipv4, req));
        Frame rep =
            ipv4(Ipv4Header{kGatewayIp, nas.truth.ip, ipproto::icmp, 255, ++gw.ip_id, false, 0},
                 icmp4(0, 0, (0x0d01u << 16) | seq, data));
        emit(t + rng_.range(150, 600), ethernet(nas.truth.mac, gw.truth.mac, ethertype::ipv4, rep));
    });
    // Phones: mDNS questions over IPv4 and IPv6, and reconnects (DHCP INIT-REBOOT).
    for (Host* p : hosts_with({Role::phone})) {
        Ip6 ll{0xfe, 0x80};
        for (std::size_t i = 8; i < 16; ++i) ll[i] = static_cast<std::uint8_t>(rng_.next());
        const Ip6 group{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb};
        periodic(p->boot_us + 3 * kSec, end, 90 * kSec, [&, p, ll](std::int64_t t) {
            Frame q = mdns_question({"_companion-link._tcp.local", "_airplay._tcp.local"});
            emit(t, udp_frame(ep(*p), multicast_mac(kMdnsGroup), kMdnsGroup, 5353, 5353, q, 255));
            Frame ip6 =
                ipv6(Ipv6Header{ll, group, ipproto::udp, 255, 0}, udp6(ll, group, 5353, 5353, q));
            emit(t + rng_.range(100, 900),
                 ethernet(multicast_mac6(group), p->truth.mac, ethertype::ipv6, ip6));
        });
        periodic(p->boot_us + 300 * kSec, end, 900 * kSec,
                 [&, p](std::int64_t t) { dhcp_dora(t, *p, false); });
    }
    // LLMNR from the Windows 11 PCs asking for a share that no longer exists.
    for (Host* c : hosts_with({Role::client})) {
        if (c->os != &kWin11) continue;
        periodic(c->boot_us + 40 * kSec, end, 600 * kSec, [&, c](std::int64_t t) {
            emit(t, udp_frame(ep(*c), multicast_mac(kLlmnrGroup), kLlmnrGroup,
                              static_cast<std::uint16_t>(rng_.range(49152, 65535)), 5355,
                              dns_query(rng_.u16(), "oldserver", 1, 0), 1));
        });
    }

    if (o_.incidents) {
        incidents();
        // The loop's topology-change BPDUs.
        for (auto& inc : incidents_)
            if (inc.kind == "l2-loop") loop_tag = static_cast<int>(&inc - incidents_.data());
        tag_ = loop_tag;
        for (auto t : tc_bpdu_times)
            emit(t, ethernet_llc(kStpMac, sw.truth.mac, 0x42, 0x42, 0x03,
                                 stp_config_bpdu(sw.truth.mac, true)));
        if (loop_tag >= 0)
            incidents_[static_cast<std::size_t>(loop_tag)].details["tc_bpdus"] =
                tc_bpdu_times.size();
        tag_ = -1;
    }
    out_ = nullptr;
    return frames;
}

void Clinic::incidents() {
    const std::int64_t t0 = o_.start_us, d = o_.duration_us;
    auto at = [&](double fraction) { return t0 + static_cast<std::int64_t>(d * fraction); };
    Host& gw = gateway();
    Host& prn = host(Role::printer);
    Host& ehr = host(Role::ehr_server);
    Host& recep = host(Role::reception);
    Host& rogue = host(Role::rogue_router);
    Host& label = host(Role::label_printer);
    Host& spare = host(Role::spare_router);

    // Rogue DHCP: a home router plugged in with its DHCP server on answers phones' DISCOVERs
    // faster than the Yamaha.
    {
        auto phones = hosts_with({Role::phone});
        std::vector<MacAddress> macs{rogue.truth.mac};
        for (auto* p : phones) macs.push_back(p->truth.mac);
        begin_incident("rogue-dhcp", macs,
                       {{"server_ip", "192.168.11.1"},
                        {"server_mac", rogue.truth.mac.to_string()},
                        {"offers", phones.size()},
                        {"router_option", "192.168.11.1"}});
        std::int64_t t = at(0.15);
        std::uint8_t next = 2;
        for (auto* p : phones) {
            std::uint32_t xid = rng_.u32();
            DhcpMessage m;
            m.xid = xid;
            m.chaddr = p->truth.mac;
            DhcpOptions disc;
            disc.add_u8(53, 1);
            Frame id{1};
            put_mac(id, p->truth.mac);
            disc.add(61, id).add_ip(50, p->truth.ip).add(12, p->truth.hostname);
            if (p->os->vendor_class) disc.add(60, p->os->vendor_class);
            disc.add(55, ByteView(p->os->dhcp55));
            Endpoint unbound{p->truth.mac, 0, p->os, &p->ip_id, p->os->ttl};
            emit(t, udp_frame(unbound, kBroadcastMac, 0xffffffff, 68, 67, dhcp_payload(m, disc)));
            std::uint32_t offered = ip4(192, 168, 11, next++);
            auto rogue_opts = [&](std::uint8_t type) {
                DhcpOptions o;
                o.add_u8(53, type).add_ip(54, rogue.truth.ip).add_u32(51, 172800);
                o.add_ip(1, ip4(255, 255, 255, 0))
                    .add_ip(3, rogue.truth.ip)
                    .add_ip(6, rogue.truth.ip);
                return o;
            };
            DhcpMessage offer = m;
            offer.op = 2;
            offer.yiaddr = offered;
            emit(t + rng_.range(400, 900), udp_frame(ep(rogue), p->truth.mac, offered, 67, 68,
                                                     dhcp_payload(offer, rogue_opts(2))));
            DhcpOptions legit;
            legit.add_u8(53, 2).add_ip(54, kGatewayIp).add_u32(51, 86400);
            legit.add_ip(1, ip4(255, 255, 255, 0)).add_ip(3, kGatewayIp).add_ip(6, kGatewayIp);
            DhcpMessage offer2 = m;
            offer2.op = 2;
            offer2.yiaddr = p->truth.ip;
            emit(t + rng_.range(1500, 3000),
                 udp_frame(ep(gw), p->truth.mac, p->truth.ip, 67, 68, dhcp_payload(offer2, legit)));
            DhcpOptions req;
            req.add_u8(53, 3).add(61, id).add_ip(50, offered).add_ip(54, rogue.truth.ip);
            req.add(12, p->truth.hostname).add(55, ByteView(p->os->dhcp55));
            emit(t + 5 * kMs,
                 udp_frame(unbound, kBroadcastMac, 0xffffffff, 68, 67, dhcp_payload(m, req)));
            DhcpMessage ack = offer;
            emit(t + 6 * kMs, udp_frame(ep(rogue), p->truth.mac, offered, 67, 68,
                                        dhcp_payload(ack, rogue_opts(5))));
            // The home router checks the address it handed out is free.
            emit(t + 8 * kMs, arp_frame(1, kBroadcastMac, rogue.truth.mac, rogue.truth.ip,
                                        MacAddress{}, offered));
            t += rng_.range(20 * kSec, 40 * kSec);
        }
        begin_incident("unregistered-device", {rogue.truth.mac},
                       {{"vendor", rogue.truth.vendor}, {"role_guess", "home router"}});
        emit(at(0.15) + 1 * kMs, arp_frame(1, kBroadcastMac, rogue.truth.mac, rogue.truth.ip,
                                           MacAddress{}, rogue.truth.ip));
    }

    // IP conflict: a label printer configured by hand with the MFP's address.
    {
        begin_incident("ip-conflict", {prn.truth.mac, label.truth.mac},
                       {{"ip", ip4_text(prn.truth.ip)},
                        {"macs", {prn.truth.mac.to_string(), label.truth.mac.to_string()}}});
        std::int64_t t = at(0.25);
        for (int i = 0; i < 3; ++i, t += 1 * kSec)  // ARP probes (RFC 5227), sender 0.0.0.0
            emit(t, arp_frame(1, kBroadcastMac, label.truth.mac, 0, MacAddress{}, prn.truth.ip));
        for (int i = 0; i < 2; ++i, t += 2 * kSec)  // announcements
            emit(t, arp_frame(1, kBroadcastMac, label.truth.mac, prn.truth.ip, MacAddress{},
                              prn.truth.ip));
        Host& asker = host(Role::client, 1);
        for (int i = 0; i < 6; ++i, t += 30 * kSec) {
            emit(t, arp_frame(1, kBroadcastMac, asker.truth.mac, asker.truth.ip, MacAddress{},
                              prn.truth.ip));
            emit(t + rng_.range(150, 500),
                 arp_frame(2, asker.truth.mac, prn.truth.mac, prn.truth.ip, asker.truth.mac,
                           asker.truth.ip));
            emit(t + rng_.range(600, 1500),
                 arp_frame(2, asker.truth.mac, label.truth.mac, prn.truth.ip, asker.truth.mac,
                           asker.truth.ip));
        }
    }

    // Gateway MAC change: a spare router on the LAN claims the gateway's address.
    {
        begin_incident("gateway-mac-change", {gw.truth.mac, spare.truth.mac},
                       {{"ip", ip4_text(kGatewayIp)},
                        {"old_mac", gw.truth.mac.to_string()},
                        {"new_mac", spare.truth.mac.to_string()}});
        std::int64_t t = at(0.35);
        for (int i = 0; i < 30; ++i, t += 2 * kSec)
            emit(t, arp_frame(2, kBroadcastMac, spare.truth.mac, kGatewayIp, kBroadcastMac,
                              kGatewayIp));
    }

    // Layer-2 loop: a cable plugged back into the same unmanaged switch; broadcasts circle.
    {
        const std::int64_t start = t0 + d / 2;
        const std::int64_t rate =
            std::clamp<std::int64_t>(static_cast<std::int64_t>(o_.packets / 60), 1000, 4000);
        const std::int64_t burst = 10 * kSec;
        Host& a = host(Role::client, 2);
        Host& b = host(Role::reception);
        std::vector<Frame> circling;
        circling.push_back(arp_frame(1, kBroadcastMac, a.truth.mac, a.truth.ip, MacAddress{},
                                     host(Role::nas).truth.ip));
        circling.push_back(udp_frame(ep(b), kBroadcastMac, kBroadcastIp, 137, 137,
                                     nbns_query(0x8123, "RECEPT-PRN", 0x20)));
        auto ms = ssdp_msearch("ssdp:all");
        circling.push_back(
            udp_frame(ep(a), multicast_mac(kSsdpGroup), kSsdpGroup, 55123, 1900,
                      ByteView(reinterpret_cast<const std::uint8_t*>(ms.data()), ms.size()), 4));
        circling.push_back(udp_frame(ep(b), multicast_mac(kLlmnrGroup), kLlmnrGroup, 60111, 5355,
                                     dns_query(0x4242, "recept-prn", 1, 0), 1));
        circling.push_back(
            arp_frame(1, kBroadcastMac, b.truth.mac, b.truth.ip, MacAddress{}, kGatewayIp));
        const std::int64_t count = rate * burst / kSec;
        begin_incident("l2-loop", {host(Role::switch_).truth.mac, a.truth.mac, b.truth.mac},
                       {{"repeated_frames", count},
                        {"distinct_frames", circling.size()},
                        {"rate_per_second", rate},
                        {"burst_start_us", start},
                        {"burst_end_us", start + (count - 1) * kSec / rate}});
        for (std::int64_t i = 0; i < count; ++i)
            emit(start + i * kSec / rate, circling[static_cast<std::size_t>(i) % circling.size()]);
    }

    // TeamViewer on the reception PC: name lookup, then a long session on TCP 5938.
    {
        const std::uint32_t tv_ip = ip4(217, 146, 28, 153);
        begin_incident("remote-access", {recep.truth.mac},
                       {{"tool", "TeamViewer"},
                        {"name", "router15.teamviewer.com"},
                        {"remote_ip", ip4_text(tv_ip)},
                        {"port", 5938}});
        std::int64_t t = at(0.60);
        dns_lookup(t, recep, "router15.teamviewer.com", {}, tv_ip, rng_);
        TcpFlow f(*this, rng_, ep(recep), remote(tv_ip, rng_), ephemeral(recep, rng_), 5938,
                  t + 30 * kMs, 18 * kMs, 1414, 80);
        f.handshake();
        Frame hello{0x17, 0x24, 0x0a, 0x20};
        hello.resize(56, 0x00);
        f.send(true, hello, 1 * kMs);
        const std::int64_t until = f.t + std::min<std::int64_t>(180 * kSec, d / 10);
        while (f.t < until) {
            f.send(false, blob(rng_, rng_.range(60, 1400)), rng_.range(300 * kMs, 3 * kSec));
            f.send(true, blob(rng_, rng_.range(40, 200)), rng_.range(5 * kMs, 50 * kMs));
        }
        f.close(true, 200 * kMs);
    }

    // Inbound RDP: scanners on the internet reach the EHR server's 3389 (port forward left open).
    {
        const std::uint32_t a = ip4(45, 148, 10, 82), b = ip4(185, 224, 128, 17);
        begin_incident(
            "inbound-exposure", {ehr.truth.mac},
            {{"port", 3389}, {"service", "rdp"}, {"sources", {ip4_text(a), ip4_text(b)}}});
        std::int64_t t = at(0.70);
        for (auto src : {a, b}) {
            Endpoint outside = remote(src, rng_);
            outside.os = &kWin10;
            TcpFlow f(*this, rng_, outside, ep(ehr),
                      static_cast<std::uint16_t>(rng_.range(1024, 65535)), 3389, t, 40 * kMs, 1414,
                      100);
            f.handshake();
            // X.224 Connection Request with an RDP negotiation request, and the server's confirm.
            Frame cr = from_hex_bytes(
                "0300002b26e00000000000436f6f6b69653a206d737473686173683d41646d696e0d0a010008000b00"
                "0000");
            f.send(true, cr, 2 * kMs);
            Frame cc = from_hex_bytes("030000130ed000001234000200080000000000");
            f.send(false, cc, 1 * kMs);
            f.reset_from_client(30 * kMs);
            t += rng_.range(40 * kSec, 90 * kSec);
        }
    }

    // Cleartext Telnet login to the MFP.
    {
        Host& c = host(Role::client, 0);
        begin_incident("cleartext-login", {c.truth.mac, prn.truth.mac},
                       {{"protocol", "telnet"},
                        {"port", 23},
                        {"user", "admin"},
                        {"server", ip4_text(prn.truth.ip)}});
        TcpFlow f(*this, rng_, ep(c), ep(prn), ephemeral(c, rng_), 23, at(0.80), 600, 1460, 40);
        f.handshake();
        auto text = [](std::string_view s) { return Frame(s.begin(), s.end()); };
        f.send(false, Frame{0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfd, 0x18}, 5 * kMs);
        f.send(true, Frame{0xff, 0xfd, 0x01, 0xff, 0xfd, 0x03, 0xff, 0xfc, 0x18}, 2 * kMs);
        f.send(
            false,
            text(
                "\r\nRICOH MP C3004 Maintenance Shell.\r\n\r\nUser access verification.\r\nlogin:"),
            3 * kMs);
        f.send(true, text("admin\r\n"), 1800 * kMs);
        f.send(false, text("Password:"), 2 * kMs);
        f.send(true, text("ricoh2020\r\n"), 2500 * kMs);
        f.send(false, text("\r\n\tUser access verification ok.\r\nmsh> "), 20 * kMs);
        f.send(true, text("info\r\n"), 3 * kSec);
        f.send(false, text("\r\nModel: MP C3004\r\nFirmware: 1.23\r\nmsh> "), 10 * kMs);
        f.send(true, text("logout\r\n"), 4 * kSec);
        f.close(false, 10 * kMs);
    }
    tag_ = -1;
}

// ------------------------------------------------------------------------------ bulk

void Clinic::bulk_session(std::int64_t t) {
    Rng& r = bulk_rng_;
    auto clients = hosts_with({Role::client, Role::reception});
    std::vector<Host*> ready;
    for (auto* c : clients)
        if (c->boot_us + 5 * kSec <= t) ready.push_back(c);
    auto phones = hosts_with({Role::phone});
    std::uint64_t pick = r.below(100);
    if (ready.empty() || pick < 4) return dicom_session(t);
    Host& c = *r.pick(ready);
    if (pick < 40) return https_session(t, c, r.pick(kSites));
    if (pick < 68) return ehr_http_session(t, c);
    if (pick < 78) return smb_session(t, c, host(Role::ehr_server));
    if (pick < 85) return smb_session(t, c, host(Role::nas));
    if (pick < 90) return print_session(t, c);
    return https_session(t, *r.pick(phones), r.pick(kPhoneSites));
}

void Clinic::https_session(std::int64_t t, Host& c, const Site& site) {
    Rng& r = bulk_rng_;
    dns_lookup(t, c, site.name, site.cnames, site.ip, r);
    t += r.range(30 * kMs, 60 * kMs);
    std::int64_t rtt = r.range(8 * kMs, 40 * kMs);
    // The Yamaha clamps the MSS to 1414 for PPPoE on the WAN side.
    TcpFlow f(*this, r, ep(c), remote(site.ip, r), ephemeral(c, r), 443, t, rtt, 1414, 120);
    f.handshake();
    Frame random(32);
    for (auto& b : random) b = static_cast<std::uint8_t>(r.next());
    f.send(true, tls_client_hello(c.os->tls_style, site.name, random), 300);
    f.send(false, tls_record(0x16, blob(r, r.range(2800, 5200))), rtt);
    f.send(true, tls_record(0x14, Frame{1}), 2 * kMs);
    int requests = static_cast<int>(r.range(1, 3));
    for (int i = 0; i < requests; ++i) {
        f.send(true, tls_record(0x17, blob(r, r.range(300, 900))), r.range(1 * kMs, 300 * kMs));
        f.send(false, tls_record(0x17, blob(r, r.log_size(400, 16000))), rtt);
    }
    f.close(true, r.range(100 * kMs, 2 * kSec));
}

void Clinic::ehr_http_session(std::int64_t t, Host& c) {
    Rng& r = bulk_rng_;
    Host& srv = host(Role::ehr_server);
    TcpFlow f(*this, r, ep(c), ep(srv), ephemeral(c, r), 80, t, r.range(150, 600), 1460, 12);
    f.handshake();
    int requests = static_cast<int>(r.range(1, 4));
    for (int i = 0; i < requests; ++i) {
        std::string path = "/ehr/api/karte/" + std::to_string(r.range(10000, 99999));
        std::string req = "GET " + path +
                          " HTTP/1.1\r\nHost: ehr-srv\r\nUser-Agent: " + c.os->user_agent +
                          "\r\nAccept: application/json\r\nConnection: keep-alive\r\n\r\n";
        f.send(true, Frame(req.begin(), req.end()), r.range(1 * kMs, 400 * kMs));
        std::size_t body = r.log_size(300, 60000);
        std::string head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer: "
            "Microsoft-IIS/7.5\r\nX-Powered-By: ASP.NET\r\nContent-Length: " +
            std::to_string(body) + "\r\n\r\n";
        Frame resp(head.begin(), head.end());
        auto b = blob_bytes(r, body);
        resp.insert(resp.end(), b.begin(), b.end());
        f.send(false, resp, r.range(2 * kMs, 30 * kMs));
    }
    f.close(true, r.range(50 * kMs, 1 * kSec));
}

void Clinic::smb_session(std::int64_t t, Host& c, Host& server) {
    Rng& r = bulk_rng_;
    TcpFlow f(*this, r, ep(c), ep(server), ephemeral(c, r), 445, t, r.range(150, 500), 1460, 12);
    f.handshake();
    Frame guid(16);
    for (auto& b : guid) b = static_cast<std::uint8_t>(r.next());
    bool smb3 = c.os != &kWin7 && server.os != &kWin2008;
    f.send(true, smb2_negotiate_request(0, smb3, guid), 200);
    f.send(false, smb2_negotiate_response(0, smb3 ? 0x0302 : 0x0210, guid), 300);
    std::uint64_t session = r.next() | 1;
    auto tree = static_cast<std::uint32_t>(r.range(1, 9));
    int reads = static_cast<int>(r.range(1, 6));
    std::uint64_t offset = 0;
    for (int i = 0; i < reads; ++i) {
        auto len = static_cast<std::uint32_t>(r.log_size(1024, 65536));
        f.send(true,
               smb2_read_request(2 + static_cast<std::uint64_t>(i), session, tree, len, offset),
               r.range(200, 20 * kMs));
        f.send(false,
               smb2_read_response(2 + static_cast<std::uint64_t>(i), session, tree,
                                  blob_bytes(r, len)),
               400);
        offset += len;
    }
    f.close(true, r.range(1 * kSec, 5 * kSec));
}

void Clinic::dicom_session(std::int64_t t) {
    Rng& r = bulk_rng_;
    Host& mod = host(Role::modality);
    Host& pacs = host(Role::pacs);
    TcpFlow f(*this, r, ep(mod), ep(pacs), ephemeral(mod, r), 104, t, r.range(150, 400), 1460, 12);
    f.handshake();
    f.send(true, dicom_associate(false, "PACS01", "FCR_CONSOLE"), 500);
    f.send(false, dicom_associate(true, "PACS01", "FCR_CONSOLE"), 800);
    std::size_t image = r.log_size(60'000, 400'000);
    image &= ~std::size_t{1};  // OW pixel data has an even length
    const std::string sop =
        "1.2.392.200036.9125.9.0." + std::to_string(r.range(100000000, 999999999));
    f.send(true, dicom_pdata(dicom_cstore_command(false, 1, sop), true, true), 300);
    Frame first = dicom_pixel_data_header(static_cast<std::uint32_t>(image));
    for (std::size_t sent = 0; sent < image;) {
        std::size_t n = std::min<std::size_t>(16'000 - first.size(), image - sent);
        auto pixels = blob(r, n);
        first.insert(first.end(), pixels.begin(), pixels.end());
        sent += n;
        f.send(true, dicom_pdata(first, false, sent >= image), 100);
        first.clear();
    }
    f.send(false, dicom_pdata(dicom_cstore_command(true, 1, sop), true, true), 2 * kMs);
    f.send(true, dicom_release(false), 1 * kMs);
    f.send(false, dicom_release(true), 400);
    f.close(true, 200);
}

void Clinic::print_session(std::int64_t t, Host& c) {
    Rng& r = bulk_rng_;
    Host& prn = host(Role::printer);
    TcpFlow f(*this, r, ep(c), ep(prn), ephemeral(c, r), 9100, t, r.range(300, 900), 1460, 20);
    f.handshake();
    std::string pjl = "\x1b%-12345X@PJL JOB NAME=\"shohosen\"\r\n@PJL ENTER LANGUAGE=PCLXL\r\n";
    Frame job(pjl.begin(), pjl.end());
    auto body = blob_bytes(r, r.log_size(8000, 120000));
    job.insert(job.end(), body.begin(), body.end());
    f.send(true, job, 500);
    f.close(true, r.range(50 * kMs, 500 * kMs));
}

// ------------------------------------------------------------------------------ run

ClinicCaptureTruth Clinic::run(const FrameSink& sink) {
    std::vector<Pending> script = scripted();
    std::stable_sort(script.begin(), script.end(),
                     [](const Pending& a, const Pending& b) { return a.ts < b.ts; });
    if (o_.packets < script.size() + 100)
        throw ClinicCaptureError("--packets " + std::to_string(o_.packets) +
                                 " is too small: the scripted traffic alone is " +
                                 std::to_string(script.size()) + " frames (use at least " +
                                 std::to_string(script.size() + 100) + ")");
    const std::uint64_t budget = o_.packets - script.size();

    ClinicCaptureTruth truth;
    truth.options = o_;
    truth.gateway_mac = gateway().truth.mac;
    truth.gateway_ip = kGatewayIp;
    std::unordered_map<MacAddress, std::size_t> by_mac;
    for (std::size_t i = 0; i < hosts_.size(); ++i) by_mac[hosts_[i].truth.mac] = i;
    std::vector<bool> host_seen(hosts_.size(), false);
    std::vector<bool> incident_seen(incidents_.size(), false);
    std::int64_t last_ts = 0;

    auto write = [&](Pending& p) {
        std::int64_t ts = std::max(p.ts, last_ts);
        last_ts = ts;
        sink(ts, p.bytes);
        if (truth.packets == 0) truth.first_us = ts;
        truth.last_us = ts;
        ++truth.packets;
        truth.bytes += p.bytes.size();
        if (p.tag >= 0) {
            auto& inc = incidents_[static_cast<std::size_t>(p.tag)];
            if (!incident_seen[static_cast<std::size_t>(p.tag)]) inc.start_us = ts;
            incident_seen[static_cast<std::size_t>(p.tag)] = true;
            inc.end_us = ts;
        }
        // A host counts as present once it has sent a frame carrying its own address.
        const auto& f = p.bytes;
        auto it = by_mac.find(MacAddress::from(f.data() + 6));
        if (it != by_mac.end() && !host_seen[it->second]) {
            std::uint16_t type = static_cast<std::uint16_t>((f[12] << 8) | f[13]);
            std::uint32_t sender = 0;
            if (type == ethertype::arp)
                sender = load_be32_at(f, 14 + 14);
            else if (type == ethertype::ipv4)
                sender = load_be32_at(f, 14 + 12);
            if (sender == hosts_[it->second].truth.ip) host_seen[it->second] = true;
        }
    };

    std::vector<Pending> heap;  // bulk frames not yet written (min-heap on time)
    std::vector<Pending> session;
    std::size_t si = 0;
    auto flush_until = [&](std::int64_t limit) {
        for (;;) {
            bool have_s = si < script.size() && script[si].ts <= limit;
            bool have_h = !heap.empty() && heap.front().ts <= limit;
            if (!have_s && !have_h) return;
            if (have_s && (!have_h || !(script[si] > heap.front()))) {
                write(script[si]);
                Frame().swap(script[si].bytes);  // release as we go
                ++si;
            } else {
                std::pop_heap(heap.begin(), heap.end(), std::greater<>());
                write(heap.back());
                heap.pop_back();
            }
        }
    };

    // Bulk sessions follow a straight line from the first minute to the end so that the
    // traffic is spread evenly; each session's frames enter the heap when it starts.
    const std::int64_t bulk_from = o_.start_us + 55 * kSec;
    const std::int64_t bulk_span = std::max<std::int64_t>(o_.duration_us - 60 * kSec, 60 * kSec);
    const double mean_jitter = std::min(2.0 * kSec, 20.0 * bulk_span / static_cast<double>(budget));
    std::uint64_t bulk = 0;
    std::int64_t t = bulk_from;
    out_ = &session;
    while (bulk < budget) {
        auto line = bulk_from + static_cast<std::int64_t>(static_cast<double>(bulk_span) *
                                                          static_cast<double>(bulk) /
                                                          static_cast<double>(budget));
        t = std::max(t + 200, line) + bulk_rng_.exp_us(mean_jitter);
        flush_until(t - 1);
        session.clear();
        bulk_session(t);
        std::stable_sort(session.begin(), session.end(),
                         [](const Pending& a, const Pending& b) { return a.ts < b.ts; });
        if (session.size() > budget - bulk) session.resize(budget - bulk);  // the capture ends
        bulk += session.size();
        for (auto& p : session) {
            heap.push_back(std::move(p));
            std::push_heap(heap.begin(), heap.end(), std::greater<>());
        }
    }
    out_ = nullptr;
    flush_until(std::numeric_limits<std::int64_t>::max());

    for (std::size_t i = 0; i < hosts_.size(); ++i)
        if (host_seen[i]) truth.hosts.push_back(hosts_[i].truth);
    for (std::size_t i = 0; i < incidents_.size(); ++i)
        if (incident_seen[i]) truth.incidents.push_back(incidents_[i]);
    return truth;
}

}  // namespace

ClinicCaptureTruth generate_clinic_capture(const ClinicCaptureOptions& options,
                                           const FrameSink& sink) {
    if (options.duration_us < 10 * 60 * kSec)
        throw ClinicCaptureError("the capture must cover at least 10 minutes");
    Clinic clinic(options);
    return clinic.run(sink);
}

std::uint64_t minimum_packets(const ClinicCaptureOptions& options) {
    Clinic clinic(options);
    return clinic.scripted().size() + 100;
}

// ------------------------------------------------------------------------------ truth

nlohmann::json truth_json(const ClinicCaptureTruth& t) {
    using nlohmann::json;
    json hosts = json::array(), reg = json::array(), incidents = json::array();
    for (const auto& h : t.hosts) {
        hosts.push_back({{"mac", h.mac.to_string()},
                         {"ip", ip4_text(h.ip)},
                         {"hostname", h.hostname},
                         {"vendor", h.vendor.empty() ? json(nullptr) : json(h.vendor)},
                         {"role", h.role},
                         {"os", h.os},
                         {"os_family", h.os_family},
                         {"registered", h.registered},
                         {"randomized_mac", h.randomized_mac},
                         {"addressing", h.addressing}});
        if (h.registered)
            reg.push_back({{"mac", h.mac.to_string()},
                           {"name", h.hostname},
                           {"role", h.role},
                           {"responsible", h.responsible}});
    }
    for (const auto& i : t.incidents) {
        json macs = json::array();
        for (const auto& m : i.hosts) macs.push_back(m.to_string());
        incidents.push_back({{"kind", i.kind},
                             {"start", format_iso_time(i.start_us)},
                             {"end", format_iso_time(i.end_us)},
                             {"start_us", i.start_us},
                             {"end_us", i.end_us},
                             {"hosts", macs},
                             {"details", i.details}});
    }
    return {{"generator", "clinicwatch-make-capture"},
            {"capture",
             {{"packets", t.packets},
              {"bytes", t.bytes},
              {"start", format_iso_time(t.first_us)},
              {"end", format_iso_time(t.last_us)},
              {"start_us", t.first_us},
              {"end_us", t.last_us},
              {"seed", t.options.seed},
              {"incidents", t.options.incidents},
              {"linktype", 1},
              {"snaplen", 65535}}},
            {"network",
             {{"cidr", "192.168.100.0/24"},
              {"gateway_ip", ip4_text(t.gateway_ip)},
              {"gateway_mac", t.gateway_mac.to_string()},
              {"dns_servers", {ip4_text(t.gateway_ip)}},
              {"dhcp_servers",
               {{{"ip", ip4_text(t.gateway_ip)},
                 {"mac", t.gateway_mac.to_string()},
                 {"authorized", true}}}}}},
            {"hosts", hosts},
            {"register", reg},
            {"incidents", incidents}};
}

std::string register_yaml(const ClinicCaptureTruth& t) {
    std::string out =
        "# The clinic's asset register for the synthetic capture (registered devices only).\n"
        "register:\n";
    for (const auto& h : t.hosts) {
        if (!h.registered) continue;
        out += "  - mac: \"" + h.mac.to_string() + "\"\n";
        out += "    name: " + h.hostname + "\n";
        out += "    role: " + h.role + "\n";
        if (!h.responsible.empty()) out += "    responsible: " + h.responsible + "\n";
    }
    return out;
}

// ------------------------------------------------------------------------------ time

std::optional<std::int64_t> parse_iso_time(const std::string& text) {
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return std::nullopt;
    std::size_t pos = 10;
    if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
        int m = 0;
        if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d:%2d%n", &h, &mi, &s, &m) != 3 || m != 8)
            return std::nullopt;
        pos += 9;
    }
    int offset_min = 9 * 60;  // clinic time (JST) when no offset is given
    if (pos < text.size()) {
        if (text[pos] == 'Z' && pos + 1 == text.size()) {
            offset_min = 0;
        } else if ((text[pos] == '+' || text[pos] == '-') && text.size() == pos + 6 &&
                   text[pos + 3] == ':') {
            int oh = 0, om = 0;
            if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
            offset_min = (text[pos] == '-' ? -1 : 1) * (oh * 60 + om);
        } else {
            return std::nullopt;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    std::int64_t epoch = static_cast<std::int64_t>(timegm(&tm));
    return (epoch - offset_min * 60LL) * kSec;
}

std::string format_iso_time(std::int64_t us, int offset_minutes) {
    std::time_t secs = static_cast<std::time_t>(us / kSec + offset_minutes * 60LL);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld%c%02d:%02d",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(us % kSec), offset_minutes < 0 ? '-' : '+',
                  std::abs(offset_minutes) / 60, std::abs(offset_minutes) % 60);
    return buf;
}

}  // namespace clinicwatch::bench
