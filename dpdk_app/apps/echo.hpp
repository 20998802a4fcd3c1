// Echo (RFC 862, TCP port 7): every byte comes back, moved with the
// zero-copy receive (one copy, into the send ring). It reads only what fits
// the send buffer, so a slow reader stops the sender by the window.
#pragma once

#include "dpdk_app/apps/service.hpp"

namespace tcpfp::app {

class Echo : public Service<Echo> {
public:
    explicit Echo(std::uint16_t port = 7) : Service(port) {}
    const char* name() const override { return "echo"; }
    void serve(Stack& s, ConnId c, Instant now);
};

}  // namespace tcpfp::app
