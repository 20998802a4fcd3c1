// The built-in load tester (`start gen [NAME] crr|rr|bulk|hold ...`): an app
// on each worker (added with poll = true) that runs up to kMaxProfiles named
// traffic profiles at once. The prompt splits each profile's connections and
// rate across the workers; a worker's share of a profile is a GenProfile
// (gen_profile.hpp) with its own slots, counters and histograms. A
// connection's context word names its profile and slot, so the events of
// one profile never touch another's state. Nothing is allocated per request
// or per connection: a profile's memory is taken when it starts.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dpdk_app/apps/app.hpp"
#include "dpdk_app/apps/command.hpp"
#include "dpdk_app/apps/hdr_histogram.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::app {

inline constexpr std::size_t kMaxProfiles = 8;

enum class GenMode : std::uint8_t { crr, rr, bulk, hold };
const char* to_string(GenMode m);

// What the bytes of a request and a response are (dpdk_app/README.md,
// "Load tester"):
//   echo  request bytes, the same bytes back (RFC 862 echo; `size`);
//   rr    tcpfp's rr service framing (apps/rr.hpp): an 8-byte header asks
//         for the response size, so request and response sizes differ;
//   http  HTTP/1.1 requests, responses parsed by Content-Length or chunked.
enum class GenProto : std::uint8_t { echo, rr, http };
const char* to_string(GenProto p);

// Why a connection attempt (or an established connection) was lost: each
// one counts in conns_failed and under its reason.
#define TCPFP_GEN_FAILS(X)                                                                   \
    X(refused, "RST in answer to the SYN (ECONNREFUSED)")                                    \
    X(connect_timeout, "not ESTABLISHED within the connect timeout")                          \
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
#define TCPFP_GEN_ERRORS(X)                                                          \
    X(verify_mismatch, "verify: received bytes differ from the expected pattern")    \
    X(bad_response, "HTTP response unparsable (status line, length or chunk)")       \
    X(early_eof, "the peer closed before the response was complete")                \
    X(excess_data, "bytes beyond the expected response")                            \
    X(digest_mismatch, "sha256: a response body's digest differs from the expected") \
    X(server_kept_open, "closer server: the server did not close after the response")
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

// Run states published and reported. `draining`: the run has ended (its
// figures are frozen) and the connections are being closed with FIN, each
// after its response in flight or the drain timeout.
enum class GenRun : std::uint8_t { idle, running, draining, finished };
const char* to_string(GenRun r);

// The cumulative figures of one profile on one worker.
struct GenCounters {
    std::uint64_t conns_opened = 0;  // reached ESTABLISHED
    std::uint64_t conns_failed = 0;
    std::uint64_t requests = 0;      // completed exchanges (bulk: size-byte sends)
    std::uint64_t bytes_sent = 0;    // payload accepted by send()
    std::uint64_t bytes_received = 0;
    std::uint64_t errors = 0;
    std::uint64_t closed_fin = 0;    // connections we closed with FIN
    std::uint64_t closed_rst = 0;    // ... with RST (close rst)
    std::uint64_t closed_by_server = 0;  // the server's FIN came first (closer server, HTTP close)
    std::uint64_t drain_timeouts = 0;    // closed at the end with a response still in flight
    std::uint64_t rate_missed = 0;       // starts the schedule allowed that found nothing to start
    std::uint64_t drained = 0;           // responses completed after the run ended (not in requests)
    std::array<std::uint64_t, 6> status{};  // HTTP status classes: [0] unused, [1] 1xx .. [5] 5xx
    std::array<std::uint64_t, kGenFailCount> fails{};
    std::array<std::uint64_t, kGenErrorCount> error_kinds{};
};

// One second of a profile on one worker, published for the main lcore's
// per-second line: the counters at the end of that second, and the request
// latencies completed within it.
struct GenSecond {
    std::uint64_t second = 0;  // 1-based: the second that ended
    std::uint64_t at_us = 0;   // its end, since the run started (the last one is partial)
    std::uint64_t final = 0;   // 1: the run ended with this one
    std::uint64_t opened = 0, failed = 0, requests = 0, sent = 0, received = 0, errors = 0;
    std::uint64_t active = 0, retrans = 0, target_milli = 0;  // target rate x 1000 at its end
    std::uint64_t status4 = 0, status5 = 0, closed = 0, missed = 0;
};

// Where a worker publishes one profile: cumulative counters about once a
// millisecond (relaxed stores, one writer), and each finished second twice
// buffered (second k in slot k % 2, then `seconds` = k, release), with that
// second's request-latency histogram. The main lcore owns it; cache-line
// aligned so two workers never share a line.
struct alignas(64) GenPublished {
    std::atomic<std::uint64_t> conns_opened{0}, conns_failed{0}, requests{0}, bytes_sent{0},
        bytes_received{0}, errors{0}, active{0};
    std::atomic<std::uint8_t> run{0};  // GenRun
    std::atomic<std::uint64_t> seconds{0};
    struct Slot {
        std::array<std::atomic<std::uint64_t>, sizeof(GenSecond) / 8> fields{};
        std::array<std::atomic<std::uint64_t>, HdrHistogram::kBuckets> latency{};
    };
    std::array<Slot, 2> second;

    void put_second(const GenSecond& s, const HdrHistogram& h);
    // Reads second k (false when it was overwritten meanwhile).
    bool get_second(std::uint64_t k, GenSecond& s, HdrHistogram& h) const;
};

// How the client ends a connection after a transaction (crr) or at the end.
enum class GenCloser : std::uint8_t { client, server };

// What `start gen` asks of one worker for one profile.
struct GenSpec {
    std::string name;               // "" for the unnamed profile
    GenMode mode = GenMode::rr;
    GenProto proto = GenProto::echo;
    wire::Ipv4Addr remote_ip;
    std::uint16_t remote_port = 0;
    std::uint32_t conns = 0;        // this worker's share: its concurrency cap
    std::uint32_t request = 64;     // request bytes (echo: also the response); bulk: bytes per send
    std::uint32_t response = 64;    // rr, http (/bytes/N): response bytes asked for
    std::uint32_t hold_bytes = 0;   // hold: bytes sent once after connecting (`size`), then held
    std::uint64_t duration_us = 0;  // 0: none
    std::uint64_t count = 0;        // this worker's share of requests; 0: none
    bool verify = false;
    double rate = 0;                // this worker's share per second; 0: as fast as it can
    std::uint64_t ramp_us = 0;
    std::uint64_t think_us = 0;     // pause between a response and the next request
    std::uint32_t pipeline = 1;     // requests in flight per connection
    GenCloser closer = GenCloser::client;
    bool close_rst = false;         // the client's close is an abort (RST), not a FIN
    std::uint32_t drain_ms = 1000;  // at the end: wait this long for responses in flight
    // HTTP: the request text, built by the prompt (method, path, Host,
    // headers, Content-Length when body > 0, Connection: close unless
    // keep-alive); then `http_body` bytes of body.
    std::string http_request;
    std::uint32_t http_body = 0;
    bool http_head = false;         // HEAD: responses have no body
    bool keep_alive = true;         // false: the server closes after each response
    bool check_digest = false;
    std::array<std::uint8_t, 32> digest{};  // sha256 every response body must have
    tcp::SocketOptions options;     // per-profile TCP knobs
    std::array<wire::Ipv4Addr, tcp::kMaxLocalAddresses> locals{};  // local addresses to rotate over
    std::uint32_t local_count = 0;
    std::uint16_t port_lo = 0, port_hi = 0;  // source ports; 0: RFC 6056 ephemeral
    std::uint32_t syn_window = 1024;  // connection attempts in flight at most
    // The end-of-run closes: FINs not yet answered (the engine's
    // FIN_WAIT_1, CLOSING and LAST_ACK) at most, so the peer's answers
    // never outrun what this worker reads back.
    std::uint32_t close_window = 1024;
    std::uint32_t connect_timeout_ms = 10000;
    std::uint64_t seed = 0;         // verify: pattern seed
    GenPublished* publish = nullptr;  // where the worker publishes (main lcore owns it)
};

// One worker's figures for one profile, for `show gen`, `save gen`.
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
    std::uint64_t cpu_us = 0;  // CPU time the worker thread got during the run
    // The rate: what the schedule allowed, what started, and how evenly the
    // starts spread over the milliseconds of the run.
    double target_rate = 0;
    std::uint64_t due = 0, started = 0;
    std::uint64_t spread_ms = 0, spread_max = 0;
    double spread_stddev = 0;
    HdrHistogram connect, first_byte, latency;  // connect time, time to first byte, request completion
};

class GenProfile;

class Generator : public App {
public:
    explicit Generator(unsigned worker);
    ~Generator() override;
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

    const char* name() const override { return "gen"; }
    void start(Stack& stack, tcp::Instant now) override;
    void on_events(Stack& stack, std::span<const AppEvent> events, tcp::Instant now) override;
    // Every loop iteration while a profile runs or drains (start_run turns
    // polling on, the last profile to finish off): each profile opens
    // connections, starts requests, checks deadlines, publishes, and after
    // its run closes what is left.
    void poll(Stack& stack, tcp::Instant now) override;

    // Starts profile `index` (0..kMaxProfiles-1); false (with why) when that
    // profile is still running or the spec does not fit.
    bool start_run(std::size_t index, const GenSpec& spec, tcp::Instant now, std::string& why);
    // Ends the run: no new work, responses in flight drained, FIN for all.
    void stop_run(std::size_t index, tcp::Instant now);
    void report(std::size_t index, GenReport& out, tcp::Instant now) const;
    bool running(std::size_t index) const;
    void detach();  // GenDetach

    // Single-profile shorthands (profile 0), as before profiles existed.
    bool start_run(const GenSpec& spec, tcp::Instant now, std::string& why) {
        return start_run(0, spec, now, why);
    }
    void stop_run(tcp::Instant now) { stop_run(0, now); }
    void report(GenReport& out, tcp::Instant now) const { report(0, out, now); }
    bool running() const { return running(0); }

    // A connection's context word: profile in the top 16 bits, slot + 1 below.
    static std::uintptr_t context_of(std::size_t profile, std::uint32_t slot) {
        return (std::uintptr_t{profile} << 48) | (std::uintptr_t{slot} + 1);
    }

private:
    Stack* stack_ = nullptr;
    const unsigned worker_;
    std::array<std::unique_ptr<GenProfile>, kMaxProfiles> profiles_;
};

// The verify pattern of the echo protocol: byte `offset` of connection
// `seed`'s stream.
void fill_pattern(std::uint64_t seed, std::uint64_t offset, std::span<std::uint8_t> out);
// The response pattern of tcpfp's rr and HTTP /bytes/N services: byte k of
// a response is 'a' + k % 26. Fills `out` as bytes offset.. of a response.
void fill_response_pattern(std::uint64_t offset, std::span<std::uint8_t> out);

// The generator family's messages (command.hpp), run on each worker.
struct GenStart : Command {
    GenStart(std::size_t profile_index, const GenSpec& share) : index(profile_index), spec(share) {}
    void run(AgentContext& ctx, tcp::Instant now) override;
    const std::size_t index;
    const GenSpec spec;
};

struct GenStop : Command {
    explicit GenStop(std::size_t profile_index = 0) : index(profile_index) {}
    void run(AgentContext& ctx, tcp::Instant now) override;
    const std::size_t index;
};

// The prompt is going away: no profile writes to its publication blocks
// again (they are the prompt's; the workers outlive it by their stop time).
struct GenDetach : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
};

struct GenRead : Command {
    explicit GenRead(std::size_t profile_index = 0) : index(profile_index) {}
    void run(AgentContext& ctx, tcp::Instant now) override;
    const std::size_t index;
    // On the heap with the message: three histograms are ~90 KB.
    std::unique_ptr<GenReport> report = std::make_unique<GenReport>();
};

}  // namespace tcpfp::app
