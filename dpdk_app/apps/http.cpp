#include "dpdk_app/apps/http.hpp"

#include <algorithm>
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

std::string response(const std::string& body, bool close, bool head) {
    std::string r = "HTTP/1.1 200 OK\r\nServer: tcpfp\r\nContent-Type: text/plain\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
    if (close) r += "Connection: close\r\n";
    r += "\r\n";
    if (!head) r += body;
    return r;
}

}  // namespace

// RFC 9112 §9.3: HTTP/1.1 persists unless `Connection: close`; HTTP/1.0
// closes unless `Connection: keep-alive`.
HttpRequestInfo parse_http_request(std::string_view header) {
    HttpRequestInfo info;
    const auto eol = header.find("\r\n");
    const std::string_view request_line = header.substr(0, eol);
    info.head = request_line.starts_with("HEAD ");
    info.keep_alive = !request_line.ends_with("HTTP/1.0");
    std::size_t pos = eol;
    while (pos != std::string_view::npos && pos + 2 < header.size()) {
        const auto next = header.find("\r\n", pos + 2);
        const auto line = header.substr(pos + 2, next == std::string_view::npos ? std::string_view::npos
                                                                                : next - pos - 2);
        if (iequals_prefix(line, "connection:")) {
            if (icontains(line, "close")) info.keep_alive = false;
            if (icontains(line, "keep-alive")) info.keep_alive = true;
        }
        pos = next;
    }
    return info;
}

Http::Http(std::string body, std::uint16_t port) : Service(port) {
    for (std::size_t i = 0; i < responses_.size(); ++i) {
        responses_[i] = response(body, (i & 1) != 0, (i & 2) != 0);
    }
}

std::size_t Http::take_header(std::span<const std::uint8_t> first, std::span<const std::uint8_t> second,
                              std::string_view& header) {
    const std::string_view a(reinterpret_cast<const char*>(first.data()), first.size());
    if (const auto end = a.find("\r\n\r\n"); end != std::string_view::npos && end + 4 <= kRequestMax) {
        header = a.substr(0, end);
        return end + 4;
    }
    if (second.empty()) return 0;
    // The ring wrapped inside the header: join the two parts (rare).
    const std::size_t n = std::min(first.size() + second.size(), kRequestMax);
    const std::size_t from_first = std::min(first.size(), n);
    std::memcpy(split_.data(), first.data(), from_first);
    std::memcpy(split_.data() + from_first, second.data(), n - from_first);
    const std::string_view joined(split_.data(), n);
    const auto end = joined.find("\r\n\r\n");
    if (end == std::string_view::npos) return 0;
    ++http_.split;
    header = joined.substr(0, end);
    return end + 4;
}

bool Http::respond(Stack& s, ConnId c, std::uintptr_t& flags, Instant now) {
    const std::string& r = responses_[((flags & close_after) != 0 ? 1 : 0) | ((flags & head_only) != 0 ? 2 : 0)];
    if (s.send_space(c) < r.size()) return false;  // resumed by `writable`
    const std::int64_t w = s.send(c, {reinterpret_cast<const std::uint8_t*>(r.data()), r.size()}, now);
    if (w > 0) counters_.bytes_out += static_cast<std::uint64_t>(w);
    ++http_.requests;
    flags &= ~std::uintptr_t{reply_pending};
    return true;
}

void Http::serve(Stack& s, ConnId c, Instant now) {
    std::uintptr_t flags = s.context(c);
    for (;;) {
        if ((flags & reply_pending) != 0) {
            if (!respond(s, c, flags, now)) break;
            if ((flags & close_after) != 0) return finish(s, c, now);
        }
        std::span<const std::uint8_t> first, second;
        const std::int64_t n = s.recv_view(c, first, second);
        if (n == 0 || (n < 0 && n != -EAGAIN)) return finish(s, c, now);
        if (n < 0) break;
        std::string_view header;
        const std::size_t used = take_header(first, second, header);
        if (used == 0) {
            if (static_cast<std::size_t>(n) < kRequestMax) break;  // wait for the rest
            ++http_.oversized;
            return finish(s, c, now);
        }
        const HttpRequestInfo info = parse_http_request(header);
        flags = reply_pending | (info.keep_alive ? 0 : close_after) | (info.head ? head_only : 0);
        (void)s.consume(c, used, now);  // `header` is not used past here
        counters_.bytes_in += used;
    }
    s.set_context(c, flags);
}

}  // namespace tcpfp::app
