// Rendering with mstch (logic-less Mustache templates). The C++ side builds a JSON model; the
// template files under share/clinicwatch/templates turn it into HTML or text, one file per
// language. No markup is assembled in C++.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/config.hpp"

namespace clinicwatch {

class TemplateError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The folder with the templates and message files: report.templates_dir, else
// $CLINICWATCH_TEMPLATES, else CLINICWATCH_DATA_DIR/templates, else the source tree's copy
// (running from a build folder).
std::filesystem::path templates_dir(const Config& config);

enum class Escape { html, none };

// Renders the template file `name` from `dir` with `model`. Values are HTML-escaped in HTML
// templates (Escape::html) and left as they are in text templates.
std::string render_file(const std::filesystem::path& dir, const std::string& name,
                        const nlohmann::json& model, Escape escape);
// Text made safe inside HTML or XML (the report, the SVG map): markup characters as entities,
// control characters other than tab and line breaks dropped.
std::string escape_markup(const std::string& s);

// Renders a short template held in a string (message texts with {{placeholders}}).
std::string render_string(const std::string& text, const nlohmann::json& model,
                          Escape escape = Escape::none);

// messages.yaml for one language: UI strings, severity names, alert kinds, checklist items.
nlohmann::json load_messages(const std::filesystem::path& dir, const std::string& language);

// Everything the digest and the report will read, checked now rather than at night: the texts
// for each configured language and each template, parsed and rendered once. Throws
// TemplateError naming the file.
void check_templates(const Config& config);

}  // namespace clinicwatch
