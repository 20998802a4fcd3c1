#include "dpdk_app/apps/discard.hpp"

namespace tcpfp::app {

void Discard::serve(Stack& s, ConnId c, Instant now) {
    for (;;) {
        std::span<const std::uint8_t> first, second;
        const std::int64_t n = s.recv_view(c, first, second);
        if (n == 0 || (n < 0 && n != -EAGAIN)) return finish(s, c, now);
        if (n < 0) return;
        (void)s.consume(c, static_cast<std::size_t>(n), now);  // nothing is copied
        counters_.bytes_in += static_cast<std::uint64_t>(n);
    }
}

}  // namespace tcpfp::app
