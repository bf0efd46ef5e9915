// OS fingerprint and end-of-support knowledge, loaded from rules/os-fingerprints.yaml and
// rules/os-eol.yaml (and Debian's /etc/p0f/p0f.fp when present). The code interprets; the
// files say what to look for, each entry with its source. Readers reject bad entries with the
// file and line, so a typo in a rule is found at start, not silently ignored.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace clinicwatch {

class RulesError : public std::runtime_error {
  public:
    explicit RulesError(std::vector<std::string> problems);
    const std::vector<std::string>& problems() const { return problems_; }

  private:
    std::vector<std::string> problems_;
};

// Days since 1970-01-01 (UTC civil calendar).
using Day = std::int32_t;
std::optional<Day> parse_day(const std::string& iso);  // "2020-01-14"
std::string format_day(Day day);

// One product's end of support.
struct SupportEntry {
    std::string id;                     // "windows-7"
    std::string name;                   // "Windows 7"
    std::string family;                 // "windows", "linux", "macos", "ios", "android", "software"
    std::optional<Day> end_of_support;  // none: still supported with no published end
    std::optional<Day> extended_until;  // paid extended updates (ESU/ESM/ELS) end
    std::string extended_note;
    // "Check": the evidence cannot tell an ended product from a supported one (Windows 10 or
    // 11 without a build, an LTSC build that is also an ended GA release). The earliest end
    // among the candidates, which of them ends then, and what would settle it (a key of the
    // message texts, e.g. "windows-edition-version").
    std::optional<Day> check_earliest_end;
    std::string check_earliest_name, check_settle, check_source;
    std::string note;
    std::string source;
    std::string file;
    int line = 0;
};

// Windows NT version (+ build, + role) -> product.
struct WindowsVersion {
    std::string nt;       // "6.1"
    int build = 0;        // 0 = any build
    std::string role;     // "client", "server" or "any"
    std::string product;  // SupportEntry id
    std::string source;
    int line = 0;
};

// What a rule says about the host that produced the evidence.
struct OsTemplate {
    std::string family, nt, product, version, role;  // may contain $1..$9 (regex groups)
};

// A text pattern over one evidence source ("http-ua", "ssh", "dhcp" ...).
struct PatternRule {
    std::string id;
    std::string evidence;
    enum class Kind { equals, prefix, contains, regex } kind = Kind::contains;
    std::string text;
    std::regex re;
    OsTemplate os;
    double weight = 0.5;
    std::string source;
    std::string file;
    int line = 0;
};

// A p0f-style TCP SYN / SYN+ACK signature: ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass.
struct TcpSignature {
    int ittl = 0;
    int mss = -1;  // -1 = any
    enum class Window { any, fixed, mss_multiple, mtu_multiple } window = Window::any;
    int wsize = 0;
    int scale = -1;                    // -1 = any
    std::vector<std::uint8_t> layout;  // option kinds in order, EOL included
    static std::optional<TcpSignature> parse(const std::string& text, std::string* error);
};

// The shape of one observed SYN or SYN+ACK.
struct TcpObservation {
    int ttl = 0;
    int mss = -1;
    int window = 0;
    int scale = -1;
    std::vector<std::uint8_t> layout;
    bool df = false;
    bool syn_ack = false;
    int initial_ttl() const { return ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255; }
    // p0f-like text kept as evidence, and read back for matching.
    std::string to_string() const;
    static std::optional<TcpObservation> parse(const std::string& text);
};

struct TcpRule {
    std::string label;  // "Windows 7 or 8"
    std::string family;
    bool response = false;  // SYN+ACK signature
    bool generic = false;   // p0f "g:" (a catch-all)
    bool from_p0f = false;  // from /etc/p0f/p0f.fp (2016 data): our own rules win
    TcpSignature sig;
    double weight = 0.35;
    std::string source;
    std::string file;
    int line = 0;
    bool matches(const TcpObservation& o) const;
};

// A login protocol that sends the password in clear text (cleartext-login), by its TCP port.
struct CleartextLoginRule {
    std::string protocol;  // "FTP", "Telnet": named in the alert
    std::uint16_t port = 0;
    // How a login shows: "ftp" (the client sends USER, then PASS) or "prompt" (the server asks
    // for a password, and the client answers).
    enum class Style { ftp, prompt } style = Style::ftp;
    std::string source;
    int line = 0;
};

// Evidence that looks like Windows but is not (Samba, Linux CIFS).
struct NotWindowsRules {
    // NTLMSSP versions with a build below this are not Windows (0 = rule absent).
    int ntlm_build_below = 0;
    std::string ntlm_family, ntlm_version;  // what such a host is, e.g. "Samba or Linux CIFS"
    double ntlm_weight = 0.4;
    std::string ntlm_source;
    // Browser announcements with any of these server-type bits come from Samba (0 = absent).
    std::uint32_t browser_type_bits = 0;
    std::string browser_family, browser_version;
    double browser_weight_factor = 0.8;  // of weights.browser
    std::string browser_source;
};

struct OsRules {
    std::vector<SupportEntry> products;
    std::vector<WindowsVersion> windows_versions;
    std::vector<PatternRule> patterns;
    std::vector<TcpRule> tcp;
    std::map<std::string, double> weights;            // evidence kind -> weight
    std::map<std::string, std::string> p0f_families;  // p0f OS name -> our family
    std::vector<std::uint16_t> server_ports;          // answering these means a server role
    int ending_soon_days = 180;
    std::vector<CleartextLoginRule> cleartext_logins;
    NotWindowsRules not_windows;
    std::vector<std::string> warnings;  // p0f lines skipped

    const CleartextLoginRule* cleartext_login(std::uint16_t port) const {
        for (const auto& r : cleartext_logins)
            if (r.port == port) return &r;
        return nullptr;
    }
    // Whether any windows_versions entry names this NT version.
    bool known_nt(const std::string& nt) const;

    const SupportEntry* product(const std::string& id) const;
    double weight(const std::string& kind, double fallback) const;
    // (nt, build, role) -> product id: exact build and role first, then any role, then the
    // version alone.
    const WindowsVersion* windows_product(const std::string& nt, int build,
                                          const std::string& role) const;

    // Both files are required; throws RulesError listing every bad entry.
    static OsRules load(const std::string& fingerprints_path, const std::string& eol_path);
    static OsRules parse(const std::string& fingerprints_yaml, const std::string& fingerprints_name,
                         const std::string& eol_yaml, const std::string& eol_name);
    // Adds the [tcp:request] / [tcp:response] signatures of a p0f 3 database. Lines it cannot
    // read are listed in `warnings` with file:line and skipped. Returns the number added.
    //
    // Grammar accepted (a subset of p0f 3.09b's readfp.c):
    //   line      = blank | ";" comment | "[" section "]" | key "=" value
    //   section   = "tcp:request" | "tcp:response"   (others, e.g. [mtu], [http:*], are skipped)
    //   label     = ("s" | "g") ":" class ":" name ":" flavor   (class "!" = tool/robot)
    //   sys       = ...                                          (ignored)
    //   sig       = ver ":" ittl ":" olen ":" mss ":" wsize "," scale ":" olayout ":" quirks ":"
    //   pclass
    //     ver     = "4" | "6" | "*";  ittl = number with an optional "+N"/"-" suffix (the
    //               suffix is ignored); olen, quirks and pclass are read but not matched
    //     mss     = number | "*";  wsize = number | "mss*" N | "mtu*" N | "*";  scale = number |
    //     "*" olayout = comma list of eol+N, nop, mss, ws, sok, sack, ts, ?N
    // Only labels whose name is in p0f_families become rules (weight: weights.tcp, x0.6 for
    // "g:" catch-alls); our own rules win over p0f's when both match.
    std::size_t add_p0f(const std::string& text, const std::string& name);
};

}  // namespace clinicwatch
