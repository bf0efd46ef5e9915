#include "capture/packet_source.hpp"

#include "capture/pcap_file_reader.hpp"

#include <pcap/pcap.h>
#include <poll.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

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
        case 12:   // DLT_RAW as libpcap reports it on most systems
        case 14:   // DLT_RAW on OpenBSD
        case 101:  // LINKTYPE_RAW in a file
        case 228:  // LINKTYPE_IPV4
        case 229:  // LINKTYPE_IPV6
            return LinkType::raw_ip;
        case 0:  // DLT_NULL
            return LinkType::bsd_loopback;
        case 108:  // DLT_LOOP
            return LinkType::openbsd_loop;
        default: {
            const char* name = pcap_datalink_val_to_name(dlt);
            throw CaptureError(CaptureError::Kind::link_type,
                               where + ": link type " + std::to_string(dlt) + " (" +
                                   (name ? name : "unknown") +
                                   ") is not supported; clinicwatch reads Ethernet, Linux "
                                   "cooked (SLL, SLL2), raw IP and loopback captures");
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
            if (reader_) {
                PcapRecord record;
                std::string error;
                switch (reader_->next(record, out.data, error)) {
                    case PcapFileReader::Result::frame:
                        out.link = link_;
                        out.ts = record.ts;
                        out.wire_length = record.wire_length;
                        return Next::frame;
                    case PcapFileReader::Result::corrupt:
                        throw CaptureError(CaptureError::Kind::input_file,
                                           paths_[current_] + ": corrupt capture at byte offset " +
                                               std::to_string(reader_->record_offset()) + ": " +
                                               error);
                    case PcapFileReader::Result::end:
                        if (!advance()) return Next::end;
                        continue;
                }
            }
            if (!pcap_.handle) return Next::end;
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
            if (rc == PCAP_ERROR_BREAK) {  // end of this file
                if (!advance()) return Next::end;
                continue;
            }
            // A corrupt or truncated file. Name the file and where it broke.
            std::string reason = pcap_geterr(pcap_.handle);
            std::uint64_t offset = current_file_position();
            throw CaptureError(CaptureError::Kind::input_file,
                               paths_[current_] + ": corrupt capture at byte offset " +
                                   std::to_string(offset) + ": " + reason);
        }
    }

    double progress() const override {
        if (total_bytes_ == 0 || (!pcap_.handle && !reader_)) return 1.0;
        std::uint64_t in_file = reader_ ? reader_->record_offset() : current_file_position();
        return static_cast<double>(done_bytes_ + std::min<std::uint64_t>(in_file, file_size_)) /
               static_cast<double>(total_bytes_);
    }

    std::string describe() const override {
        return paths_.size() == 1 ? paths_[0] : std::to_string(paths_.size()) + " capture files";
    }

  private:
    // Moves to the next file; false after the last one.
    bool advance() {
        done_bytes_ += file_size_;
        pcap_ = PcapHandle{};
        reader_.reset();
        if (current_ + 1 >= paths_.size()) return false;
        open(current_ + 1);
        return true;
    }

    void open(std::size_t index) {
        current_ = index;
        const std::string& path = paths_[index];
        FILE* fp = std::fopen(path.c_str(), "rb");
        if (!fp)
            throw CaptureError(CaptureError::Kind::input_file,
                               path + ": cannot open capture file: " + std::strerror(errno));
        // Unbuffered: our reader reads large blocks itself (setvbuf must precede any read).
        std::setvbuf(fp, nullptr, _IONBF, 0);
        struct stat st {};
        file_size_ = fstat(fileno(fp), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
        std::uint8_t header[24];
        bool got_header = std::fread(header, 1, sizeof header, fp) == sizeof header;
        auto classic =
            got_header ? parse_pcap_file_header(Bytes(header, sizeof header)) : std::nullopt;
        if (classic) {
            // Classic pcap: our own reader, reading unbuffered into its large buffer.
            reader_ = nullptr;
            try {
                link_ = checked_link_type(static_cast<int>(classic->linktype), path);
            } catch (...) {
                std::fclose(fp);
                throw;
            }
            reader_ = std::make_unique<PcapFileReader>(fp, *classic, kReadBufferBytes);
            return;
        }
        // pcapng (or something libpcap may know better): libpcap, reopened with a larger stdio
        // buffer than the default 4 KB.
        std::fclose(fp);
        fp = std::fopen(path.c_str(), "rb");
        if (!fp)
            throw CaptureError(CaptureError::Kind::input_file,
                               path + ": cannot open capture file: " + std::strerror(errno));
        std::setvbuf(fp, nullptr, _IOFBF, 1 << 20);
        char err[PCAP_ERRBUF_SIZE] = {};
        pcap_t* p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, err);
        if (!p) {
            std::fclose(fp);
            throw CaptureError(CaptureError::Kind::input_file,
                               path + ": not a readable pcap or pcapng file: " + err);
        }
        pcap_ = PcapHandle(p);
        link_ = checked_link_type(pcap_datalink(p), path);
    }

    std::uint64_t current_file_position() const {
        if (!pcap_.handle) return 0;
        long pos = std::ftell(pcap_file(pcap_.handle));
        return pos < 0 ? 0 : static_cast<std::uint64_t>(pos);
    }

    // Half a megabyte (the reader's minimum: two records of the largest size) stays in a core's
    // L2 cache between the kernel's copy into it and our copy out of it; 1 MB did not (replay of
    // the 2 M clinic capture: capture thread 0.62 -> 0.59 s, wall 719 -> 687 ms, median of 7).
    static constexpr std::size_t kReadBufferBytes = 1 << 19;
    std::vector<std::string> paths_;
    std::size_t current_ = 0;
    std::unique_ptr<PcapFileReader> reader_;  // classic pcap
    PcapHandle pcap_;                         // pcapng (through libpcap)
    LinkType link_ = LinkType::ethernet;
    std::uint64_t file_size_ = 0, done_bytes_ = 0, total_bytes_ = 0;
};

class LiveSource final : public PacketSource {
  public:
    explicit LiveSource(const LiveCaptureOptions& o) : options_(o) { open(); }

    Next next(RawFrame& out) override {
        if (!pcap_.handle) return reopen_when_due();
        pcap_pkthdr* header = nullptr;
        const u_char* data = nullptr;
        int rc = pcap_next_ex(pcap_.handle, &header, &data);
        if (rc == 0) {
            // Non-blocking handle: wait for frames ourselves, with a timeout, so that a silent
            // link still lets us notice it is down (libpcap's own wait may never return).
            pollfd pfd{pcap_get_selectable_fd(pcap_.handle), POLLIN, 0};
            if (::poll(&pfd, 1, options_.read_timeout_ms) > 0)
                rc = pcap_next_ex(pcap_.handle, &header, &data);
        }
        if (rc == 1) {
            out.link = link_;
            out.ts = to_timestamp(header->ts);
            out.wire_length = header->len;
            out.data = Bytes(data, header->caplen);
            return Next::frame;
        }
        if (rc == 0 || rc == PCAP_ERROR_BREAK) {
            check_link_state();
            return Next::idle;
        }
        // The interface went down or disappeared (a cable pulled, a USB adapter replugged):
        // keep the counters, close, and try again with backoff. The sensor never exits for it.
        std::string reason = pcap_geterr(pcap_.handle);
        lose_interface(reason);
        return Next::idle;
    }

    KernelStats kernel_stats() const override {
        KernelStats k = dropped_before_;
        if (!pcap_.handle) return k;
        pcap_stat s{};
        if (pcap_stats(pcap_.handle, &s) != 0) return k;
        k.received += s.ps_recv;
        k.dropped += s.ps_drop;
        k.interface_dropped += s.ps_ifdrop;
        return k;
    }

    std::vector<CaptureGap> take_gaps() override {
        std::lock_guard lock(gaps_mutex_);
        std::vector<CaptureGap> out;
        std::swap(out, gaps_);
        return out;
    }

    std::string describe() const override { return "interface " + options_.interface; }

  private:
    using Clock = std::chrono::steady_clock;

    // Some drivers (veth, many USB adapters) do not fail the capture when the link goes down:
    // it just goes quiet. When quiet, look at the link state once a second so the gap is
    // recorded either way.
    void check_link_state() {
        auto now = Clock::now();
        if (now < next_link_check_) return;
        next_link_check_ = now + std::chrono::seconds(1);
        std::ifstream in("/sys/class/net/" + options_.interface + "/operstate");
        std::string state;
        if (!(in >> state)) state = "absent";
        bool down = state == "down" || state == "lowerlayerdown" || state == "notpresent" ||
                    state == "absent";
        if (down && !link_down_) {
            link_down_ = true;
            down_since_wall_ = wall_now();
            std::lock_guard lock(gaps_mutex_);
            gaps_.push_back(CaptureGap{down_since_wall_, 0, "link " + state});
        } else if (!down && link_down_) {
            link_down_ = false;
            std::lock_guard lock(gaps_mutex_);
            gaps_.push_back(CaptureGap{down_since_wall_, wall_now(), "link up again"});
        }
    }

    void lose_interface(const std::string& reason) {
        dropped_before_ = kernel_stats();
        pcap_ = PcapHandle{};
        if (link_down_) return;  // already recorded as a gap
        link_down_ = true;
        down_since_wall_ = wall_now();
        backoff_ = std::chrono::milliseconds(500);
        next_attempt_ = Clock::now() + backoff_;
        std::lock_guard lock(gaps_mutex_);
        gaps_.push_back(CaptureGap{down_since_wall_, 0, reason});
    }

    Next reopen_when_due() {
        if (Clock::now() < next_attempt_) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            return Next::idle;
        }
        try {
            if (options_.before_reopen) options_.before_reopen();
            open();
            if (options_.after_reopen) options_.after_reopen();
            link_down_ = false;
            std::lock_guard lock(gaps_mutex_);
            gaps_.push_back(CaptureGap{down_since_wall_, wall_now(), "capture resumed"});
        } catch (const CaptureError& e) {
            if (options_.after_reopen) options_.after_reopen();
            last_error_ = e.what();
            backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, std::chrono::seconds(30));
            next_attempt_ = Clock::now() + backoff_;
        }
        return Next::idle;
    }

    static std::int64_t wall_now() {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    void open() {
        const auto& o = options_;
        char err[PCAP_ERRBUF_SIZE] = {};
        pcap_t* p = pcap_create(o.interface.c_str(), err);
        if (!p)
            throw CaptureError(CaptureError::Kind::interface,
                               "cannot open interface " + o.interface + ": " + err);
        PcapHandle handle(p);
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
        if (pcap_setnonblock(p, 1, err) != 0)
            throw CaptureError(CaptureError::Kind::interface,
                               "cannot set " + o.interface + " non-blocking: " + err);
        pcap_ = std::move(handle);
    }

    LiveCaptureOptions options_;
    PcapHandle pcap_;
    LinkType link_ = LinkType::ethernet;
    KernelStats dropped_before_{};
    std::int64_t down_since_wall_ = 0;
    std::chrono::milliseconds backoff_{500};
    Clock::time_point next_attempt_{};
    std::string last_error_;
    bool link_down_ = false;
    Clock::time_point next_link_check_{};
    std::mutex gaps_mutex_;
    std::vector<CaptureGap> gaps_;
};

}  // namespace

std::unique_ptr<PacketSource> open_live_capture(const LiveCaptureOptions& options) {
    return std::make_unique<LiveSource>(options);
}

std::unique_ptr<PacketSource> open_capture_files(const std::vector<std::string>& paths) {
    return std::make_unique<FileSource>(paths);
}

}  // namespace clinicwatch
