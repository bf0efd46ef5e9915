#include "daemon/digest/smtp.hpp"

#include <curl/curl.h>
#include <dlfcn.h>
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

// libcurl, loaded when the first mail is sent rather than linked: it brings some thirty
// libraries (TLS, Kerberos, LDAP, SSH, HTTP/2 ...) whose loading cost every start of every
// clinicwatch command about 14 ms (a replay, a query, `--version`), and only mail needs them.
// The package depends on libcurl4 (packaging/cpack.cmake).
struct Curl {
    decltype(&curl_global_init) global_init = nullptr;
    decltype(&curl_easy_init) easy_init = nullptr;
    decltype(&curl_easy_setopt) easy_setopt = nullptr;
    decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&curl_easy_strerror) easy_strerror = nullptr;
    decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&curl_multi_init) multi_init = nullptr;
    decltype(&curl_multi_add_handle) multi_add_handle = nullptr;
    decltype(&curl_multi_remove_handle) multi_remove_handle = nullptr;
    decltype(&curl_multi_perform) multi_perform = nullptr;
    decltype(&curl_multi_poll) multi_poll = nullptr;
    decltype(&curl_multi_info_read) multi_info_read = nullptr;
    decltype(&curl_multi_strerror) multi_strerror = nullptr;
    decltype(&curl_multi_cleanup) multi_cleanup = nullptr;
    decltype(&curl_slist_append) slist_append = nullptr;
    decltype(&curl_slist_free_all) slist_free_all = nullptr;
    std::string error;  // why it cannot be used; empty when loaded and initialised
};

template <typename F>
void find_symbol(void* library, const char* name, F& out, std::string& error) {
    out = reinterpret_cast<F>(::dlsym(library, name));
    if (!out && error.empty()) error = std::string("libcurl has no ") + name;
}

// Loaded and initialised once (curl_global_init is not thread-safe), before the first handle.
const Curl& curl() {
    static const Curl loaded = [] {
        Curl c;
        void* library = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!library) {
            const char* why = ::dlerror();
            c.error = std::string(
                          "libcurl.so.4 cannot be loaded (install the libcurl4 "
                          "package): ") +
                      (why ? why : "unknown error");
            return c;
        }
        find_symbol(library, "curl_global_init", c.global_init, c.error);
        find_symbol(library, "curl_easy_init", c.easy_init, c.error);
        find_symbol(library, "curl_easy_setopt", c.easy_setopt, c.error);
        find_symbol(library, "curl_easy_getinfo", c.easy_getinfo, c.error);
        find_symbol(library, "curl_easy_strerror", c.easy_strerror, c.error);
        find_symbol(library, "curl_easy_cleanup", c.easy_cleanup, c.error);
        find_symbol(library, "curl_multi_init", c.multi_init, c.error);
        find_symbol(library, "curl_multi_add_handle", c.multi_add_handle, c.error);
        find_symbol(library, "curl_multi_remove_handle", c.multi_remove_handle, c.error);
        find_symbol(library, "curl_multi_perform", c.multi_perform, c.error);
        find_symbol(library, "curl_multi_poll", c.multi_poll, c.error);
        find_symbol(library, "curl_multi_info_read", c.multi_info_read, c.error);
        find_symbol(library, "curl_multi_strerror", c.multi_strerror, c.error);
        find_symbol(library, "curl_multi_cleanup", c.multi_cleanup, c.error);
        find_symbol(library, "curl_slist_append", c.slist_append, c.error);
        find_symbol(library, "curl_slist_free_all", c.slist_free_all, c.error);
        if (c.error.empty() && c.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            c.error = "libcurl could not initialise";
        return c;  // the library stays loaded for the life of the process
    }();
    return loaded;
}

struct CurlDeleter {
    void operator()(CURL* c) const { curl().easy_cleanup(c); }
};
struct MultiDeleter {
    void operator()(CURLM* m) const { curl().multi_cleanup(m); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl().slist_free_all(l); }
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
    std::unique_ptr<CURLM, MultiDeleter> multi(curl().multi_init());
    if (!multi) return {CURLE_OUT_OF_MEMORY, "curl_multi_init failed", false};
    if (CURLMcode mc = curl().multi_add_handle(multi.get(), c); mc != CURLM_OK)
        return {CURLE_FAILED_INIT, curl().multi_strerror(mc), false};
    std::optional<std::chrono::steady_clock::time_point> give_up;
    bool cut = false;
    for (int running = 1;;) {
        if (CURLMcode mc = curl().multi_perform(multi.get(), &running); mc != CURLM_OK) {
            out.multi_error = curl().multi_strerror(mc);
            break;
        }
        if (!running) {
            int left = 0;
            while (CURLMsg* msg = curl().multi_info_read(multi.get(), &left))
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
        curl().multi_poll(multi.get(), nullptr, 0, 200, nullptr);
    }
    curl().multi_remove_handle(multi.get(), c);
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
    const Curl& api = curl();
    if (!api.error.empty()) return {false, api.error};
    Sockets sockets;  // outlives the handle: libcurl closes its sockets through it
    std::unique_ptr<CURL, CurlDeleter> handle(api.easy_init());
    if (!handle) return {false, "libcurl could not start"};
    CURL* c = handle.get();
    std::unique_ptr<curl_slist, SlistDeleter> rcpt;
    for (const auto& r : recipients) {
        curl_slist* next = api.slist_append(rcpt.get(), ("<" + r + ">").c_str());
        if (!next) return {false, "out of memory"};
        (void)rcpt.release();
        rcpt.reset(next);
    }
    Upload upload{&message};
    char error[CURL_ERROR_SIZE] = {0};
    api.easy_setopt(c, CURLOPT_URL, config_.url.c_str());
    api.easy_setopt(c, CURLOPT_MAIL_FROM, ("<" + config_.from + ">").c_str());
    api.easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
    api.easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    api.easy_setopt(c, CURLOPT_READDATA, &upload);
    api.easy_setopt(c, CURLOPT_UPLOAD, 1L);
    api.easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    api.easy_setopt(c, CURLOPT_OPENSOCKETDATA, &sockets);
    api.easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    api.easy_setopt(c, CURLOPT_CLOSESOCKETDATA, &sockets);
    api.easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(config_.timeout_seconds));
    api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
    // smtp://: STARTTLS required unless the configuration says otherwise; smtps:// is TLS anyway.
    api.easy_setopt(c, CURLOPT_USE_SSL,
                    config_.require_starttls ? static_cast<long>(CURLUSESSL_ALL)
                                             : static_cast<long>(CURLUSESSL_TRY));
    if (!config_.ca_file.empty()) api.easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
    if (!config_.username.empty()) {
        api.easy_setopt(c, CURLOPT_USERNAME, config_.username.c_str());
        api.easy_setopt(c, CURLOPT_PASSWORD, password_.c_str());
    }
    Performed done = perform(c, sockets, stop_);
    if (done.interrupted) return {false, "interrupted: clinicwatch is stopping", true};
    if (!done.multi_error.empty()) return {false, "libcurl: " + done.multi_error};
    CURLcode rc = done.code;
    long reply = 0;
    api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
    if (rc != CURLE_OK) {
        std::string detail = error[0] ? error : api.easy_strerror(rc);
        if (reply) detail += " (server reply " + std::to_string(reply) + ")";
        return {false, detail};
    }
    return {true, "accepted (" + std::to_string(reply) + ")"};
}

}  // namespace clinicwatch
