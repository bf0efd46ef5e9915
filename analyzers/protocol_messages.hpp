// Application messages parsed once and handed to the units that need them: the unit that
// parses a message (OsFingerprint, for SMB, TLS ClientHellos and HTTP) publishes it with the
// LAN devices involved, already looked up, so another unit neither parses it nor walks the
// HostTable again.
#pragma once

#include "analyzers/host_table.hpp"
#include "capture/packet.hpp"
#include "capture/protocols/http.hpp"
#include "capture/protocols/smb.hpp"
#include "capture/protocols/tls.hpp"

namespace clinicwatch {

class ProtocolMessages {
  public:
    virtual ~ProtocolMessages() = default;
    // `src`/`dst`: the device on the LAN that sent/received it; nothing when the address is not
    // internal or the device is not (yet) in the table.
    virtual void on_smb(const Packet& p, const smb::Message& m, Host* src, Host* dst) = 0;
    virtual void on_client_hello(const Packet& p, const tls::ClientHello& hello, Host* src) = 0;
    virtual void on_http_request(const Packet& p, const http::Message& m, Host* src) = 0;
};

}  // namespace clinicwatch
