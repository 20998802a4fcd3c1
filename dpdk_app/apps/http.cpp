#include "dpdk_app/apps/http.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace tcpfp::app {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals_prefix(std::string_view s, std::string_view lower_prefix) {
    if (s.size() < lower_prefix.size()) return false;
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        if (lower(s[i]) != lower_prefix[i]) return false;
    }
    return true;
}

bool icontains(std::string_view s, std::string_view lower_token) {
    for (std::size_t i = 0; i + lower_token.size() <= s.size(); ++i) {
        if (iequals_prefix(s.substr(i), lower_token)) return true;
    }
    return false;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Decimal digits only (no sign, no space), at most `max`.
bool parse_decimal(std::string_view s, std::uint64_t max, std::uint64_t& out) {
    if (s.empty() || s.size() > 19) return false;
    std::uint64_t v = 0;
    for (const char ch : s) {
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    if (v > max) return false;
    out = v;
    return true;
}

// The path picks the response; the query, if any, is ignored.
void parse_target(std::string_view target, HttpRequestInfo& info) {
    const std::string_view path = target.substr(0, target.find('?'));
    const struct {
        std::string_view prefix;
        HttpRoute route;
        std::uint64_t max;
    } routes[] = {{"/bytes/", HttpRoute::bytes, Http::kMaxBody},
                  {"/chunked/", HttpRoute::chunked, Http::kMaxBody},
                  {"/status/", HttpRoute::status, 599}};
    for (const auto& r : routes) {
        if (!path.starts_with(r.prefix)) continue;
        const std::string_view digits = path.substr(r.prefix.size());
        const bool ok = parse_decimal(digits, r.max, info.value) &&
                        // RFC 9110 §15.2: a 1xx is interim, never the final answer.
                        (r.route != HttpRoute::status || (digits.size() == 3 && info.value >= 200));
        info.route = ok ? r.route : HttpRoute::bad;
        return;
    }
}

void parse_field(std::string_view line, HttpRequestInfo& info) {
    if (iequals_prefix(line, "connection:")) {
        if (icontains(line, "close")) info.keep_alive = false;
        if (icontains(line, "keep-alive")) info.keep_alive = true;
    } else if (iequals_prefix(line, "content-length:")) {
        // RFC 9112 §6.3 (5): an invalid length, or differing ones, is unrecoverable.
        std::uint64_t n = 0;
        const bool ok = parse_decimal(trim(line.substr(15)), ~std::uint64_t{0} >> 1, n);
        if (!ok || (info.content_length != 0 && info.content_length != n)) info.bad_length = true;
        info.content_length = n;
    } else if (iequals_prefix(line, "transfer-encoding:")) {
        info.transfer_coding = true;
    }
}

// RFC 9110 §15: a short phrase for the common codes, the class name otherwise.
std::string_view reason(unsigned status) {
    switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: break;
    }
    static constexpr std::string_view kClass[] = {"Success", "Redirection", "Client Error", "Server Error"};
    return kClass[status / 100 - 2];
}

// RFC 9110 §8.6, §15.3.5, §15.4.5: 204 and 304 carry no body and (so) no
// Content-Length here.
bool has_content(unsigned status) { return status != 204 && status != 304; }

// Appends to a fixed buffer the caller sized for the worst case.
class Out {
public:
    explicit Out(std::span<char> buf) : buf_(buf) {}
    Out& put(std::string_view s) {
        std::memcpy(buf_.data() + n_, s.data(), s.size());
        n_ += s.size();
        return *this;
    }
    Out& num(std::uint64_t v, int base = 10) {
        n_ = static_cast<std::size_t>(std::to_chars(buf_.data() + n_, buf_.data() + buf_.size(), v, base).ptr -
                                      buf_.data());
        return *this;
    }
    std::size_t size() const { return n_; }
    std::size_t room() const { return buf_.size() - n_; }
    char* end() { return buf_.data() + n_; }
    void grow(std::size_t n) { n_ += n; }

private:
    std::span<char> buf_;
    std::size_t n_ = 0;
};

}  // namespace

// RFC 9112 §9.3: HTTP/1.1 persists unless `Connection: close`; HTTP/1.0
// closes unless `Connection: keep-alive`.
HttpRequestInfo parse_http_request(std::string_view header) {
    HttpRequestInfo info;
    const auto eol = header.find("\r\n");
    const std::string_view request_line = header.substr(0, eol);
    info.head = request_line.starts_with("HEAD ");
    info.keep_alive = !request_line.ends_with("HTTP/1.0");
    // RFC 9112 §3: method SP request-target SP HTTP-version
    if (const auto sp = request_line.find(' '); sp != std::string_view::npos) {
        const std::string_view rest = request_line.substr(sp + 1);
        parse_target(rest.substr(0, rest.find(' ')), info);
    }
    std::size_t pos = eol;
    while (pos != std::string_view::npos && pos + 2 < header.size()) {
        const auto next = header.find("\r\n", pos + 2);
        parse_field(header.substr(pos + 2, next == std::string_view::npos ? std::string_view::npos
                                                                          : next - pos - 2),
                    info);
        pos = next;
    }
    return info;
}

// The context word: bits 61-63 `phase`, 60 `close` after this response,
// 59 `head_only`, 57-58 `kind`, 10-56 `a` (47 bits), 0-9 `b`:
//   idle     0: waiting for a request header
//   body     a = the slot holding the body still to drop and the reply
//   head     a = N (bytes, chunked) or the status (fixed); b = bytes of render() sent
//   fixed    a = bytes of the configured body sent
//   pattern  a = body bytes left; b = k % 26 of the next
//   chunked  a = body bytes left; b = kInData | framing bytes sent << 5 | k % 26
struct Http::Conn {
    enum class Phase : std::uint8_t { idle, body, head, fixed, pattern, chunked };
    enum class Kind : std::uint8_t { fixed, bytes, chunked };
    static constexpr std::uint32_t kInData = 1u << 8;
    static constexpr std::uint64_t kMaxA = (std::uint64_t{1} << 47) - 1;

    Phase phase = Phase::idle;
    bool close = false;
    bool head_only = false;
    Kind kind = Kind::fixed;
    std::uint64_t a = 0;
    std::uint32_t b = 0;

    static Conn unpack(std::uint64_t w) {
        return {static_cast<Phase>(w >> 61),      ((w >> 60) & 1) != 0, ((w >> 59) & 1) != 0,
                static_cast<Kind>((w >> 57) & 3), (w >> 10) & kMaxA,     static_cast<std::uint32_t>(w & 1023)};
    }
    std::uint64_t pack() const {
        return std::uint64_t(phase) << 61 | std::uint64_t{close} << 60 | std::uint64_t{head_only} << 59 |
               std::uint64_t(kind) << 57 | a << 10 | b;
    }
    unsigned status() const { return kind == Kind::fixed ? static_cast<unsigned>(a) : 200; }
    static Conn fixed(unsigned status, bool close, bool head_only) {
        return {Phase::head, close, head_only, Kind::fixed, status, 0};
    }
};

Http::Http(std::string body, std::uint16_t port, std::uint32_t body_slots)
    : Service(port), body_(std::move(body)), slots_(body_slots) {
    free_slots_.reserve(body_slots);
    for (std::uint32_t i = body_slots; i > 0; --i) free_slots_.push_back(i - 1);
}

std::size_t Http::take_header(Stack& s, ConnId c, std::span<const std::uint8_t> first,
                              std::string_view& header) {
    const std::string_view a(reinterpret_cast<const char*>(first.data()), first.size());
    if (const auto end = a.find("\r\n\r\n"); end != std::string_view::npos && end + 4 <= kRequestMax) {
        header = a.substr(0, end);
        return end + 4;
    }
    if (first.size() >= kRequestMax || s.recv_available(c) <= first.size()) return 0;
    // The header crosses a chunk boundary of the receive buffer: copy its
    // first kRequestMax bytes out and look there (rare with large chunks).
    const std::int64_t n = s.peek(c, {reinterpret_cast<std::uint8_t*>(split_.data()), split_.size()});
    if (n <= 0) return 0;
    const std::string_view joined(split_.data(), static_cast<std::size_t>(n));
    const auto end = joined.find("\r\n\r\n");
    if (end == std::string_view::npos) return 0;
    ++http_.split;
    header = joined.substr(0, end);
    return end + 4;
}

void Http::serve(Stack& s, ConnId c, Instant now) {
    Conn r = Conn::unpack(s.context(c));
    for (;;) {
        Step step = Step::wait;
        switch (r.phase) {
            case Conn::Phase::idle: step = read_request(s, c, r, now); break;
            case Conn::Phase::body: step = discard_body(s, c, r, now); break;
            case Conn::Phase::head: step = send_head(s, c, r, now); break;
            case Conn::Phase::fixed: step = send_fixed(s, c, r, now); break;
            case Conn::Phase::pattern: step = send_pattern(s, c, r, now); break;
            case Conn::Phase::chunked: step = send_chunked(s, c, r, now); break;
        }
        if (step == Step::gone) return;
        if (step == Step::wait) break;
    }
    s.set_context(c, r.pack());
}

Step Http::read_request(Stack& s, ConnId c, Conn& r, Instant now) {
    std::span<const std::uint8_t> first, second;
    const std::int64_t n = s.recv_view(c, first, second);
    if (n == -EAGAIN) return Step::wait;
    if (n <= 0) {  // the peer closed between requests (or the connection failed)
        finish(s, c, now);
        return Step::gone;
    }
    std::string_view header;
    const std::size_t used = take_header(s, c, first, header);
    if (used == 0) {
        if (s.recv_available(c) >= kRequestMax) {
            ++http_.oversized;
            finish(s, c, now);
            return Step::gone;
        }
        if (!s.peer_closed(c)) return Step::wait;  // the rest of the header is on its way
        drain_and_close(s, c, now, counters_);     // it never will be
        return Step::gone;
    }
    const HttpRequestInfo info = parse_http_request(header);
    (void)s.consume(c, used, now);  // `header` is not used past here
    counters_.bytes_in += used;
    ++http_.requests;
    const bool close = !info.keep_alive;
    if (info.transfer_coding) {
        // RFC 9112 §6.1: a transfer coding we do not implement: 501, and the
        // body's end cannot be found, so the connection ends (§6.3 (4)).
        ++http_.not_implemented;
        r = Conn::fixed(501, true, info.head);
    } else if (info.bad_length) {
        ++http_.bad_requests;  // RFC 9112 §6.3 (5): 400, then close
        r = Conn::fixed(400, true, info.head);
    } else {
        switch (info.route) {
            case HttpRoute::body: r = Conn::fixed(200, close, info.head); break;
            case HttpRoute::status:
                ++http_.status_routes;
                r = Conn::fixed(static_cast<unsigned>(info.value), close, info.head);
                break;
            case HttpRoute::bad:
                ++http_.bad_requests;
                r = Conn::fixed(400, close, info.head);
                break;
            case HttpRoute::bytes:
            case HttpRoute::chunked: {
                const bool chunked = info.route == HttpRoute::chunked;
                ++(chunked ? http_.chunked_routes : http_.bytes_routes);
                r = {Conn::Phase::head, close, info.head, chunked ? Conn::Kind::chunked : Conn::Kind::bytes,
                     info.value, 0};
                break;
            }
        }
    }
    if (info.transfer_coding || info.bad_length) {
        count_status(r.status());
        return Step::next;
    }
    return start_body(s, c, r, info.content_length, now);
}

// RFC 9112 §6.3 (6): the request body is the next Content-Length bytes.
// What has arrived is dropped now; the rest waits in a slot with the reply.
Step Http::start_body(Stack& s, ConnId c, Conn& r, std::uint64_t length, Instant now) {
    const std::uint64_t here = std::min<std::uint64_t>(length, s.recv_available(c));
    if (here > 0) {
        (void)s.consume(c, static_cast<std::size_t>(here), now);
        counters_.bytes_in += here;
        http_.body_bytes += here;
    }
    if (here == length) {
        count_status(r.status());
        return Step::next;
    }
    if (free_slots_.empty()) {
        ++http_.no_slot;
        r = Conn::fixed(503, true, r.head_only);  // RFC 9110 §15.6.4
        count_status(503);
        return Step::next;
    }
    count_status(r.status());
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = {length - here, r.pack()};
    r = {Conn::Phase::body, false, false, Conn::Kind::fixed, slot, 0};
    return Step::next;
}

Step Http::discard_body(Stack& s, ConnId c, Conn& r, Instant now) {
    Slot& slot = slots_[r.a];
    std::span<const std::uint8_t> first, second;
    const std::int64_t n = s.recv_view(c, first, second);
    if (n == -EAGAIN) return Step::wait;
    if (n <= 0) {  // the peer stopped mid-body: nothing to answer
        free_slots_.push_back(static_cast<std::uint32_t>(r.a));  // `r`: the stored word may be older
        finish(s, c, now);
        return Step::gone;
    }
    const std::uint64_t take = std::min<std::uint64_t>(static_cast<std::uint64_t>(n), slot.body_left);
    (void)s.consume(c, static_cast<std::size_t>(take), now);
    counters_.bytes_in += take;
    http_.body_bytes += take;
    slot.body_left -= take;
    if (slot.body_left == 0) {
        const std::uint64_t reply = slot.reply;
        free_slots_.push_back(static_cast<std::uint32_t>(r.a));
        r = Conn::unpack(reply);
    }
    return Step::next;
}

void Http::count_status(unsigned status) {
    std::uint64_t* by_class[] = {&http_.responses_2xx, &http_.responses_3xx, &http_.responses_4xx,
                                 &http_.responses_5xx};
    ++*by_class[status / 100 - 2];
}

// The status line and header fields (RFC 9112 §4, §6), then the whole body
// when it fits, or the first chunk-size line of a chunked one.
Http::Head Http::render(const Conn& r) {
    Out out(scratch_);
    const unsigned status = r.status();
    out.put("HTTP/1.1 ").num(status).put(" ").put(reason(status));
    out.put("\r\nServer: tcpfp\r\nContent-Type: text/plain\r\n");
    const std::uint64_t length = r.kind == Conn::Kind::fixed ? body_.size() : r.a;
    if (r.kind == Conn::Kind::chunked) {
        out.put("Transfer-Encoding: chunked\r\n");
    } else if (has_content(status)) {
        out.put("Content-Length: ").num(length).put("\r\n");
    }
    if (r.close) out.put("Connection: close\r\n");
    out.put("\r\n");
    if (r.head_only || !has_content(status)) return {out.size(), true};
    if (r.kind == Conn::Kind::chunked) {
        // RFC 9112 §7.1: chunk-size in hex, CRLF. The first chunk takes the
        // remainder so that every later one is full: then the bytes left
        // alone tell where a chunk ends.
        if (r.a == 0) return {out.put("0\r\n\r\n").size(), true};
        out.num(r.a % kChunk != 0 ? r.a % kChunk : kChunk, 16).put("\r\n");
        return {out.size(), false};
    }
    if (length > out.room()) return {out.size(), false};
    if (r.kind == Conn::Kind::fixed) return {out.put(body_).size(), true};
    for (std::uint64_t k = 0; k < length; ++k) out.end()[k] = static_cast<char>('a' + k % 26);
    out.grow(length);
    return {out.size(), true};
}

Step Http::send_head(Stack& s, ConnId c, Conn& r, Instant now) {
    const Head head = render(r);
    const std::size_t len = std::min<std::size_t>(head.size - r.b, s.send_space(c));
    if (len > 0) {
        const std::int64_t w = s.send(c, {reinterpret_cast<const std::uint8_t*>(scratch_.data()) + r.b, len}, now);
        if (w > 0) {
            r.b += static_cast<std::uint32_t>(w);
            counters_.bytes_out += static_cast<std::uint64_t>(w);
        }
    }
    if (r.b < head.size) return Step::wait;  // resumed by `writable`
    if (head.body_done) return done(s, c, r, now);
    switch (r.kind) {
        case Conn::Kind::fixed: r = {Conn::Phase::fixed, r.close, false, r.kind, 0, 0}; break;
        case Conn::Kind::bytes: r = {Conn::Phase::pattern, r.close, false, r.kind, r.a, 0}; break;
        case Conn::Kind::chunked: r = {Conn::Phase::chunked, r.close, false, r.kind, r.a, Conn::kInData}; break;
    }
    return Step::next;
}

Step Http::send_fixed(Stack& s, ConnId c, Conn& r, Instant now) {
    const std::size_t len = std::min<std::size_t>(body_.size() - r.a, s.send_space(c));
    if (len > 0) {
        const std::int64_t w = s.send(c, {reinterpret_cast<const std::uint8_t*>(body_.data()) + r.a, len}, now);
        if (w > 0) {
            r.a += static_cast<std::uint64_t>(w);
            counters_.bytes_out += static_cast<std::uint64_t>(w);
        }
    }
    return r.a < body_.size() ? Step::wait : done(s, c, r, now);
}

Step Http::send_pattern(Stack& s, ConnId c, Conn& r, Instant now) {
    unsigned phase = r.b;
    const std::uint64_t sent = alphabet_.send(s, c, r.a, phase, now);
    counters_.bytes_out += sent;
    r.a -= sent;
    r.b = phase;
    return r.a > 0 ? Step::wait : done(s, c, r, now);
}

Step Http::send_chunked(Stack& s, ConnId c, Conn& r, Instant now) {
    static_assert(kChunk == 0x4000, "the framing below spells the chunk size");
    for (;;) {
        unsigned phase = r.b & 31;
        if ((r.b & Conn::kInData) != 0) {
            const std::uint64_t in_chunk = r.a % kChunk != 0 ? r.a % kChunk : kChunk;
            const std::uint64_t sent = alphabet_.send(s, c, in_chunk, phase, now);
            counters_.bytes_out += sent;
            r.a -= sent;
            if (sent < in_chunk) {
                r.b = Conn::kInData | phase;
                return Step::wait;
            }
            r.b = phase;  // the chunk's data is out: its CRLF is next
        }
        // RFC 9112 §7.1: CRLF ends a chunk's data; then the next chunk-size
        // line, or the last chunk and the empty trailer section.
        const std::string_view piece = r.a > 0 ? "\r\n4000\r\n" : "\r\n0\r\n\r\n";
        std::uint32_t done_bytes = (r.b >> 5) & 7;
        const std::size_t len = std::min<std::size_t>(piece.size() - done_bytes, s.send_space(c));
        const std::int64_t w =
            len == 0 ? 0 : s.send(c, {reinterpret_cast<const std::uint8_t*>(piece.data()) + done_bytes, len}, now);
        if (w > 0) {
            done_bytes += static_cast<std::uint32_t>(w);
            counters_.bytes_out += static_cast<std::uint64_t>(w);
        }
        if (done_bytes < piece.size()) {
            r.b = done_bytes << 5 | phase;
            return Step::wait;
        }
        if (r.a == 0) return done(s, c, r, now);
        r.b = Conn::kInData | phase;
    }
}

Step Http::done(Stack& s, ConnId c, Conn& r, Instant now) {
    if (r.close) {
        drain_and_close(s, c, now, counters_);
        return Step::gone;
    }
    r = {};
    return Step::next;
}

void Http::release(Stack& s, ConnId c) {
    const Conn r = Conn::unpack(s.context(c));
    if (r.phase == Conn::Phase::body) free_slots_.push_back(static_cast<std::uint32_t>(r.a));
    s.set_context(c, 0);
}

void Http::on_closed(Stack& s, ConnId c, Instant now) {
    release(s, c);
    Service::on_closed(s, c, now);
}
void Http::on_reset(Stack& s, ConnId c, Instant now) {
    release(s, c);
    Service::on_reset(s, c, now);
}
void Http::on_timed_out(Stack& s, ConnId c, Instant now) {
    release(s, c);
    Service::on_timed_out(s, c, now);
}
void Http::stop(Stack& s, Instant now) {
    s.for_each_owned([&](ConnId c) { release(s, c); });
    Service::stop(s, now);
}

}  // namespace tcpfp::app
