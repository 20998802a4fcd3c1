// The built-in traffic generators (`start gen crr|rr|bulk|hold ...`): an app
// on each worker (added with poll = true). The prompt splits the connections
// across the workers; each worker's Generator preallocates its connection
// slots when a run starts, gets the events of its own connections from the
// host (a connection's context word is its slot), and every loop iteration
// opens connections and checks deadlines; it publishes its counters about
// once a millisecond for the main lcore's once-per-second line. Nothing is
// allocated per request or per connection.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dpdk_app/apps/app.hpp"
#include "dpdk_app/apps/command.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::app {

enum class GenMode : std::uint8_t { crr, rr, bulk, hold };
const char* to_string(GenMode m);

// Why a connection attempt (or an established connection) was lost: each
// one counts in conns_failed and under its reason.
#define TCPFP_GEN_FAILS(X)                                                                   \
    X(refused, "RST in answer to the SYN (ECONNREFUSED)")                                    \
    X(connect_timeout, "not ESTABLISHED within 10 s (three SYN retransmissions)")              \
    X(ports_exhausted, "connect: EADDRNOTAVAIL, no free ephemeral port (TIME_WAIT holds them)") \
    X(no_memory, "connect: ENOBUFS, connection table or buffers full")                      \
    X(reset, "reset after ESTABLISHED")                                                      \
    X(timed_out, "retransmissions gave up (ETIMEDOUT)")                                      \
    X(other, "another connect() error")
enum class GenFail : std::uint8_t {
#define TCPFP_X(name, desc) name,
    TCPFP_GEN_FAILS(TCPFP_X)
#undef TCPFP_X
};
inline constexpr std::size_t kGenFailCount = 0
#define TCPFP_X(name, desc) +1
    TCPFP_GEN_FAILS(TCPFP_X)
#undef TCPFP_X
    ;
const char* name(GenFail f);

// Data-level errors: each makes `wait gen` fail.
#define TCPFP_GEN_ERRORS(X)                                                        \
    X(verify_mismatch, "verify: received bytes differ from the sent pattern")      \
    X(bad_response, "HTTP response unparsable, not 200, or without Content-Length") \
    X(early_eof, "the peer closed before the response was complete")              \
    X(excess_data, "bytes beyond the expected response")
enum class GenError : std::uint8_t {
#define TCPFP_X(name, desc) name,
    TCPFP_GEN_ERRORS(TCPFP_X)
#undef TCPFP_X
};
inline constexpr std::size_t kGenErrorCount = 0
#define TCPFP_X(name, desc) +1
    TCPFP_GEN_ERRORS(TCPFP_X)
#undef TCPFP_X
    ;
const char* name(GenError e);

// Latency in microseconds: log-linear buckets (exact below 32 us, then 16
// per power of two: at most 1/16 relative error), fixed size, no allocation.
class LatencyHistogram {
public:
    static constexpr unsigned kSubBits = 4;
    static constexpr std::uint64_t kLinear = 2u << kSubBits;  // 32 exact buckets
    static constexpr std::size_t kBuckets = kLinear + (64 - kSubBits - 1) * (1u << kSubBits);

    void record(std::uint64_t us) {
        ++b_[bucket(us)];
        ++n_;
    }
    void merge(const LatencyHistogram& o);
    void clear();
    std::uint64_t count() const { return n_; }
    // The value below which a fraction p (0..1) of the samples lie: the
    // middle of that bucket; 0 without samples.
    std::uint64_t percentile(double p) const;

    static std::size_t bucket(std::uint64_t us);
    static std::uint64_t lower(std::size_t bucket);
    static std::uint64_t width(std::size_t bucket);

private:
    std::array<std::uint64_t, kBuckets> b_{};
    std::uint64_t n_ = 0;
};

// Run states published and reported.
enum class GenRun : std::uint8_t { idle, running, finished };

// Published by a worker about once a millisecond (relaxed stores, one
// writer); cache-line aligned so two workers never share a line.
struct alignas(64) GenPublished {
    std::atomic<std::uint64_t> conns_opened{0}, conns_failed{0}, requests{0}, bytes_sent{0},
        bytes_received{0}, errors{0}, active{0};
    std::atomic<std::uint8_t> run{0};  // GenRun
};

// What `start gen` asks of one worker.
struct GenSpec {
    GenMode mode = GenMode::rr;
    wire::Ipv4Addr remote_ip;
    std::uint16_t remote_port = 0;
    std::uint32_t conns = 0;        // this worker's share
    std::uint32_t size = 64;        // request (and echo response) bytes; bulk: bytes per send
    std::uint64_t duration_us = 0;  // 0: none
    std::uint64_t count = 0;        // this worker's share of requests; 0: none
    bool verify = false;
    bool http = false;              // rport 80: HTTP GET instead of an echo exchange
    std::array<wire::Ipv4Addr, tcp::kMaxLocalAddresses> locals{};  // local addresses to rotate over
    std::uint32_t local_count = 0;
    std::uint32_t syn_window = 1024;  // connection attempts in flight at most
    std::uint32_t connect_timeout_ms = 10000;
    std::uint64_t seed = 0;         // verify: pattern seed
    GenPublished* publish = nullptr;  // where the worker publishes (main lcore owns it)
};

// The counters a worker's generator keeps (and reports).
struct GenCounters {
    std::uint64_t conns_opened = 0;  // reached ESTABLISHED
    std::uint64_t conns_failed = 0;
    std::uint64_t requests = 0;      // completed exchanges (crr: connections; bulk: size-byte sends)
    std::uint64_t bytes_sent = 0;    // payload accepted by send()
    std::uint64_t bytes_received = 0;
    std::uint64_t errors = 0;
    std::array<std::uint64_t, kGenFailCount> fails{};
    std::array<std::uint64_t, kGenErrorCount> error_kinds{};
};

// One worker's final (or current) figures, for `show gen`.
struct GenReport {
    GenRun run = GenRun::idle;
    GenMode mode = GenMode::rr;
    std::uint32_t conns = 0;
    GenCounters c;
    std::uint64_t active = 0;
    std::uint64_t elapsed_us = 0;
    std::uint64_t retrans = 0;          // engine retrans_segs since start (frozen at the end)
    std::uint64_t time_wait_local = 0;  // TIME_WAIT records in this engine now
    // Gaps between two loop iterations while running: the longest, and how
    // many exceeded 1 ms (the worker was descheduled: CPU contention, not TCP).
    std::uint64_t max_gap_us = 0, stalls = 0;
    // CPU time the worker thread got during the run: below the elapsed time
    // when it shares its CPU with other processes.
    std::uint64_t cpu_us = 0;
    LatencyHistogram latency;
};

class Generator : public App {
public:
    explicit Generator(unsigned worker);
    ~Generator() override;
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

    const char* name() const override { return "gen"; }
    void start(Stack& stack, tcp::Instant now) override;
    // The events of the generator's connections.
    void on_events(Stack& stack, std::span<const AppEvent> events, tcp::Instant now) override;
    // Every loop iteration: opens connections, checks deadlines, publishes,
    // and after a run closes what is left in batches.
    void poll(Stack& stack, tcp::Instant now) override;

    // Allocates the slots and starts connecting; false (with why) when a
    // generator is already running or the spec does not fit.
    bool start_run(const GenSpec& spec, tcp::Instant now, std::string& why);
    // Closes every connection (gracefully) and freezes the figures.
    void stop_run(tcp::Instant now);
    void report(GenReport& out, tcp::Instant now) const;
    bool running() const { return run_ == GenRun::running; }

private:
    enum class Phase : std::uint8_t { idle, ready, connecting, open, paused };
    struct Slot;
    struct HttpParser;

    void step(tcp::Instant now);
    void publish(tcp::Instant now);
    void sweep(tcp::Instant now);
    void connect_ready(tcp::Instant now);
    void connect(std::uint32_t s, tcp::Instant now);
    void on_event(std::uint32_t s, tcp::EventKind kind, tcp::Instant now);
    void on_connected(Slot& slot, tcp::Instant now);
    void on_lost(std::uint32_t s, tcp::EventKind kind, tcp::Instant now);
    void begin_request(Slot& slot, tcp::Instant now);
    void pump_send(Slot& slot, tcp::Instant now);
    void pump_recv(std::uint32_t s, tcp::Instant now);
    std::size_t consume(Slot& slot, std::size_t len);
    void response_done(std::uint32_t s, tcp::Instant now);
    void fail(std::uint32_t s, GenFail why, tcp::Instant now);
    void error(GenError e);
    void release(Slot& slot, tcp::Instant now);
    void enqueue(std::uint32_t s);
    void hold_connects(tcp::Instant now);
    void pause(Slot& slot, tcp::Instant now);
    void finish(tcp::Instant now);
    void close_remaining(tcp::Instant now, std::uint32_t budget);
    bool budget_reached() const;
    std::uint64_t retrans_now() const;

    Stack* stack_ = nullptr;
    const unsigned worker_;
    GenSpec spec_;
    GenRun run_ = GenRun::idle;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> ready_;     // ring of slots waiting to connect
    std::size_t ready_head_ = 0, ready_len_ = 0;
    std::uint32_t syn_inflight_ = 0;
    std::uint32_t sweep_pos_ = 0;
    std::uint32_t close_cursor_ = 0;  // finish(): slots below it are closed
    std::uint64_t last_close_ms_ = 0;
    std::uint32_t next_local_ = 0;
    std::uint64_t conn_serial_ = 0;
    std::uint64_t active_ = 0;
    bool stop_sending_ = false;  // bulk with count: the share is sent, wait for the echo
    tcp::Instant start_, end_, last_publish_, deadline_;
    tcp::Instant last_poll_;
    tcp::Instant connect_hold_until_;  // no connect() before (ports or memory ran out)
    std::uint8_t exhausted_backoff_ = 0;
    std::uint64_t max_gap_us_ = 0, stalls_ = 0;
    std::uint64_t cpu_start_us_ = 0, cpu_end_us_ = 0;
    std::uint64_t retrans_start_ = 0, retrans_end_ = 0;
    GenCounters c_;
    LatencyHistogram latency_;
    std::vector<std::uint8_t> tx_scratch_, rx_scratch_, expect_scratch_;
    std::string http_request_;
};

// The verify pattern: byte `offset` of connection `seed`'s stream.
void fill_pattern(std::uint64_t seed, std::uint64_t offset, std::span<std::uint8_t> out);

// The generator family's messages (command.hpp), run on each worker.
struct GenStart : Command {
    explicit GenStart(const GenSpec& share) : spec(share) {}
    void run(AgentContext& ctx, tcp::Instant now) override;
    const GenSpec spec;
};

struct GenStop : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
};

struct GenRead : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
    GenReport report;
};

}  // namespace tcpfp::app
