// Measures what nDPI (Debian libndpi-dev 4.2) would add to the egress analyzer: which
// remote-access flows it names that our ports/domains rules miss, and what it costs when fed
// only the first packets of flows that cross the LAN/WAN boundary (the proposal).
// Not part of the build (clinicwatch does not link nDPI); kept to reproduce the measurement:
//   g++ -O2 -std=c++20 -o ndpi-eval bench/ndpi-eval.cpp $(pkg-config --cflags --libs libndpi)
//   -lpcap
//   ./ndpi-eval [--all-flows] [--packets N] FILE...
// Internal networks are the defaults (RFC 1918, RFC 6598, link-local). Timing excludes file
// reading and counts thread CPU time; "per packet" divides nDPI time by every packet in the file.
extern "C" {
#include <ndpi/ndpi_api.h>
}
#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace {

long rss_kb() {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmRSS:", 6) == 0) kb = std::atol(line + 6);
    std::fclose(f);
    return kb;
}

bool internal_v4(std::uint32_t a) {
    return (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) || (a >> 16) == (192u << 8 | 168) ||
           (a >> 22) == (100u << 2 | 1) || (a >> 16) == (169u << 8 | 254);
}

struct Flow {
    ndpi_flow_struct* ndpi = nullptr;
    int packets = 0;
    bool done = false;
    bool boundary = false;
    std::uint16_t sport = 0, dport = 0;
    std::uint8_t proto = 0;
    std::string a, b;
    ndpi_protocol result{};
};

using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint16_t, std::uint16_t, std::uint8_t>;

// The service ports our rules/remote-access.yaml lists (as of this commit).
bool rules_port(std::uint8_t proto, std::uint16_t p) {
    if (proto == 6)
        return p == 3389 || (p >= 5900 && p <= 5906) || (p >= 5800 && p <= 5806) || p == 5938 ||
               p == 6568 || p == 7070 || (p >= 6783 && p <= 6785) || p == 7615 || p == 8040 ||
               p == 8041 || p == 5650 || p == 5655 || (p >= 21115 && p <= 21119) || p == 10443 ||
               p == 4433;
    if (proto == 17)
        return p == 3389 || p == 5938 || p == 21116 || p == 9993 || p == 500 || p == 4500;
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    bool all_flows = false;
    int max_packets = 8;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--all-flows")
            all_flows = true;
        else if (a == "--packets" && i + 1 < argc)
            max_packets = std::atoi(argv[++i]);
        else
            files.push_back(a);
    }
    long rss0 = rss_kb();
    auto t_init0 = std::chrono::steady_clock::now();
    ndpi_detection_module_struct* ndpi = ndpi_init_detection_module(ndpi_no_prefs);
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(ndpi, &all);
    ndpi_finalize_initialization(ndpi);
    double init_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_init0)
            .count();
    std::printf(
        "nDPI %s, init %.1f ms, +%ld kB RSS, flow state %zu bytes, first %d packets of %s flows\n",
        ndpi_revision(), init_ms, rss_kb() - rss0, SIZEOF_FLOW_STRUCT, max_packets,
        all_flows ? "all" : "boundary");

    for (const auto& file : files) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t* p = pcap_open_offline(file.c_str(), err);
        if (!p) {
            std::fprintf(stderr, "%s: %s\n", file.c_str(), err);
            continue;
        }
        std::map<Key, Flow> flows;
        std::uint64_t packets = 0, fed = 0;
        double ndpi_ns = 0;
        pcap_pkthdr* h;
        const u_char* d;
        while (pcap_next_ex(p, &h, &d) == 1) {
            ++packets;
            std::size_t off = 14;
            if (h->caplen < 34) continue;
            std::uint16_t et = d[12] << 8 | d[13];
            while (et == 0x8100 && h->caplen >= off + 4) {
                et = d[off + 2] << 8 | d[off + 3];
                off += 4;
            }
            if (et != 0x0800 || h->caplen < off + 20) continue;
            const u_char* ip = d + off;
            std::size_t ihl = (ip[0] & 15) * 4;
            std::uint8_t proto = ip[9];
            std::uint32_t src, dst;
            std::memcpy(&src, ip + 12, 4);
            std::memcpy(&dst, ip + 16, 4);
            src = ntohl(src);
            dst = ntohl(dst);
            std::uint16_t sp = 0, dp = 0;
            if ((proto == 6 || proto == 17) && h->caplen >= off + ihl + 4) {
                sp = ip[ihl] << 8 | ip[ihl + 1];
                dp = ip[ihl + 2] << 8 | ip[ihl + 3];
            }
            bool si = internal_v4(src), di = internal_v4(dst);
            bool boundary = si != di && (si ? dst : src) >> 28 != 14;
            if (!boundary && !all_flows) continue;
            Key k = src < dst || (src == dst && sp < dp) ? Key{src, dst, sp, dp, proto}
                                                         : Key{dst, src, dp, sp, proto};
            auto [it, fresh] = flows.try_emplace(k);
            Flow& f = it->second;
            if (fresh) {
                f.ndpi = static_cast<ndpi_flow_struct*>(ndpi_flow_malloc(SIZEOF_FLOW_STRUCT));
                std::memset(f.ndpi, 0, SIZEOF_FLOW_STRUCT);
                f.boundary = boundary;
                f.sport = sp;
                f.dport = dp;
                f.proto = proto;
                char buf[INET_ADDRSTRLEN];
                std::uint32_t n = htonl(src);
                f.a = inet_ntop(AF_INET, &n, buf, sizeof buf);
                n = htonl(dst);
                f.b = inet_ntop(AF_INET, &n, buf, sizeof buf);
            }
            if (f.done || f.packets >= max_packets) continue;
            ++f.packets;
            ++fed;
            std::uint64_t ms = std::uint64_t(h->ts.tv_sec) * 1000 + h->ts.tv_usec / 1000;
            // Thread CPU time: the build machine is shared, wall time would count other work.
            timespec t0, t1;
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
            f.result = ndpi_detection_process_packet(
                ndpi, f.ndpi, ip, static_cast<unsigned short>(h->caplen - off), ms);
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
            ndpi_ns += (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
            if (f.result.app_protocol != NDPI_PROTOCOL_UNKNOWN) f.done = true;
        }
        pcap_close(p);
        std::map<std::string, int> by_name;
        int remote_ndpi = 0, remote_ndpi_missed_by_ports = 0, remote_ports = 0;
        for (auto& [k, f] : flows) {
            if (!f.done) {
                std::uint8_t guessed = 0;
                f.result = ndpi_detection_giveup(ndpi, f.ndpi, 0, &guessed);
            }
            char buf[64];
            std::string name = ndpi_protocol2name(ndpi, f.result, buf, sizeof buf);
            ++by_name[name];
            auto app = f.result.app_protocol != NDPI_PROTOCOL_UNKNOWN ? f.result.app_protocol
                                                                      : f.result.master_protocol;
            bool remote = app == NDPI_PROTOCOL_ANYDESK || app == NDPI_PROTOCOL_TEAMVIEWER ||
                          app == NDPI_PROTOCOL_RDP || app == NDPI_PROTOCOL_VNC ||
                          app == NDPI_PROTOCOL_IP_IPSEC;
            bool by_port = rules_port(f.proto, f.sport) || rules_port(f.proto, f.dport);
            remote_ports += by_port;
            if (remote) {
                ++remote_ndpi;
                if (!by_port) ++remote_ndpi_missed_by_ports;
                std::printf("  %-8s %s:%u <-> %s:%u proto %u  %s%s\n",
                            f.boundary ? "boundary" : "lan", f.a.c_str(), f.sport, f.b.c_str(),
                            f.dport, f.proto, name.c_str(),
                            by_port ? "" : "  (not matched by our ports)");
            }
            ndpi_free_flow(f.ndpi);
        }
        std::printf(
            "%s: %llu packets, %zu flows, %llu packets fed, nDPI %.2f ms = %.0f ns per fed "
            "packet, %.1f ns per packet of the file; remote-access by nDPI %d (%d not "
            "matched by ports), by our ports %d\n",
            file.c_str(), (unsigned long long)packets, flows.size(), (unsigned long long)fed,
            ndpi_ns / 1e6, fed ? ndpi_ns / fed : 0.0, packets ? ndpi_ns / packets : 0.0,
            remote_ndpi, remote_ndpi_missed_by_ports, remote_ports);
        std::printf("  protocols:");
        for (auto& [n, c] : by_name) std::printf(" %s=%d", n.c_str(), c);
        std::printf("\n");
    }
    ndpi_exit_detection_module(ndpi);
    return 0;
}
