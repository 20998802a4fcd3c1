// A minimal HTTP/1.1 server (TCP port 80). The path picks the response:
//   GET /bytes/N     200, Content-Length: N, N body bytes (0 <= N <= 2^40)
//   GET /chunked/N   200, Transfer-Encoding: chunked, N body bytes in chunks
//                    of at most 16384, then the last chunk
//   GET /status/NNN  status NNN (200..599) with the configured body
//   anything else    200 with the configured body
// Body byte k of /bytes and /chunked is 'a' + k % 26 (the rr pattern,
// rr.hpp). A malformed N or NNN gets 400. HEAD gets the same header and no
// body. A request's Content-Length body is read and dropped before the next
// request; a Transfer-Encoding body (not supported) gets 501 and a close.
// Keep-alive unless the request is HTTP/1.0 or says `Connection: close`;
// pipelined requests are answered in order, a body streamed in full before
// the next response starts.
//
// No connection holds a buffer: the request header is parsed in place in
// the receive ring (recv_view), responses are streamed as send space
// allows from the configured body or one shared pattern block, and the
// per-connection state is the context word (http.cpp). Only a request body
// that is still arriving needs more: a slot from a pool allocated at
// construction (`[services] http_body_slots`).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "dpdk_app/apps/rr.hpp"
#include "dpdk_app/apps/service.hpp"

namespace tcpfp::app {

struct HttpCounters {
    std::uint64_t requests = 0;
    std::uint64_t oversized = 0;  // header over kRequestMax bytes: closed
    std::uint64_t split = 0;      // headers split across receive-buffer chunks (joined by a copy)
    std::uint64_t bytes_routes = 0;    // /bytes/N answered
    std::uint64_t chunked_routes = 0;  // /chunked/N answered
    std::uint64_t status_routes = 0;   // /status/NNN answered
    std::uint64_t responses_2xx = 0, responses_3xx = 0, responses_4xx = 0, responses_5xx = 0;
    std::uint64_t bad_requests = 0;     // 400: a malformed N, NNN or Content-Length
    std::uint64_t not_implemented = 0;  // 501: a Transfer-Encoding request body
    std::uint64_t no_slot = 0;          // 503 and close: no slot free to read a request body
    std::uint64_t body_bytes = 0;       // request body bytes read and dropped
};

class Http : public Service<Http> {
public:
    static constexpr bool kNoDelay = true;  // multi-segment responses
    static constexpr std::size_t kRequestMax = 1024;  // request header bytes at most
    static constexpr std::uint64_t kMaxBody = std::uint64_t{1} << 40;  // N of /bytes, /chunked
    static constexpr std::uint64_t kChunk = 16384;  // data bytes per chunk at most
    static constexpr std::uint32_t kDefaultBodySlots = 1024;

    explicit Http(std::string body, std::uint16_t port = 80, std::uint32_t body_slots = kDefaultBodySlots);
    const char* name() const override { return "http"; }
    void serve(Stack& s, ConnId c, Instant now);
    const HttpCounters& http_counters() const { return http_; }

    // A connection that ends while reading a request body frees its slot.
    void on_closed(Stack& s, ConnId c, Instant now);
    void on_reset(Stack& s, ConnId c, Instant now);
    void on_timed_out(Stack& s, ConnId c, Instant now);
    void stop(Stack& s, Instant now) override;

private:
    struct Conn;
    struct Head {
        std::size_t size = 0;    // bytes rendered into scratch_
        bool body_done = false;  // nothing follows the rendered bytes
    };
    struct Slot {
        std::uint64_t body_left = 0;  // request body bytes still to drop
        std::uint64_t reply = 0;      // the context word once they are
    };

    Step read_request(Stack& s, ConnId c, Conn& r, Instant now);
    Step start_body(Stack& s, ConnId c, Conn& r, std::uint64_t length, Instant now);
    Step discard_body(Stack& s, ConnId c, Conn& r, Instant now);
    Step send_head(Stack& s, ConnId c, Conn& r, Instant now);
    Step send_fixed(Stack& s, ConnId c, Conn& r, Instant now);
    Step send_pattern(Stack& s, ConnId c, Conn& r, Instant now);
    Step send_chunked(Stack& s, ConnId c, Conn& r, Instant now);
    Step done(Stack& s, ConnId c, Conn& r, Instant now);
    Head render(const Conn& r);
    void count_status(unsigned status);
    void release(Stack& s, ConnId c);
    // Finds a complete request header at the front of the receive buffer
    // (`first`: recv_view()'s first piece); returns its length with the
    // terminator, 0 when incomplete.
    std::size_t take_header(Stack& s, ConnId c, std::span<const std::uint8_t> first, std::string_view& header);

    std::string body_;
    Alphabet alphabet_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_slots_;   // reserved for every slot: no allocation later
    std::array<char, 1024> scratch_{};       // the response header being sent (and a small body)
    std::array<char, kRequestMax> split_{};  // a header split across buffer chunks, copied out
    HttpCounters http_;
};

enum class HttpRoute : std::uint8_t { body, bytes, chunked, status, bad };

// Request-line and header rules, exposed for tests.
struct HttpRequestInfo {
    bool head = false;
    bool keep_alive = true;
    HttpRoute route = HttpRoute::body;  // body: the configured body
    std::uint64_t value = 0;            // N of /bytes/N, /chunked/N; NNN of /status/NNN
    std::uint64_t content_length = 0;   // request body bytes to drop
    bool bad_length = false;            // a Content-Length that is no number (or two that differ)
    bool transfer_coding = false;       // a Transfer-Encoding field
};
HttpRequestInfo parse_http_request(std::string_view header);

}  // namespace tcpfp::app
