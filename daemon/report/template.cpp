#include "daemon/report/template.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <mstch/mstch.hpp>
#include <set>
#include <sstream>

#include "daemon/install_paths.hpp"

namespace clinicwatch {

namespace {

mstch::node to_node(const nlohmann::json& j) {
    switch (j.type()) {
        case nlohmann::json::value_t::null:
        case nlohmann::json::value_t::discarded:
            return std::string();
        case nlohmann::json::value_t::boolean:
            return j.get<bool>();
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
            // mstch holds int; larger counts are shown as text.
            if (j.get<std::int64_t>() >= INT32_MIN && j.get<std::int64_t>() <= INT32_MAX)
                return static_cast<int>(j.get<std::int64_t>());
            return j.dump();
        case nlohmann::json::value_t::number_float:
            return j.get<double>();
        case nlohmann::json::value_t::string:
            return j.get<std::string>();
        case nlohmann::json::value_t::array: {
            mstch::array a;
            a.reserve(j.size());
            for (const auto& item : j) a.push_back(to_node(item));
            return a;
        }
        case nlohmann::json::value_t::object: {
            mstch::map m;
            for (auto it = j.begin(); it != j.end(); ++it) m.emplace(it.key(), to_node(it.value()));
            return m;
        }
        case nlohmann::json::value_t::binary:
            break;
    }
    return std::string();
}

}  // namespace

std::string escape_markup(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                // Control characters are not allowed in XML 1.0 (the SVG map) nor wanted in HTML.
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t' || c == '\r')
                    out += c;
        }
    }
    return out;
}

namespace {

// mstch keeps its escape function in a global; set it for one render and put it back.
class EscapeScope {
  public:
    explicit EscapeScope(Escape escape) : saved_(mstch::config::escape) {
        if (escape == Escape::none)
            mstch::config::escape = [](const std::string& s) { return s; };
        else
            mstch::config::escape = escape_markup;
    }
    ~EscapeScope() { mstch::config::escape = saved_; }
    EscapeScope(const EscapeScope&) = delete;
    EscapeScope& operator=(const EscapeScope&) = delete;

  private:
    std::function<std::string(const std::string&)> saved_;
};

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw TemplateError("cannot read template " + path.string() +
                            " (is clinicwatch installed completely? set report.templates_dir "
                            "or CLINICWATCH_TEMPLATES)");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

nlohmann::json yaml_to_json(const YAML::Node& n) {
    if (n.IsMap()) {
        auto out = nlohmann::json::object();
        for (const auto& kv : n) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
        return out;
    }
    if (n.IsSequence()) {
        auto out = nlohmann::json::array();
        for (const auto& item : n) out.push_back(yaml_to_json(item));
        return out;
    }
    if (n.IsScalar()) return n.Scalar();
    return nullptr;
}

}  // namespace

std::filesystem::path templates_dir(const Config& config) {
    if (!config.report.templates_dir.empty()) return config.report.templates_dir;
    if (const char* env = std::getenv("CLINICWATCH_TEMPLATES"); env && *env) return env;
    std::filesystem::path installed = installed_data_dir() / "templates";
    if (std::filesystem::exists(installed / "messages.yaml")) return installed;
    return CLINICWATCH_SOURCE_TEMPLATES_DIR;
}

std::string render_string(const std::string& text, const nlohmann::json& model, Escape escape) {
    EscapeScope scope(escape);
    return mstch::render(text, to_node(model));
}

std::string render_file(const std::filesystem::path& dir, const std::string& name,
                        const nlohmann::json& model, Escape escape) {
    return render_string(read_file(dir / name), model, escape);
}

nlohmann::json load_messages(const std::filesystem::path& dir, const std::string& language) {
    auto path = dir / "messages.yaml";
    YAML::Node root;
    try {
        root = YAML::LoadFile(path.string());
    } catch (const YAML::Exception& e) {
        throw TemplateError("cannot read " + path.string() + ": " + e.what());
    }
    auto all = yaml_to_json(root);
    if (!all.contains(language) || !all[language].is_object())
        throw TemplateError(path.string() + " has no texts for language '" + language + "'");
    return all[language];
}

void check_templates(const Config& config) {
    auto dir = templates_dir(config);
    std::set<std::string> languages = {config.digest.language, config.report.language};
    for (const auto& language : languages) {
        load_messages(dir, language);
        for (const std::string& name :
             {"digest." + language + ".txt", "digest." + language + ".html",
              "report." + language + ".html"}) {
            try {
                render_file(dir, name, nlohmann::json::object(), Escape::none);
            } catch (const TemplateError&) {
                throw;
            } catch (const std::exception& e) {
                throw TemplateError((dir / name).string() + ": " + e.what());
            }
        }
    }
}

}  // namespace clinicwatch
