// The load tester's commands: start (and its options), stop, wait, and the
// table of commands. The figures and reports are in gen_report.cpp.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "dpdk_app/cli/gen_commands.hpp"

namespace tcpfp::app::cli {

namespace {

using Run = GenState::Run;
using Clock = GenState::Clock;

bool parse_number(const std::string& s, double& v) {
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return !s.empty() && *end == '\0' && std::isfinite(v) && v >= 0;
}

bool whole(double v, double lo, double hi) { return v == std::floor(v) && v >= lo && v <= hi; }

// "on"/"off" (also 1/0).
bool parse_switch(const std::string& s, bool& on) {
    if (s != "on" && s != "1" && s != "off" && s != "0") return false;
    on = s == "on" || s == "1";
    return true;
}

// "LO-HI" or "N" (a range of one).
bool parse_range(const std::string& s, double lo_min, double hi_max, double& lo, double& hi) {
    const auto dash = s.find('-');
    if (!parse_number(s.substr(0, dash), lo)) return false;
    hi = lo;
    if (dash != std::string::npos && !parse_number(s.substr(dash + 1), hi)) return false;
    return whole(lo, lo_min, hi_max) && whole(hi, lo, hi_max);
}

// An HTTP token (RFC 9110 §5.6.2): a method, a header name.
bool http_token(const std::string& s) {
    static const std::string kSpecials = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || kSpecials.find(c) != std::string::npos;
    });
}

bool valid_name(const std::string& n) {
    static const char* const kReserved[] = {"crr", "rr", "bulk", "hold", "json", "timeout", "all"};
    if (n.empty() || n.size() > 32) return false;
    for (const char* r : kReserved) {
        if (n == r) return false;
    }
    return std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

}  // namespace

void GenState::fail(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    st.fail(buf);
}

// The profile called `name` ("" is the unnamed one); fails `command` if none ran.
GenState::Profile* GenState::find(const std::string& name, const char* command) {
    for (auto& p : profiles) {
        if (p.used && p.name == name) return &p;
    }
    if (name.empty()) {
        fail("%s: no generator has run (start gen ...)", command);
    } else {
        fail("%s: no profile '%s' (show gen lists them)", command, name.c_str());
    }
    return nullptr;
}

// Where a new run of `name` goes: its own slot again, or a free one.
GenState::Profile* GenState::slot_for(const std::string& name) {
    for (auto& p : profiles) {
        if (p.used && p.name == name) return &p;
    }
    for (auto& p : profiles) {
        if (!p.used) return &p;
    }
    // Full: reuse the first profile that has ended.
    for (auto& p : profiles) {
        const Sums s = sum_published(p);
        if (s.running + s.draining == 0) return &p;
    }
    return nullptr;
}

// --- options -----------------------------------------------------------------

bool GenState::parse_options(const std::vector<std::string>& w, Run& r) {
    for (std::size_t i = 0; i < w.size(); ++i) {
        if (!parse_option(w, i, r)) return false;
    }
    return true;
}

namespace {

// The word after an option's key, read once for every group of options.
struct OptionValue {
    const std::string& text;  // "" when there is none
    bool numeric;             // a finite number >= 0: `number`
    double number;
};

// Each group's parser sets `known` when the key is one of its own, and then
// returns why the value is refused, or nullptr when it is taken into `r`.
using OptionParser = const char* (*)(const std::string& k, const OptionValue& v, Run& r,
                                      bool& known);

// size, request, response: the bytes each way.
const char* parse_size_option(const std::string& k, const OptionValue& v, Run& r, bool& known) {
    known = k == "size" || k == "request" || k == "response";
    if (!known) return nullptr;
    const double x = v.number;
    const bool ok = v.numeric && whole(x, 1, k == "response" ? 2147483647.0 : 65536.0);
    if (!ok) return k == "response" ? "bytes, 1..2147483647" : "bytes, 1..65536";
    if (k == "size" && x > 65536) return "bytes, 1..65536";
    if (k != "response") r.request = static_cast<std::uint32_t>(x);
    if (k != "request") r.response = static_cast<std::uint32_t>(x);
    r.response_given |= k == "response";
    r.request_given |= k != "response";
    return nullptr;
}

// How long, how many, and how fast: duration count rate ramp think pipeline.
const char* parse_pace_option(const std::string& k, const OptionValue& v, Run& r, bool& known) {
    known = true;
    const bool num = v.numeric;
    const double x = v.number;
    if (k == "duration") return num && x > 0 && x <= 1e6 ? (r.duration_s = x, nullptr) : "seconds > 0";
    if (k == "count") return num && whole(x, 1, 1e15) ? (r.count = static_cast<std::uint64_t>(x), nullptr) : ">= 1";
    if (k == "rate") {
        std::string s = v.text;
        if (s.size() > 2 && s.compare(s.size() - 2, 2, "/s") == 0) s.resize(s.size() - 2);
        double rate = 0;
        return parse_number(s, rate) && rate > 0 && rate <= 1e8 ? (r.rate = rate, nullptr) : "per second, e.g. 1000/s";
    }
    if (k == "ramp") return num && x <= 3600 ? (r.ramp_s = x, nullptr) : "seconds, 0..3600";
    if (k == "think") return num && x <= 3.6e6 ? (r.think_ms = x, nullptr) : "milliseconds";
    if (k == "pipeline") return num && whole(x, 1, 8) ? (r.pipeline = static_cast<std::uint32_t>(x), nullptr) : "1..8";
    known = false;
    return nullptr;
}

// Opening and closing connections: drain syn-window close-window
// connect-timeout close closer.
const char* parse_connection_option(const std::string& k, const OptionValue& v, Run& r,
                                    bool& known) {
    known = true;
    const bool num = v.numeric;
    const double x = v.number;
    if (k == "drain") return num && whole(x, 0, 600000) ? (r.drain_ms = static_cast<std::uint32_t>(x), nullptr) : "ms";
    if (k == "syn-window") {
        // Each worker's bound on its SYNs in flight: an open loop past the
        // server's capacity must not stall on SYNs it dropped (each waits 1 s).
        return num && whole(x, 1, 1e7) ? (r.syn_window = static_cast<std::uint32_t>(x), nullptr) : "1..10000000";
    }
    if (k == "close-window") {
        // Each worker's bound on its end-of-run FINs not yet answered: a
        // million closes at once draw a million answers, more than the link
        // and this worker's reads take in.
        return num && whole(x, 1, 1e7) ? (r.close_window = static_cast<std::uint32_t>(x), nullptr) : "1..10000000";
    }
    if (k == "connect-timeout") {
        return num && whole(x, 1, 600000) ? (r.connect_timeout_ms = static_cast<std::uint32_t>(x), nullptr) : "ms";
    }
    if (k == "close") {
        return v.text == "fin" || v.text == "rst" ? (r.close_rst = v.text == "rst", nullptr) : "fin or rst";
    }
    if (k == "closer") {
        if (v.text != "client" && v.text != "server") return "client or server";
        r.closer = v.text == "server" ? GenCloser::server : GenCloser::client;
        r.closer_given = true;
        return nullptr;
    }
    known = false;
    return nullptr;
}

// The protocol and the client's end: proto src sport.
const char* parse_endpoint_option(const std::string& k, const OptionValue& v, Run& r, bool& known) {
    known = true;
    if (k == "proto") {
        if (v.text != "echo" && v.text != "rr" && v.text != "http") return "echo, rr or http";
        r.proto = v.text == "rr" ? GenProto::rr : v.text == "http" ? GenProto::http : GenProto::echo;
        r.proto_given = true;
        return nullptr;
    }
    if (k == "src") {
        const auto dash = v.text.find('-');
        const auto lo = parse_addr(v.text.substr(0, dash));
        const auto hi = dash == std::string::npos ? lo : parse_addr(v.text.substr(dash + 1));
        if (!lo || !hi || lo->is_unspecified() || hi->value < lo->value) return "A.B.C.D or A.B.C.D-A.B.C.E";
        r.src_lo = *lo;
        r.src_hi = *hi;
        return nullptr;
    }
    if (k == "sport") {
        double lo = 0, hi = 0;
        if (!parse_range(v.text, 1, 65535, lo, hi)) return "LO-HI within 1..65535";
        r.port_lo = static_cast<std::uint16_t>(lo);
        r.port_hi = static_cast<std::uint16_t>(hi);
        return nullptr;
    }
    known = false;
    return nullptr;
}

// Tried in turn: each key belongs to one group at most.
constexpr OptionParser kOptionParsers[] = {parse_size_option, parse_pace_option,
                                           parse_connection_option, parse_endpoint_option};

}  // namespace

// One option at w[i] (and its value: i moves past it).
bool GenState::parse_option(const std::vector<std::string>& w, std::size_t& i, Run& r) {
    const std::string& k = w[i];
    if (k == "verify") return r.verify = true;
    const bool has = i + 1 < w.size();
    const std::string v = has ? w[i + 1] : "";
    double x = 0;
    const bool num = has && parse_number(v, x);
    bool known = false;
    if (!parse_http_option(w, i, r, known)) return false;
    if (known) return true;
    if (!parse_tcp_option(k, v, r, known)) return false;
    if (known) return ++i, true;
    ++i;
    const OptionValue value{v, num, x};
    for (OptionParser parse : kOptionParsers) {
        const char* why = parse(k, value, r, known);
        if (!known) continue;
        if (why == nullptr) return true;
        fail("bad argument: %s %s (%s)", k.c_str(), has ? v.c_str() : "needs a value", why);
        return false;
    }
    --i;
    fail("bad argument: '%s' (options: size request response duration count verify rate ramp think pipeline "
         "close closer drain connect-timeout syn-window close-window proto method path host header body keepalive sha256 mss wscale "
         "sack ts cc nodelay sndbuf rcvbuf ttl tos src sport)",
         k.c_str());
    return false;
}

// The per-profile TCP knobs: socket options of every connection.
bool GenState::parse_tcp_option(const std::string& k, const std::string& v, Run& r, bool& known) {
    static const char* const kKeys[] = {"mss", "wscale", "sack", "ts", "cc", "nodelay", "sndbuf", "rcvbuf", "ttl", "tos"};
    known = std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* s) { return k == s; }) != std::end(kKeys);
    if (!known) return true;
    double x = 0;
    bool on = false;
    const bool num = parse_number(v, x);
    auto bad = [&](const char* what) {
        fail("bad argument: %s %s (%s)", k.c_str(), v.empty() ? "needs a value" : v.c_str(), what);
        return false;
    };
    tcp::SocketOptions& o = r.options;
    if (k == "mss") return num && whole(x, 64, 65495) ? (o.max_segment = static_cast<std::int64_t>(x), true) : bad("64..65495");
    if (k == "wscale") return parse_switch(v, on) ? (o.window_scale = on, true) : bad("on or off");
    if (k == "sack") return parse_switch(v, on) ? (o.sack = on, true) : bad("on or off");
    if (k == "ts") return parse_switch(v, on) ? (o.timestamps = on, true) : bad("on or off");
    if (k == "nodelay") return parse_switch(v, on) ? (o.nodelay = on, true) : bad("on or off");
    if (k == "cc") {
        if (v != "newreno" && v != "cubic") return bad("newreno or cubic");
        return o.congestion = v == "cubic" ? 1 : 0, true;
    }
    if (k == "sndbuf" || k == "rcvbuf") {
        if (!num || !whole(x, 1024, 1 << 30)) return bad("bytes, 1024..2^30");
        (k == "sndbuf" ? o.send_buffer : o.recv_buffer) = static_cast<std::int64_t>(x);
        return true;
    }
    if (k == "ttl") return num && whole(x, 1, 255) ? (o.ttl = static_cast<std::int64_t>(x), true) : bad("1..255");
    return num && whole(x, 0, 255) ? (o.tos = static_cast<std::int64_t>(x), true) : bad("0..255");
}

// HTTP request options; `header` takes a double-quoted "Name: value".
bool GenState::parse_http_option(const std::vector<std::string>& w, std::size_t& i, Run& r, bool& known) {
    const std::string& k = w[i];
    known = k == "method" || k == "path" || k == "host" || k == "header" || k == "body" || k == "keepalive" ||
            k == "sha256";
    if (!known) return true;
    if (i + 1 >= w.size()) {
        fail("bad argument: %s needs a value", k.c_str());
        return false;
    }
    const std::string v = w[++i];
    double x = 0;
    bool on = false;
    auto bad = [&](const char* what) {
        fail("bad argument: %s %s (%s)", k.c_str(), v.c_str(), what);
        return false;
    };
    if (k == "method") return http_token(v) ? (r.method = v, true) : bad("an HTTP method token, e.g. GET");
    if (k == "path") {
        const bool ok = !v.empty() && v[0] == '/' && std::none_of(v.begin(), v.end(), [](char c) { return c <= ' '; });
        return ok ? (r.path = v, true) : bad("starts with /, no spaces");
    }
    if (k == "host") return http_token(v) || parse_addr(v) ? (r.host = v, true) : bad("a host name");
    if (k == "body") return parse_number(v, x) && whole(x, 0, 65536) ? (r.body = static_cast<std::uint32_t>(x), true) : bad("bytes, 0..65536");
    if (k == "keepalive") return parse_switch(v, on) ? (r.keep_alive = on, true) : bad("on or off");
    if (k == "sha256") {
        const bool hex = v.size() == 64 && std::all_of(v.begin(), v.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
        return hex ? (r.sha256 = v, true) : bad("64 hex digits");
    }
    // header "Name: value": the quoted string may hold spaces, so it spans words.
    std::string quoted = v;
    while (quoted.size() < 2 || quoted.back() != '"') {
        if (i + 1 >= w.size()) return bad("a double-quoted \"Name: value\"");
        quoted += ' ';
        quoted += w[++i];
    }
    std::string h;
    const auto colon = parse_quoted(quoted, h) ? h.find(':') : std::string::npos;
    if (colon == std::string::npos || !http_token(h.substr(0, colon)) || h.find_first_of("\r\n") != std::string::npos) {
        return bad("\"Name: value\", a token name and no line breaks");
    }
    if (r.headers.size() >= 16) return bad("at most 16 headers");
    r.headers.push_back(h);
    return true;
}

// The defaults that follow from the mode, the port and the options, then
// the combinations that cannot work.
bool GenState::check_run(Run& r) {
    const bool exchange = r.mode == GenMode::crr || r.mode == GenMode::rr;
    if (!r.proto_given) {
        r.proto = r.rport == 80 && exchange ? GenProto::http : r.response_given && r.response != r.request ? GenProto::rr : GenProto::echo;
    }
    if (r.mode == GenMode::hold && r.count > 0) return fail("bad argument: hold takes a duration, not a count"), false;
    if (r.mode == GenMode::hold && (r.proto == GenProto::http || (r.response_given && r.proto != GenProto::rr))) {
        return fail("bad argument: hold sends `size` bytes once, or with proto rr one request whose response "
                    "stays unread (no response without proto rr, no http)"),
               false;
    }
    if (r.duration_s > 0 && r.count > 0) return fail("bad argument: duration and count exclude each other"), false;
    if (r.rate > 0 && r.mode == GenMode::bulk) return fail("bad argument: rate: crr, hold (connections/s) or rr (requests/s)"), false;
    if (r.ramp_s > 0 && r.rate == 0) return fail("bad argument: ramp needs a rate"), false;
    if ((r.think_ms > 0 && r.mode != GenMode::rr) || (r.pipeline > 1 && r.mode != GenMode::rr)) {
        return fail("bad argument: think and pipeline apply to rr"), false;
    }
    if (r.proto == GenProto::echo && r.response_given && r.response != r.request) {
        return fail("bad argument: response: an echo answers with the request's size (proto rr or http for another)"), false;
    }
    if (r.proto == GenProto::echo && r.closer == GenCloser::server) {
        return fail("bad argument: closer server: an echo server never closes first (proto rr or http)"), false;
    }
    const bool pattern_path = r.path.rfind("/bytes/", 0) == 0 || r.path.rfind("/chunked/", 0) == 0;
    if (r.verify && (r.mode == GenMode::hold || (r.proto == GenProto::http && !pattern_path && !r.response_given))) {
        return fail("bad argument: verify checks echoed bytes or tcpfp's response pattern (rr, http /bytes/N, /chunked/N)"), false;
    }
    if (r.proto == GenProto::http && !check_http(r)) return false;
    const std::uint64_t room = std::uint64_t{st.cfg.engine.max_connections} * workers();
    if (r.conns == 0 || r.conns > room) {
        return fail("bad argument: conns must be 1..%" PRIu64 " ([engine] max_connections per worker)", room), false;
    }
    return true;
}

bool GenState::check_http(Run& r) {
    if (!(r.mode == GenMode::crr || r.mode == GenMode::rr)) {
        return fail("bad argument: proto http: crr or rr"), false;
    }
    if (r.path.empty()) r.path = r.response_given ? "/bytes/" + std::to_string(r.response) : "/";
    // crr: the server closes (Connection: close) unless the client is to.
    if (r.keep_alive < 0) r.keep_alive = r.mode == GenMode::rr || (r.closer_given && r.closer == GenCloser::client);
    if (r.mode == GenMode::crr && !r.closer_given) r.closer = r.keep_alive ? GenCloser::client : GenCloser::server;
    if (r.closer == GenCloser::server) r.keep_alive = 0;
    if (!r.sha256.empty() && r.method == "HEAD") return fail("bad argument: sha256 with HEAD (no body)"), false;
    build_http_request(r);
    return true;
}

// RFC 9112 §3: request line, Host (RFC 9110 §7.2), our headers, the body's
// Content-Length (§6.2), and Connection: close unless kept alive (§9.6).
void GenState::build_http_request(Run& r) const {
    std::string host = r.host;
    if (host.empty()) {
        host = r.raddr.to_string();
        if (r.rport != 80) host += ':' + std::to_string(r.rport);
    }
    std::string q = r.method + " " + r.path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: tcpfp-gen\r\n";
    for (const auto& h : r.headers) q += h + "\r\n";
    if (r.body > 0) q += "Content-Length: " + std::to_string(r.body) + "\r\n";
    if (r.keep_alive == 0) q += "Connection: close\r\n";
    r.http_request = q + "\r\n";
}

// The local addresses: the `src` range, or those on the peer's subnet (all
// of them when none is).
std::uint32_t GenState::pick_locals(const Run& r, GenSpec& spec) {
    std::uint32_t n = 0;
    for (const auto& a : st.cfg.port.addresses) {
        const bool in = r.src_lo.is_unspecified() ? a.same_subnet(r.raddr)
                                                  : a.addr.value >= r.src_lo.value && a.addr.value <= r.src_hi.value;
        if (in && n < spec.locals.size()) spec.locals[n++] = a.addr;
    }
    if (n == 0 && r.src_lo.is_unspecified()) {
        for (const auto& a : st.cfg.port.addresses) {
            if (n < spec.locals.size()) spec.locals[n++] = a.addr;
        }
    }
    spec.local_count = n;
    return n;
}

// Worker w's share: its connections, and the rate and count in proportion.
GenSpec GenState::spec_for(const Profile& p, unsigned w) const {
    const Run& r = p.run;
    GenSpec spec;
    spec.name = p.name;
    spec.mode = r.mode;
    spec.proto = r.proto;
    spec.remote_ip = r.raddr;
    spec.remote_port = r.rport;
    const unsigned n = workers();
    spec.conns = r.conns / n + (w < r.conns % n ? 1 : 0);
    const double share = static_cast<double>(spec.conns) / r.conns;
    spec.request = r.mode == GenMode::bulk && r.request == 64 ? 16384 : r.request;
    spec.response = r.response;
    // hold: `size` bytes once; with proto rr, one request (at least its 8-byte header).
    spec.hold_bytes = r.mode != GenMode::hold            ? 0
                      : r.proto == GenProto::rr          ? std::max<std::uint32_t>(r.request, 8)
                      : r.request_given                  ? r.request
                                                         : 0;
    spec.duration_us = static_cast<std::uint64_t>(r.duration_s * 1e6);
    if (r.count > 0 && spec.conns > 0) spec.count = std::max<std::uint64_t>(1, r.count * spec.conns / r.conns);
    spec.verify = r.verify;
    spec.rate = r.rate * share;
    spec.ramp_us = static_cast<std::uint64_t>(r.ramp_s * 1e6);
    spec.think_us = static_cast<std::uint64_t>(r.think_ms * 1e3);
    spec.pipeline = r.pipeline;
    spec.closer = r.closer;
    spec.close_rst = r.close_rst;
    spec.drain_ms = r.drain_ms;
    spec.connect_timeout_ms = r.connect_timeout_ms;
    spec.syn_window = r.syn_window;
    spec.close_window = r.close_window;
    spec.http_request = r.http_request;
    spec.http_body = r.body;
    spec.http_head = r.method == "HEAD";
    spec.keep_alive = r.keep_alive != 0;
    spec.check_digest = !r.sha256.empty();
    for (std::size_t i = 0; i < spec.digest.size() && spec.check_digest; ++i) {
        spec.digest[i] = static_cast<std::uint8_t>(std::stoul(r.sha256.substr(2 * i, 2), nullptr, 16));
    }
    spec.options = r.options;
    spec.port_lo = r.port_lo;
    spec.port_hi = r.port_hi;
    spec.seed = 0x67656e00ull + p.runs * 131 + static_cast<std::uint64_t>(&p - profiles.data());
    spec.publish = &(*p.published)[w];
    return spec;
}

// --- start, stop, wait -------------------------------------------------------------

void GenState::start_gen(const Args& a, bool named, bool with_options) {
    const std::size_t o = named ? 1 : 0;  // token offset after the name
    const std::string name = named ? a.s[2] : "";
    if (named && !valid_name(name)) {
        return fail("bad argument: profile name '%s' (1..32 of A-Z a-z 0-9 _ -; not crr, rr, bulk, hold, json, timeout, all)",
                    name.c_str());
    }
    Run next;
    const std::string& mode = a.s[2 + o];
    next.mode = mode == "crr" ? GenMode::crr : mode == "rr" ? GenMode::rr : mode == "bulk" ? GenMode::bulk : GenMode::hold;
    if (!parse_target(a.s[3 + o], next.raddr, next.rport)) {
        return fail("bad argument: '%s' is not ADDR:PORT", a.s[3 + o].c_str());
    }
    next.conns = a.n[5 + o];
    if (with_options && !parse_options(words(a.rest), next)) return;
    if (!check_run(next)) return;
    Profile* p = slot_for(name);
    if (p == nullptr) return fail("start gen: %zu profiles are running (stop one first)", kMaxProfiles);
    const Sums now = sum_published(*p);
    if (p->used && now.running + now.draining > 0) {
        return fail("start gen: profile '%s' is running (stop gen%s%s first)", name.c_str(), named ? " " : "", name.c_str());
    }
    if (!resolve_next_hop(st, next.raddr, "start gen")) return;
    GenSpec probe;
    next.locals = pick_locals(next, probe);
    if (next.locals == 0) return fail("bad argument: src: no local address in that range");
    {
        std::lock_guard<std::mutex> lock(mu);
        if (!p->published) p->published = std::make_unique<std::array<GenPublished, kMaxWorkers>>();
        p->name = name;
        p->used = true;
        p->run = next;
        ++p->runs;
        p->series.clear();
        p->follow.fill(Follow{});
        // The workers' share of this profile has ended: nobody writes these now.
        for (auto& g : *p->published) g.seconds.store(0, std::memory_order_relaxed);
        p->reporting = false;
    }
    if (!send_start(*p, probe)) return;
    std::printf("gen%s%s: started %s on %u worker(s), from %u local address(es)\n", named ? " " : "", name.c_str(),
                describe(*p).c_str(), workers(), next.locals);
    start_reporter();
}

bool GenState::send_start(Profile& p, const GenSpec& probe) {
    const auto index = static_cast<std::size_t>(&p - profiles.data());
    p.started_at = Clock::now();
    for (unsigned w = 0; w < workers(); ++w) {
        GenSpec spec = spec_for(p, w);
        spec.locals = probe.locals;
        spec.local_count = probe.local_count;
        auto r = std::make_unique<GenStart>(index, spec);
        if (!st.call(w, r)) return false;
        if (r->rc != 0) return fail("start gen: worker %u: %s", w, r->out.c_str()), false;
    }
    std::lock_guard<std::mutex> lock(mu);
    p.reporting = true;
    return true;
}

void GenState::stop_gen(const std::string& name) {
    std::vector<Profile*> which;
    if (name.empty()) {
        for (auto& p : profiles) {
            if (p.used) which.push_back(&p);
        }
        if (which.empty()) return (void)find(name, "stop gen");
    } else {
        Profile* p = find(name, "stop gen");
        if (p == nullptr) return;
        which.push_back(p);
    }
    for (Profile* p : which) {
        const auto index = static_cast<std::size_t>(p - profiles.data());
        for (unsigned w = 0; w < workers(); ++w) {
            auto r = std::make_unique<GenStop>(index);
            if (!st.call(w, r)) return;
        }
    }
    for (Profile* p : which) {
        // The workers drain and close in batches: wait for the last (the drain time and 5 s).
        const auto end = Clock::now() + std::chrono::milliseconds(p->run.drain_ms + 5000);
        for (Sums s = sum_published(*p); s.running + s.draining > 0 && Clock::now() < end && !signalled();
             s = sum_published(*p)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        flush_reports(*p);
        Summary s;
        if (!collect(*p, s)) return;
        print_text(*p, s);
    }
}

GenState::Sums GenState::sum_published(const Profile& p) const {
    Sums s;
    if (!p.published) return s;
    for (unsigned w = 0; w < workers(); ++w) {
        const auto& g = (*p.published)[w];
        auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
        s.opened += get(g.conns_opened);
        s.failed += get(g.conns_failed);
        s.requests += get(g.requests);
        s.errors += get(g.errors);
        s.active += get(g.active);
        const auto state = static_cast<GenRun>(g.run.load(std::memory_order_acquire));
        s.running += state == GenRun::running;
        s.draining += state == GenRun::draining;
        s.finished += state == GenRun::finished;
    }
    return s;
}

// Finished (drained), or for hold without a duration: every connection ESTABLISHED.
bool GenState::reached_goal(const Profile& p, const Sums& s) const {
    if (s.running + s.draining == 0) return true;
    return p.run.mode == GenMode::hold && p.run.duration_s == 0 && s.running > 0 && s.active >= p.run.conns;
}

void GenState::wait_gen(const std::string& name, std::uint64_t timeout_ms, bool given) {
    std::vector<Profile*> which;
    for (auto& p : profiles) {
        if (p.used && (name.empty() ? sum_published(p).running + sum_published(p).draining > 0 : p.name == name)) {
            which.push_back(&p);
        }
    }
    if (which.empty()) {
        Profile* p = find(name, "wait gen");  // fails when none ran
        if (p == nullptr) return;
        which.push_back(p);
    }
    for (Profile* p : which) {
        const Run& r = p->run;
        const bool open_ended = r.duration_s == 0 && r.count == 0 && r.mode != GenMode::hold;
        if (open_ended && sum_published(*p).running > 0) {
            return fail("wait gen: profile '%s' has no duration or count: it runs until 'stop gen'", p->name.c_str());
        }
        // Default: the rest of the duration, the drain and 30 s more (count or hold: 120 s).
        std::uint64_t limit = timeout_ms;
        if (!given) {
            const double left = r.duration_s - std::chrono::duration<double>(Clock::now() - p->started_at).count();
            limit = r.duration_s > 0 ? static_cast<std::uint64_t>(std::max(0.0, left) * 1000) + r.drain_ms + 30000 : 120000;
        }
        const auto end = Clock::now() + std::chrono::milliseconds(limit);
        while (!reached_goal(*p, sum_published(*p))) {
            if (Clock::now() >= end || signalled()) return fail("%s", wait_failure(*p, limit).c_str());
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        flush_reports(*p);
        Summary s;
        if (!collect(*p, s)) return;
        print_text(*p, s);
        if (!fail_on_errors(*p, s)) return;
    }
}

std::string GenState::wait_failure(Profile& p, std::uint64_t timeout_ms) {
    Summary s;
    std::string why;
    if (collect(p, s)) {
        for (std::size_t i = 0; i < kGenFailCount; ++i) {
            if (s.c.fails[i] == 0) continue;
            why += ' ';
            why += name(static_cast<GenFail>(i));
            why += '=';
            why += std::to_string(s.c.fails[i]);
        }
    }
    char b[512];
    std::snprintf(b, sizeof b,
                  "wait gen: %s%snot finished within %" PRIu64 " ms (requests %" PRIu64 ", active %" PRIu64
                  " of %u, failed %" PRIu64 "%s%s, errors %" PRIu64 ")",
                  p.name.c_str(), p.name.empty() ? "" : " ", timeout_ms, s.c.requests, s.active, p.run.conns,
                  s.c.conns_failed, why.empty() ? "" : ":", why.c_str(), s.c.errors);
    return b;
}

// The prompt ends: stop what runs (the workers drain and close on their
// own), and detach every worker from the publication blocks, which die
// with this GenState while the workers may still run for their stop time.
void GenState::shutdown() {
    for (std::size_t i = 0; i < profiles.size(); ++i) {
        const Sums s = sum_published(profiles[i]);
        if (!profiles[i].used || s.running + s.draining == 0) continue;
        for (unsigned w = 0; w < workers(); ++w) {
            auto r = std::make_unique<GenStop>(i);
            (void)st.call(w, r);
        }
    }
    stop_reporter();
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = std::make_unique<GenDetach>();
        (void)st.call(w, r);
    }
}

void add_gen_commands(PromptState& st) {
    st.gen = std::make_unique<GenState>(st);
    GenState& g = *st.gen;
    const char* opts = "options: rate <R>/s ramp <s> think <ms> size|request|response <B> duration <s>|count <C> "
                       "verify pipeline <n> close fin|rst closer client|server drain <ms> proto echo|rr|http "
                       "method path host header \"N: v\" body keepalive sha256 mss wscale sack ts cc nodelay "
                       "sndbuf rcvbuf ttl tos src sport (dpdk_app/README.md)";
    st.add("start gen crr#rr#bulk#hold <raddr:rport> conns <n:u32>",
           "load tester; runs until stop gen (hold: keeps N connections open)",
           [&g](const Args& a) { g.start_gen(a, false, false); });
    st.add("start gen crr#rr#bulk#hold <raddr:rport> conns <n:u32> <options...>", opts,
           [&g](const Args& a) { g.start_gen(a, false, true); });
    st.add("start gen <name> crr#rr#bulk#hold <raddr:rport> conns <n:u32>", "a named profile (several run at once)",
           [&g](const Args& a) { g.start_gen(a, true, false); });
    st.add("start gen <name> crr#rr#bulk#hold <raddr:rport> conns <n:u32> <options...>", opts,
           [&g](const Args& a) { g.start_gen(a, true, true); });
    st.add("stop gen", "stop every profile: drain, close with FIN, print the figures",
           [&g](const Args&) { g.stop_gen(""); });
    st.add("wait gen", "wait until every running profile finishes (hold: all ESTABLISHED); fails on errors",
           [&g](const Args&) { g.wait_gen("", 0, false); });
    st.add("wait gen timeout <ms:u32>", "the same with a timeout", [&g](const Args& a) { g.wait_gen("", a.n[3], true); });
    st.add("show gen", "every profile's figures", [&g](const Args&) { g.show_gen("", false); });
    st.add("expect gen <field> ==#!=#<#<=#>#>= <value>",
           "compare a show gen json field (requests, errors, conns_failed, req_per_s, p99_us, ...)",
           [&g](const Args& a) { g.expect_gen("", a.s[2], a.s[3], a.s[4]); });
    st.add("save gen <path>", "write PATH.json, PATH.series.csv and PATH.latency.csv (scripts/plot-gen.sh PATH)",
           [&g](const Args& a) { g.save_gen("", a.s[2]); });
    st.add("stop gen <name>", "stop one profile", [&g](const Args& a) { g.stop_gen(a.s[2]); });
    st.add("wait gen <name>", "wait for one profile", [&g](const Args& a) { g.wait_gen(a.s[2], 0, false); });
    st.add("wait gen <name> timeout <ms:u32>", "the same with a timeout",
           [&g](const Args& a) { g.wait_gen(a.s[2], a.n[4], true); });
    // One spec for both: rte_cmdline calls "show gen json" ambiguous otherwise.
    st.add("show gen <name>", "json: every profile as JSON (an array for several); NAME: one profile's figures",
           [&g](const Args& a) { a.s[2] == "json" ? g.show_gen("", true) : g.show_gen(a.s[2], false); });
    st.add("show gen <name> json", "the same as JSON", [&g](const Args& a) { g.show_gen(a.s[2], true); });
    st.add("expect gen <name> <field> ==#!=#<#<=#>#>= <value>", "compare one profile's field",
           [&g](const Args& a) { g.expect_gen(a.s[2], a.s[3], a.s[4], a.s[5]); });
    st.add("save gen <name> <path>", "save one profile's series and histograms",
           [&g](const Args& a) { g.save_gen(a.s[2], a.s[3]); });
}

void gen_shutdown(PromptState& st) {
    if (st.gen) st.gen->shutdown();
}

}  // namespace tcpfp::app::cli
