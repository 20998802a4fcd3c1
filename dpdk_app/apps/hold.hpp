// Hold: accepts and never reads, so the receive window closes once the
// buffer fills (zero-window and persist-timer experiments, `listen ... hold`,
// `[services] hold_port`), and what a peer sent stays queued (the
// 1M-connection benchmark's data in flight). The peer's FIN ends the hold:
// the bytes are dropped unread and our FIN follows, an orderly close (a
// close() with unread data would reset, RFC 2525 §2.17). Otherwise the
// connection is freed when the peer resets it or the stack gives up.
#pragma once

#include "dpdk_app/apps/service.hpp"

namespace tcpfp::app {

class Hold : public Service<Hold> {
public:
    explicit Hold(std::uint16_t port = 0) : Service(port) {}
    const char* name() const override { return "hold"; }
    void serve(Stack&, ConnId, Instant) {}
    void on_peer_closed(Stack& s, ConnId c, Instant now) {
        for (;;) {
            std::span<const std::uint8_t> first, second;
            const std::int64_t n = s.recv_view(c, first, second);
            if (n <= 0) break;
            (void)s.consume(c, static_cast<std::size_t>(n), now);
        }
        finish(s, c, now);
    }
};

}  // namespace tcpfp::app
