// Discard (RFC 863, TCP port 9): reads and drops everything, closes when
// the peer does.
#pragma once

#include "dpdk_app/apps/service.hpp"

namespace tcpfp::app {

class Discard : public Service<Discard> {
public:
    explicit Discard(std::uint16_t port = 9) : Service(port) {}
    const char* name() const override { return "discard"; }
    void serve(Stack& s, ConnId c, Instant now);
};

}  // namespace tcpfp::app
