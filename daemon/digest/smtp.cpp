#include "daemon/digest/smtp.hpp"

#include <curl/curl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>

namespace clinicwatch {

namespace {

// curl_global_init is not thread-safe: run it once, before the first handle.
void curl_once() {
    static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    (void)done;
}

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MultiDeleter {
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Upload {
    const std::string* data;
    std::size_t offset = 0;
};

extern "C" std::size_t read_upload(char* buffer, std::size_t size, std::size_t items, void* user) {
    auto* up = static_cast<Upload*>(user);
    std::size_t room = size * items;
    std::size_t n = std::min(room, up->data->size() - up->offset);
    std::memcpy(buffer, up->data->data() + up->offset, n);
    up->offset += n;
    return n;
}

// The sockets libcurl has open for one send, so that a stop can cut them (shutdown): libcurl
// then fails the transfer at once and closes them itself. (curl_multi_remove_handle in the
// middle of an SMTP upload is no way out: libcurl ends the message with "." and waits for the
// server's answer.)
struct Sockets {
    std::vector<curl_socket_t> open;
};

extern "C" curl_socket_t open_socket(void* user, curlsocktype, curl_sockaddr* address) {
    curl_socket_t s =
        ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (s != CURL_SOCKET_BAD) static_cast<Sockets*>(user)->open.push_back(s);
    return s;
}

extern "C" int close_socket(void* user, curl_socket_t s) {
    auto& open = static_cast<Sockets*>(user)->open;
    open.erase(std::remove(open.begin(), open.end(), s), open.end());
    return ::close(s);
}

struct Performed {
    CURLcode code = CURLE_OK;
    std::string multi_error;   // the multi interface itself failed (out of memory ...)
    bool interrupted = false;  // `stop` was set, the grace ran out and the connection was cut
};

// curl_easy_perform, but on a multi handle so that `stop` is looked at every 200 ms or sooner
// while libcurl waits on the server (connect, greeting, STARTTLS, AUTH, DATA).
Performed perform(CURL* c, Sockets& sockets, const std::atomic<bool>* stop) {
    Performed out;
    std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
    if (!multi) return {CURLE_OUT_OF_MEMORY, "curl_multi_init failed", false};
    if (CURLMcode mc = curl_multi_add_handle(multi.get(), c); mc != CURLM_OK)
        return {CURLE_FAILED_INIT, curl_multi_strerror(mc), false};
    std::optional<std::chrono::steady_clock::time_point> give_up;
    bool cut = false;
    for (int running = 1;;) {
        if (CURLMcode mc = curl_multi_perform(multi.get(), &running); mc != CURLM_OK) {
            out.multi_error = curl_multi_strerror(mc);
            break;
        }
        if (!running) {
            int left = 0;
            while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left))
                if (msg->msg == CURLMSG_DONE) out.code = msg->data.result;
            break;
        }
        if (stop && stop->load() && !cut) {
            auto now = std::chrono::steady_clock::now();
            if (!give_up) give_up = now + SmtpMailer::kStopGrace;
            if (now >= *give_up) {
                // Without the final "." the server discards what it got of the message.
                for (curl_socket_t s : sockets.open) ::shutdown(s, SHUT_RDWR);
                cut = true;
            }
        }
        curl_multi_poll(multi.get(), nullptr, 0, 200, nullptr);
    }
    curl_multi_remove_handle(multi.get(), c);
    // Accepted just before the cut is accepted.
    out.interrupted = cut && (out.code != CURLE_OK || !out.multi_error.empty());
    return out;
}

}  // namespace

std::string read_password_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw MailError("smtp.password_file " + path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw MailError("smtp.password_file " + path + " is not a file");
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw MailError("smtp.password_file " + path + " can be read by other users (mode " + mode +
                        "); refusing to use it. Run: chmod 600 " + path +
                        " (and chown it to the clinicwatch service user)");
    }
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line))
        throw MailError("smtp.password_file " + path + " cannot be read or is empty");
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    return line;
}

SmtpMailer::SmtpMailer(const SmtpConfig& config, const std::atomic<bool>* stop)
    : config_(config), stop_(stop) {
    if (config_.url.empty())
        throw MailError("no mail server configured: set smtp.url, smtp.from and smtp.to");
    if (!config_.password_file.empty()) password_ = read_password_file(config_.password_file);
}

SendResult SmtpMailer::send(const std::vector<std::string>& recipients,
                            const std::string& message) {
    curl_once();
    Sockets sockets;  // outlives the handle: libcurl closes its sockets through it
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return {false, "libcurl could not start"};
    CURL* c = curl.get();
    std::unique_ptr<curl_slist, SlistDeleter> rcpt;
    for (const auto& r : recipients) {
        curl_slist* next = curl_slist_append(rcpt.get(), ("<" + r + ">").c_str());
        if (!next) return {false, "out of memory"};
        (void)rcpt.release();
        rcpt.reset(next);
    }
    Upload upload{&message};
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, ("<" + config_.from + ">").c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &sockets);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, &sockets);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(config_.timeout_seconds));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
    // smtp://: STARTTLS required unless the configuration says otherwise; smtps:// is TLS anyway.
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     config_.require_starttls ? static_cast<long>(CURLUSESSL_ALL)
                                              : static_cast<long>(CURLUSESSL_TRY));
    if (!config_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
    if (!config_.username.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, config_.username.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, password_.c_str());
    }
    Performed done = perform(c, sockets, stop_);
    if (done.interrupted) return {false, "interrupted: clinicwatch is stopping", true};
    if (!done.multi_error.empty()) return {false, "libcurl: " + done.multi_error};
    CURLcode rc = done.code;
    long reply = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
    if (rc != CURLE_OK) {
        std::string detail = error[0] ? error : curl_easy_strerror(rc);
        if (reply) detail += " (server reply " + std::to_string(reply) + ")";
        return {false, detail};
    }
    return {true, "accepted (" + std::to_string(reply) + ")"};
}

}  // namespace clinicwatch
