// The report and digest templates with hostile text where the network supplies it (host names,
// vendor strings, alert summaries): rendering never fails and never lets markup through.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/report/template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string dir = CLINICWATCH_SOURCE_TEMPLATES_DIR;
    // Markers the templates never contain, so "the input came through unescaped" is exact.
    std::string text = "\x01" + std::string(reinterpret_cast<const char*>(data), size) + "\x02";
    nlohmann::json asset = {{"mac", text},
                            {"names_text", text},
                            {"register_name", text},
                            {"os", text},
                            {"label", text}};
    nlohmann::json alert = {
        {"summary", text}, {"text", {{"title", text}}}, {"device", {{"name", text}}}};
    nlohmann::json model = {
        {"clinic", text},         {"ledger", {{{"responsible", text}, {"assets", {asset}}}}},
        {"open_alerts", {alert}}, {"has_open_alerts", true},
        {"new_alerts", {alert}},  {"has_new", true}};
    for (const char* name : {"report.en.html", "digest.ja.html"}) {
        std::string html = clinicwatch::render_file(dir, name, model, clinicwatch::Escape::html);
        if (text.find('<') != std::string::npos && html.find(text) != std::string::npos)
            std::abort();
    }
    (void)clinicwatch::render_file(dir, "digest.en.txt", model, clinicwatch::Escape::none);
    return 0;
}
