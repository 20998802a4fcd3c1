#include "runner.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "parser.hpp"
#include "tcp/engine/segment.hpp"

namespace tcpfp::pktdrill {

using tcp::Duration;
using tcp::Instant;

namespace {

std::string seconds(std::int64_t us) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(us) / 1e6);
    return buf;
}

}  // namespace

Runner::Runner(const Script& script, const RunOptions& options)
    : script_(script), options_(options) {
    configure(script);
}

Runner::~Runner() = default;

void Runner::fail(const std::string& message) const { throw ScriptError{line_, message}; }

void Runner::configure(const Script& script) {
    ep_.local_ip = wire::Ipv4Addr::from_octets(172, 16, 48, 13);
    ep_.remote_ip = wire::Ipv4Addr::from_octets(172, 16, 48, 1);
    // Pools small enough that a script runs in microseconds.
    config_.max_connections = 64;
    config_.max_time_wait = 64;
    config_.max_listeners = 8;
    config_.chunk_count = 8192;  // 16 MiB
    config_.output_queue = 1024;
    config_.event_queue = 1024;
    if (options_.wscale) config_.wscale = static_cast<std::uint8_t>(*options_.wscale);
    if (options_.delayed_ack_us) config_.delayed_ack = Duration::micros(*options_.delayed_ack_us);
    for (const auto& [name, value] : script.options) {
        const auto number = [&] {
            char* end = nullptr;
            const long long v = std::strtoll(value.c_str(), &end, 0);
            if (value.empty() || *end != '\0' || v < 0) {
                throw ScriptError{0, "bad value for --" + name + ": '" + value + "'"};
            }
            return static_cast<std::int64_t>(v);
        };
        if (name == "ip_version") {
            if (value != "ipv4") throw ScriptError{0, "unsupported: --ip_version=" + value + " (IPv4 only)"};
        } else if (name == "tolerance_usecs") {
            tolerance_us_ = number();
        } else if (name == "mss") {
            config_.mtu = static_cast<std::uint16_t>(number() + 40);
        } else if (name == "tcp_ts_tick_usecs") {
            seq_.ts_tick_us = number();
        } else if (name == "ecn") {
            // [engine] ecn, for the script (packetdrill scripts set Linux's
            // net.ipv4.tcp_ecn with a shell command, which is never run).
            if (value == "off") config_.ecn = tcp::EcnMode::off;
            else if (value == "passive") config_.ecn = tcp::EcnMode::passive;
            else if (value == "on") config_.ecn = tcp::EcnMode::on;
            else throw ScriptError{0, "bad value for --ecn: '" + value + "' (off, passive or on)"};
        } else if (name == "mtu_probing") {
            // [engine] mtu_probing (Linux's net.ipv4.tcp_mtu_probing).
            if (value == "off") config_.mtu_probing = tcp::MtuProbing::off;
            else if (value == "blackhole") config_.mtu_probing = tcp::MtuProbing::blackhole;
            else if (value == "on") config_.mtu_probing = tcp::MtuProbing::on;
            else throw ScriptError{0, "bad value for --mtu_probing: '" + value + "' (off, blackhole or on)"};
        } else if (name == "local_ip" || name == "remote_ip") {
            const auto a = wire::Ipv4Addr::parse(value);
            if (!a) throw ScriptError{0, "bad address for --" + name + ": '" + value + "'"};
            (name == "local_ip" ? ep_.local_ip : ep_.remote_ip) = *a;
        } else {
            result_.ignored_flags.push_back("--" + name + (value.empty() ? "" : "=" + value));
        }
    }
    seq_.tolerance_us = tolerance_us_;
    seq_.engine_tick_us = config_.ts_tick.as_micros();
    epoch_ = Instant::from_micros(1'000'000);
    now_ = epoch_;
    engine_ = std::make_unique<tcp::Engine>(config_, now_);
    engine_->add_address(ep_.local_ip);
    api_ = std::make_unique<tcp::posix::SocketApi>(*engine_);
}

RunResult Runner::run() {
    try {
        const auto& events = script_.events;
        for (std::size_t i = 0; i < events.size(); ++i) {
            line_ = events[i].line;
            execute(events[i], i + 1 < events.size() ? &events[i + 1] : nullptr);
            ++result_.events;
        }
        line_ = script_.events.empty() ? 0 : script_.events.back().line;
        if (pending_) {
            line_ = pending_->event->line;
            fail("blocking " + pending_->event->syscall.name + "() did not return by the end of the script");
        }
        expect_no_output(line_);
        result_.passed = true;
    } catch (const ScriptError& e) {
        result_.error = script_.path + ":" + std::to_string(e.line) + ": " + e.message;
    }
    return std::move(result_);
}

// Inbound packets on consecutive lines at the same time arrive as one
// burst, as from one NIC receive burst: the engine takes them all before the
// runner drains its output (RFC 9293 MUST-59: all queued segments are
// processed before an ACK is sent). Scripts that passed one packet at a
// time pass the same way: a packet that drew output had to be followed by a
// `>` line, which ends the burst.
static bool same_time_inbound(const Event& next, std::int64_t start) {
    if (next.kind != Event::Kind::packet || !next.packet.inbound) return false;
    const TimeSpec& ts = next.time;
    if (ts.any || ts.has_range) return false;
    return (ts.relative ? start + ts.us : ts.us) == start;
}

void Runner::execute(const Event& e, const Event* next) {
    const TimeSpec& ts = e.time;
    const std::int64_t base = last_us_;
    std::int64_t start = ts.any ? script_time(now_) : ts.relative ? base + ts.us : ts.us;
    std::int64_t end = start;
    if (ts.has_range) end = ts.range_relative ? base + ts.range_end_us : ts.range_end_us;
    if (end < start) fail("time range ends before it starts");
    if (!ts.any && start < script_time(now_) - tolerance_us_ && e.kind != Event::Kind::command) {
        // Scripts move forward; an event in the past is a script error.
        fail("event time " + seconds(start) + " is before the current time " + seconds(script_time(now_)));
    }
    if (options_.verbose) std::printf("  %s:%d at %s\n", script_.path.c_str(), e.line, seconds(start).c_str());
    switch (e.kind) {
        case Event::Kind::command:
            ++result_.skipped_commands;
            return;  // untimed; does not move the clock
        case Event::Kind::code:
            ++result_.skipped_code;
            break;
        case Event::Kind::packet:
            if (e.packet.inbound) {
                inbound(e, at(start), next != nullptr && same_time_inbound(*next, start));
            } else {
                const Instant lo = ts.any ? now_ : at(start);
                const Instant hi = ts.any ? now_ + Duration::seconds(3600) : at(end);
                const Instant sent = outbound(e, lo, hi);
                // A window or `*` ends where the packet really was.
                if (ts.any || ts.has_range) start = script_time(sent);
            }
            break;
        case Event::Kind::syscall: {
            run_clock_to(at(start));
            expect_no_output(e.line);
            const std::int64_t end_us = e.syscall.blocking ? (ts.relative ? base : 0) + e.syscall.end_us : start;
            start_syscall(e, at(start), at(end_us));
            break;
        }
    }
    last_us_ = start;
}

// --- the clock ---

void Runner::drain() {
    std::vector<std::uint8_t> buf(20 + 60 + 65536);
    for (const tcp::OutSegment& s : engine_->output()) {
        auto n = tcp::serialize(s, buf);
        if (!n) fail("engine produced a segment that does not serialise");
        std::vector<std::uint8_t> bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
        auto c = parse_captured(bytes, now_);
        if (!c) fail("engine produced a malformed packet (bad checksum or options)");
        queue_.push_back(std::move(*c));
    }
    engine_->clear_output();
    engine_->clear_events();  // the SocketApi reads state, not events
}

void Runner::step(Instant t) {
    if (t > now_) now_ = t;
    engine_->advance(now_);
    drain();
    retry_pending();
    check_pending_deadline();
}

// One move of the clock towards `limit`: to the engine's next deadline if
// that comes first. Returns false once the clock is at `limit`.
bool Runner::tick_toward(Instant limit) {
    if (now_ >= limit) return false;
    Instant target = std::min(engine_->next_deadline(), limit);
    if (pending_ && pending_->wake > now_) target = std::min(target, pending_->wake);
    if (target <= now_) {
        // Due work carried over (the timer budget): run it now, but never spin.
        target = ++stuck_ > 1000 ? limit : now_;
    } else {
        stuck_ = 0;
    }
    step(target);
    return true;
}

void Runner::run_clock_to(Instant t) {
    while (tick_toward(t)) {
    }
    if (engine_->next_deadline() <= now_) step(now_);
}

void Runner::check_pending_deadline() {
    if (!pending_) return;
    if (now_ > pending_->end + Duration::micros(tolerance_us_)) {
        line_ = pending_->event->line;
        fail("blocking " + pending_->event->syscall.name + "() expected to return at " +
             seconds(script_time(pending_->end)) + " but had not returned at " + seconds(script_time(now_)));
    }
}

void Runner::expect_no_output(int line) {
    if (queue_.empty()) return;
    const Captured& c = queue_.front();
    throw ScriptError{line, "error handling packet: unexpected outbound packet at " +
                                seconds(script_time(c.at)) + "\nactual: " + describe_captured(c, seq_)};
}

// --- packets ---

void Runner::inbound(const Event& e, Instant t, bool burst_continues) {
    if (!in_burst_) {
        run_clock_to(t);
        expect_no_output(e.line);
    }
    in_burst_ = burst_continues;
    std::vector<std::uint8_t> packet;
    try {
        packet = build_inbound(e.packet, ep_, seq_);
    } catch (const BuildError& b) {
        fail(b.message);
    }
    if (e.packet.icmp) {
        engine_->input_icmp(packet, now_);  // RFC 9293 §3.9.2.2
    } else {
        engine_->input(packet, now_);
    }
    if (burst_continues) return;
    drain();
    retry_pending();
}

Instant Runner::outbound(const Event& e, Instant lo, Instant hi) {
    const Duration tol = Duration::micros(tolerance_us_);
    const Instant limit = hi + tol;
    while (queue_.empty() && tick_toward(limit)) {
    }
    const std::string want = describe_spec(e.packet);
    if (queue_.empty()) {
        fail("error handling packet: expected: " + want + "\nactual: nothing sent by " +
             seconds(script_time(limit)));
    }
    Captured c = queue_.front();
    queue_.pop_front();
    if (c.dst != ep_.remote_ip) fail("error handling packet: sent to " + c.dst.to_string());
    if ((c.flags & 0x02) != 0 && (c.flags & 0x10) == 0) ep_.local_port = c.src_port;  // our active open
    if (c.at + tol < lo) {
        fail("error handling packet: timing error: expected at " + seconds(script_time(lo)) +
             (hi > lo ? "~" + seconds(script_time(hi)) : "") + " but sent at " + seconds(script_time(c.at)) +
             " (tolerance " + std::to_string(tolerance_us_) + " us)\nexpected: " + want +
             "\nactual: " + describe_captured(c, seq_));
    }
    coalesce(c, e.packet, limit);
    if (auto diff = match_outbound(e.packet, c, seq_)) {
        fail("error handling packet: expected: " + want + "\nactual: " + describe_captured(c, seq_) +
             "\nreason: " + *diff + " (at " + seconds(script_time(c.at)) + ")");
    }
    return c.at;
}

// Linux hands its NIC one TSO/GSO super-segment where the engine emits
// MSS-sized ones; a capture on the script's side of a TSO interface sees
// the large one. So a `>` line longer than the segment at hand takes the
// contiguous segments emitted with it, like a GSO segment re-assembled:
// same ACK, same IPv4 TOS, same flags but for PSH and FIN, which come from
// the last, and CWR, which only the first carries (RFC 3168 §6.1.2; Linux's
// GSO clears it on the segments after the first).
void Runner::coalesce(Captured& c, const PacketSpec& p, Instant limit) {
    constexpr std::uint8_t kLastOnly = 0x01 | 0x08;  // FIN, PSH
    constexpr std::uint8_t kFirstOnly = 0x80;        // CWR
    constexpr std::uint8_t kEither = kLastOnly | kFirstOnly;
    if (c.payload_len == 0 || c.payload_len >= p.len || !seq_.isn_known) return;
    if (c.seq - seq_.local_isn != p.start) return;
    while (c.payload_len < p.len) {
        while (queue_.empty() && tick_toward(limit)) {
        }
        if (queue_.empty()) return;
        const Captured& n = queue_.front();
        const bool joins = n.seq == c.seq + c.payload_len && n.ack == c.ack && n.payload_len > 0 &&
                           (n.flags & ~kEither) == (c.flags & ~kEither) && (c.flags & kLastOnly) == 0 &&
                           (n.flags & kFirstOnly) == 0 && n.tos == c.tos && n.at == c.at &&
                           c.payload_len + n.payload_len <= p.len;
        if (!joins) return;
        c.payload_len += n.payload_len;
        c.flags = static_cast<std::uint8_t>(n.flags | (c.flags & kFirstOnly));
        c.window = n.window;
        queue_.pop_front();
    }
}

RunResult run_file(const std::string& path, const RunOptions& options) {
    RunResult r;
    std::ifstream in(path);
    if (!in) {
        r.error = path + ": cannot open";
        return r;
    }
    std::ostringstream text;
    text << in.rdbuf();
    Script script;
    try {
        script = parse_script(text.str(), path);
    } catch (const ParseError& e) {
        r.error = path + ":" + std::to_string(e.line) + ": " + e.message;
        return r;
    }
    try {
        Runner runner(script, options);
        return runner.run();
    } catch (const ScriptError& e) {
        r.error = path + ":" + std::to_string(e.line) + ": " + e.message;
        return r;
    }
}

}  // namespace tcpfp::pktdrill
