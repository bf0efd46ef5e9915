#include "bench/clinic_payloads.hpp"

#include <stdexcept>

namespace clinicwatch::bench {

namespace {
void put16le(Frame& f, std::uint16_t v) {
    f.push_back(static_cast<std::uint8_t>(v));
    f.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32le(Frame& f, std::uint32_t v) {
    put16le(f, static_cast<std::uint16_t>(v));
    put16le(f, static_cast<std::uint16_t>(v >> 16));
}
void put64le(Frame& f, std::uint64_t v) {
    put32le(f, static_cast<std::uint32_t>(v));
    put32le(f, static_cast<std::uint32_t>(v >> 32));
}
void put24(Frame& f, std::uint32_t v) {
    f.push_back(static_cast<std::uint8_t>(v >> 16));
    f.push_back(static_cast<std::uint8_t>(v >> 8));
    f.push_back(static_cast<std::uint8_t>(v));
}
void set16(Frame& f, std::size_t at, std::size_t v) {
    f[at] = static_cast<std::uint8_t>(v >> 8);
    f[at + 1] = static_cast<std::uint8_t>(v);
}
void set32(Frame& f, std::size_t at, std::size_t v) {
    set16(f, at, v >> 16);
    set16(f, at + 2, v & 0xffff);
}
}  // namespace

// ---------------------------------------------------------------------------------- DHCP

DhcpOptions& DhcpOptions::add(std::uint8_t code, ByteView value) {
    if (value.size() > 255) throw std::invalid_argument("DHCP option too long");
    put8(bytes_, code);
    put8(bytes_, static_cast<std::uint8_t>(value.size()));
    put_bytes(bytes_, value);
    return *this;
}
DhcpOptions& DhcpOptions::add(std::uint8_t code, std::string_view text) {
    return add(code, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}
DhcpOptions& DhcpOptions::add_u8(std::uint8_t code, std::uint8_t v) {
    return add(code, ByteView(&v, 1));
}
DhcpOptions& DhcpOptions::add_u32(std::uint8_t code, std::uint32_t v) {
    Frame b;
    put32(b, v);
    return add(code, b);
}

Frame dhcp_payload(const DhcpMessage& m, const DhcpOptions& options) {
    Frame f;
    f.reserve(300);
    put8(f, m.op);
    put8(f, 1);  // htype Ethernet
    put8(f, 6);
    put8(f, 0);  // hops
    put32(f, m.xid);
    put16(f, m.secs);
    put16(f, m.flags);
    put32(f, m.ciaddr);
    put32(f, m.yiaddr);
    put32(f, m.siaddr);
    put32(f, m.giaddr);
    put_mac(f, m.chaddr);
    f.resize(f.size() + 10 + 64 + 128, 0);  // chaddr padding, sname, file
    put32(f, 0x63825363);                   // magic cookie
    put_bytes(f, options.bytes());
    put8(f, 255);
    if (f.size() < 300) f.resize(300, 0);
    return f;
}

// ---------------------------------------------------------------------------------- DNS

void put_dns_name(Frame& f, std::string_view name) {
    while (!name.empty()) {
        auto dot = name.find('.');
        auto label = name.substr(0, dot);
        put8(f, static_cast<std::uint8_t>(label.size()));
        put_text(f, label);
        if (dot == std::string_view::npos) break;
        name.remove_prefix(dot + 1);
    }
    put8(f, 0);
}

Frame dns_query(std::uint16_t id, std::string_view name, std::uint16_t qtype, std::uint16_t flags) {
    Frame f;
    put16(f, id);
    put16(f, flags);
    put16(f, 1);
    put16(f, 0);
    put16(f, 0);
    put16(f, 0);
    put_dns_name(f, name);
    put16(f, qtype);
    put16(f, 1);
    return f;
}

Frame dns_response(std::uint16_t id, const DnsAnswerChain& a, std::uint16_t flags) {
    Frame f;
    put16(f, id);
    put16(f, flags);
    put16(f, 1);
    put16(f, static_cast<std::uint16_t>(a.cnames.size() + a.addresses.size()));
    put16(f, 0);
    put16(f, 0);
    put_dns_name(f, a.name);
    put16(f, 1);
    put16(f, 1);
    std::string owner = a.name;
    for (const auto& cname : a.cnames) {
        put_dns_name(f, owner);
        put16(f, 5);
        put16(f, 1);
        put32(f, a.ttl);
        std::size_t len_at = f.size();
        put16(f, 0);
        put_dns_name(f, cname);
        set16(f, len_at, f.size() - len_at - 2);
        owner = cname;
    }
    for (auto ip : a.addresses) {
        put_dns_name(f, owner);
        put16(f, 1);
        put16(f, 1);
        put32(f, a.ttl);
        put16(f, 4);
        put32(f, ip);
    }
    return f;
}

// ---------------------------------------------------------------------------------- NBNS

std::string netbios_encode(std::string_view name, std::uint8_t suffix) {
    std::string padded(name.substr(0, 15));
    for (auto& c : padded)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    padded.resize(15, ' ');
    padded.push_back(static_cast<char>(suffix));
    std::string out;
    for (unsigned char c : padded) {
        out.push_back(static_cast<char>('A' + (c >> 4)));
        out.push_back(static_cast<char>('A' + (c & 0x0f)));
    }
    return out;
}

namespace {
void put_nb_question(Frame& f, std::string_view name, std::uint8_t suffix) {
    put8(f, 32);
    put_text(f, netbios_encode(name, suffix));
    put8(f, 0);
    put16(f, 0x0020);  // NB
    put16(f, 1);       // IN
}
}  // namespace

Frame nbns_registration(std::uint16_t id, std::string_view name, std::uint8_t suffix, bool group,
                        std::uint32_t ip) {
    Frame f;
    put16(f, id);
    put16(f, 0x2910);  // registration, recursion desired, broadcast
    put16(f, 1);
    put16(f, 0);
    put16(f, 0);
    put16(f, 1);
    put_nb_question(f, name, suffix);
    put16(f, 0xc00c);  // pointer to the question name
    put16(f, 0x0020);
    put16(f, 1);
    put32(f, 300000);
    put16(f, 6);
    put16(f, group ? 0x8000 : 0x0000);
    put32(f, ip);
    return f;
}

Frame nbns_query(std::uint16_t id, std::string_view name, std::uint8_t suffix) {
    Frame f;
    put16(f, id);
    put16(f, 0x0110);  // query, recursion desired, broadcast
    put16(f, 1);
    put16(f, 0);
    put16(f, 0);
    put16(f, 0);
    put_nb_question(f, name, suffix);
    return f;
}

// ---------------------------------------------------------------------------------- mDNS/SSDP

Frame mdns_announcement(std::string_view host, std::uint32_t ip,
                        const std::vector<std::pair<std::string, std::string>>& services) {
    Frame f;
    put16(f, 0);
    put16(f, 0x8400);  // response, authoritative
    put16(f, 0);
    put16(f, static_cast<std::uint16_t>(1 + services.size()));
    put16(f, 0);
    put16(f, 0);
    std::string fqdn = std::string(host) + ".local";
    put_dns_name(f, fqdn);
    put16(f, 1);
    put16(f, 0x8001);  // IN, cache flush
    put32(f, 120);
    put16(f, 4);
    put32(f, ip);
    for (const auto& [type, instance] : services) {
        put_dns_name(f, type);
        put16(f, 12);
        put16(f, 1);
        put32(f, 4500);
        std::size_t len_at = f.size();
        put16(f, 0);
        put_dns_name(f, instance + "." + type);
        set16(f, len_at, f.size() - len_at - 2);
    }
    return f;
}

Frame mdns_question(const std::vector<std::string>& names) {
    Frame f;
    put16(f, 0);
    put16(f, 0);
    put16(f, static_cast<std::uint16_t>(names.size()));
    put16(f, 0);
    put16(f, 0);
    put16(f, 0);
    for (const auto& n : names) {
        put_dns_name(f, n);
        put16(f, 12);  // PTR
        put16(f, 1);
    }
    return f;
}

std::string ssdp_notify(std::uint32_t ip, std::string_view uuid, std::string_view server,
                        std::string_view nt) {
    std::string s =
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n";
    s += "LOCATION: http://" + ip4_text(ip) + ":5000/rootDesc.xml\r\n";
    s += "NT: " + std::string(nt) + "\r\nNTS: ssdp:alive\r\n";
    s += "SERVER: " + std::string(server) + "\r\n";
    s += "USN: uuid:" + std::string(uuid) + "::" + std::string(nt) + "\r\n\r\n";
    return s;
}

std::string ssdp_msearch(std::string_view st) {
    return "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: "
           "1\r\nST: " +
           std::string(st) + "\r\n\r\n";
}

// ---------------------------------------------------------------------------------- STP

Frame stp_config_bpdu(const MacAddress& bridge, bool topology_change) {
    Frame f;
    put16(f, 0);  // protocol id
    put8(f, 0);   // version 802.1D
    put8(f, 0);   // configuration BPDU
    put8(f, topology_change ? 0x01 : 0x00);
    put16(f, 0x8000);  // root: priority 32768, this switch
    put_mac(f, bridge);
    put32(f, 0);  // root path cost
    put16(f, 0x8000);
    put_mac(f, bridge);
    put16(f, 0x8001);    // port id
    put16(f, 0);         // message age
    put16(f, 20 * 256);  // max age 20 s
    put16(f, 2 * 256);   // hello 2 s
    put16(f, 15 * 256);  // forward delay 15 s
    return f;
}

// ---------------------------------------------------------------------------------- TLS

Frame tls_record(std::uint8_t content_type, ByteView body) {
    Frame f;
    put8(f, content_type);
    put16(f, 0x0303);
    put16(f, static_cast<std::uint16_t>(body.size()));
    put_bytes(f, body);
    return f;
}

namespace {
void put_ext(Frame& f, std::uint16_t type, const Frame& body) {
    put16(f, type);
    put16(f, static_cast<std::uint16_t>(body.size()));
    put_bytes(f, body);
}
Frame u16_list(std::initializer_list<std::uint16_t> values, int length_bytes = 2) {
    Frame f;
    std::size_t n = values.size() * 2;
    if (length_bytes == 2)
        put16(f, static_cast<std::uint16_t>(n));
    else
        put8(f, static_cast<std::uint8_t>(n));
    for (auto v : values) put16(f, v);
    return f;
}
}  // namespace

Frame tls_client_hello(int style, std::string_view server_name, ByteView random32) {
    Frame hello;
    put16(hello, style == 0 ? 0x0301 : 0x0303);
    put_bytes(hello, random32.subspan(0, 32));
    if (style == 2) {  // a 32-byte legacy session id (middlebox compatibility mode)
        put8(hello, 32);
        put_bytes(hello, random32.subspan(0, 32));
    } else {
        put8(hello, 0);
    }
    Frame suites;
    if (style == 0)
        suites = u16_list({0xc014, 0xc013, 0x0035, 0x002f, 0xc00a, 0xc009, 0x0038, 0x0032, 0x000a,
                           0x0013, 0x0005, 0x0004});
    else if (style == 1)
        suites = u16_list({0xc02c, 0xc02b, 0xc030, 0xc02f, 0xc024, 0xc023, 0xc028, 0xc027, 0xc00a,
                           0xc009, 0xc014, 0xc013, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f,
                           0x000a});
    else
        suites = u16_list({0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                           0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035});
    put_bytes(hello, suites);
    put8(hello, 1);  // compression methods: null
    put8(hello, 0);

    Frame ext;
    Frame sni;
    put16(sni, static_cast<std::uint16_t>(server_name.size() + 3));
    put8(sni, 0);  // host_name
    put16(sni, static_cast<std::uint16_t>(server_name.size()));
    put_text(sni, server_name);
    put_ext(ext, 0x0000, sni);
    if (style != 0) put_ext(ext, 0x0017, {});  // extended master secret
    put_ext(ext, 0xff01, Frame{0});            // renegotiation info
    put_ext(ext, 0x000a,
            style == 2 ? u16_list({0x001d, 0x0017, 0x0018}) : u16_list({0x0017, 0x0018}));
    put_ext(ext, 0x000b, Frame{1, 0});  // ec point formats: uncompressed
    if (style != 0) {
        put_ext(ext, 0x000d,
                u16_list({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201}));
        Frame alpn;
        put16(alpn, 12);
        put8(alpn, 2);
        put_text(alpn, "h2");
        put8(alpn, 8);
        put_text(alpn, "http/1.1");
        put_ext(ext, 0x0010, alpn);
    }
    if (style == 2) {
        put_ext(ext, 0x002b, u16_list({0x0304, 0x0303}, 1));  // supported_versions
        put_ext(ext, 0x002d, Frame{1, 1});                    // psk_key_exchange_modes
        Frame share;
        put16(share, 36);
        put16(share, 0x001d);
        put16(share, 32);
        put_bytes(share, random32.subspan(0, 32));
        put_ext(ext, 0x0033, share);
    }
    put16(hello, static_cast<std::uint16_t>(ext.size()));
    put_bytes(hello, ext);

    Frame handshake;
    put8(handshake, 1);  // ClientHello
    put24(handshake, static_cast<std::uint32_t>(hello.size()));
    put_bytes(handshake, hello);
    Frame record;
    put8(record, 0x16);
    put16(record, 0x0301);  // record version as clients send it
    put16(record, static_cast<std::uint16_t>(handshake.size()));
    put_bytes(record, handshake);
    return record;
}

// ---------------------------------------------------------------------------------- SMB2

namespace {
// NetBIOS session message header, then the 64-byte SMB2 header.
Frame smb2_header(std::uint16_t command, std::uint64_t message_id, bool response,
                  std::uint64_t session, std::uint32_t tree) {
    Frame f;
    put32(f, 0);  // NetBIOS session message; length patched by finish
    put8(f, 0xfe);
    put_text(f, "SMB");
    put16le(f, 64);
    put16le(f, 1);  // credit charge
    put32le(f, 0);  // status
    put16le(f, command);
    put16le(f, response ? 32 : 1);  // credits
    put32le(f, response ? 1 : 0);
    put32le(f, 0);  // next command
    put64le(f, message_id);
    put32le(f, 0x0000feff);  // process id
    put32le(f, tree);
    put64le(f, session);
    f.resize(f.size() + 16, 0);  // signature
    return f;
}
Frame smb2_finish(Frame f) {
    set32(f, 0, f.size() - 4);
    return f;
}
}  // namespace

Frame smb2_negotiate_request(std::uint64_t message_id, bool smb3, ByteView client_guid) {
    Frame f = smb2_header(0, message_id, false, 0, 0);
    const std::vector<std::uint16_t> dialects =
        smb3 ? std::vector<std::uint16_t>{0x0202, 0x0210, 0x0300, 0x0302}
             : std::vector<std::uint16_t>{0x0202, 0x0210};
    put16le(f, 36);
    put16le(f, static_cast<std::uint16_t>(dialects.size()));
    put16le(f, 1);  // signing enabled
    put16le(f, 0);
    put32le(f, smb3 ? 0x7f : 0x01);
    put_bytes(f, client_guid.subspan(0, 16));
    put64le(f, 0);
    for (auto d : dialects) put16le(f, d);
    return smb2_finish(std::move(f));
}

Frame smb2_negotiate_response(std::uint64_t message_id, std::uint16_t dialect,
                              ByteView server_guid) {
    Frame f = smb2_header(0, message_id, true, 0, 0);
    put16le(f, 65);
    put16le(f, 1);
    put16le(f, dialect);
    put16le(f, 0);
    put_bytes(f, server_guid.subspan(0, 16));
    put32le(f, 0x07);
    put32le(f, 8 * 1024 * 1024);
    put32le(f, 8 * 1024 * 1024);
    put32le(f, 8 * 1024 * 1024);
    put64le(f, 0x01db5a0000000000ULL);  // system time (FILETIME)
    put64le(f, 0);
    put16le(f, 128);  // security buffer offset
    put16le(f, 0);
    put32le(f, 0);
    return smb2_finish(std::move(f));
}

Frame smb2_read_request(std::uint64_t message_id, std::uint64_t session, std::uint32_t tree,
                        std::uint32_t length, std::uint64_t offset) {
    Frame f = smb2_header(8, message_id, false, session, tree);
    put16le(f, 49);
    put8(f, 0x50);
    put8(f, 0);
    put32le(f, length);
    put64le(f, offset);
    put64le(f, session ^ 0x1111);  // file id (persistent)
    put64le(f, tree);              // file id (volatile)
    put32le(f, 1);                 // minimum count
    put32le(f, 0);
    put32le(f, 0);
    put16le(f, 0);
    put16le(f, 0);
    put8(f, 0);
    return smb2_finish(std::move(f));
}

Frame smb2_read_response(std::uint64_t message_id, std::uint64_t session, std::uint32_t tree,
                         ByteView data) {
    Frame f = smb2_header(8, message_id, true, session, tree);
    put16le(f, 17);
    put8(f, 0x50);
    put8(f, 0);
    put32le(f, static_cast<std::uint32_t>(data.size()));
    put32le(f, 0);
    put32le(f, 0);
    put_bytes(f, data);
    return smb2_finish(std::move(f));
}

// ---------------------------------------------------------------------------------- DICOM

namespace {
void put_ae(Frame& f, std::string_view ae) {
    std::string s(ae.substr(0, 16));
    s.resize(16, ' ');
    put_text(f, s);
}
void put_uid_item(Frame& f, std::uint8_t type, std::string_view uid) {
    put8(f, type);
    put8(f, 0);
    put16(f, static_cast<std::uint16_t>(uid.size()));
    put_text(f, uid);
}
}  // namespace

Frame dicom_associate(bool accept, std::string_view called, std::string_view calling) {
    Frame body;
    put16(body, 1);  // protocol version
    put16(body, 0);
    put_ae(body, called);
    put_ae(body, calling);
    body.resize(body.size() + 32, 0);
    put_uid_item(body, 0x10, "1.2.840.10008.3.1.1.1");  // application context
    Frame pc;
    put8(pc, 1);  // presentation context id
    put8(pc, 0);
    put8(pc, 0);  // result: acceptance (AC) / reserved (RQ)
    put8(pc, 0);
    if (!accept) put_uid_item(pc, 0x30, "1.2.840.10008.5.1.4.1.1.1");  // CR Image Storage
    put_uid_item(pc, 0x40, "1.2.840.10008.1.2.1");                     // explicit VR little endian
    put8(body, accept ? 0x21 : 0x20);
    put8(body, 0);
    put16(body, static_cast<std::uint16_t>(pc.size()));
    put_bytes(body, pc);
    Frame user;
    put8(user, 0x51);  // maximum length
    put8(user, 0);
    put16(user, 4);
    put32(user, 16384);
    put_uid_item(user, 0x52, "1.2.392.200036.9125.0.1");  // implementation class uid
    put8(body, 0x50);
    put8(body, 0);
    put16(body, static_cast<std::uint16_t>(user.size()));
    put_bytes(body, user);
    Frame f;
    put8(f, accept ? 0x02 : 0x01);
    put8(f, 0);
    put32(f, static_cast<std::uint32_t>(body.size()));
    put_bytes(f, body);
    return f;
}

Frame dicom_pdata(ByteView data, bool command, bool last) {
    Frame f;
    put8(f, 0x04);
    put8(f, 0);
    put32(f, static_cast<std::uint32_t>(data.size() + 6));
    put32(f, static_cast<std::uint32_t>(data.size() + 2));  // PDV item length
    put8(f, 1);                                             // presentation context
    put8(f, static_cast<std::uint8_t>((command ? 0x01 : 0x00) | (last ? 0x02 : 0x00)));
    put_bytes(f, data);
    return f;
}

namespace {
void put_element(Frame& f, std::uint16_t element, ByteView value) {
    put16le(f, 0x0000);  // command group
    put16le(f, element);
    put32le(f, static_cast<std::uint32_t>(value.size()));
    put_bytes(f, value);
}
void put_us(Frame& f, std::uint16_t element, std::uint16_t v) {
    Frame b;
    put16le(b, v);
    put_element(f, element, b);
}
void put_ui(Frame& f, std::uint16_t element, std::string_view uid) {
    Frame b(uid.begin(), uid.end());
    if (b.size() % 2) b.push_back(0);  // UIDs are padded to even length with NUL
    put_element(f, element, b);
}
}  // namespace

Frame dicom_cstore_command(bool response, std::uint16_t message_id, std::string_view sop_instance) {
    Frame body;
    put_ui(body, 0x0002, "1.2.840.10008.5.1.4.1.1.1");  // CR Image Storage
    put_us(body, 0x0100, response ? 0x8001 : 0x0001);   // C-STORE-RSP / C-STORE-RQ
    put_us(body, response ? 0x0120 : 0x0110, message_id);
    if (!response) put_us(body, 0x0700, 0);            // priority medium
    put_us(body, 0x0800, response ? 0x0101 : 0x0000);  // data set absent / present
    if (response) put_us(body, 0x0900, 0x0000);        // status success
    put_ui(body, 0x1000, sop_instance);                // affected SOP instance
    Frame f;
    Frame length;
    put32le(length, static_cast<std::uint32_t>(body.size()));
    put_element(f, 0x0000, length);  // command group length
    put_bytes(f, body);
    return f;
}

Frame dicom_pixel_data_header(std::uint32_t pixel_bytes) {
    Frame f;
    put16le(f, 0x7fe0);
    put16le(f, 0x0010);
    put_text(f, "OW");
    put16le(f, 0);
    put32le(f, pixel_bytes);
    return f;
}

Frame dicom_release(bool response) {
    Frame f;
    put8(f, response ? 0x06 : 0x05);
    put8(f, 0);
    put32(f, 4);
    put32(f, 0);
    return f;
}

}  // namespace clinicwatch::bench
