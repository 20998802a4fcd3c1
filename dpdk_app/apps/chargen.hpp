// Character generator (RFC 864, TCP port 19): sends the RFC's rotating
// 72-character lines for as long as the peer reads, drops whatever the
// peer sends, and ends when the peer closes. The position in the pattern
// lives in the connection's context word.
#pragma once

#include <string>

#include "dpdk_app/apps/service.hpp"

namespace tcpfp::app {

class Chargen : public Service<Chargen> {
public:
    explicit Chargen(std::uint16_t port = 19);
    const char* name() const override { return "chargen"; }
    void serve(Stack& s, ConnId c, Instant now);

private:
    std::string pattern_;  // whole periods, a chunk longer than one send
};

}  // namespace tcpfp::app
