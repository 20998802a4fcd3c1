// The per-lcore TCP engine: sans-IO. It takes IPv4 packets and a time value,
// and produces outgoing segments (output()), application events (events())
// and a deadline (next_deadline()). One engine per worker lcore; engines
// share nothing, so nothing here locks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory_resource>
#include <span>

#include "tcp/base/four_tuple.hpp"
#include "tcp/base/time.hpp"
#include "tcp/crypto/ephemeral_ports.hpp"
#include "tcp/crypto/isn.hpp"
#include "tcp/crypto/random.hpp"
#include "tcp/engine/buffer.hpp"
#include "tcp/engine/plpmtud.hpp"
#include "tcp/engine/pmtu.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/engine/config.hpp"
#include "tcp/engine/counters.hpp"
#include "tcp/engine/loss.hpp"
#include "tcp/engine/segment.hpp"
#include "tcp/engine/syncookie.hpp"
#include "tcp/engine/tcb.hpp"
#include "tcp/table/conn_table.hpp"
#include "tcp/table/listener_table.hpp"
#include "tcp/table/pool.hpp"
#include "tcp/timer/timer_wheel.hpp"

namespace tcpfp::tcp {

using ConnId = PoolHandle;

enum class EventKind : std::uint8_t {
    accepted,     // a listener has a connection ready for accept()
    connected,    // an active open reached ESTABLISHED
    readable,     // data (or EOF) is ready for recv()
    writable,     // send buffer space freed
    peer_closed,  // the peer's FIN arrived: half-close, recv() will return 0 at the end
    reset,        // the connection was reset (ECONNRESET or ECONNREFUSED in so_error)
    timed_out,    // retransmissions gave up (ETIMEDOUT)
    closed,       // the connection is fully closed (our FIN acknowledged and the peer's seen)
    linger_done,  // close() with SO_LINGER: the FIN was acknowledged in time
    linger_timeout,  // close() with SO_LINGER: the timeout passed first
    soft_error,   // an ICMP soft error arrived (ConnInfo::soft_error); the connection goes on
    urgent,       // the peer sent urgent data (MUST-32): urgent_left() says how far it reaches
};
const char* to_string(EventKind k);

struct Event {
    ConnId conn;
    EventKind kind;
};

enum class Shutdown : std::uint8_t { rd, wr, rdwr };

enum class SockOpt : std::uint8_t {
    nodelay,          // TCP_NODELAY (bool)
    keepalive,        // SO_KEEPALIVE (bool)
    linger,           // SO_LINGER: -1 off, 0 abortive close, N seconds
    send_buffer,      // SO_SNDBUF (bytes, clamped to [engine] buffer_size)
    recv_buffer,      // SO_RCVBUF
    max_segment,      // TCP_MAXSEG: clamps the MSS we advertise and use
    congestion,       // TCP_CONGESTION: 0 newreno, 1 cubic
    keepalive_idle,   // TCP_KEEPIDLE: seconds of idleness before the first probe (1..32767)
    keepalive_interval,  // TCP_KEEPINTVL: seconds between probes (1..32767)
    keepalive_count,  // TCP_KEEPCNT: unanswered probes before ETIMEDOUT (1..127)
    user_timeout,     // TCP_USER_TIMEOUT (RFC 5482): ms without progress before ETIMEDOUT; 0 = R2
    ttl,              // IP_TTL (1..255; -1 restores [engine] ttl), RFC 9293 MUST-49
    tos,              // IP_TOS: the Diffserv field (RFC 2474); the two ECN bits are TCP's, ignored
    // What the SYN offers (before connect(), or on a listener for the
    // connections it accepts; SYN cookies use the engine's defaults):
    sack,             // SACK-permitted (RFC 2018): 0 or 1
    timestamps,       // the Timestamps option (RFC 7323 §3): 0 or 1
    window_scale,     // the Window Scale option (RFC 7323 §2), shift [engine] wscale: 0 or 1
};

// Options set on a socket before it has a control block (before connect()
// or listen()); -1 leaves the engine default.
struct SocketOptions {
    std::int64_t nodelay = -1;
    std::int64_t keepalive = -1;
    std::int64_t linger = -1;
    std::int64_t send_buffer = -1;
    std::int64_t recv_buffer = -1;
    std::int64_t max_segment = -1;
    std::int64_t congestion = -1;
    std::int64_t keepalive_idle = -1;
    std::int64_t keepalive_interval = -1;
    std::int64_t keepalive_count = -1;
    std::int64_t user_timeout = -1;
    std::int64_t ttl = -1;
    std::int64_t tos = -1;
    std::int64_t sack = -1;
    std::int64_t timestamps = -1;
    std::int64_t window_scale = -1;
};

struct ConnectParams {
    wire::Ipv4Addr remote_ip;
    std::uint16_t remote_port = 0;
    wire::Ipv4Addr local_ip;       // unspecified: the engine's first address
    std::uint16_t local_port = 0;  // 0: RFC 6056 ephemeral selection
    SocketOptions options;
};

// The kinds of pending timer a connection or TIME_WAIT record can have (the
// labels of `ss -o`, finer grained).
enum class TimerKind : std::uint8_t {
    none,
    syn_retry,    // SYN or SYN-ACK retransmission (RFC 9293 §3.8.1)
    retransmit,   // RFC 6298 retransmission timer
    persist,      // zero-window probe (RFC 9293 §3.8.6.1)
    delayed_ack,  // RFC 9293 §3.8.6.3 / RFC 1122 4.2.3.2
    keepalive,    // RFC 9293 §3.8.4
    fin_wait_2,   // orphaned FIN_WAIT_2 timeout
    linger,       // SO_LINGER timeout
    time_wait,    // 2*MSL (RFC 9293 §3.10.7.4)
    reorder,      // RACK reorder window (RFC 8985 §6.3)
    tail_probe,   // tail loss probe (RFC 8985 §7)
    count,
};
const char* to_string(TimerKind k);

// What `ss -tan` shows, for one connection.
struct ConnInfo {
    State state = State::closed;
    FourTuple tuple;
    std::uint32_t recv_q = 0;      // bytes received, not yet read
    std::uint32_t send_q = 0;      // bytes written, not yet acknowledged
    std::uint32_t send_space = 0;  // bytes send() would take now
    // Buffer memory held (pool chunks x chunk_size), as `ss -m` shows:
    // in proportion to recv_q and send_q, not to SO_RCVBUF/SO_SNDBUF.
    std::uint32_t recv_mem = 0;
    std::uint32_t send_mem = 0;
    std::uint32_t accept_q = 0;    // listeners: connections ready for accept()
    std::uint32_t urgent_left = 0; // Engine::urgent_left (MUST-33)
    std::uint8_t error = 0;        // pending SO_ERROR
    std::uint8_t soft_error = 0;   // last ICMP soft error (errno; 0 none)
    bool peer_closed = false;      // the peer's FIN arrived (or SHUT_RD)
    bool orphan = false;
    // What `ss -tan -i -o` adds: options, windows, RTT, and the earliest
    // pending timer with the time left (relative to the engine's last `now`).
    bool ts_ok = false;
    bool sack_ok = false;
    bool ws_ok = false;
    bool ecn_ok = false;           // RFC 3168 ECN negotiated
    std::uint8_t snd_wscale = 0, rcv_wscale = 0;
    std::uint16_t snd_mss = 0, rcv_mss = 0;
    std::uint16_t pmtu = 0;        // the IPv4 packet size full segments take (ss's pmtu)
    // RFC 4821 search range while mtu_probing searches (0, 0 otherwise):
    // search_low works, search_high is the largest that might.
    std::uint16_t probe_low = 0, probe_high = 0;
    std::uint32_t snd_wnd = 0;     // the peer's window (scaled)
    std::uint32_t rcv_wnd = 0;     // our window as last advertised: RCV.ADV - RCV.NXT
    std::uint32_t in_flight = 0;   // SND.MAX - SND.UNA
    std::uint32_t cwnd = 0, ssthresh = 0;
    std::uint32_t srtt_us = 0, rttvar_us = 0, rto_ms = 0;
    std::uint8_t backoff = 0, retries = 0;
    TimerKind timer = TimerKind::none;
    std::int64_t timer_left_ms = -1;  // -1 with TimerKind::none; 0 when due
};

// One TIME_WAIT record as the prompt lists it (the record is not a Tcb).
struct TimeWaitInfo {
    FourTuple tuple;
    bool ts_ok = false;
    std::uint16_t window = 0;
    std::int64_t left_ms = 0;  // until the record is deleted (2*MSL after entry)
};

// One page of a cursor walk over the control blocks or TIME_WAIT records
// (list_connections / list_time_waits): `count` entries were filled; pass
// `next` as the cursor of the following call; `done` once every slot was seen.
struct ListPage {
    std::size_t count = 0;
    std::uint32_t next = 0;
    bool done = false;
};

// Armed timers by kind (a control block counts once per pending deadline,
// though it holds one wheel entry) and the earliest expiry of each kind.
struct TimerSummary {
    static constexpr std::size_t kKinds = static_cast<std::size_t>(TimerKind::count);
    std::uint64_t count[kKinds] = {};
    std::int64_t next_ms[kKinds] = {};  // time left to the earliest; -1 when none armed
    std::size_t wheel_entries = 0;      // TimerWheel::armed_count()
    std::int64_t wheel_next_ms = -1;    // TimerWheel::next_deadline() - now (may be early); -1 idle
    std::uint64_t carried_over = 0;     // TimerWheel::carried_over()
};

// Caller's hint that the NIC already verified checksums.
struct RxOffload {
    bool ip_checksum_ok = false;
    bool l4_checksum_ok = false;
};

// Optional flow-steering hook: an active open only takes local ports for
// which this returns true (replies must hash to this lcore).
struct PortFilter {
    bool (*accept)(void* ctx, const FourTuple& tuple) = nullptr;
    void* ctx = nullptr;
};

class Engine {
public:
    Engine(const EngineConfig& config, Instant now,
           std::pmr::memory_resource* mr = std::pmr::get_default_resource());
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Back to the state of `Engine(config, now, mr)`, without giving back
    // or re-initialising the memory: every connection, TIME_WAIT record,
    // listener and address forgotten (no segment or event for them), timers
    // disarmed, counters zeroed, the secrets and the RNG re-derived from
    // config.seed. Whatever the engine did before, the same calls then give
    // the same segments, events and counters as on a new engine (the fuzz
    // targets reuse two engines for every input instead of building them).
    // The cost grows with what was used since the last reset, not with the
    // capacities. `config` must have the capacities constructed with
    // (max_connections, max_time_wait, max_listeners, chunk_count,
    // chunk_size, max_loss_states, output_queue, event_queue,
    // ephemeral_port_table, pmtu_cache_entries); anything else (buffer
    // limits, options, timers, seed) may change, within the constructor's
    // checks. Throws std::invalid_argument otherwise, leaving the engine as
    // it was.
    void reset(const EngineConfig& config, Instant now);

    // --- addresses ---
    static constexpr std::uint32_t kMaxAddresses = kMaxLocalAddresses;
    // false when already present, unspecified, broadcast or multicast (MUST-57), or full
    bool add_address(wire::Ipv4Addr addr);
    // Per packet (destination and source): a probe or two in a small
    // open-addressed table, whatever the number of addresses.
    bool is_local(wire::Ipv4Addr addr) const {
        for (std::uint32_t h = addr_slot(addr);; h = (h + 1) & (kAddrSlots - 1)) {
            if (addr_hash_[h] == 0) return false;  // also answers 0.0.0.0
            if (addr_hash_[h] == addr.value) return true;
        }
    }
    void set_port_filter(PortFilter filter) { port_filter_ = filter; }

    // --- packets and time ---
    // One IPv4 packet (header + TCP segment). Never reads past `packet`.
    void input(std::span<const std::uint8_t> packet, Instant now, RxOffload rx = {});
    // One TCP segment whose IPv4 header the caller has already validated,
    // as dpdk_app's worker does once per frame (version, lengths, header
    // checksum, not a fragment, protocol TCP, `dst` one of our addresses,
    // `src` not broadcast, multicast, unspecified or ours): only the TCP
    // checks remain, so no check runs twice and each drop has one counter.
    // `segment` is the IPv4 payload, total length applied; `ecn` the IPv4
    // header's ECN field (tos & wire::ecn::mask, RFC 3168 §5).
    // A hint, for each frame of a burst before any of them is handed in
    // (its 4-tuple from wire::peek_tcp_flow): starts loading the connection
    // table's bucket, so that input_tcp()'s lookup finds it in cache (a
    // table sized for a million connections misses on every lookup
    // otherwise). Changes nothing.
    void prefetch_tcp(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::uint16_t src_port,
                      std::uint16_t dst_port) const {
        table_.prefetch(table_.hash(FourTuple{dst, src, dst_port, src_port}));
    }
    void input_tcp(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::uint8_t ecn,
                   std::span<const std::uint8_t> segment, Instant now, RxOffload rx = {});
    // One IPv4 packet carrying ICMP: errors about our segments reach their
    // connection (RFC 9293 §3.9.2.2; RFC 5927; RFC 1191 path MTU).
    void input_icmp(std::span<const std::uint8_t> packet, Instant now);
    // The path MTU cached towards `dst` (0 when none), RFC 1191.
    std::uint16_t path_mtu(wire::Ipv4Addr dst) const;
    // Runs due timers (bounded per call; see timer_budget), until they
    // have made about `max_segments` segments (and never more than the
    // output queue holds): a caller whose link is congested passes a small
    // number, and the rest fire at later calls instead of adding to the
    // congestion (a million FIN timeouts at once). Expiries that emit
    // nothing are not held back.
    void advance(Instant now, std::size_t max_segments = SIZE_MAX);
    // When advance() next has work; Instant::max() when idle.
    Instant next_deadline() const;

    // Segments produced since the last clear_output(). First sends the ACKs
    // that the segments processed since the last call owe, one per
    // connection (RFC 9293 §3.8.6.3, MUST-58/59: process every queued
    // segment before sending an ACK): a caller that takes in a whole burst
    // before draining gets one ACK per connection, and a send() or close()
    // the application makes before the drain carries it instead.
    std::span<const OutSegment> output() {
        if (acks_owed_len_ != 0) send_owed_acks();  // most drains owe none: no call
        return {out_, out_len_};
    }
    // Segments queued, owed ACKs not counted (output() would add them).
    std::size_t output_pending() const { return out_len_; }
    // Payloads of the segments returned by output() stay valid until here:
    // send buffers freed meanwhile are parked until the drain (BufferPool).
    void clear_output() {
        out_len_ = 0;
        buffers_.unpark();
    }
    // More than half the output queue is in use: a caller that drains once
    // per loop iteration drains now rather than have segments dropped.
    bool output_crowded() const { return out_len_ >= config_.output_queue / 2; }
    std::span<const Event> events() const { return {events_, events_len_}; }
    void clear_events() { events_len_ = 0; }

    // --- socket API: results are 0 / byte counts, or -errno ---
    int listen(wire::Ipv4Addr local, std::uint16_t port, int backlog, ConnId& out,
               const SocketOptions& options = {});
    int accept(ConnId listener, ConnId& out);
    int connect(const ConnectParams& params, Instant now, ConnId& out);
    std::int64_t send(ConnId id, std::span<const std::uint8_t> data, Instant now);
    std::int64_t recv(ConnId id, std::span<std::uint8_t> out, Instant now);
    // Zero-copy receive: the first in-order bytes not yet read, in place, as
    // up to two spans (the first two chunks of the receive buffer: at least
    // one chunk's worth, or all that is there), valid until the next call
    // into the engine. Returns their total length (consume() then shows the
    // bytes after them), or what recv() would return with no byte: 0 at
    // the end of the stream, -EAGAIN, or -errno.
    std::int64_t recv_view(ConnId id, std::span<const std::uint8_t>& first,
                           std::span<const std::uint8_t>& second);
    // MSG_PEEK: copies up to out.size() in-order bytes without consuming
    // them; returns their count, or what recv() would return with no byte.
    std::int64_t peek(ConnId id, std::span<std::uint8_t> out);
    // Releases the first n bytes of recv_view() (-EINVAL beyond them), and
    // reopens the window as recv() does.
    std::int64_t consume(ConnId id, std::size_t n, Instant now);
    int shutdown(ConnId id, Shutdown how, Instant now);
    int close(ConnId id, Instant now);
    int abort(ConnId id, Instant now);
    int set_option(ConnId id, SockOpt opt, std::int64_t value);
    int get_option(ConnId id, SockOpt opt, std::int64_t& value) const;
    int take_error(ConnId id);  // SO_ERROR: returns and clears the pending errno
    int info(ConnId id, ConnInfo& out) const;
    // O(1) queries that fill no struct (0 / closed / false for a stale id).
    std::uint32_t send_space(ConnId id) const;      // bytes send() would take now
    std::uint32_t recv_available(ConnId id) const;  // in-order bytes recv() would give
    // Urgent data (RFC 9293 §3.8.5, MUST-32/33): while the peer's urgent
    // data is not all read, the bytes from the read point through its last
    // octet (1: the next byte read is the last urgent one, SIOCATMARK);
    // 0 otherwise. The bytes are delivered inline (RFC 6093), and recv()
    // stops before the last urgent octet when bytes precede it, as Linux
    // does with SO_OOBINLINE, so the application can find the mark.
    std::uint32_t urgent_left(ConnId id) const;
    State state(ConnId id) const;
    bool peer_closed(ConnId id) const;  // the peer's FIN arrived (or SHUT_RD)
    bool is_open(ConnId id) const;      // a socket the application may still use
    // Calls f(const TimeWaitInfo&) for each TIME_WAIT record.
    template <class F>
    void for_each_time_wait_info(F&& f) const;
    // Cursor walks for listings (the prompt's `show conn`): from slot
    // `cursor` (0 to begin) on, in slot order, fill `out` with the live
    // control blocks (listeners included) or TIME_WAIT records, looking at
    // no more than `max_scan` slots, so that a caller on the fast path can
    // bound each call. Entries created or freed between calls may or may not
    // be listed; none is listed twice.
    ListPage list_connections(std::uint32_t cursor, std::span<ConnId> out,
                              std::uint32_t max_scan = UINT32_MAX) const;
    ListPage list_time_waits(std::uint32_t cursor, std::span<TimeWaitInfo> out,
                             std::uint32_t max_scan = UINT32_MAX) const;
    // True when a TIME_WAIT record holds `tuple` (one table look-up).
    bool in_time_wait(const FourTuple& tuple) const;
    // Walks every control block and TIME_WAIT record: O(connections), for
    // the prompt's `show timers`, not the fast path.
    TimerSummary timer_summary() const;

    // --- inspection ---
    const Counters& counters() const { return counters_; }
    const EngineConfig& config() const { return config_; }
    std::size_t connection_count() const { return tcbs_.size(); }
    std::size_t time_wait_count() const { return time_waits_.size(); }
    std::size_t armed_timers() const { return wheel_.armed_count(); }
    // Armed timers the wheel moved to another tick (rearm() moves one only
    // when its earliest deadline comes closer).
    std::uint64_t timer_moves() const { return wheel_.moves(); }
    std::size_t loss_states_in_use() const { return losses_.size(); }
    // Connections the application closed that are still finishing.
    std::uint32_t orphan_count() const { return orphans_; }
    // Past [engine] overload_percent of the control blocks or the buffer
    // chunks (EngineConfig, "Graceful overload"). O(1).
    bool under_pressure() const;
    // How long an orphan may wait in FIN_WAIT_2 for the peer's FIN: the
    // configured timeout, cut to 5 s under pressure (counted).
    Duration orphan_fin_wait_2_timeout();
    // Send/receive buffer memory: pool chunks held by connections, and
    // their bytes (chunks x chunk_size).
    std::uint32_t buffers_in_use() const { return buffers_.in_use(); }
    std::uint64_t buffer_bytes_in_use() const {
        return std::uint64_t{buffers_.in_use()} * buffers_.chunk_size();
    }
    std::uint32_t buffer_chunks_free() const { return buffers_.free_chunks(); }
    const ChunkPool& buffer_pool() const { return buffers_; }  // for Tcb::snd_buf/rcv_buf queries
    // Runtime settings (the prompt's "set timewait" / "set finwait2").
    void set_msl(Duration msl) { config_.msl = msl; }
    void set_fin_wait_2_timeout(Duration d) { config_.fin_wait_2_timeout = d; }
    // Direct access for tests and diagnostics; nullptr when stale.
    Tcb* tcb(ConnId id);
    const Tcb* tcb(ConnId id) const;
    // Calls f(const TimeWaitRecord&) for each record.
    template <class F>
    void for_each_time_wait(F&& f) const;
    // Calls f(ConnId, const Tcb&) for each control block (listeners included).
    template <class F>
    void for_each_connection(F&& f) const;

    // The TSval this engine would send now on a connection with `ts_offset`.
    std::uint32_t ts_now(std::uint32_t ts_offset) const;

private:
    struct Listener {
        std::uint32_t tcb = kNoIndex;
        std::uint32_t backlog = 0;
        std::uint32_t syn_count = 0;      // embryonic connections (SYN_RECEIVED)
        std::uint32_t accept_count = 0;
        std::uint32_t accept_head = kNoIndex;
        std::uint32_t accept_tail = kNoIndex;
    };

    // engine.cpp
    static void check_chunk_limits(const EngineConfig& c);
    TickMs tick(Instant t) const;
    // The first millisecond tick at or after now + d: timers never fire early.
    TickMs deadline(Instant now, Duration d) const;
    Instant instant(TickMs t) const;
    void set_state(Tcb& tcb, State s);
    void post(std::uint32_t index, EventKind kind);
    ConnId id_of(std::uint32_t index) const;
    std::uint32_t index_of(const Tcb& tcb) const;
    Tcb* app_tcb(ConnId id, int& err);
    std::uint32_t new_tcb(const FourTuple& tuple, Instant now, int& err);
    void apply_options(std::uint32_t index, const SocketOptions& options);
    void init_sequence(Tcb& tcb, Instant now);
    void release(Tcb& tcb);
    void make_orphan(Tcb& tcb);
    bool too_many_orphans() const { return config_.max_orphans != 0 && orphans_ > config_.max_orphans; }
    bool gave_up_for_overload(Tcb& tcb, Instant now);  // timers.cpp
    void finish(Tcb& tcb, EventKind kind, int err);
    void close_listener(Tcb& tcb);
    // set_option's groups of options
    int set_keepalive_option(Tcb& tcb, SockOpt opt, std::int64_t value);
    int set_max_segment(Tcb& tcb, std::int64_t value);
    int set_user_timeout(Tcb& tcb, std::int64_t value);
    int set_ip_option(Tcb& tcb, SockOpt opt, std::int64_t value) const;

    // input.cpp: demultiplexing and the unsynchronized states (§3.10.7.1-3)
    bool parse_ipv4(std::span<const std::uint8_t> packet, RxOffload rx, wire::Ipv4Addr& src,
                    wire::Ipv4Addr& dst, std::uint8_t& ecn, std::span<const std::uint8_t>& segment);
    bool parse_tcp(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::span<const std::uint8_t> segment,
                   RxOffload rx, InSegment& seg);
    void demux(const InSegment& seg, Instant now);
    void on_closed(const InSegment& seg);
    void on_listen(Tcb& listener, const InSegment& seg, Instant now);
    std::uint32_t new_passive_tcb(const Tcb& listener, const InSegment& seg, Instant now);
    void on_syn_sent(Tcb& tcb, const InSegment& seg, Instant now);
    void negotiate_options(Tcb& tcb, const InSegment& seg, Instant now);
    std::uint32_t initial_window(std::uint16_t mss) const;
    std::uint8_t our_wscale(std::uint32_t rcv_limit) const;
    void send_cookie_syn_ack(Tcb& listener, const InSegment& seg, Instant now);
    bool open_from_cookie(Tcb& listener, const InSegment& seg, Instant now);
    void enqueue_accept(Tcb& tcb);
    void on_time_wait(std::uint32_t tw_index, const InSegment& seg, Instant now);

    // input_sync.cpp: §3.10.7.4 for the synchronized states, step by step
    void on_synchronized(Tcb& tcb, const InSegment& seg, Instant now);
    bool header_prediction(Tcb& tcb, const InSegment& seg, Instant now);
    void predicted_ack(Tcb& tcb, const InSegment& seg, bool acks_new, Instant now);
    bool check_paws(Tcb& tcb, const InSegment& seg, Instant now);
    bool check_sequence(Tcb& tcb, const InSegment& seg, Instant now);
    bool check_rst(Tcb& tcb, const InSegment& seg, Instant now);
    bool check_syn(Tcb& tcb, const InSegment& seg, Instant now);
    bool check_ack(Tcb& tcb, const InSegment& seg, Instant now);
    void on_ecn_echo(Tcb& tcb);
    void check_ce(Tcb& tcb, const InSegment& seg, Instant now);
    void process_urg(Tcb& tcb, const InSegment& seg);
    static SeqNum read_point(const Tcb& tcb);
    static std::uint32_t urgent_left(const Tcb& tcb);
    bool process_text(Tcb& tcb, const InSegment& seg, Instant now);
    bool process_fin(Tcb& tcb, const InSegment& seg, Instant now);
    void update_ts_recent(Tcb& tcb, const InSegment& seg, Instant now);
    void on_data_acked(Tcb& tcb, SeqNum ack, const InSegment& seg, Instant now);
    void on_our_fin_acked(Tcb& tcb, Instant now);
    // ICMP errors (icmp.cpp), in RFC 9293 §3.9.2.2 / RFC 5927 order.
    Tcb* icmp_connection(const wire::IcmpError& e);
    bool icmp_quote_in_window(const Tcb& t, const wire::IcmpError& e) const;
    void icmp_soft(Tcb& t, int err);
    void icmp_hard(Tcb& t);
    void icmp_frag_needed(Tcb& t, const wire::IcmpError& e, Instant now);
    void resend_at_new_mss(Tcb& t, Instant now);
    // RFC 4821 packetization-layer PMTUD (plpmtud.cpp).
    std::uint16_t mss_for_mtu(const Tcb& t, std::uint16_t mtu) const;
    std::uint16_t mtu_for_mss(const Tcb& t) const;
    void plpmtud_begin(Tcb& t);
    bool plpmtud_black_hole(Tcb& t, Instant now);
    std::uint32_t plpmtud_probe_payload(Tcb& t, std::uint32_t mss, std::uint32_t unsent, std::uint32_t usable,
                                        Instant now);
    void plpmtud_probe_sent(Tcb& t, SeqNum seq, std::uint32_t len);
    void plpmtud_probe_acked(Tcb& t, SeqNum ack, Instant now);
    bool plpmtud_probe_lost(Tcb& t, const LossState& ls, Instant now);
    void plpmtud_abandon(Tcb& t);
    bool plpmtud_probe_too_big(Tcb& t, std::uint16_t mtu, Instant now);
    void plpmtud_clamp(Tcb& t, std::uint16_t mtu, bool lasting);
    std::uint16_t path_mss_limit(wire::Ipv4Addr dst) const;
    void send_challenge_ack(Tcb& tcb, Instant now);
    void send_oow_ack(Tcb& tcb, Instant now);
    bool oow_ack_allowed(const Tcb& tcb, Instant now);
    std::uint16_t oow_stamp(Instant now) const;
    // Payload bytes the next data segment may carry: SMSS less the SACK
    // blocks fill_header() will add (output.cpp).
    std::uint32_t payload_mss(const Tcb& t) const;
    // The SACK blocks for what we hold beyond RCV.NXT (output.cpp).
    std::uint8_t sack_blocks(const Tcb& t, const LossState& ls, SackBlock* out) const;
    void enter_established(Tcb& tcb, Instant now);

    // loss.cpp (engine side): reassembly and loss recovery
    LossState* loss_state(Tcb& tcb, bool create);
    void release_loss_if_idle(Tcb& tcb);
    bool queue_out_of_order(Tcb& tcb, const InSegment& seg, Instant now);
    void queue_out_of_order_fin(Tcb& tcb, SeqNum fin_seq, Instant now);
    static void hold_fin(LossState& ls, SeqNum fin_seq);
    bool holds_out_of_order(const Tcb& tcb) const;
    bool drain_reassembly(Tcb& tcb, Instant now);
    bool accept_fin(Tcb& tcb, Instant now);
    void on_sack(Tcb& tcb, const InSegment& seg, Instant now);
    void on_duplicate_ack(Tcb& tcb, Instant now);
    void on_recovery_ack(Tcb& tcb, SeqNum ack, std::uint32_t acked, Instant now);
    void retransmit_holes(Tcb& tcb, Instant now);
    std::uint32_t pipe(const Tcb& tcb) const;
    bool retransmit_at(Tcb& tcb, SeqNum seq, Instant now);
    void send_window_probe(Tcb& tcb, Instant now);
    // recovery.cpp: PRR (RFC 6937) and SACK recovery driven by RACK
    void prr_begin(Tcb& tcb, LossState& ls);
    void prr_on_ack(Tcb& tcb, LossState& ls, std::uint32_t delivered, std::uint32_t newly_lost,
                    bool una_advanced);
    void exit_recovery(Tcb& tcb, LossState& ls);
    void enter_sack_recovery(Tcb& tcb, LossState& ls);
    void retransmit_lost(Tcb& tcb, LossState& ls, Instant now);
    bool retransmit_range(Tcb& tcb, SeqNum seq, SeqNum end, bool fin, Instant now);
    void rack_on_ack(Tcb& tcb, std::uint32_t acked, bool una_advanced, bool cong, Instant now);
    // rack.cpp: the send log, RACK and TLP (RFC 8985)
    LossState* send_log(Tcb& tcb);
    bool loss_busy(const Tcb& tcb) const;
    void log_begin(Tcb& tcb, LossState& ls, SeqNum at);
    void log_end(Tcb& tcb, LossState& ls);
    bool log_make_room(LossState& ls);
    std::uint32_t xmit_stamp(LossState& ls, bool retransmission, Instant now);
    void log_append(LossState& ls, SeqNum end, bool fin, Instant now);
    void log_sent(Tcb& tcb, SeqNum seq, std::uint32_t len, bool fin, Instant now);
    void log_sacked(Tcb& tcb, LossState& ls, SeqNum left, SeqNum right, bool first, Instant now);
    void log_acked(LossState& ls, SeqNum ack, Instant now);
    void log_forget(LossState& ls);
    void rack_delivered(LossState& ls, std::uint8_t flags, SeqNum end, std::uint32_t xmit, Instant now);
    std::uint32_t rack_reo_wnd(const Tcb& tcb, const LossState& ls) const;
    std::uint32_t rack_detect_loss(Tcb& tcb, LossState& ls, Instant now, bool& armed);
    void rack_on_dsack(Tcb& tcb, LossState& ls);
    void tlp_on_ack(Tcb& tcb, LossState& ls, bool una_advanced, std::uint32_t delivered, bool dsack);
    void schedule_loss_probe(Tcb& tcb, Instant now);
    TickMs loss_deadline(const Tcb& tcb) const;
    TimerKind loss_timer_kind(const Tcb& tcb) const;  // for info()/timer_summary()
    TimeWaitInfo time_wait_info(const TimeWaitRecord& tw) const;
    void on_loss_timer(Tcb& tcb, Instant now);
    void on_reorder_timeout(Tcb& tcb, LossState& ls, Instant now);
    void send_loss_probe(Tcb& tcb, LossState& ls, Instant now);
    bool after_timeout(const Tcb& tcb, const LossState& ls) const;

    // output.cpp
    OutSegment* push_segment();
    void fill_header(Tcb& tcb, OutSegment& seg, std::uint8_t flags, SeqNum seq, Instant now);
    void send_syn(Tcb& tcb, Instant now);
    void send_ack(Tcb& tcb, Instant now);
    // An ACK this connection owes for what it received: sent by output(),
    // unless a segment carrying ACK goes out first (owe_ack in output.cpp).
    void owe_ack(Tcb& tcb, Instant now);
    void send_owed_acks();
    void release_received(Tcb& t, std::uint32_t n, Instant now);
    std::int64_t end_of_stream(ConnId id, Tcb& t);
    void send_rst(Tcb& tcb, Instant now);
    void send_rst_reply(const InSegment& seg);
    void output_data(Tcb& tcb, Instant now);
    std::uint32_t next_segment_bytes(Tcb& tcb, std::uint32_t offset, std::uint32_t mss, bool retransmit,
                                     Instant now, bool& window_cut);
    struct SegmentSize {
        std::uint32_t bytes;
        std::uint32_t mss;  // the pass's payload MSS: more is a path MTU probe
    };
    void send_data_segment(Tcb& tcb, OutSegment& seg, std::uint32_t offset, SegmentSize size, bool retransmit,
                           Instant now);
    void send_bare_fin(Tcb& tcb, SeqNum data_end, Instant now);
    void mark_burst_push(OutSegment* tail, std::uint32_t segs);
    std::uint16_t window_to_advertise(Tcb& tcb, bool* pool_clamped = nullptr);
    // Points the segment's payload at the send buffer's [offset, offset+n).
    void attach_payload(Tcb& tcb, OutSegment& seg, std::uint32_t offset, std::uint32_t n);

    // timers.cpp
    void rearm(Tcb& tcb);
    void on_timer(Timer& t, Instant now);
    void on_tcb_timer(Tcb& tcb, Instant now);
    void on_rto(Tcb& tcb, Instant now);
    void on_keepalive(Tcb& tcb, Instant now);
    void arm_rtx(Tcb& tcb, Instant now);
    void rtt_sample(Tcb& tcb, std::uint32_t rtt_us);
    void enter_time_wait(Tcb& tcb, Instant now);
    void restart_time_wait(TimeWaitRecord& tw, Instant now);
    void delete_time_wait(std::uint32_t tw_index);
    // tw_reuse: may an active open take this TIME_WAIT record's 4-tuple?
    bool time_wait_reusable(const TimeWaitRecord& tw, Instant now) const;
    bool tuple_free_for_connect(const FourTuple& tuple, Instant now) const;
    bool challenge_ack_allowed(Instant now);
    // RFC 5482 user timeout (timers.cpp)
    void note_progress(Tcb& tcb, Instant now);
    void start_rtx(Tcb& tcb, Instant now);  // the first thing outstanding: a wait begins
    std::int64_t user_timeout_left_ms(const Tcb& tcb, Instant now) const;

    EngineConfig config_;
    std::pmr::memory_resource* mr_;
    Instant epoch_;
    Instant now_;
    // Local addresses: in the order added (the first is the default source),
    // and hashed for is_local (load <= 1/2; 0.0.0.0 marks an empty slot).
    static constexpr std::uint32_t kAddrSlots = 2 * kMaxAddresses;
    static std::uint32_t addr_slot(wire::Ipv4Addr a) {
        return (a.value * 0x9e3779b1u) >> (32 - 7);  // Fibonacci hashing into 128 slots
    }
    static_assert(kAddrSlots == 128);
    wire::Ipv4Addr addrs_[kMaxAddresses];
    std::uint32_t addr_count_ = 0;
    std::uint32_t addr_hash_[kAddrSlots] = {};

    Pool<Tcb> tcbs_;
    Pool<TimeWaitRecord> time_waits_;
    Pool<LossState> losses_;
    Pool<Listener> listeners_;
    ConnTable table_;           // value: tcb index, or kTimeWaitBit | record index
    ListenerTable listen_table_;
    TimerWheel wheel_;
    ChunkPool buffers_;
    IsnGenerator isn_;
    SynCookies cookies_;
    EphemeralPorts ports_;
    Random rng_;
    PortFilter port_filter_;
    PmtuCache pmtu_;
    Counters counters_;

    OutSegment* out_;
    std::uint32_t out_len_ = 0;
    Event* events_;
    std::uint32_t events_len_ = 0;
    UserTimeout* user_timeouts_;  // beside tcbs_, same index (TCP_USER_TIMEOUT)
    // Control blocks with Tcb::ack_owed set, in the order they first owed:
    // at most one entry per connection per drain (the flag gates the push).
    std::uint32_t* acks_owed_;
    std::uint32_t acks_owed_len_ = 0;
    // RFC 3168 §6.1.2, beside tcbs_ (same index), read only around an
    // ECN-Echo: SND.MAX when cwnd was last reduced for one; no second
    // reduction until SND.UNA passes it (Tcb::ecn_reduced).
    SeqNum* ecn_recover_;
    // RFC 4821 search state, beside tcbs_ (same index); only allocated per
    // connection when [engine] mtu_probing is not off.
    PlpmtudState* plpmtud_;
    std::uint32_t plpmtud_len_ = 0;

    std::uint64_t challenge_window_start_ms_ = 0;  // RFC 5961 §7 rate-limit window
    std::uint32_t challenge_acks_in_window_ = 0;
    std::uint32_t orphans_ = 0;  // control blocks with Tcb::orphan (make_orphan, release)
};

inline constexpr std::uint32_t kTimeWaitBit = 0x80000000u;
inline constexpr std::uint8_t kTimerKindTcb = 1;
inline constexpr std::uint8_t kTimerKindTimeWait = 2;

template <class F>
void Engine::for_each_time_wait(F&& f) const {
    time_waits_.for_each([&](PoolHandle, const TimeWaitRecord& tw) { f(tw); });
}

template <class F>
void Engine::for_each_time_wait_info(F&& f) const {
    time_waits_.for_each([&](PoolHandle, const TimeWaitRecord& tw) { f(time_wait_info(tw)); });
}

template <class F>
void Engine::for_each_connection(F&& f) const {
    tcbs_.for_each([&](PoolHandle h, const Tcb& t) { f(h, t); });
}

}  // namespace tcpfp::tcp
