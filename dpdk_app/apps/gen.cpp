#include "dpdk_app/apps/gen.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace tcpfp::app {

namespace {

constexpr std::size_t kScratch = 65536;       // the largest request/response and send chunk
constexpr std::uint32_t kSweepPerMs = 4096;   // slots checked for deadlines per millisecond
constexpr std::uint32_t kPauseMs = 10;        // first pause after a failure; doubles
constexpr std::uint8_t kMaxBackoff = 6;       // up to 640 ms
// Per loop iteration: new connections and closes at the end of a run. Each
// emits a segment; bounded so one iteration never overruns the engine's
// output queue or the port's TX ring (hold opens and closes 10^5..10^6).
constexpr std::uint32_t kConnectsPerPoll = 64;
constexpr std::uint32_t kClosesPerPoll = 256;

const char* const kFailNames[] = {
#define TCPFP_X(name, desc) #name,
    TCPFP_GEN_FAILS(TCPFP_X)
#undef TCPFP_X
};
const char* const kErrorNames[] = {
#define TCPFP_X(name, desc) #name,
    TCPFP_GEN_ERRORS(TCPFP_X)
#undef TCPFP_X
};

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

std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t k) {
    return mix64(seed ^ (k * 0xd6e8feb86659fd93ull));
}

}  // namespace

const char* to_string(GenMode m) {
    switch (m) {
        case GenMode::crr: return "crr";
        case GenMode::rr: return "rr";
        case GenMode::bulk: return "bulk";
        case GenMode::hold: return "hold";
    }
    return "?";
}

const char* name(GenFail f) { return kFailNames[static_cast<std::size_t>(f)]; }
const char* name(GenError e) { return kErrorNames[static_cast<std::size_t>(e)]; }

// --- verify pattern ----------------------------------------------------------

void fill_pattern(std::uint64_t seed, std::uint64_t offset, std::span<std::uint8_t> out) {
    std::size_t i = 0;
    std::uint64_t k = offset / 8;
    // Head: the tail of a partially covered word.
    if (offset % 8 != 0) {
        const std::uint64_t w = pattern_word(seed, k++);
        for (std::size_t b = offset % 8; b < 8 && i < out.size(); ++b) {
            out[i++] = static_cast<std::uint8_t>(w >> (8 * b));
        }
    }
    for (; i + 8 <= out.size(); i += 8) {
        const std::uint64_t w = pattern_word(seed, k++);
        for (std::size_t b = 0; b < 8; ++b) out[i + b] = static_cast<std::uint8_t>(w >> (8 * b));
    }
    if (i < out.size()) {
        const std::uint64_t w = pattern_word(seed, k);
        for (std::size_t b = 0; i < out.size(); ++b) out[i++] = static_cast<std::uint8_t>(w >> (8 * b));
    }
}

// --- latency histogram --------------------------------------------------------

std::size_t LatencyHistogram::bucket(std::uint64_t us) {
    if (us < kLinear) return static_cast<std::size_t>(us);
    const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(us));  // >= kSubBits + 1
    const std::uint64_t sub = (us >> (e - kSubBits)) & ((1u << kSubBits) - 1);
    return static_cast<std::size_t>(kLinear + (e - kSubBits - 1) * (1u << kSubBits) + sub);
}

std::uint64_t LatencyHistogram::lower(std::size_t b) {
    if (b < kLinear) return b;
    const std::size_t e = (b - kLinear) / (1u << kSubBits) + kSubBits + 1;
    const std::uint64_t sub = (b - kLinear) % (1u << kSubBits);
    return ((std::uint64_t{1} << kSubBits) + sub) << (e - kSubBits);
}

std::uint64_t LatencyHistogram::width(std::size_t b) {
    if (b < kLinear) return 1;
    const std::size_t e = (b - kLinear) / (1u << kSubBits) + kSubBits + 1;
    return std::uint64_t{1} << (e - kSubBits);
}

void LatencyHistogram::merge(const LatencyHistogram& o) {
    for (std::size_t i = 0; i < kBuckets; ++i) b_[i] += o.b_[i];
    n_ += o.n_;
}

void LatencyHistogram::clear() {
    b_.fill(0);
    n_ = 0;
}

std::uint64_t LatencyHistogram::percentile(double p) const {
    if (n_ == 0) return 0;
    auto target = static_cast<std::uint64_t>(p * static_cast<double>(n_) + 0.999999);
    target = std::clamp<std::uint64_t>(target, 1, n_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += b_[i];
        if (seen >= target) return lower(i) + width(i) / 2;
    }
    return lower(kBuckets - 1);
}

// --- HTTP response parsing ------------------------------------------------------

// A streaming HTTP/1.1 response reader with a few bytes of state: checks
// the status line is "HTTP/1.x 200", finds Content-Length, then counts the
// body down. RFC 9112 §6.3: without Transfer-Encoding the body length is
// Content-Length (our services always send it).
struct Generator::HttpParser {
    enum class Part : std::uint8_t { status, headers, body, done, bad };
    static constexpr char kCl[] = "content-length:";
    static constexpr std::uint8_t kClLen = sizeof kCl - 1;
    static constexpr std::uint8_t kNoMatch = 0xff, kInValue = 0xfe;

    Part part = Part::status;
    std::uint16_t line_len = 0;
    std::uint8_t cl = 0;        // characters of "content-length:" matched at line start
    bool have_cl = false;
    bool status_ok = true;
    std::uint16_t status = 0;
    std::uint64_t body_left = 0;

    void reset() { *this = HttpParser{}; }

    // Consumes bytes up to the end of the response; returns how many.
    std::size_t feed(const std::uint8_t* p, std::size_t n) {
        std::size_t i = 0;
        while (i < n && (part == Part::status || part == Part::headers)) header_byte(static_cast<char>(p[i++]));
        if (part == Part::body) {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(body_left, n - i));
            body_left -= take;
            i += take;
            if (body_left == 0) part = Part::done;
        }
        return i;
    }

    void header_byte(char c) {
        if (c == '\n') return end_of_line();
        if (c == '\r') return;
        if (part == Part::status) {
            static constexpr char kProto[] = "HTTP/1.";
            if (line_len < 7 && c != kProto[line_len]) status_ok = false;
            if (line_len >= 9 && line_len < 12) {
                if (c < '0' || c > '9') status_ok = false;
                status = static_cast<std::uint16_t>(status * 10 + (c - '0'));
            }
        } else {
            header_char(c);
        }
        ++line_len;
    }

    void header_char(char c) {
        if (cl == kNoMatch) return;
        if (cl == kInValue) {
            if (c == ' ' || c == '\t') return;
            if (c < '0' || c > '9') {
                cl = kNoMatch;
                return;
            }
            have_cl = true;
            body_left = body_left * 10 + static_cast<std::uint64_t>(c - '0');
            return;
        }
        if (static_cast<char>(std::tolower(static_cast<unsigned char>(c))) != kCl[cl]) {
            cl = kNoMatch;
            return;
        }
        if (++cl == kClLen) cl = kInValue;
    }

    void end_of_line() {
        if (part == Part::status) {
            if (line_len < 12 || status != 200) status_ok = false;
            part = status_ok ? Part::headers : Part::bad;
        } else if (line_len == 0) {  // the blank line ends the header
            part = have_cl ? (body_left == 0 ? Part::done : Part::body) : Part::bad;
        }
        line_len = 0;
        cl = 0;
    }
};

struct Generator::Slot {
    tcp::ConnId h = tcp::ConnId::invalid();
    Phase phase = Phase::idle;
    std::uint8_t backoff = 0;      // the next pause is kPauseMs << backoff
    bool in_request = false;       // a response is expected
    std::uint32_t req_left = 0;    // request bytes not yet accepted by send()
    std::uint32_t resp_left = 0;   // echo: response bytes still expected
    std::uint64_t seed = 0;        // verify: this connection's pattern
    std::uint64_t tx_off = 0, rx_off = 0;  // stream positions (echo)
    tcp::Instant t0;               // crr: connect(); rr: start of the request
    tcp::Instant due;              // connecting: give up; paused: retry
    HttpParser http;
};

// --- lifecycle --------------------------------------------------------------------

Generator::Generator(unsigned worker)
    : worker_(worker), tx_scratch_(kScratch), rx_scratch_(kScratch),
      expect_scratch_(kScratch) {}

Generator::~Generator() = default;

void Generator::start(Stack& stack, tcp::Instant) { stack_ = &stack; }

bool Generator::start_run(const GenSpec& spec, tcp::Instant now, std::string& why) {
    if (stack_ == nullptr) {
        why = "the generator is not on worker " + std::to_string(worker_) + "'s app host";
        return false;
    }
    if (run_ == GenRun::running) {
        why = "a generator is already running on worker " + std::to_string(worker_);
        return false;
    }
    if (spec.size == 0 || spec.size > kScratch) {
        why = "size must be 1.." + std::to_string(kScratch);
        return false;
    }
    if (spec.local_count == 0 || spec.local_count > spec.locals.size()) {
        why = "no local address";
        return false;
    }
    close_remaining(now, UINT32_MAX);  // the previous run's last connections
    spec_ = spec;
    // Preallocated here, once per run: nothing below allocates.
    slots_.assign(spec.conns, Slot{});
    ready_.assign(std::max<std::uint32_t>(spec.conns, 1), 0);
    ready_head_ = ready_len_ = 0;
    syn_inflight_ = sweep_pos_ = next_local_ = 0;
    connect_hold_until_ = now;
    exhausted_backoff_ = 0;
    active_ = 0;
    stop_sending_ = false;
    c_ = GenCounters{};
    latency_.clear();
    start_ = end_ = last_publish_ = last_poll_ = now;
    max_gap_us_ = stalls_ = 0;
    cpu_start_us_ = cpu_end_us_ = thread_cpu_us();
    deadline_ = spec.duration_us ? now + tcp::Duration::micros(static_cast<std::int64_t>(spec.duration_us))
                                 : tcp::Instant::max();
    retrans_start_ = retrans_end_ = retrans_now();
    if (spec.http) {
        http_request_ = "GET / HTTP/1.1\r\nHost: " + spec.remote_ip.to_string() +
                        "\r\nUser-Agent: tcpfp-gen\r\n";
        if (spec.mode == GenMode::crr) http_request_ += "Connection: close\r\n";
        http_request_ += "\r\n";
    }
    if (!spec.verify) {
        for (std::size_t i = 0; i < tx_scratch_.size(); ++i) {
            tx_scratch_[i] = static_cast<std::uint8_t>('a' + i % 26);
        }
    }
    run_ = GenRun::running;
    for (std::uint32_t s = 0; s < spec.conns; ++s) enqueue(s);
    if (spec.conns == 0) finish(now);  // this worker has no share
    publish(now);
    return true;
}

void Generator::stop_run(tcp::Instant now) {
    if (run_ == GenRun::running) finish(now);
}

// The figures freeze now; the connections close over the next iterations.
void Generator::finish(tcp::Instant now) {
    run_ = GenRun::finished;
    end_ = now;
    retrans_end_ = retrans_now();
    cpu_end_us_ = thread_cpu_us();
    ready_len_ = 0;
    close_cursor_ = 0;
    close_remaining(now, kClosesPerPoll);
}

void Generator::close_remaining(tcp::Instant now, std::uint32_t budget) {
    const auto n = static_cast<std::uint32_t>(slots_.size());
    // Closes in flight (FIN exchanges not finished) are control blocks that are
    // neither ours nor connecting; keep them within the SYN window as well, or
    // a peer that is slow for a moment gets 10^5 FINs at once.
    const std::uint64_t limit = active_ + syn_inflight_ + spec_.syn_window + 64;
    if (budget != UINT32_MAX && stack_->engine().connection_count() > limit) {
        if (now.millis() == last_close_ms_) return;
        budget = 16;  // progress even if other sockets fill the engine
    }
    last_close_ms_ = now.millis();
    for (; close_cursor_ < n && budget > 0; ++close_cursor_) {
        Slot& slot = slots_[close_cursor_];
        if (slot.h.is_invalid()) {
            slot.phase = Phase::idle;
            continue;
        }
        release(slot, now);
        --budget;
    }
    if (close_cursor_ == n) active_ = 0;
    publish(now);
}

std::uint64_t Generator::retrans_now() const {
    return stack_->engine().counters().mib[static_cast<std::size_t>(tcp::Mib::retrans_segs)];
}

void Generator::report(GenReport& out, tcp::Instant now) const {
    out.run = run_;
    out.mode = spec_.mode;
    out.conns = spec_.conns;
    out.c = c_;
    out.active = active_;
    const tcp::Instant end = run_ == GenRun::running ? now : end_;
    out.elapsed_us = static_cast<std::uint64_t>((end - start_).as_micros());
    out.retrans = (run_ == GenRun::running ? retrans_now() : retrans_end_) - retrans_start_;
    out.time_wait_local = stack_ != nullptr ? stack_->engine().time_wait_count() : 0;
    out.max_gap_us = max_gap_us_;
    out.stalls = stalls_;
    out.cpu_us = (run_ == GenRun::running ? thread_cpu_us() : cpu_end_us_) - cpu_start_us_;
    out.latency = latency_;
}

void Generator::publish(tcp::Instant now) {
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

// --- the per-iteration entry -------------------------------------------------------

// A connection's context word is its slot + 1 (connect()).
void Generator::on_events(Stack& stack, std::span<const AppEvent> events, tcp::Instant now) {
    for (const AppEvent& e : events) {
        if (run_ != GenRun::running) return;
        const std::uintptr_t ctx = stack.context(e.conn);
        if (ctx == 0 || ctx > slots_.size()) continue;  // closed earlier in this batch
        const auto s = static_cast<std::uint32_t>(ctx - 1);
        if (slots_[s].h == e.conn) on_event(s, e.kind, now);
    }
}

void Generator::poll(Stack&, tcp::Instant now) {
    if (run_ == GenRun::running) return step(now);
    if (close_cursor_ < slots_.size()) close_remaining(now, kClosesPerPoll);
}

void Generator::step(tcp::Instant now) {
    const auto gap = static_cast<std::uint64_t>((now - last_poll_).as_micros());
    last_poll_ = now;
    max_gap_us_ = std::max(max_gap_us_, gap);
    stalls_ += gap > 1000;
    if (now >= deadline_) return finish(now);
    if (stop_sending_) {
        // bulk with count and verify: done once every echoed byte is back.
        bool caught_up = true;
        for (const auto& slot : slots_) caught_up &= slot.phase != Phase::open || slot.rx_off >= slot.tx_off;
        if (caught_up) return finish(now);
    }
    connect_ready(now);
    if (now.millis() != last_publish_.millis()) {
        sweep(now);
        publish(now);
    }
}

void Generator::connect_ready(tcp::Instant now) {
    // Warm-up: one attempt per local address until each has answered once,
    // so the peer learns our addresses (ARP) before a burst of SYN-ACKs
    // would overflow its queue of packets awaiting resolution.
    const std::uint64_t tried = c_.conns_opened + c_.conns_failed;
    const std::uint32_t window = tried >= spec_.local_count ? spec_.syn_window : spec_.local_count;
    for (std::uint32_t k = 0; k < kConnectsPerPoll && ready_len_ > 0 && syn_inflight_ < window &&
                              run_ == GenRun::running && now >= connect_hold_until_;
         ++k) {
        const std::uint32_t s = ready_[ready_head_];
        ready_head_ = (ready_head_ + 1) % ready_.size();
        --ready_len_;
        connect(s, now);
    }
}

// A connect() that found no free port scanned every ephemeral port of every
// local address (RFC 6056 §3.3.4): the next slots would only repeat that
// scan. So every slot waits, 10 ms doubling to 640 ms while it persists;
// the waiting slots stay queued and do not count as failures.
void Generator::hold_connects(tcp::Instant now) {
    connect_hold_until_ = now + tcp::Duration::millis(std::int64_t{kPauseMs} << exhausted_backoff_);
    exhausted_backoff_ = static_cast<std::uint8_t>(std::min<unsigned>(exhausted_backoff_ + 1u, kMaxBackoff));
}

void Generator::enqueue(std::uint32_t s) {
    slots_[s].phase = Phase::ready;
    ready_[(ready_head_ + ready_len_) % ready_.size()] = s;
    ++ready_len_;
}

// Connection attempts past their deadline give up; paused slots whose pause
// is over go back to the ready queue. A bounded number of slots per call.
void Generator::sweep(tcp::Instant now) {
    const auto n = static_cast<std::uint32_t>(slots_.size());
    for (std::uint32_t k = 0; k < std::min(n, kSweepPerMs); ++k) {
        const std::uint32_t s = sweep_pos_;
        sweep_pos_ = sweep_pos_ + 1 == n ? 0 : sweep_pos_ + 1;
        Slot& slot = slots_[s];
        if (slot.phase == Phase::connecting && now >= slot.due) {
            fail(s, GenFail::connect_timeout, now);
        } else if (slot.phase == Phase::paused && now >= slot.due) {
            enqueue(s);
        }
    }
}

// --- connections -----------------------------------------------------------------------

void Generator::connect(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    tcp::ConnectParams p;
    p.remote_ip = spec_.remote_ip;
    p.remote_port = spec_.remote_port;
    if (spec_.mode == GenMode::crr || spec_.mode == GenMode::rr) p.options.nodelay = 1;
    tcp::ConnId h;
    int rc = -EADDRNOTAVAIL;
    // Rotate over the local addresses; one whose ports are all taken passes
    // the attempt on to the next.
    for (std::uint32_t tries = 0; tries < spec_.local_count && rc == -EADDRNOTAVAIL; ++tries) {
        p.local_ip = spec_.locals[next_local_];
        next_local_ = next_local_ + 1 == spec_.local_count ? 0 : next_local_ + 1;
        rc = stack_->connect(p, now, h, std::uintptr_t{s} + 1);
    }
    if (rc != 0) {
        const GenFail why = rc == -EADDRNOTAVAIL || rc == -EADDRINUSE ? GenFail::ports_exhausted
                            : rc == -ENOBUFS                          ? GenFail::no_memory
                                                                      : GenFail::other;
        if (why != GenFail::other) hold_connects(now);
        return fail(s, why, now);
    }
    exhausted_backoff_ = 0;
    slot.h = h;
    slot.phase = Phase::connecting;
    slot.t0 = now;
    slot.due = now + tcp::Duration::millis(spec_.connect_timeout_ms);
    slot.seed = mix64(spec_.seed ^ (std::uint64_t{worker_} << 56) ^ conn_serial_++);
    slot.tx_off = slot.rx_off = 0;
    slot.in_request = false;
    slot.req_left = slot.resp_left = 0;
    ++syn_inflight_;
}

void Generator::on_event(std::uint32_t s, tcp::EventKind kind, tcp::Instant now) {
    Slot& slot = slots_[s];
    switch (kind) {
        case tcp::EventKind::connected:
            if (slot.phase == Phase::connecting) on_connected(slot, now);
            return;
        case tcp::EventKind::readable:
        case tcp::EventKind::peer_closed:
            if (slot.phase == Phase::open) pump_recv(s, now);
            return;
        case tcp::EventKind::writable:
            if (slot.phase == Phase::open) pump_send(slot, now);
            return;
        case tcp::EventKind::reset:
        case tcp::EventKind::timed_out:
        case tcp::EventKind::closed:
            return on_lost(s, kind, now);
        default:
            return;
    }
}

void Generator::on_connected(Slot& slot, tcp::Instant now) {
    slot.phase = Phase::open;
    --syn_inflight_;
    ++c_.conns_opened;
    ++active_;
    slot.backoff = 0;
    switch (spec_.mode) {
        case GenMode::crr:
        case GenMode::rr:
            return begin_request(slot, now);
        case GenMode::bulk:
            return pump_send(slot, now);
        case GenMode::hold:
            return;
    }
}

void Generator::on_lost(std::uint32_t s, tcp::EventKind kind, tcp::Instant now) {
    Slot& slot = slots_[s];
    const bool connecting = slot.phase == Phase::connecting;
    if (kind == tcp::EventKind::timed_out) return fail(s, GenFail::timed_out, now);
    if (kind == tcp::EventKind::reset) return fail(s, connecting ? GenFail::refused : GenFail::reset, now);
    // Both FINs exchanged while we held the socket: the peer closed on us.
    if (slot.in_request) error(GenError::early_eof);
    release(slot, now);
    pause(slot, now);
}

void Generator::fail(std::uint32_t s, GenFail why, tcp::Instant now) {
    ++c_.conns_failed;
    ++c_.fails[static_cast<std::size_t>(why)];
    Slot& slot = slots_[s];
    release(slot, now);
    pause(slot, now);
}

void Generator::error(GenError e) {
    ++c_.errors;
    ++c_.error_kinds[static_cast<std::size_t>(e)];
}

// Never a busy loop on errors: the slot waits 10 ms, doubling per failure
// in a row up to 640 ms, before it connects again.
void Generator::pause(Slot& slot, tcp::Instant now) {
    slot.phase = Phase::paused;
    slot.due = now + tcp::Duration::millis(std::int64_t{kPauseMs} << slot.backoff);
    slot.backoff = static_cast<std::uint8_t>(std::min<unsigned>(slot.backoff + 1u, kMaxBackoff));
}

// Gives the socket back to the engine: a graceful close (our FIN; the engine
// finishes the handshake and keeps TIME_WAIT). Unread bytes are read first,
// because close() with unread data resets (RFC 2525 §2.17).
void Generator::release(Slot& slot, tcp::Instant now) {
    if (slot.h.is_invalid()) {
        slot.phase = Phase::idle;
        return;
    }
    for (;;) {
        const std::int64_t n = stack_->recv(slot.h, rx_scratch_, now);
        if (n <= 0) break;
    }
    (void)stack_->close(slot.h, now);
    slot.h = tcp::ConnId::invalid();
    if (slot.phase == Phase::open) --active_;
    if (slot.phase == Phase::connecting) --syn_inflight_;
    slot.phase = Phase::idle;
    slot.in_request = false;
}

// --- requests and responses ---------------------------------------------------------

void Generator::begin_request(Slot& slot, tcp::Instant now) {
    slot.in_request = true;
    slot.t0 = spec_.mode == GenMode::rr ? now : slot.t0;  // crr: from connect()
    if (spec_.http) {
        slot.req_left = static_cast<std::uint32_t>(http_request_.size());
        slot.http.reset();
    } else {
        slot.req_left = spec_.size;
        slot.resp_left = spec_.size;
    }
    pump_send(slot, now);
}

bool Generator::budget_reached() const { return spec_.count != 0 && c_.requests >= spec_.count; }

void Generator::pump_send(Slot& slot, tcp::Instant now) {
    const bool bulk = spec_.mode == GenMode::bulk;
    while (bulk ? !stop_sending_ : slot.req_left > 0) {
        const std::uint32_t space = stack_->send_space(slot.h);
        if (space == 0) return;  // resumed by `writable`
        std::size_t len = std::min<std::size_t>(space, bulk ? spec_.size : slot.req_left);
        const std::uint8_t* data = tx_scratch_.data();
        if (spec_.http) {
            data = reinterpret_cast<const std::uint8_t*>(http_request_.data()) +
                   (http_request_.size() - slot.req_left);
        } else if (spec_.verify) {
            fill_pattern(slot.seed, slot.tx_off, {tx_scratch_.data(), len});
        }
        const std::int64_t n = stack_->send(slot.h, {data, len}, now);
        if (n <= 0) return;  // EAGAIN: `writable` resumes; errors come as events
        const auto sent = static_cast<std::uint64_t>(n);
        c_.bytes_sent += sent;
        if (bulk) {
            const std::uint64_t before = slot.tx_off / spec_.size;
            slot.tx_off += sent;
            c_.requests += slot.tx_off / spec_.size - before;
            if (budget_reached()) {
                stop_sending_ = true;
                if (!spec_.verify) return finish(now);
            }
        } else {
            slot.tx_off += sent;
            slot.req_left -= static_cast<std::uint32_t>(sent);
        }
    }
}

void Generator::pump_recv(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    while (slot.phase == Phase::open && run_ == GenRun::running) {
        const std::int64_t n = stack_->recv(slot.h, rx_scratch_, now);
        if (n == -EAGAIN) return;
        if (n < 0) return;  // reset/timeout: its event follows
        if (n == 0) {       // the peer closed: reconnect after a pause
            if (slot.in_request) error(GenError::early_eof);
            release(slot, now);
            if (spec_.mode == GenMode::crr) return enqueue(s);
            return pause(slot, now);
        }
        c_.bytes_received += static_cast<std::uint64_t>(n);
        const std::size_t used = consume(slot, static_cast<std::size_t>(n));
        if (used < static_cast<std::size_t>(n)) error(GenError::excess_data);
        if (slot.http.part == HttpParser::Part::bad) {
            error(GenError::bad_response);
            release(slot, now);
            return pause(slot, now);
        }
        const bool complete = slot.in_request && slot.req_left == 0 &&
                              (spec_.http ? slot.http.part == HttpParser::Part::done : slot.resp_left == 0);
        if (complete) response_done(s, now);
    }
}

// Accounts one chunk of received bytes; returns how many belonged to the
// expected response (the rest is excess).
std::size_t Generator::consume(Slot& slot, std::size_t len) {
    if (spec_.http) {
        if (!slot.in_request) return 0;
        return slot.http.feed(rx_scratch_.data(), len);
    }
    if (spec_.verify) {
        fill_pattern(slot.seed, slot.rx_off, {expect_scratch_.data(), len});
        if (std::memcmp(expect_scratch_.data(), rx_scratch_.data(), len) != 0) {
            error(GenError::verify_mismatch);
        }
    }
    slot.rx_off += len;
    if (spec_.mode == GenMode::bulk || spec_.mode == GenMode::hold) return len;
    if (!slot.in_request) return 0;
    const std::size_t used = std::min<std::size_t>(len, slot.resp_left);
    slot.resp_left -= static_cast<std::uint32_t>(used);
    return used;
}

void Generator::response_done(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    slot.in_request = false;
    ++c_.requests;
    latency_.record(static_cast<std::uint64_t>((now - slot.t0).as_micros()));
    if (budget_reached()) return finish(now);
    if (spec_.mode == GenMode::crr) {
        release(slot, now);  // the client closes first
        return enqueue(s);
    }
    begin_request(slot, now);
}

// --- the family's messages --------------------------------------------------------

void GenStart::run(AgentContext& ctx, tcp::Instant now) {
    if (ctx.gen == nullptr) return fail("no generator on worker " + std::to_string(ctx.worker));
    std::string why;
    if (!ctx.gen->start_run(spec, now, why)) fail(why);
}

void GenStop::run(AgentContext& ctx, tcp::Instant now) {
    if (ctx.gen != nullptr) ctx.gen->stop_run(now);
}

void GenRead::run(AgentContext& ctx, tcp::Instant now) {
    if (ctx.gen != nullptr) ctx.gen->report(report, now);
}

}  // namespace tcpfp::app
