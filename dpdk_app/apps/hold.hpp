// Hold: accepts and never reads, so the receive window closes once the
// buffer fills (zero-window and persist-timer experiments, `listen ... hold`).
// The connection is freed when the peer resets it or the stack gives up.
#pragma once

#include "dpdk_app/apps/service.hpp"

namespace tcpfp::app {

class Hold : public Service<Hold> {
public:
    explicit Hold(std::uint16_t port = 0) : Service(port) {}
    const char* name() const override { return "hold"; }
    void serve(Stack&, ConnId, Instant) {}
};

}  // namespace tcpfp::app
