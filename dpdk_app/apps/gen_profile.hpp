// One traffic profile's share on one worker (apps/gen.hpp's Generator holds
// up to kMaxProfiles of them). It owns a slot per connection it may hold
// (the `conns` cap), queues of slots (to connect, waiting for a rate token,
// thinking), the pacer that keeps the target rate, its counters and its
// three latency histograms. All of it is allocated when the run starts;
// nothing is allocated per connection or per request.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dpdk_app/apps/gen.hpp"
#include "dpdk_app/apps/hdr_histogram.hpp"
#include "dpdk_app/apps/http_response.hpp"
#include "dpdk_app/apps/pacer.hpp"
#include "dpdk_app/apps/sha256.hpp"

namespace tcpfp::app {

// A FIFO of slot numbers in a ring sized once (each slot is in it at most once).
class SlotQueue {
public:
    void reset(std::size_t capacity) {
        ring_.assign(std::max<std::size_t>(capacity, 1), 0);
        head_ = len_ = 0;
    }
    void push(std::uint32_t s) {
        // head_ and len_ are below the size, so one subtraction wraps (a
        // % here was a 64-bit division per connection).
        std::size_t at = head_ + len_;
        if (at >= ring_.size()) at -= ring_.size();
        ring_[at] = s;
        ++len_;
    }
    std::uint32_t front() const { return ring_[head_]; }
    std::uint32_t pop() {
        const std::uint32_t s = ring_[head_];
        head_ = head_ + 1 == ring_.size() ? 0 : head_ + 1;
        --len_;
        return s;
    }
    std::size_t size() const { return len_; }
    bool empty() const { return len_ == 0; }
    void clear() { head_ = len_ = 0; }

private:
    std::vector<std::uint32_t> ring_;
    std::size_t head_ = 0, len_ = 0;
};

class GenProfile {
public:
    static constexpr std::uint32_t kMaxPipeline = 8;

    GenProfile(unsigned worker, std::size_t index);

    bool start(Stack& stack, const GenSpec& spec, tcp::Instant now, std::string& why);
    void stop(tcp::Instant now);  // ends the run: drains, then FIN for every connection
    void on_event(std::uint32_t slot, tcp::ConnId conn, tcp::EventKind kind, tcp::Instant now);
    void poll(tcp::Instant now);
    void report(GenReport& out, tcp::Instant now) const;
    GenRun run() const { return run_; }
    void detach() { spec_.publish = nullptr; }
    std::uint32_t slots() const { return static_cast<std::uint32_t>(slots_.size()); }

private:
    enum class Phase : std::uint8_t { free, ready, connecting, open, closing, paused };
    struct Slot {
        tcp::ConnId h = tcp::ConnId::invalid();
        Phase phase = Phase::free;
        // The waiting and thinking rings may still hold a slot after its
        // connection ended: in_wait/in_think say it is physically there (so
        // it is never pushed twice), wants_token/thinking that it still wants to be.
        bool in_wait = false, in_think = false, wants_token = false, thinking = false;
        std::uint8_t backoff = 0;       // the next pause is 10 ms << backoff
        std::uint8_t inflight = 0;      // requests sent (or being sent) without a full response
        std::uint8_t to_send = 0;       // of those, requests not yet started on the wire
        bool first_byte = false;        // the oldest response in flight has begun
        std::uint32_t req_left = 0;     // bytes of the request being sent, not yet accepted by send()
        std::uint64_t resp_left = 0;    // echo, rr: bytes of the oldest response still expected
        std::uint64_t resp_off = 0;     // rr, http: bytes of the oldest response seen (pattern offset)
        std::uint64_t seed = 0;         // echo verify: this connection's pattern
        std::uint64_t tx_off = 0, rx_off = 0;  // echo: stream positions
        tcp::Instant t_connect;          // connect() called
        tcp::Instant due;                // connecting: give up; paused: retry; closing: the server's FIN
        tcp::Instant think_due;          // thinking: the next request
        std::array<tcp::Instant, kMaxPipeline> t_req{};  // when each request in flight began
        std::uint8_t t_head = 0;        // index of the oldest in t_req
        HttpResponseParser http;
    };

    // Lifecycle (gen_profile.cpp).
    void step(tcp::Instant now);
    void end_run(tcp::Instant now);
    void drain(tcp::Instant now);
    void finish_drain(tcp::Instant now);
    std::uint32_t closes_unanswered() const;
    void publish(tcp::Instant now);
    void publish_second(tcp::Instant now, bool final);
    void sweep(tcp::Instant now);
    void wake_thinkers(tcp::Instant now);
    // Connections.
    void connect_ready(tcp::Instant now);
    void connect(std::uint32_t s, tcp::Instant now);
    bool try_connect(tcp::ConnectParams& p, std::uint32_t s, tcp::Instant now, tcp::ConnId& h, int& rc);
    void on_connected(std::uint32_t s, tcp::Instant now);
    void on_lost(std::uint32_t s, tcp::EventKind kind, tcp::Instant now);
    void on_peer_fin(std::uint32_t s, tcp::Instant now);
    void fail(std::uint32_t s, GenFail why, tcp::Instant now);
    void error(GenError e);
    void release(std::uint32_t s, tcp::Instant now, bool rst = false);
    void enqueue(std::uint32_t s);
    void pause(std::uint32_t s, tcp::Instant now);
    void hold_connects(tcp::Instant now);
    void after_transaction(std::uint32_t s, tcp::Instant now);
    // Requests (gen_traffic.cpp).
    void build_request();
    void want_request(std::uint32_t s, tcp::Instant now);
    void start_requests(std::uint32_t s, std::uint32_t n, tcp::Instant now);
    void start_waiting(tcp::Instant now);
    void pump_send(std::uint32_t s, tcp::Instant now);
    const std::uint8_t* request_bytes(Slot& slot, std::uint32_t offset, std::size_t len);
    void begin_response(Slot& slot);
    void expect_server_close(std::uint32_t s, tcp::Instant now);
    void pump_recv(std::uint32_t s, tcp::Instant now);
    void consume(std::uint32_t s, const std::uint8_t* p, std::size_t n, tcp::Instant now);
    std::size_t consume_stream(Slot& slot, const std::uint8_t* p, std::size_t n);
    std::size_t consume_http(Slot& slot, const std::uint8_t* p, std::size_t n);
    void first_byte(Slot& slot, tcp::Instant now);
    void response_done(std::uint32_t s, tcp::Instant now);
    std::uint64_t response_size() const;
    std::uint32_t request_size() const;
    bool budget_reached() const;
    bool rate_limited_requests() const { return spec_.rate > 0 && spec_.mode == GenMode::rr; }
    bool rate_limited_connects() const { return spec_.rate > 0 && spec_.mode != GenMode::rr; }
    std::uint64_t retrans_now() const;

    Stack* stack_ = nullptr;
    const unsigned worker_;
    const std::size_t index_;
    GenSpec spec_;
    GenRun run_ = GenRun::idle;
    std::vector<Slot> slots_;
    SlotQueue ready_, waiting_, thinking_;
    RatePacer pacer_;
    std::uint32_t syn_inflight_ = 0;
    std::uint64_t active_ = 0;
    std::uint32_t sweep_pos_ = 0;
    std::uint32_t drain_cursor_ = 0;
    bool late_pass_ = false;  // the drain's deadline passed and its last pass began
    std::uint32_t next_local_ = 0;
    std::uint32_t next_port_ = 0;
    std::uint64_t conn_serial_ = 0;
    bool stop_sending_ = false;  // bulk with count: the share is sent, wait for the echo
    tcp::Instant start_, end_, last_publish_, deadline_, drain_deadline_, last_poll_;
    tcp::Instant connect_hold_until_;  // no connect() before (ports or memory ran out)
    std::uint8_t exhausted_backoff_ = 0;
    std::uint64_t seconds_published_ = 0;
    std::uint64_t max_gap_us_ = 0, stalls_ = 0;
    std::uint64_t cpu_start_us_ = 0, cpu_end_us_ = 0;
    std::uint64_t retrans_start_ = 0, retrans_end_ = 0;
    std::uint64_t started_ = 0;  // requests (rr) or connections (crr, hold) started under the rate
    GenCounters c_;
    HdrHistogram connect_, first_byte_, latency_;
    HdrHistogram second_latency_;  // this second's request latencies (the per-second line)
    std::vector<Sha256> digests_;  // sha256: one running digest per slot
    std::vector<std::uint8_t> tx_scratch_, rx_scratch_, expect_scratch_;
    std::vector<std::uint8_t> request_;  // rr and http: every request's bytes, built at start
};

}  // namespace tcpfp::app
