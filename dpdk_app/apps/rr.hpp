// Request/response with sizes chosen by the client (TCP port 5001): the
// server side of the load generator's request/response runs. Wire format:
//
//   request  = an 8-byte header, then filler
//     bytes 0-3  total request length in bytes, header included: big-endian
//                u32, at least 8 and below 2^31 (top bit clear)
//     bytes 4-7  big-endian u32: the low 31 bits are the response length in
//                bytes; the top bit (0x80000000) asks the server to close
//                (FIN) after sending that response
//     then (length - 8) filler bytes, read and discarded
//   response = exactly `response length` bytes, byte k (k = 0.. within each
//              response) being 'a' + k % 26; 0 bytes is allowed
//
// Requests may be pipelined; each is read whole (filler included) before
// its response, and responses go out in order. A request length below 8 or
// with the top bit set is a protocol error: counted and the connection
// reset. Responses are streamed from one shared pattern block as send space
// allows, so any size costs no memory per connection.
//
// Per-connection state is the context word (see rr.cpp). The header is
// parsed only once all 8 bytes are in the receive ring, so a partial header
// needs no state.
#pragma once

#include <cstdint>
#include <vector>

#include "dpdk_app/apps/service.hpp"

namespace tcpfp::app {

// The body pattern of rr and of HTTP's /bytes/N and /chunked/N: byte k of a
// body is 'a' + k % 26. One block, allocated at construction, serves every
// connection of its service.
class Alphabet {
public:
    static constexpr std::size_t kBlock = 64 * 1024;  // bytes per send() at most
    Alphabet();
    // Sends up to `left` bytes of the pattern as the send space allows,
    // starting at `phase` (k % 26 of the next byte), which it advances;
    // returns the bytes sent. Fewer than `left`: the send ring is full, and
    // `writable` follows.
    std::uint64_t send(Stack& s, ConnId c, std::uint64_t left, unsigned& phase, Instant now) const;

private:
    std::vector<std::uint8_t> bytes_;  // kBlock + 26: a block from any phase
};

// What one step of a server's per-connection state machine left: go on,
// wait for an event, or the connection is no longer ours.
enum class Step : std::uint8_t { next, wait, gone };

// Drops whatever the peer sent, then closes: closing with unread bytes
// would reset the connection (RFC 2525 §2.17) and lose our last response.
void drain_and_close(Stack& s, ConnId c, Instant now, ServiceCounters& counters);

struct RrCounters {
    std::uint64_t requests = 0;        // headers parsed
    std::uint64_t bad_requests = 0;    // request length out of range: reset
    std::uint64_t close_requests = 0;  // responses followed by our FIN as asked
};

class Rr : public Service<Rr> {
public:
    static constexpr bool kNoDelay = true;  // multi-segment responses
    static constexpr std::uint32_t kCloseBit = 0x80000000u;
    static constexpr std::uint32_t kMaxLength = 0x7fffffffu;  // both lengths

    explicit Rr(std::uint16_t port = 5001) : Service(port) {}
    const char* name() const override { return "rr"; }
    void serve(Stack& s, ConnId c, Instant now);
    const RrCounters& rr_counters() const { return rr_; }

private:
    struct State;
    Step read_header(Stack& s, ConnId c, State& st, Instant now);
    Step discard_filler(Stack& s, ConnId c, State& st, Instant now);
    Step respond(Stack& s, ConnId c, State& st, Instant now);

    Alphabet alphabet_;
    RrCounters rr_;
};

}  // namespace tcpfp::app
