// An L4 (TCP) proxy written only against the public app API (app.hpp): it
// accepts clients on [proxy] listen, opens one connection per client to the
// next [proxy] backend (round robin) and relays both directions.
//
// - Backpressure: a side is read only while the other side has send space,
//   so a slow reader stalls the fast writer through TCP's window.
// - One copy per byte: recv_view() on one side, send() into the other, then
//   consume() what was taken.
// - Half-close crosses it: a side's FIN becomes shutdown(wr) on the other
//   side once every byte before it has been handed over; the pair ends (both
//   closed) when both directions are done. A reset or timeout on one side
//   aborts the other. A backend that refuses or does not answer within
//   connect_timeout_ms aborts the client (no other backend is tried).
//
// Pairs live in a pool allocated once at start() (max_connections / 2
// entries); a connection's context word names its pair and side. Nothing is
// allocated per connection or per packet. See "Proxy" in apps/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory_resource>
#include <span>
#include <vector>

#include "dpdk_app/apps/app.hpp"
#include "dpdk_app/apps/proxy_config.hpp"

namespace tcpfp::app {

// X(name, description): printed by the worker and the prompt in this order.
#define TCPFP_PROXY_COUNTERS(X)                                                                     \
    X(pairs_opened, "clients accepted and given a backend connection")                             \
    X(pairs_closed, "pairs ended with both directions done (a FIN each way)")                      \
    X(pairs_aborted, "pairs ended by a reset, a timeout, a failed backend connect or a stop")     \
    X(half_closes_to_backend, "client FINs forwarded as shutdown(wr) on the backend")              \
    X(half_closes_to_client, "backend FINs forwarded as shutdown(wr) on the client")               \
    X(resets_to_backend, "client resets/timeouts forwarded as an abort of the backend")            \
    X(resets_to_client, "backend resets/timeouts forwarded as an abort of the client")             \
    X(backend_refused, "backend connects refused: client aborted")                                 \
    X(backend_timeouts, "backend connects unanswered within connect_timeout_ms: client aborted")   \
    X(rejected, "clients aborted at once: no free pair, or connect() failed")                      \
    X(send_stalls, "sends refused for want of a buffer (retried each millisecond)")                \
    X(bytes_to_backend, "bytes relayed client -> backend")                                         \
    X(bytes_to_client, "bytes relayed backend -> client")

struct ProxyCounters {
#define TCPFP_X(name, desc) std::uint64_t name = 0;
    TCPFP_PROXY_COUNTERS(TCPFP_X)
#undef TCPFP_X
    std::uint64_t active() const { return pairs_opened - pairs_closed - pairs_aborted; }
};

// "proxy W: pairs opened .. closed .. aborted .. active .., bytes to backend
// .. to client ..", then one line per non-zero counter (the worker's final
// statistics; tests/e2e/proxy_test.py reads them).
void print_counters(std::FILE* out, unsigned worker, const ProxyCounters& c);

// One pair as the prompt shows it.
struct ProxyPairView {
    ConnId client, backend;
    std::uint16_t backend_index = 0;
    bool connected = false;
    bool fin_to_backend = false;  // the client's FIN was forwarded
    bool fin_to_client = false;   // the backend's FIN was forwarded
    std::uint64_t bytes_to_backend = 0, bytes_to_client = 0;
};

class Proxy : public Handlers<Proxy> {
public:
    explicit Proxy(const ProxyConfig& config,
                   std::pmr::memory_resource* mr = std::pmr::get_default_resource());

    const char* name() const override { return "proxy"; }
    void start(Stack& s, Instant now) override;
    void on_tick(Stack& s, Instant now) override;
    void stop(Stack& s, Instant now) override;

    void on_accepted(Stack& s, ConnId c, ConnId listener, Instant now);
    void on_connected(Stack& s, ConnId c, Instant now);
    void on_readable(Stack& s, ConnId c, Instant now) { pump_from(s, c, now); }
    void on_peer_closed(Stack& s, ConnId c, Instant now) { pump_from(s, c, now); }
    void on_writable(Stack& s, ConnId c, Instant now);
    void on_closed(Stack& s, ConnId c, Instant now);
    void on_reset(Stack& s, ConnId c, Instant now) { ended(s, c, false, now); }
    void on_timed_out(Stack& s, ConnId c, Instant now) { ended(s, c, true, now); }

    const ProxyCounters& counters() const { return counters_; }
    bool listening() const { return listening_; }
    std::size_t capacity() const { return pairs_.size(); }
    // Up to out.size() pairs in use, scanning at most `scan` pool slots from
    // `cursor`; returns the rows filled and moves `cursor` past the scan
    // (back to 0 at the end of the pool). Bounded work per call.
    std::size_t list_pairs(std::size_t& cursor, std::size_t scan, std::span<ProxyPairView> out) const;
    // The other connection of `c`'s pair (for `show conn`); false when `c`
    // is not one of the proxy's pair connections.
    bool partner(ConnId c, ConnId& other) const;

private:
    static constexpr std::uint32_t kNone = 0xffffffffu;
    static constexpr unsigned kClient = 0, kBackend = 1;
    enum class Wait : std::uint8_t { none, connect, retry };
    // What one relay() call ended with.
    enum class Relay : std::uint8_t {
        blocked,  // no data, or no send space: an event (readable, writable) resumes it
        eof,      // the source's FIN was reached, every byte before it handed over
        stalled,  // the engine had no buffer for the send: retried on the next tick
    };
    struct Pair {
        ConnId conn[2];
        Instant deadline;                        // backend connect gives up
        std::uint64_t bytes[2] = {0, 0};         // relayed from side i
        std::uint32_t prev = kNone, next = kNone;  // wait list, or free list (next)
        std::uint16_t backend = 0;
        Wait wait = Wait::none;
        bool in_use = false;
        bool connected = false;
        bool eof[2] = {false, false};  // side i's FIN forwarded to the other side
    };
    struct List {
        std::uint32_t head = kNone, tail = kNone;
    };

    const Stack* stack_ = nullptr;  // set at start: partner() reads the context word
    static std::uintptr_t context_of(std::uint32_t pair, unsigned side) {
        return (static_cast<std::uintptr_t>(pair) + 1) << 1 | side;
    }
    // The pair and side of `c`, or false for a connection of no live pair.
    bool find(const Stack& s, ConnId c, std::uint32_t& pair, unsigned& side) const;

    void pump_from(Stack& s, ConnId c, Instant now);
    void pump(Stack& s, std::uint32_t p, unsigned from, Instant now);
    Relay relay(Stack& s, Pair& pr, unsigned from, Instant now);
    void forward_eof(Stack& s, std::uint32_t p, unsigned from, Instant now);
    void ended(Stack& s, ConnId c, bool timed_out, Instant now);
    void backend_failed(Stack& s, std::uint32_t p, bool timed_out, Instant now);
    void finish(Stack& s, std::uint32_t p, Instant now);
    void abort_pair(Stack& s, std::uint32_t p, Instant now);

    std::uint32_t take_pair();
    void free_pair(std::uint32_t p);
    void wait_on(List& l, std::uint32_t p, Wait w);
    void unwait(std::uint32_t p);

    ProxyConfig config_;
    std::pmr::vector<Pair> pairs_;
    std::uint32_t free_head_ = kNone;
    List connecting_;  // by deadline: every pair waits the same timeout
    List retry_;       // a send found no buffer: pumped again next tick
    ConnId listener_;
    bool listening_ = false;
    std::size_t next_backend_ = 0;
    ProxyCounters counters_;
};

}  // namespace tcpfp::app
