// The subcommands of the one `clinicwatch` binary. main.cpp wires them to CLI11; each returns
// an exit code from ExitCode.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/config.hpp"

namespace clinicwatch {

// Documented in `clinicwatch --help`.
enum ExitCode : int {
    kExitOk = 0,
    kExitFailure = 1,   // unexpected internal error
    kExitUsage = 2,     // bad command line
    kExitConfig = 3,    // configuration file invalid or unreadable
    kExitInput = 4,     // capture file missing, unreadable or corrupt (what came before is stored)
    kExitCapture = 5,   // interface missing, down, or no permission to capture
    kExitDatabase = 6,  // database cannot be opened or written
    kExitMail = 7,      // the mail server did not accept the message (it stays queued)
};

enum class OutputFormat { table, json, csv };

struct CommonOptions {
    std::string config_path;  // empty: the default file if it exists
    std::string db_path;      // empty: from the config, or ./clinicwatch.db
    OutputFormat format = OutputFormat::table;
};

struct Table;
// Prints query results as the --json/--csv flags ask: a table by default.
void emit(const CommonOptions& common, const Table& table, const nlohmann::json& json);

// Loads the config named on the command line, or the default file when it exists, or defaults.
Config resolve_config(const CommonOptions& common);
std::string resolve_db_path(const CommonOptions& common, const Config& config);

struct ReplayOptions {
    std::vector<std::string> files;
    bool progress = true;  // on a terminal only
};
int command_replay(const CommonOptions& common, const ReplayOptions& options);

struct RunOptions {
    std::string interface;  // overrides capture.interface
    std::string user;       // overrides daemon.user
};

struct AssetsOptions {
    std::string vendor;
    std::string why;            // a MAC: print the evidence behind its OS guess
    std::string role;           // only devices with this register role
    bool unregistered = false;  // only devices not in the register
};
int command_assets(const CommonOptions& common, const AssetsOptions& options);

struct AlertsOptions {
    std::string kind;
    std::string min_severity;
    bool include_resolved = false;
};
int command_alerts(const CommonOptions& common, const AlertsOptions& options);

struct StatsOptions {
    std::string since, until;
};
int command_stats(const CommonOptions& common, const StatsOptions& options);

int command_check_config(const std::string& path);

struct EgressOptions {
    std::string asset;  // MAC
    std::string since;
};
int command_egress(const CommonOptions& common, const EgressOptions& options);

struct MapOptions {
    std::string out;             // file; empty or "-": standard output
    std::string format = "svg";  // svg or dot
    std::string language;        // ja, en; empty = report.language
    std::string since, until;
};
int command_map(const CommonOptions& common, const MapOptions& options);
struct IncidentsOptions {
    bool all = false;      // resolved ones too
    std::string kind;      // only this incident kind
    std::string language;  // ja or en (default: digest.language)
};
int command_incidents(const CommonOptions& common, const IncidentsOptions& options);

struct HealthOptions {
    std::string since, until;
    std::string server;    // only this server (IP address)
    std::string at;        // explain this minute in one sentence
    std::string language;  // ja or en (default: digest.language)
};
int command_health(const CommonOptions& common, const HealthOptions& options);

// Alert kinds people have texts for (messages.yaml), for "unknown kind" errors.
std::vector<std::string> known_alert_kinds(const Config& config);

struct RegisterDraftOptions {
    std::string out;  // empty: standard output
};
// Writes a register YAML from the inventory for the IT contact to review (cli_register.cpp).
int command_register_draft(const CommonOptions& common, const RegisterDraftOptions& options);

}  // namespace clinicwatch
