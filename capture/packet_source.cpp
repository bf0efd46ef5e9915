#include "capture/packet_source.hpp"

#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace clinicwatch {

PcapHandle& PcapHandle::operator=(PcapHandle&& o) noexcept {
    if (this != &o) {
        if (handle) pcap_close(handle);
        handle = o.handle;
        o.handle = nullptr;
    }
    return *this;
}

PcapHandle::~PcapHandle() {
    if (handle) pcap_close(handle);
}

LinkType checked_link_type(int dlt, const std::string& where) {
    switch (dlt) {
        case DLT_EN10MB:
            return LinkType::ethernet;
        case DLT_LINUX_SLL:
            return LinkType::linux_sll;
        case DLT_LINUX_SLL2:
            return LinkType::linux_sll2;
        default: {
            const char* name = pcap_datalink_val_to_name(dlt);
            throw CaptureError(CaptureError::Kind::link_type,
                               where + ": link type " + std::to_string(dlt) + " (" +
                                   (name ? name : "unknown") +
                                   ") is not supported; clinicwatch reads Ethernet and Linux "
                                   "cooked (SLL, SLL2) captures");
        }
    }
}

namespace {

Timestamp to_timestamp(const timeval& tv) {
    return static_cast<Timestamp>(tv.tv_sec) * kMicrosPerSecond + tv.tv_usec;
}

class FileSource final : public PacketSource {
  public:
    explicit FileSource(std::vector<std::string> paths) : paths_(std::move(paths)) {
        for (const auto& p : paths_) {
            struct stat st {};
            if (::stat(p.c_str(), &st) != 0)
                throw CaptureError(CaptureError::Kind::input_file,
                                   p + ": cannot open capture file: " + std::strerror(errno));
            total_bytes_ += static_cast<std::uint64_t>(st.st_size);
        }
        if (paths_.empty())
            throw CaptureError(CaptureError::Kind::input_file, "no capture file given");
        open(0);
    }

    Next next(RawFrame& out) override {
        for (;;) {
            if (!pcap_.handle) return Next::end;
            pcap_pkthdr* header = nullptr;
            const u_char* data = nullptr;
            int rc = pcap_next_ex(pcap_.handle, &header, &data);
            if (rc == 1) {
                out.link = link_;
                out.ts = to_timestamp(header->ts);
                out.wire_length = header->len;
                out.data = Bytes(data, header->caplen);
                record_offset_ += 16 + header->caplen;
                return Next::frame;
            }
            if (rc == PCAP_ERROR_BREAK) {  // end of this file
                done_bytes_ += file_size_;
                if (current_ + 1 >= paths_.size()) {
                    pcap_ = PcapHandle{};
                    return Next::end;
                }
                open(current_ + 1);
                continue;
            }
            // A corrupt or truncated file. Name the file and where it broke.
            std::string reason = pcap_geterr(pcap_.handle);
            std::uint64_t offset = classic_ ? record_offset_ : current_file_position();
            throw CaptureError(CaptureError::Kind::input_file,
                               paths_[current_] + ": corrupt capture at byte offset " +
                                   std::to_string(offset) + ": " + reason);
        }
    }

    double progress() const override {
        if (total_bytes_ == 0 || !pcap_.handle) return 1.0;
        std::uint64_t in_file = classic_ ? record_offset_ : current_file_position();
        return static_cast<double>(done_bytes_ + std::min<std::uint64_t>(in_file, file_size_)) /
               static_cast<double>(total_bytes_);
    }

    std::string describe() const override {
        return paths_.size() == 1 ? paths_[0] : std::to_string(paths_.size()) + " capture files";
    }

  private:
    void open(std::size_t index) {
        current_ = index;
        const std::string& path = paths_[index];
        FILE* fp = std::fopen(path.c_str(), "rb");
        if (!fp)
            throw CaptureError(CaptureError::Kind::input_file,
                               path + ": cannot open capture file: " + std::strerror(errno));
        std::uint32_t magic = 0;
        bool got_magic = std::fread(&magic, 1, 4, fp) == 4;
        std::rewind(fp);
        // The classic pcap magic in either byte order, micro- or nanosecond.
        classic_ = got_magic && (magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1 ||
                                 magic == 0xa1b23c4d || magic == 0x4d3cb2a1);
        struct stat st {};
        file_size_ = fstat(fileno(fp), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
        char err[PCAP_ERRBUF_SIZE] = {};
        pcap_t* p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, err);
        if (!p) {
            std::fclose(fp);
            throw CaptureError(CaptureError::Kind::input_file,
                               path + ": not a readable pcap or pcapng file: " + err);
        }
        pcap_ = PcapHandle(p);
        link_ = checked_link_type(pcap_datalink(p), path);
        record_offset_ = 24;
    }

    std::uint64_t current_file_position() const {
        if (!pcap_.handle) return 0;
        long pos = std::ftell(pcap_file(pcap_.handle));
        return pos < 0 ? 0 : static_cast<std::uint64_t>(pos);
    }

    std::vector<std::string> paths_;
    std::size_t current_ = 0;
    PcapHandle pcap_;
    LinkType link_ = LinkType::ethernet;
    bool classic_ = true;
    std::uint64_t record_offset_ = 24;  // classic pcap: where the next record header starts
    std::uint64_t file_size_ = 0, done_bytes_ = 0, total_bytes_ = 0;
};

class LiveSource final : public PacketSource {
  public:
    explicit LiveSource(const LiveCaptureOptions& o) : name_(o.interface) {
        char err[PCAP_ERRBUF_SIZE] = {};
        pcap_t* p = pcap_create(o.interface.c_str(), err);
        if (!p)
            throw CaptureError(CaptureError::Kind::interface,
                               "cannot open interface " + o.interface + ": " + err);
        pcap_ = PcapHandle(p);
        pcap_set_snaplen(p, o.snaplen);
        pcap_set_promisc(p, o.promiscuous ? 1 : 0);
        pcap_set_timeout(p, o.read_timeout_ms);
        pcap_set_buffer_size(p, o.buffer_mb * 1024 * 1024);
        int rc = pcap_activate(p);
        if (rc < 0) {
            std::string detail = pcap_geterr(p);
            if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
                throw CaptureError(CaptureError::Kind::permission,
                                   "no permission to capture on " + o.interface +
                                       ": run as root, or give the binary CAP_NET_RAW "
                                       "(setcap cap_net_raw+ep) or use the systemd unit");
            if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
                throw CaptureError(CaptureError::Kind::interface,
                                   "no such interface: " + o.interface +
                                       " (see `ip link` for the names on this machine)");
            if (rc == PCAP_ERROR_IFACE_NOT_UP)
                throw CaptureError(CaptureError::Kind::interface,
                                   "interface " + o.interface +
                                       " is down: bring it up with `ip link set " + o.interface +
                                       " up`");
            throw CaptureError(CaptureError::Kind::interface,
                               "cannot capture on " + o.interface + ": " + detail);
        }
        link_ = checked_link_type(pcap_datalink(p), "interface " + o.interface);
        if (!o.bpf_filter.empty()) {
            bpf_program program{};
            if (pcap_compile(p, &program, o.bpf_filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
                throw CaptureError(
                    CaptureError::Kind::filter,
                    "capture filter \"" + o.bpf_filter + "\" does not compile: " + pcap_geterr(p));
            int set = pcap_setfilter(p, &program);
            pcap_freecode(&program);
            if (set != 0)
                throw CaptureError(CaptureError::Kind::filter,
                                   "cannot apply capture filter: " + std::string(pcap_geterr(p)));
        }
    }

    Next next(RawFrame& out) override {
        pcap_pkthdr* header = nullptr;
        const u_char* data = nullptr;
        int rc = pcap_next_ex(pcap_.handle, &header, &data);
        if (rc == 1) {
            out.link = link_;
            out.ts = to_timestamp(header->ts);
            out.wire_length = header->len;
            out.data = Bytes(data, header->caplen);
            return Next::frame;
        }
        if (rc == 0 || rc == PCAP_ERROR_BREAK) return Next::idle;
        throw CaptureError(CaptureError::Kind::interface,
                           "capture on " + name_ + " failed: " + pcap_geterr(pcap_.handle));
    }

    void interrupt() override { pcap_breakloop(pcap_.handle); }

    KernelStats kernel_stats() const override {
        pcap_stat s{};
        if (pcap_stats(pcap_.handle, &s) != 0) return {};
        return {s.ps_recv, s.ps_drop, s.ps_ifdrop};
    }

    std::string describe() const override { return "interface " + name_; }

  private:
    std::string name_;
    PcapHandle pcap_;
    LinkType link_ = LinkType::ethernet;
};

}  // namespace

std::unique_ptr<PacketSource> open_live_capture(const LiveCaptureOptions& options) {
    return std::make_unique<LiveSource>(options);
}

std::unique_ptr<PacketSource> open_capture_files(const std::vector<std::string>& paths) {
    return std::make_unique<FileSource>(paths);
}

}  // namespace clinicwatch
