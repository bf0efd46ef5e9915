#include <cstddef>
#include <cstdint>

#include "capture/protocols/ntlmssp.hpp"
#include "capture/protocols/smb.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    clinicwatch::Bytes in(data, size);
    for (auto m : {clinicwatch::smb::parse(in), clinicwatch::smb::parse_message(in)}) {
        if (!m) continue;
        volatile std::size_t sink = m->native_os.size() + m->native_lanman.size() +
                                    m->dialects.size() + m->dialect_names.size();
        (void)sink;
        clinicwatch::ntlmssp::find(m->security_blob);
    }
    return 0;
}
