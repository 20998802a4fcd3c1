// A minimal HTTP/1.1 server (TCP port 80): answers every complete request
// header with 200 and the configured body; HEAD gets the header only.
// Keep-alive unless the request is HTTP/1.0 or says `Connection: close`;
// pipelined requests are answered in order. The request is parsed in place
// in the receive ring (recv_view), so no connection holds a request buffer;
// the responses are built once, at construction. Per-connection flags live
// in the context word.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "dpdk_app/apps/service.hpp"

namespace tcpfp::app {

struct HttpCounters {
    std::uint64_t requests = 0;
    std::uint64_t oversized = 0;  // header over kRequestMax bytes: closed
    std::uint64_t split = 0;      // headers the ring's wrap split (joined by a copy)
};

class Http : public Service<Http> {
public:
    static constexpr std::size_t kRequestMax = 1024;  // request header bytes at most

    explicit Http(std::string body, std::uint16_t port = 80);
    const char* name() const override { return "http"; }
    void serve(Stack& s, ConnId c, Instant now);
    const HttpCounters& http_counters() const { return http_; }

private:
    static constexpr std::uintptr_t reply_pending = 1, close_after = 2, head_only = 4;
    bool respond(Stack& s, ConnId c, std::uintptr_t& flags, Instant now);
    // Finds a complete request header at the front of the receive ring;
    // returns its length with the terminator, 0 when incomplete.
    std::size_t take_header(std::span<const std::uint8_t> first, std::span<const std::uint8_t> second,
                            std::string_view& header);

    std::array<std::string, 4> responses_;  // [close (1) | head (2)]
    std::array<char, kRequestMax> split_{};  // a header the ring's wrap split
    HttpCounters http_;
};

// Request-line and header rules, exposed for tests: whether the request is
// HEAD and whether the connection stays open after the response.
struct HttpRequestInfo {
    bool head = false;
    bool keep_alive = true;
};
HttpRequestInfo parse_http_request(std::string_view header);

}  // namespace tcpfp::app
