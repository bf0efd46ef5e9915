// `clinicwatch map`: the network diagram as SVG (default) or Graphviz DOT.
#include <SQLiteCpp/SQLiteCpp.h>

#include <fstream>
#include <iostream>

#include "daemon/cli.hpp"
#include "daemon/map/network_map.hpp"
#include "daemon/output.hpp"
#include "daemon/report/template.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

int command_map(const CommonOptions& common, const MapOptions& options) {
    Config config = resolve_config(common);
    std::string language = options.language.empty() ? config.report.language : options.language;
    if (language != "ja" && language != "en") {
        std::cerr << "clinicwatch: --language '" << language << "': use ja or en\n";
        return kExitUsage;
    }
    Timestamp since = 0, until = 0;
    if (!parse_time_option("--since", options.since, since) ||
        !parse_time_option("--until", options.until, until))
        return kExitUsage;
    auto db = open_for_reading(resolve_db_path(common, config));
    auto messages = load_messages(templates_dir(config), language);
    auto summary = network_summary(*db, messages, since, until);
    std::string text = options.format == "dot" ? network_map_dot(summary, messages)
                                               : network_map_svg(summary, messages);
    if (options.out.empty() || options.out == "-") {
        std::cout << text;
        return kExitOk;
    }
    std::ofstream out(options.out, std::ios::binary);
    out << text;
    out.close();
    if (!out) {
        std::cerr << "clinicwatch: cannot write " << options.out << "\n";
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace clinicwatch
