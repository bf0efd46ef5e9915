// The p0f database reader and the TCP observation grammar take text from files; they must reject
// anything malformed without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "analyzers/os_rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    clinicwatch::OsRules rules;
    rules.p0f_families["Windows"] = "windows";
    rules.p0f_families["Linux"] = "linux";
    rules.add_p0f(text, "fuzz.fp");
    std::string err;
    clinicwatch::TcpSignature::parse(text, &err);
    clinicwatch::TcpObservation::parse(text);
    clinicwatch::parse_day(text);
    return 0;
}
