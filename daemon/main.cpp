// clinicwatch: a passive network sensor for small clinic LANs. One binary, several subcommands.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "capture/packet_source.hpp"
#include "daemon/cli.hpp"
#include "daemon/digest/smtp.hpp"
#include "daemon/prepared_config.hpp"
#include "daemon/report/report.hpp"
#include "daemon/report/report_cli.hpp"
#include "daemon/report/template.hpp"
#include "daemon/service.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

Config resolve_config(const CommonOptions& common) {
    Config config;
    struct stat st {};
    if (!common.config_path.empty()) {
        config = load_config(common.config_path);
    } else if (::stat(kDefaultConfigPath, &st) == 0) {
        config = load_config(kDefaultConfigPath);
    } else {
        config.source = "(built-in defaults)";
    }
    // Times are shown in the clinic's time zone (digest.timezone, Asia/Tokyo by default), not
    // the sensor's, so what the CLI prints matches the e-mail and the report.
    use_clinic_timezone(config);
    return config;
}

std::string resolve_db_path(const CommonOptions& common, const Config& config) {
    if (!common.db_path.empty()) return common.db_path;
    if (config.source != "(built-in defaults)") return config.store.path;
    return "clinicwatch.db";
}

int command_check_config(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        std::fprintf(stderr,
                     "clinicwatch: %s is a directory, not a configuration file (give the YAML "
                     "file, e.g. %s)\n",
                     path.c_str(), kDefaultConfigPath);
        return kExitConfig;
    }
    // Exactly what a start and a reload build and validate (rules, egress policy, register).
    Config c = prepare_config(load_config(path)).config;
    std::printf("%s: configuration is valid\n", path.c_str());
    std::printf("  capture.interface  %s\n",
                c.capture.interface.empty() ? "(not set)" : c.capture.interface.c_str());
    std::printf("  store.path         %s\n", c.store.path.c_str());
    std::printf("  internal networks  %zu%s\n", c.network.internal_networks.size(),
                c.network.internal_networks.empty()
                    ? " (defaults: RFC 1918, RFC 6598, link-local, ULA)"
                    : "");
    std::printf("  register           %zu devices; learning period %d days\n",
                c.asset_register.size(), c.inventory.learning_days);
    return kExitOk;
}

}  // namespace clinicwatch

namespace {

const char* kDescription = R"(clinicwatch - a passive network sensor for small clinic LANs

It listens on a switch mirror port (or reads capture files), never sends a packet, and keeps
an asset inventory, alerts and network-health statistics in one SQLite database.

Typical use:
  clinicwatch replay capture.pcap --db clinic.db     analyse a capture file
  clinicwatch assets --db clinic.db                  list the devices found
  clinicwatch alerts --db clinic.db                  list open alerts
  clinicwatch stats  --db clinic.db --since 24h      network health per minute
  clinicwatch health --db clinic.db --at 08:12       servers' health per minute; one minute explained
  clinicwatch run --config /etc/clinicwatch/clinicwatch.yaml    live capture (root or CAP_NET_RAW)

Files:
  /etc/clinicwatch/clinicwatch.yaml   configuration, read when --config is not given
  ./clinicwatch.db                    database when neither --db nor a configuration names one

Exit codes:
  0  success
  1  unexpected internal error
  2  bad command line
  3  configuration file invalid or unreadable
  4  capture file missing, unreadable or corrupt (packets read before the error are stored)
  5  capture interface missing or down, or no permission to capture
  6  database cannot be opened or written
  7  the mail server did not accept the digest (it stays queued and is retried))";

void add_common(CLI::App* cmd, clinicwatch::CommonOptions& common, bool with_format) {
    cmd->add_option("--config", common.config_path,
                    "Configuration file (default /etc/clinicwatch/clinicwatch.yaml if present)");
    cmd->add_option("--db", common.db_path,
                    "SQLite database (default: store.path from the configuration, else "
                    "./clinicwatch.db)");
    if (with_format) {
        auto* json = cmd->add_flag_callback(
            "--json", [&common] { common.format = clinicwatch::OutputFormat::json; },
            "Print JSON (an array of objects) instead of a table");
        auto* csv = cmd->add_flag_callback(
            "--csv", [&common] { common.format = clinicwatch::OutputFormat::csv; },
            "Print CSV (RFC 4180, header row first) instead of a table");
        json->excludes(csv);
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace clinicwatch;
    CLI::App app{kDescription, "clinicwatch"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("clinicwatch ") + CLINICWATCH_VERSION);
    app.footer("Run `clinicwatch COMMAND --help` for the options of each command.");

    CommonOptions common;

    ReplayOptions replay;
    auto* replay_cmd = app.add_subcommand(
        "replay",
        "Analyse capture files (pcap or pcapng; Ethernet or Linux cooked; raw IP and loopback "
        "without device inventory) in order, as if they "
        "were live traffic, and store the results. Packet timestamps drive all timing, so a "
        "day's capture replays in seconds with the same results as live.");
    // Missing files are reported by the capture reader with exit code 4, as documented.
    replay_cmd->add_option("files", replay.files, "Capture files, analysed in the order given")
        ->required();
    replay_cmd->add_flag("!--no-progress", replay.progress,
                         "Do not show the progress line (it is only shown on a terminal)");
    add_common(replay_cmd, common, false);

    RunOptions run;
    auto* run_cmd = app.add_subcommand(
        "run",
        "Capture live from the mirror-port interface in the foreground until SIGINT or "
        "SIGTERM. Needs root or CAP_NET_RAW. The interface is put in promiscuous mode; "
        "nothing is ever sent on it.");
    run_cmd->add_option("-i,--interface", run.interface,
                        "Capture interface (overrides capture.interface)");
    run_cmd->add_option("--user", run.user,
                        "When started as root, switch to this user once the capture is open "
                        "(overrides daemon.user)");
    run_cmd->footer(
        "Signals: SIGTERM/SIGINT stop capture, drain the ring, flush the database and exit 0; "
        "SIGHUP reloads the configuration (an invalid file is refused and logged, the old one "
        "stays). Under systemd it reports READY, STATUS and WATCHDOG and logs to the journal.");
    add_common(run_cmd, common, false);

    AssetsOptions assets;
    auto* assets_cmd = app.add_subcommand(
        "assets", "List the devices seen: MAC, vendor, addresses, names, OS, first/last seen.");
    assets_cmd->add_option("--vendor", assets.vendor, "Only devices whose vendor contains this");
    assets_cmd->add_option("--why", assets.why,
                           "Print the evidence behind one device's OS guess and end of support "
                           "(give its MAC, an IP address or a name: register or host name)");
    assets_cmd->add_option("--role", assets.role,
                           "Only devices with this role in the register (e.g. ehr-client)");
    assets_cmd->add_flag("--unregistered", assets.unregistered,
                         "Only devices that are not in the register");
    add_common(assets_cmd, common, true);

    AlertsOptions alerts;
    auto* alerts_cmd = app.add_subcommand(
        "alerts",
        "List alerts (open ones by default), oldest first: the analyzers' findings, the "
        "evidence behind `clinicwatch incidents`.");
    alerts_cmd->add_option("--kind", alerts.kind, "Only alerts of this kind (e.g. l2-loop)");
    alerts_cmd->add_option("--severity", alerts.min_severity,
                           "Only alerts at or above: info, low, medium, high, critical");
    alerts_cmd->add_flag("--all", alerts.include_resolved, "Include resolved alerts");
    add_common(alerts_cmd, common, true);

    IncidentsOptions incidents;
    auto* incidents_cmd = app.add_subcommand(
        "incidents",
        "List incidents: related alerts grouped into one event (a foreign router, connections "
        "from the internet to one device, an IP conflict, a loop) or into one device's standing "
        "conditions (end-of-support OS, Internet Explorer, SMBv1, old TLS, clear-text logins), "
        "worst first, with what to do and whom to call.");
    incidents_cmd->add_flag("--all", incidents.all, "Include resolved incidents");
    incidents_cmd->add_option("--kind", incidents.kind,
                              "Only this kind: foreign-router, gateway-takeover, "
                              "inbound-exposure, ip-conflict, l2-loop, broadcast-storm, "
                              "device-conditions, or an alert kind for a lone alert");
    incidents_cmd
        ->add_option("--lang", incidents.language,
                     "Language of the texts: ja or en (default: digest.language, ja)")
        ->check(CLI::IsMember({"ja", "en"}));
    incidents_cmd->footer(
        "Each incident has one severity (its worst alert), one title, one action and one party to\n"
        "call. Its alerts stay as the evidence: `clinicwatch alerts` lists them, and the ALERTS\n"
        "column (\"alerts\" in --json) gives their ids. An incident keeps its id while its alerts\n"
        "change; the grouping is refreshed each time this command, the digest or the report\n"
        "runs (when the database can be written), and by the running daemon before each digest.\n"
        "\n"
        "Grouping rules:\n"
        "  foreign-router     a DHCP server that is not the clinic's, its claims on the router's\n"
        "                     address and its unregistered-device alert (same MAC)\n"
        "  gateway-takeover   another device claiming the router's address (ARP), with the IP\n"
        "                     conflict and unregistered-device alert it causes\n"
        "  inbound-exposure   connections from any number of internet addresses to one device,\n"
        "                     with the remote-access and risky-protocol alerts they raise\n"
        "  ip-conflict        two devices on one address, and the newcomer's unregistered alert\n"
        "  l2-loop            a loop with the storm, STP topology changes and ARP storm it causes\n"
        "  device-conditions  one per device: its old OS, IE, SMBv1, old TLS, clear-text logins\n"
        "  anything else      one incident per alert (its kind is the alert's kind)\n"
        "\n"
        "Output: a table (default), --json (an array of objects with id, key, kind, severity,\n"
        "title, device, device_mac, detail, conditions, action, call, first_seen, last_seen,\n"
        "ongoing, status, alerts, revision, mailed_revision, facts) or --csv.\n"
        "Exit codes: 0 success, 3 configuration invalid, 6 database cannot be read.");
    add_common(incidents_cmd, common, true);

    StatsOptions stats;
    auto* stats_cmd = app.add_subcommand(
        "stats",
        "Network health per minute: frames, bytes, broadcast and multicast frames, undecodable "
        "frames, drops and active hosts.");
    stats_cmd->add_option("--since", stats.since,
                          "From this time: 2026-11-20, 2026-11-20T08:00:00+09:00, or 24h / 7d "
                          "back from now");
    stats_cmd->add_option("--until", stats.until, "Up to this time (same forms as --since)");
    add_common(stats_cmd, common, true);

    HealthOptions health;
    auto* health_cmd = app.add_subcommand(
        "health",
        "Service health per server and minute, as the clients saw it: TCP, DNS, DHCP, ARP.");
    health_cmd->footer(
        "For every server the clinic's devices use (each LAN device that answers TCP: the EHR\n"
        "server, NAS, PACS, printers; the DNS servers asked; the DHCP server; the router), one\n"
        "row per minute with what its clients asked and what they got:\n"
        "  CLIENTS / FAILED   devices that asked something / of them, left with no answer\n"
        "  TCP TRIED / OK     connection attempts / handshakes completed (SYN -> SYN-ACK)\n"
        "  UNANSWERED         attempts whose SYN went unanswered (retransmitted, then abandoned)\n"
        "  REFUSED            attempts answered with a reset (the service is not running)\n"
        "  HANDSHAKE MS       mean time from SYN to SYN-ACK\n"
        "  RETRANS %          share of data segments sent twice (a slow or lossy path)\n"
        "  DNS ASKED / ANSWERED / TIMEOUTS / ERRORS   queries, answers, queries never answered,\n"
        "                     SERVFAIL and REFUSED answers (NXDOMAIN is an answer)\n"
        "  DHCP ASKED / GIVEN DISCOVERs and REQUESTs / OFFERs and ACKs\n"
        "  ARP UNANSWERED     requests for the server's address nobody answered\n"
        "\n"
        "--at TIME explains one minute in one sentence in the configured language\n"
        "(digest.language, or --lang), naming the server and what went wrong, e.g.\n"
        "  clinicwatch health --at 08:12\n"
        "  08:12、電子カルテサーバーが6台の機器からの接続に応答しませんでした（…）。\n"
        "An outage (most of a server's clients unanswered, at least 3 of them) is also an\n"
        "incident: see `clinicwatch incidents`.\n"
        "\n"
        "Examples:\n"
        "  clinicwatch health --since 2026-11-20 --until 2026-11-21\n"
        "  clinicwatch health --server 192.168.100.10 --since 24h --json\n"
        "  clinicwatch health --at \"2026-11-20 08:12\"\n"
        "\n"
        "Output: a table (default), --json (an array of objects with every counter; times in\n"
        "microseconds are sums: divide by the handshakes or answers) or --csv.\n"
        "Exit codes: 0 success, 2 bad time, 3 configuration invalid, 6 database cannot be read.");
    health_cmd->add_option("--since", health.since,
                           "From this time: 2026-11-20, 2026-11-20T08:00:00+09:00, or 24h / 7d "
                           "back from now");
    health_cmd->add_option("--until", health.until, "Up to this time (same forms as --since)");
    health_cmd->add_option("--server", health.server, "Only this server (its IP address)");
    health_cmd->add_option("--at", health.at,
                           "Explain this minute in one sentence: 08:12 (on the last day held), "
                           "2026-11-20 08:12, or 2026-11-20T08:12:00+09:00");
    health_cmd->add_option("--lang", health.language, "ja or en (default: digest.language, ja)")
        ->check(CLI::IsMember({"ja", "en"}));
    add_common(health_cmd, common, true);

    EgressOptions egress;
    auto* egress_cmd = app.add_subcommand(
        "egress",
        "Traffic across the internet boundary per asset: names, addresses, ports, bytes, "
        "first/last seen and the egress policy verdict.");
    egress_cmd->add_option("--asset", egress.asset, "Only this device (MAC address)");
    egress_cmd->add_option("--since", egress.since,
                           "From this time: 2026-11-20, 2026-11-20T08:00:00+09:00, or 24h / 7d "
                           "back from now");
    add_common(egress_cmd, common, true);

    MapOptions map;
    auto* map_cmd = app.add_subcommand(
        "map",
        "Draw the network diagram (ネットワーク構成図) from what the mirror port saw: internet, "
        "router, switches and access points, and each LAN with its networks and devices.");
    map_cmd->footer(
        "What it shows:\n"
        "  the internet and the router(s) that reach it (found by traffic to the internet, DHCP\n"
        "  and their own LLDP/CDP announcements); other routers and DHCP servers beside them,\n"
        "  a foreign one (a home router plugged in) marked 「持ち込み機器」 / \"brought in\";\n"
        "  switches and access points by their LLDP/CDP names and models, and spanning-tree\n"
        "  bridges, the root bridge starred; each broadcast domain (VLAN) with its IP networks\n"
        "  side by side: internet access, or no router (a closed network); devices grouped by\n"
        "  their register role, the EHR server (blue dot) and modalities (purple square) in\n"
        "  bold, unregistered and end-of-support devices marked in red, a device in two\n"
        "  networks joined by a red dashed line. Elements that appeared during the period (more\n"
        "  than a minute after the sensor first ran) are framed in red dashes.\n"
        "  Laid out for A4 (up to about 50 devices per network stay readable); no external\n"
        "  fonts or scripts, so it opens in any browser and prints as it is.\n"
        "\n"
        "Formats:\n"
        "  svg (default)  a standalone SVG document\n"
        "  dot            Graphviz DOT for vendors who edit the drawing\n"
        "                 (e.g. `dot -Tpdf map.dot -o map.pdf`)\n"
        "\n"
        "Examples:\n"
        "  clinicwatch map --out map.svg\n"
        "  clinicwatch map --since 7d --language en --out map.svg\n"
        "  clinicwatch map --format dot --out map.dot\n"
        "\n"
        "Exit codes: 0 written, 1 cannot write the file, 2 bad command line, 3 configuration\n"
        "invalid, 6 database cannot be read.");
    map_cmd->add_option("--out", map.out, "Write here (default: standard output)");
    map_cmd->add_option("--format", map.format, "svg (default) or dot")
        ->check(CLI::IsMember({"svg", "dot"}));
    map_cmd->add_option("--language", map.language,
                        "ja or en (default: report.language from the configuration)");
    map_cmd->add_option("--since", map.since,
                        "The period starts here (what appeared after it is highlighted): "
                        "2026-11-20, 2026-11-20T08:00:00+09:00, or 24h / 7d back from now "
                        "(default: the first packet the sensor saw)");
    map_cmd->add_option("--until", map.until,
                        "The period ends here (same forms; default: the "
                        "last element seen)");
    add_common(map_cmd, common, false);
    RegisterDraftOptions register_draft;
    auto* register_cmd = app.add_subcommand(
        "register", "The asset register: the approved devices listed in the configuration.");
    register_cmd->require_subcommand(1);
    auto* register_draft_cmd = register_cmd->add_subcommand(
        "draft",
        "Write a register (YAML) from the inventory, one entry per device with its vendor, "
        "names and addresses as comments, for the IT contact to review and paste into the "
        "configuration under `register:`.");
    register_draft_cmd->add_option("--out", register_draft.out,
                                   "Write to this file instead of standard output");
    add_common(register_draft_cmd, common, false);

    std::string check_path;
    auto* check_cmd = app.add_subcommand(
        "check-config",
        "Validate a configuration file; every problem is printed with its line and key.");
    check_cmd->add_option("file", check_path, "Configuration file")->required();

    ReportOptions report;
    auto* report_cmd = app.add_subcommand(
        "report",
        "Write the discovered-asset report for the network vendor: the asset ledger by "
        "responsible party, legacy OS and protocols, external connections, network health, "
        "open alerts and the inspection-checklist mapping.");
    report_cmd
        ->add_option("--format", report.format,
                     "html (one self-contained file), csv "
                     "(the asset ledger, UTF-8 with BOM) or json")
        ->check(CLI::IsMember({"html", "csv", "json"}));
    report_cmd->add_option("--lang", report.language, "ja or en (default: report.language, ja)")
        ->check(CLI::IsMember({"ja", "en"}));
    report_cmd->add_option("--out", report.out, "Output file (default: standard output)");
    report_cmd->add_option("--since", report.since,
                           "From this time: 2026-11-01, 2026-11-01T08:00:00+09:00, or 30d back");
    add_common(report_cmd, common, false);

    DigestOptions digest;
    auto* digest_cmd = app.add_subcommand(
        "digest",
        "The alert e-mail: --dry-run prints the next digest, --send sends it now (the running "
        "daemon sends it every day at digest.time).");
    auto* dry = digest_cmd->add_flag("--dry-run", digest.dry_run, "Print the next digest");
    auto* send = digest_cmd->add_flag("--send", digest.send, "Send the digest now");
    digest_cmd->add_flag("--html", digest.html, "With --dry-run: print the HTML part too");
    dry->excludes(send);
    // One of --dry-run or --send (checked after parsing: --config and --db count as options
    // for CLI11's require_option).
    add_common(digest_cmd, common, false);

    // An unknown command is named with the list of valid ones (CLI11 would only say that an
    // argument was not expected).
    for (CLI::App* parent : {&app, register_cmd}) {
        int at = parent == &app ? 1 : 2;
        if (parent != &app && (argc < 2 || std::string(argv[1]) != "register")) continue;
        if (argc <= at || argv[at][0] == '-') continue;
        std::string word = argv[at];
        std::string valid;
        bool found = false;
        for (const auto* sub : parent->get_subcommands([](CLI::App*) { return true; })) {
            found |= sub->get_name() == word;
            valid += (valid.empty() ? "" : ", ") + sub->get_name();
        }
        if (!found) {
            std::fprintf(stderr, "clinicwatch: unknown command '%s%s'; the commands are: %s\n",
                         parent == &app ? "" : "register ", word.c_str(), valid.c_str());
            return kExitUsage;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }

    spdlog::set_pattern("%Y-%m-%d %H:%M:%S %^%l%$ %v");
    try {
        if (*replay_cmd) return command_replay(common, replay);
        if (*run_cmd) return run_service(common, run);
        if (*assets_cmd) return command_assets(common, assets);
        if (*alerts_cmd) return command_alerts(common, alerts);
        if (*incidents_cmd) return command_incidents(common, incidents);
        if (*stats_cmd) return command_stats(common, stats);
        if (*health_cmd) return command_health(common, health);
        if (*check_cmd) return command_check_config(check_path);
        if (*report_cmd) return command_report(common, report);
        if (*digest_cmd) {
            if (!digest.dry_run && !digest.send) {
                std::fprintf(stderr,
                             "clinicwatch: digest needs --dry-run (print the next digest) or "
                             "--send (send it now)\n");
                return kExitUsage;
            }
            return command_digest(common, digest);
        }
        if (*egress_cmd) return command_egress(common, egress);
        if (*map_cmd) return command_map(common, map);
        if (*register_draft_cmd) return command_register_draft(common, register_draft);
    } catch (const ConfigError& e) {
        for (const auto& p : e.problems()) std::fprintf(stderr, "clinicwatch: %s\n", p.c_str());
        return kExitConfig;
    } catch (const CaptureError& e) {
        std::fprintf(stderr, "clinicwatch: %s\n", e.what());
        return e.kind() == CaptureError::Kind::input_file ? kExitInput : kExitCapture;
    } catch (const StoreError& e) {
        std::fprintf(stderr, "clinicwatch: %s\n", e.what());
        return kExitDatabase;
    } catch (const TemplateError& e) {
        std::fprintf(stderr, "clinicwatch: %s\n", e.what());
        return kExitConfig;
    } catch (const MailError& e) {
        std::fprintf(stderr, "clinicwatch: %s\n", e.what());
        return kExitConfig;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "clinicwatch: internal error: %s\n", e.what());
        return kExitFailure;
    }
    return kExitUsage;
}
