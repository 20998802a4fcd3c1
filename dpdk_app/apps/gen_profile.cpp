// GenProfile: the run's lifecycle, connections and their failures, and
// what is published (gen_traffic.cpp has the requests and responses).
#include "dpdk_app/apps/gen_profile.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

namespace tcpfp::app {

namespace {

constexpr std::size_t kScratch = 65536;       // the largest send and receive chunk
constexpr std::uint32_t kSweepPerMs = 4096;   // slots checked for deadlines per millisecond
constexpr std::uint32_t kPauseMs = 10;        // first pause after a failure; doubles
constexpr std::uint8_t kMaxBackoff = 6;       // up to 640 ms
// Per loop iteration: new connections and closes at the end of a run. Each
// emits a segment; bounded so one iteration never overruns the engine's
// output queue or the port's TX ring (hold opens and closes 10^5..10^6).
constexpr std::uint32_t kConnectsPerPoll = 64;
constexpr std::uint32_t kClosesPerPoll = 256;
// Closes wait for a full TX ring, but not longer than this past the drain's deadline.
constexpr std::int64_t kLinkWaitMs = 10000;
constexpr std::uint32_t kPortTries = 16;      // source port range: ports tried per connect

// splitmix64's finaliser: a cheap, well-mixed 64-bit hash.
std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// CPU time of the calling thread (the worker: start, finish and report run on it).
std::uint64_t thread_cpu_us() {
    timespec ts{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

std::uint64_t micros(tcp::Duration d) { return static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.as_micros())); }

}  // namespace

GenProfile::GenProfile(unsigned worker, std::size_t index)
    : worker_(worker), index_(index), tx_scratch_(kScratch), rx_scratch_(kScratch), expect_scratch_(kScratch) {}

bool GenProfile::start(Stack& stack, const GenSpec& spec, tcp::Instant now, std::string& why) {
    if (run_ == GenRun::running || run_ == GenRun::draining) {
        why = "profile '" + spec.name + "' is still running on worker " + std::to_string(worker_);
        return false;
    }
    if (spec.request == 0 || spec.request > kScratch || spec.pipeline == 0 || spec.pipeline > kMaxPipeline) {
        why = "request must be 1.." + std::to_string(kScratch) + " bytes and pipeline 1.." +
              std::to_string(kMaxPipeline);
        return false;
    }
    if (spec.local_count == 0 || spec.local_count > spec.locals.size()) {
        why = "no local address";
        return false;
    }
    stack_ = &stack;
    spec_ = spec;
    // Preallocated here, once per run: nothing below allocates.
    slots_.assign(spec.conns, Slot{});
    ready_.reset(spec.conns);
    waiting_.reset(spec.conns);
    thinking_.reset(spec.conns);
    digests_.assign(spec.check_digest ? spec.conns : 0, Sha256{});
    syn_inflight_ = sweep_pos_ = next_local_ = next_port_ = drain_cursor_ = 0;
    connect_hold_until_ = now;
    exhausted_backoff_ = 0;
    active_ = started_ = seconds_published_ = 0;
    stop_sending_ = false;
    c_ = GenCounters{};
    connect_.clear();
    first_byte_.clear();
    latency_.clear();
    second_latency_.clear();
    start_ = end_ = last_publish_ = last_poll_ = now;
    max_gap_us_ = stalls_ = 0;
    cpu_start_us_ = cpu_end_us_ = thread_cpu_us();
    deadline_ = spec.duration_us ? now + tcp::Duration::micros(static_cast<std::int64_t>(spec.duration_us))
                                 : tcp::Instant::max();
    retrans_start_ = retrans_end_ = retrans_now();
    // A backlog of 5 ms of starts at most: a worker that falls behind (it
    // was descheduled, or every connection is busy) drops the rest as
    // rate_missed instead of bursting to catch up.
    const auto burst = static_cast<std::uint64_t>(std::max(4.0, spec.rate * 0.005));
    pacer_.start(now, spec.rate, tcp::Duration::micros(static_cast<std::int64_t>(spec.ramp_us)), burst);
    if (!spec.verify) {
        for (std::size_t i = 0; i < tx_scratch_.size(); ++i) tx_scratch_[i] = static_cast<std::uint8_t>('a' + i % 26);
    }
    build_request();
    run_ = GenRun::running;
    for (std::uint32_t s = 0; s < spec.conns; ++s) enqueue(s);
    if (spec.conns == 0) end_run(now);  // this worker has no share
    publish(now);
    return true;
}

void GenProfile::stop(tcp::Instant now) {
    if (run_ == GenRun::running) end_run(now);
}

// The figures freeze now. Connections without a response in flight close
// with FIN at once (in batches); the others after their response, or at
// the drain deadline. Nothing is abandoned.
void GenProfile::end_run(tcp::Instant now) {
    run_ = GenRun::draining;
    if (spec_.rate > 0) {
        (void)pacer_.available(now);
        c_.rate_missed = pacer_.missed();
    }
    end_ = now;
    retrans_end_ = retrans_now();
    cpu_end_us_ = thread_cpu_us();
    publish_second(now, true);
    ready_.clear();
    waiting_.clear();
    thinking_.clear();
    for (Slot& slot : slots_) slot.in_wait = slot.in_think = slot.wants_token = slot.thinking = false;
    drain_cursor_ = 0;
    late_pass_ = false;
    drain_deadline_ = now + tcp::Duration::millis(spec_.drain_ms);
    drain(now);
    publish(now);  // `draining` (or `finished`) is seen at once
}

void GenProfile::drain(tcp::Instant now) {
    const auto n = static_cast<std::uint32_t>(slots_.size());
    const bool late = now >= drain_deadline_;
    // FINs beyond what the link takes would be dropped and resent by timers
    // all at once: the closes wait for the TX ring, for at most kLinkWaitMs
    // past the drain's deadline (a link that never drains, the port held
    // down, must not keep the run from ending).
    const bool link_wait_over = now >= drain_deadline_ + tcp::Duration::millis(kLinkWaitMs);
    if (stack_->link_backlog() > 0 && drain_cursor_ < n && !link_wait_over) return;
    if (late && !late_pass_) {
        // One last pass closes everything, busy or not. Started once: the
        // cursor does not go back to the first slot on every poll (with a
        // million slots that rescans what is closed already).
        late_pass_ = true;
        drain_cursor_ = 0;
    }
    // Each FIN draws the peer's answer; unanswered FINs stay under the
    // window so that the answers come back no faster than they are read
    // (a million closed at once overran the peer's TX ring, and the lost
    // answers came back as a million FIN retransmissions). Like the TX ring
    // wait, for at most kLinkWaitMs past the deadline: a peer that never
    // answers must not keep the run from ending.
    const std::uint32_t unanswered = closes_unanswered();
    const std::uint32_t room = spec_.close_window > unanswered ? spec_.close_window - unanswered : 0;
    std::uint32_t budget = link_wait_over ? kClosesPerPoll : std::min(kClosesPerPoll, room);
    for (; drain_cursor_ < n && budget > 0; ++drain_cursor_) {
        Slot& slot = slots_[drain_cursor_];
        if (slot.h.is_invalid()) {
            slot.phase = Phase::free;
            continue;
        }
        const bool busy = slot.inflight > 0 || slot.phase == Phase::connecting || slot.phase == Phase::closing;
        if (busy && !late) continue;  // closes itself when its response (or FIN) is in
        if (busy) ++c_.drain_timeouts;
        release(drain_cursor_, now);
        --budget;
    }
    if (drain_cursor_ == n && (late || (active_ == 0 && syn_inflight_ == 0))) finish_drain(now);
}

// FINs this engine sent and the peer has not acknowledged (RFC 9293
// §3.3.2: FIN-WAIT-1, CLOSING, LAST-ACK), whoever closed them.
std::uint32_t GenProfile::closes_unanswered() const {
    const tcp::Counters& c = stack_->engine().counters();
    return static_cast<std::uint32_t>(c.in_state(tcp::State::fin_wait_1) + c.in_state(tcp::State::closing) +
                                      c.in_state(tcp::State::last_ack));
}

void GenProfile::finish_drain(tcp::Instant now) {
    if (active_ != 0 || syn_inflight_ != 0) {
        drain_cursor_ = 0;  // a late pass is still closing: come back
        return;
    }
    run_ = GenRun::finished;
    publish(now);
}

std::uint64_t GenProfile::retrans_now() const {
    return stack_->engine().counters().mib[static_cast<std::size_t>(tcp::Mib::retrans_segs)];
}

void GenProfile::report(GenReport& out, tcp::Instant now) const {
    out.run = run_;
    out.mode = spec_.mode;
    out.conns = spec_.conns;
    out.c = c_;
    out.active = active_;
    const bool live = run_ == GenRun::running;
    out.elapsed_us = micros((live ? now : end_) - start_);
    out.retrans = stack_ != nullptr ? (live ? retrans_now() : retrans_end_) - retrans_start_ : 0;
    out.time_wait_local = stack_ != nullptr ? stack_->engine().time_wait_count() : 0;
    out.max_gap_us = max_gap_us_;
    out.stalls = stalls_;
    out.cpu_us = (live ? thread_cpu_us() : cpu_end_us_) - cpu_start_us_;
    out.target_rate = spec_.rate;
    out.due = spec_.rate > 0 ? pacer_.due(live ? now : end_) : 0;
    out.started = started_;
    const RatePacer::Spread sp = pacer_.spread(live ? now : end_);
    out.spread_ms = sp.ms;
    out.spread_max = sp.max;
    out.spread_stddev = sp.stddev;
    out.connect = connect_;
    out.first_byte = first_byte_;
    out.latency = latency_;
}

void GenProfile::publish(tcp::Instant now) {
    last_publish_ = now;
    if (spec_.publish == nullptr) return;
    auto& p = *spec_.publish;
    auto put = [](std::atomic<std::uint64_t>& a, std::uint64_t v) { a.store(v, std::memory_order_relaxed); };
    put(p.conns_opened, c_.conns_opened);
    put(p.conns_failed, c_.conns_failed);
    put(p.requests, c_.requests);
    put(p.bytes_sent, c_.bytes_sent);
    put(p.bytes_received, c_.bytes_received);
    put(p.errors, c_.errors);
    put(p.active, active_);
    p.run.store(static_cast<std::uint8_t>(run_), std::memory_order_release);
}

// Second k of the run (or the part of one before the run ended): the
// counters now and the latencies completed since the last one.
void GenProfile::publish_second(tcp::Instant now, bool final) {
    GenSecond s;
    s.second = ++seconds_published_;
    s.at_us = micros(now - start_);
    s.final = final ? 1 : 0;
    s.opened = c_.conns_opened;
    s.failed = c_.conns_failed;
    s.requests = c_.requests;
    s.sent = c_.bytes_sent;
    s.received = c_.bytes_received;
    s.errors = c_.errors;
    s.active = active_;
    s.retrans = retrans_now() - retrans_start_;
    s.target_milli = static_cast<std::uint64_t>(pacer_.target_at(now) * 1000.0);
    s.status4 = c_.status[4];
    s.status5 = c_.status[5];
    s.closed = c_.closed_fin + c_.closed_rst + c_.closed_by_server;
    s.missed = c_.rate_missed;
    if (spec_.publish != nullptr) spec_.publish->put_second(s, second_latency_);
    second_latency_.clear();
}

// --- the per-iteration entry ---------------------------------------------------------

void GenProfile::poll(tcp::Instant now) {
    if (run_ == GenRun::running) return step(now);
    if (run_ == GenRun::draining) {
        drain(now);
        if (now.millis() != last_publish_.millis()) {
            sweep(now);
            publish(now);
        }
    }
}

void GenProfile::step(tcp::Instant now) {
    const auto gap = micros(now - last_poll_);
    last_poll_ = now;
    max_gap_us_ = std::max(max_gap_us_, gap);
    stalls_ += gap > 1000;
    if (now >= deadline_) return end_run(now);
    if (stop_sending_) {
        // bulk with count and verify: done once every echoed byte is back.
        bool caught_up = true;
        for (const auto& slot : slots_) caught_up &= slot.phase != Phase::open || slot.rx_off >= slot.tx_off;
        if (caught_up) return end_run(now);
    }
    if (!thinking_.empty()) wake_thinkers(now);
    if (rate_limited_requests()) start_waiting(now);
    connect_ready(now);
    if (now >= start_ + tcp::Duration::seconds(static_cast<std::int64_t>(seconds_published_ + 1))) {
        publish_second(now, false);
    }
    if (now.millis() != last_publish_.millis()) {
        sweep(now);
        c_.rate_missed = pacer_.missed();
        publish(now);
    }
}

// Thinking slots leave the queue in the order they entered it: the think
// time is the same for all, so the front is always the first due.
void GenProfile::wake_thinkers(tcp::Instant now) {
    while (!thinking_.empty() && slots_[thinking_.front()].think_due <= now) {
        const std::uint32_t s = thinking_.pop();
        Slot& slot = slots_[s];
        slot.in_think = false;
        if (!slot.thinking) continue;  // its connection ended meanwhile
        slot.thinking = false;
        if (slot.phase == Phase::open) want_request(s, now);
    }
}

void GenProfile::connect_ready(tcp::Instant now) {
    if (ready_.empty() || now < connect_hold_until_) {
        // Nothing may start: the schedule's backlog beyond the burst is missed.
        if (rate_limited_connects()) (void)pacer_.available(now);
        return;
    }
    // Warm-up: one attempt per local address until each has answered once,
    // so the peer learns our addresses (ARP) before a burst of SYN-ACKs
    // would overflow its queue of packets awaiting resolution.
    const std::uint64_t tried = c_.conns_opened + c_.conns_failed;
    const std::uint32_t window = tried >= spec_.local_count ? spec_.syn_window : spec_.local_count;
    std::uint64_t n = std::min<std::uint64_t>({kConnectsPerPoll, ready_.size(),
                                               window > syn_inflight_ ? window - syn_inflight_ : 0});
    // A closed loop (no rate) waits for a full TX ring, as the closes do;
    // a schedule does not (what it cannot start counts as missed).
    if (!rate_limited_connects() && stack_->link_backlog() > 0) n = 0;
    if (rate_limited_connects()) n = std::min(n, pacer_.available(now));
    if (n == 0) {
        if (rate_limited_connects()) (void)pacer_.available(now);  // drops a stale backlog
        return;
    }
    if (rate_limited_connects()) pacer_.take(n, now);
    started_ += rate_limited_connects() ? n : 0;
    for (std::uint64_t k = 0; k < n && run_ == GenRun::running; ++k) connect(ready_.pop(), now);
}

// A connect() that found no free port scanned every ephemeral port of every
// local address (RFC 6056 §3.3.4): the next slots would only repeat that
// scan. So every slot waits, 10 ms doubling to 640 ms while it persists;
// the waiting slots stay queued and do not count as failures.
void GenProfile::hold_connects(tcp::Instant now) {
    connect_hold_until_ = now + tcp::Duration::millis(std::int64_t{kPauseMs} << exhausted_backoff_);
    exhausted_backoff_ = static_cast<std::uint8_t>(std::min<unsigned>(exhausted_backoff_ + 1u, kMaxBackoff));
}

void GenProfile::enqueue(std::uint32_t s) {
    slots_[s].phase = Phase::ready;
    ready_.push(s);
}

// Connection attempts past their deadline give up; paused slots whose
// pause is over go back to the ready queue; a server that should have
// closed and did not is closed by us. A bounded number of slots per call.
void GenProfile::sweep(tcp::Instant now) {
    const auto n = static_cast<std::uint32_t>(slots_.size());
    for (std::uint32_t k = 0; k < std::min(n, kSweepPerMs); ++k) {
        const std::uint32_t s = sweep_pos_;
        sweep_pos_ = sweep_pos_ + 1 == n ? 0 : sweep_pos_ + 1;
        Slot& slot = slots_[s];
        if (slot.phase == Phase::connecting && now >= slot.due) {
            fail(s, GenFail::connect_timeout, now);
        } else if (slot.phase == Phase::paused && now >= slot.due) {
            if (run_ == GenRun::running) enqueue(s);
            else slot.phase = Phase::free;
        } else if (slot.phase == Phase::closing && now >= slot.due) {
            error(GenError::server_kept_open);
            release(s, now);
            if (run_ == GenRun::running) enqueue(s);
        }
    }
}

// --- connections -----------------------------------------------------------------------

bool GenProfile::try_connect(tcp::ConnectParams& p, std::uint32_t s, tcp::Instant now, tcp::ConnId& h, int& rc) {
    const std::uintptr_t ctx = Generator::context_of(index_, s);
    if (spec_.port_lo == 0) {
        rc = stack_->connect(p, now, h, ctx);
        return rc == 0;
    }
    // A source port range: the next ports in turn; one in use (a live
    // connection or TIME_WAIT on this 4-tuple) passes to the next.
    const std::uint32_t span = std::uint32_t{spec_.port_hi} - spec_.port_lo + 1;
    for (std::uint32_t k = 0; k < std::min(kPortTries, span); ++k) {
        p.local_port = static_cast<std::uint16_t>(spec_.port_lo + next_port_);
        next_port_ = next_port_ + 1 == span ? 0 : next_port_ + 1;
        rc = stack_->connect(p, now, h, ctx);
        if (rc != -EADDRINUSE) return rc == 0;
    }
    rc = -EADDRNOTAVAIL;
    return false;
}

void GenProfile::connect(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    tcp::ConnectParams p;
    p.remote_ip = spec_.remote_ip;
    p.remote_port = spec_.remote_port;
    p.options = spec_.options;
    if ((spec_.mode == GenMode::crr || spec_.mode == GenMode::rr) && p.options.nodelay < 0) p.options.nodelay = 1;
    tcp::ConnId h;
    int rc = -EADDRNOTAVAIL;
    // Rotate over the local addresses; one whose ports are all taken passes
    // the attempt on to the next.
    for (std::uint32_t tries = 0; tries < spec_.local_count && rc == -EADDRNOTAVAIL; ++tries) {
        p.local_ip = spec_.locals[next_local_];
        next_local_ = next_local_ + 1 == spec_.local_count ? 0 : next_local_ + 1;
        if (try_connect(p, s, now, h, rc)) break;
    }
    if (rc != 0) {
        const GenFail why = rc == -EADDRNOTAVAIL || rc == -EADDRINUSE ? GenFail::ports_exhausted
                            : rc == -ENOBUFS                          ? GenFail::no_memory
                                                                      : GenFail::other;
        if (why != GenFail::other) hold_connects(now);
        return fail(s, why, now);
    }
    exhausted_backoff_ = 0;
    // A fresh slot, except what outlives a connection: the backoff, and
    // whether a ring still holds the slot. Rebuilt in place: a fresh Slot
    // built on the stack and copied over was stored in unaligned 16-byte
    // pieces and read back in aligned ones that straddled them (a
    // store-forwarding stall per connection, a fifth of connect_ready()'s
    // samples in the pair's CPS profile, session 22).
    const std::uint8_t backoff = slot.backoff;
    const bool in_wait = slot.in_wait;
    const bool in_think = slot.in_think;
    std::destroy_at(&slot);
    std::construct_at(&slot);
    slot.backoff = backoff;
    slot.in_wait = in_wait;
    slot.in_think = in_think;
    slot.h = h;
    slot.phase = Phase::connecting;
    slot.t_connect = now;
    slot.due = now + tcp::Duration::millis(spec_.connect_timeout_ms);
    slot.seed = mix64(spec_.seed ^ (std::uint64_t{worker_} << 56) ^ (std::uint64_t{index_} << 48) ^ conn_serial_++);
    ++syn_inflight_;
}

void GenProfile::on_event(std::uint32_t s, tcp::ConnId conn, tcp::EventKind kind, tcp::Instant now) {
    if (s >= slots_.size() || slots_[s].h != conn) return;  // a connection this slot no longer holds
    const Phase phase = slots_[s].phase;
    switch (kind) {
        case tcp::EventKind::connected:
            if (phase == Phase::connecting) on_connected(s, now);
            return;
        case tcp::EventKind::readable:
            // hold with proto rr: the response stays queued, unread (data
            // in flight held at the client); the peer's FIN is still seen.
            if (spec_.mode == GenMode::hold && spec_.proto == GenProto::rr) return;
            [[fallthrough]];
        case tcp::EventKind::peer_closed:
            if (phase == Phase::open || phase == Phase::closing) pump_recv(s, now);
            return;
        case tcp::EventKind::writable:
            if (phase == Phase::open) pump_send(s, now);
            return;
        case tcp::EventKind::reset:
        case tcp::EventKind::timed_out:
        case tcp::EventKind::closed:
            return on_lost(s, kind, now);
        default:
            return;
    }
}

void GenProfile::on_connected(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    slot.phase = Phase::open;
    --syn_inflight_;
    ++c_.conns_opened;
    ++active_;
    slot.backoff = 0;
    connect_.record(micros(now - slot.t_connect));
    if (run_ != GenRun::running) return release(s, now);  // connected while draining
    switch (spec_.mode) {
        case GenMode::crr:
        case GenMode::rr:
            return want_request(s, now);
        case GenMode::bulk:
            return pump_send(s, now);
        case GenMode::hold:
            // `size N`: N bytes once (request_size() is spec_.request), then
            // nothing: against a server that never reads they stay queued.
            // proto rr: one request, whose response is left unread here.
            if (spec_.hold_bytes == 0) return;
            slot.to_send = 1;
            return pump_send(s, now);
    }
}

void GenProfile::on_lost(std::uint32_t s, tcp::EventKind kind, tcp::Instant now) {
    Slot& slot = slots_[s];
    const bool connecting = slot.phase == Phase::connecting;
    if (kind == tcp::EventKind::timed_out) return fail(s, GenFail::timed_out, now);
    if (kind == tcp::EventKind::reset) return fail(s, connecting ? GenFail::refused : GenFail::reset, now);
    // Both FINs exchanged while we held the socket: the peer closed on us.
    on_peer_fin(s, now);
}

// The server's FIN (the stream ended). Expected after a response when the
// server closes (closer server, HTTP Connection: close); otherwise an
// early end if a response was in flight. crr reconnects at once, others
// after a pause.
void GenProfile::on_peer_fin(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    if (spec_.proto == GenProto::http && slot.inflight > 0) {
        slot.http.on_eof();  // RFC 9112 §6.3 rule 8: a body delimited by the close
        if (slot.http.done()) response_done(s, now);
        if (slot.h.is_invalid()) return;  // response_done released it
    }
    const bool expected = slot.inflight == 0;
    const bool asked = slot.phase == Phase::closing;  // the server was to close
    if (!expected) error(GenError::early_eof);
    const bool counted_fin = slot.phase != Phase::connecting;
    release(s, now);
    if (expected && counted_fin) {
        --c_.closed_fin;  // our FIN answered the server's: the server closed it
        ++c_.closed_by_server;
    }
    if (run_ != GenRun::running) return;
    if (asked || (spec_.mode == GenMode::crr && expected)) return enqueue(s);
    pause(s, now);
}

void GenProfile::fail(std::uint32_t s, GenFail why, tcp::Instant now) {
    ++c_.conns_failed;
    ++c_.fails[static_cast<std::size_t>(why)];
    release(s, now);
    if (run_ == GenRun::running) pause(s, now);
}

void GenProfile::error(GenError e) {
    ++c_.errors;
    ++c_.error_kinds[static_cast<std::size_t>(e)];
}

// Never a busy loop on errors: the slot waits 10 ms, doubling per failure
// in a row up to 640 ms, before it connects again.
void GenProfile::pause(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    slot.phase = Phase::paused;
    slot.due = now + tcp::Duration::millis(std::int64_t{kPauseMs} << slot.backoff);
    slot.backoff = static_cast<std::uint8_t>(std::min<unsigned>(slot.backoff + 1u, kMaxBackoff));
}

// Gives the socket back to the engine: a graceful close (our FIN; the
// engine finishes the handshake and keeps TIME_WAIT), or an abort when
// asked (close rst). Unread bytes are read first, because close() with
// unread data resets (RFC 2525 §2.17).
void GenProfile::release(std::uint32_t s, tcp::Instant now, bool rst) {
    Slot& slot = slots_[s];
    if (slot.h.is_invalid()) {
        slot.phase = Phase::free;
        return;
    }
    if (rst) {
        (void)stack_->abort(slot.h, now);
        ++c_.closed_rst;
    } else {
        while (stack_->recv(slot.h, rx_scratch_, now) > 0) {
        }
        (void)stack_->close(slot.h, now);
        // A connection that never opened sent no FIN (a SYN-SENT close deletes it).
        c_.closed_fin += slot.phase != Phase::connecting;
    }
    slot.h = tcp::ConnId::invalid();
    if (slot.phase == Phase::open || slot.phase == Phase::closing) --active_;
    if (slot.phase == Phase::connecting) --syn_inflight_;
    slot.phase = Phase::free;
    slot.inflight = slot.to_send = 0;
    slot.req_left = 0;
    slot.wants_token = slot.thinking = false;
}

}  // namespace tcpfp::app
