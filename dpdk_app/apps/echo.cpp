#include "dpdk_app/apps/echo.hpp"

namespace tcpfp::app {

void Echo::serve(Stack& s, ConnId c, Instant now) {
    for (;;) {
        std::span<const std::uint8_t> first, second;
        const std::int64_t n = s.recv_view(c, first, second);
        if (n == 0) return finish(s, c, now);  // the peer closed: so do we
        if (n < 0) {
            if (n != -EAGAIN) finish(s, c, now);
            return;
        }
        std::size_t sent = 0;
        for (const auto part : {first, second}) {
            if (part.empty()) continue;
            const std::int64_t w = s.send(c, part, now);
            if (w > 0) sent += static_cast<std::size_t>(w);
            if (w < static_cast<std::int64_t>(part.size())) break;  // send buffer full
        }
        if (sent == 0) return;  // resumed by `writable`
        (void)s.consume(c, sent, now);
        counters_.bytes_in += sent;
        counters_.bytes_out += sent;
    }
}

}  // namespace tcpfp::app
