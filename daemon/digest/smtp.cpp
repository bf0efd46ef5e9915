#include "daemon/digest/smtp.hpp"

#include <curl/curl.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <memory>

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

SmtpMailer::SmtpMailer(const SmtpConfig& config) : config_(config) {
    if (config_.url.empty())
        throw MailError("no mail server configured: set smtp.url, smtp.from and smtp.to");
    if (!config_.password_file.empty()) password_ = read_password_file(config_.password_file);
}

SendResult SmtpMailer::send(const std::vector<std::string>& recipients,
                            const std::string& message) {
    curl_once();
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
    CURLcode rc = curl_easy_perform(c);
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
