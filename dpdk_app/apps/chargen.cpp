#include "dpdk_app/apps/chargen.hpp"

namespace tcpfp::app {

namespace {

// RFC 864: line n is 72 printable characters (of the 95 from ' ' to '~')
// starting at the n-th, then CRLF; the pattern repeats after 95 lines.
constexpr std::size_t kLine = 74, kPeriod = 95 * kLine;
constexpr std::size_t kChunk = 16384;  // bytes per send() at most

std::string pattern() {
    std::string p;
    const std::size_t periods = (kChunk + kPeriod - 1) / kPeriod + 1;
    for (std::size_t n = 0; n < 95 * periods; ++n) {
        for (std::size_t i = 0; i < 72; ++i) p += static_cast<char>(' ' + (n + i) % 95);
        p += "\r\n";
    }
    return p;
}

}  // namespace

Chargen::Chargen(std::uint16_t port) : Service(port), pattern_(pattern()) {}

void Chargen::serve(Stack& s, ConnId c, Instant now) {
    for (;;) {  // the peer's bytes are dropped unread
        std::span<const std::uint8_t> first, second;
        const std::int64_t n = s.recv_view(c, first, second);
        if (n == 0 || (n < 0 && n != -EAGAIN)) return finish(s, c, now);
        if (n < 0) break;
        (void)s.consume(c, static_cast<std::size_t>(n), now);
        counters_.bytes_in += static_cast<std::uint64_t>(n);
    }
    std::uintptr_t sent = s.context(c);
    for (;;) {
        const std::size_t len = std::min<std::size_t>(s.send_space(c), kChunk);
        if (len == 0) break;  // resumed by `writable`
        const auto* p = reinterpret_cast<const std::uint8_t*>(pattern_.data()) + sent % kPeriod;
        const std::int64_t w = s.send(c, {p, len}, now);
        if (w <= 0) break;
        sent += static_cast<std::uintptr_t>(w);
        counters_.bytes_out += static_cast<std::uint64_t>(w);
    }
    s.set_context(c, sent % kPeriod);
}

}  // namespace tcpfp::app
