// Engine construction, bookkeeping and the socket API (RFC 9293 §3.10.1-6:
// OPEN, SEND, RECEIVE, CLOSE, ABORT as user calls).
#include "tcp/engine/engine.hpp"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <stdexcept>

namespace tcpfp::tcp {

namespace {
constexpr const char* kEventNames[] = {"accepted", "connected",   "readable", "writable",
                                       "peer_closed", "reset",    "timed_out", "closed",
                                       "linger_done", "linger_timeout", "soft_error", "urgent"};

template <class T>
T* allocate_array(std::pmr::memory_resource* mr, std::size_t n) {
    auto* p = static_cast<T*>(mr->allocate(sizeof(T) * std::max<std::size_t>(n, 1), alignof(T)));
    for (std::size_t i = 0; i < n; ++i) new (p + i) T();
    return p;
}

constexpr const char* kTimerKindNames[] = {"none",    "syn_retry",  "retransmit",
                                           "persist", "delayed_ack", "keepalive",
                                           "fin_wait_2", "linger",   "time_wait",
                                           "reorder", "tail_probe"};
static_assert(std::size(kTimerKindNames) == static_cast<std::size_t>(TimerKind::count));

// rtx_deadline serves three timers; conn_deadline two (see Tcb).
TimerKind rtx_kind(const Tcb& t) {
    if (t.persist) return TimerKind::persist;
    if (t.state == State::syn_sent || t.state == State::syn_received) return TimerKind::syn_retry;
    return TimerKind::retransmit;
}
TimerKind conn_kind(const Tcb& t) { return t.lingering ? TimerKind::linger : TimerKind::fin_wait_2; }

// The earliest of a control block's deadlines and its kind (the one wheel
// entry fires at it: Engine::rearm).
// loss_due/loss_kind: the LossState's RACK reorder or TLP timer (Engine::loss_deadline).
TimerKind earliest_timer(const Tcb& t, TickMs loss_due, TimerKind loss_kind, TickMs& due) {
    TimerKind k = TimerKind::none;
    due = kNoDeadline;
    auto consider = [&](TickMs d, TimerKind kind) {
        if (d < due) {
            due = d;
            k = kind;
        }
    };
    consider(t.rtx_deadline, rtx_kind(t));
    consider(t.delack_deadline, TimerKind::delayed_ack);
    consider(t.keepalive_deadline, TimerKind::keepalive);
    consider(t.conn_deadline, conn_kind(t));
    consider(loss_due, loss_kind);
    return k;
}

std::int64_t left_ms(TickMs due, TickMs now) {
    return due <= now ? 0 : static_cast<std::int64_t>(due - now);
}

// What each secret is derived for (the constructor and reset() must agree).
constexpr std::uint64_t kIsnKey = 1, kPortKey = 2, kCookieKey = 3;
constexpr std::uint64_t kRngSalt = 0x5eed;

SipKey derive_key(std::uint64_t seed, std::uint64_t purpose) {
    Random r(seed ^ (purpose * 0x9e3779b97f4a7c15ull));
    return SipKey{r.next_u64(), r.next_u64()};
}
}  // namespace

const char* to_string(EventKind k) { return kEventNames[static_cast<std::size_t>(k)]; }

// What the chunked buffers rely on (buffer.hpp, segment.hpp): a full-sized
// segment's payload fits PayloadParts whatever its alignment in the chunks,
// and the largest buffer fits a chain. Throws std::invalid_argument.
void Engine::check_chunk_limits(const EngineConfig& c) {
    const std::uint64_t cs = c.chunk_size;
    if (c.mtu > 40 && c.mtu - 40u > (PayloadParts::kMax - 1) * cs) {
        throw std::invalid_argument("EngineConfig: mtu - 40 above 7 x chunk_size (a segment spans too many chunks)");
    }
    if (c.buffer_size > (ChunkPool::kMaxChainChunks - 2) * cs) {
        throw std::invalid_argument("EngineConfig: buffer_size above 65533 x chunk_size (a chain's length)");
    }
    // RFC 791: every host takes 576-byte datagrams; below that a path
    // would not carry the options and 64 payload bytes a segment needs.
    if (c.send_mtu != 0 && c.send_mtu < 576) {
        throw std::invalid_argument("EngineConfig: send_mtu below 576");
    }
}

Engine::Engine(const EngineConfig& config, Instant now, std::pmr::memory_resource* mr)
    : config_(config),
      mr_(mr),
      epoch_(now),
      now_(now),
      tcbs_(config.max_connections, mr),
      time_waits_(config.max_time_wait, mr),
      losses_(config.max_loss_states, mr),
      listeners_(config.max_listeners, mr),
      table_(std::size_t{config.max_connections} + config.max_time_wait, config.seed, mr),
      listen_table_(config.max_listeners, mr),
      wheel_(now, Duration::millis(1), mr),
      buffers_(config.chunk_count, config.chunk_size, mr),
      isn_(derive_key(config.seed, kIsnKey)),
      cookies_(derive_key(config.seed, kCookieKey)),
      ports_(derive_key(config.seed, kPortKey), EphemeralPorts::kDynamicFirst, EphemeralPorts::kDynamicLast,
             config.ephemeral_port_table, mr),
      rng_(config.seed ^ kRngSalt),
      pmtu_(config.pmtu_cache_entries, mr) {
    config_.wscale = std::min<std::uint8_t>(config_.wscale, 14);  // RFC 7323 §2.3
    check_chunk_limits(config_);
    out_ = allocate_array<OutSegment>(mr_, config_.output_queue);
    events_ = allocate_array<Event>(mr_, config_.event_queue);
    user_timeouts_ = allocate_array<UserTimeout>(mr_, config_.max_connections);
    acks_owed_ = allocate_array<std::uint32_t>(mr_, config_.max_connections);
    ecn_recover_ = allocate_array<SeqNum>(mr_, config_.max_connections);
    plpmtud_len_ = config_.mtu_probing == MtuProbing::off ? 1 : config_.max_connections;
    plpmtud_ = allocate_array<PlpmtudState>(mr_, plpmtud_len_);
}

void Engine::reset(const EngineConfig& config, Instant now) {
    const EngineConfig& c = config_;
    if (config.max_connections != c.max_connections || config.max_time_wait != c.max_time_wait ||
        config.max_listeners != c.max_listeners || config.chunk_count != c.chunk_count ||
        config.chunk_size != c.chunk_size ||
        config.max_loss_states != c.max_loss_states || config.output_queue != c.output_queue ||
        config.event_queue != c.event_queue ||
        config.ephemeral_port_table != c.ephemeral_port_table ||
        config.pmtu_cache_entries != c.pmtu_cache_entries) {
        throw std::invalid_argument("Engine::reset: capacities differ from the constructed ones");
    }
    // RFC 4821 state is allocated per connection only when constructed with
    // probing on; a reset cannot turn it on without it.
    if (config.mtu_probing != MtuProbing::off && plpmtud_len_ < config.max_connections) {
        throw std::invalid_argument("Engine::reset: mtu_probing needs an engine constructed with it");
    }
    check_chunk_limits(config);
    config_ = config;
    config_.wscale = std::min<std::uint8_t>(config_.wscale, 14);  // as the constructor
    epoch_ = now;
    now_ = now;
    std::fill(std::begin(addr_hash_), std::end(addr_hash_), 0u);  // 512 bytes
    addr_count_ = 0;
    // Control blocks, records and loss states are dropped wholesale: what
    // release() would undo one by one (table entries, timers, buffers) is
    // reset below as a whole.
    tcbs_.clear();
    time_waits_.clear();
    losses_.clear();
    listeners_.clear();
    table_.clear(config.seed);
    listen_table_.clear();
    wheel_.reset(now);
    buffers_.reset();
    isn_ = IsnGenerator(derive_key(config.seed, kIsnKey));
    cookies_ = SynCookies(derive_key(config.seed, kCookieKey));
    ports_.rekey(derive_key(config.seed, kPortKey));
    rng_ = Random(config.seed ^ kRngSalt);
    port_filter_ = PortFilter{};
    pmtu_.clear();
    counters_ = Counters{};
    // The queues' and user_timeouts_' old entries stay: nothing reads an
    // entry before writing it (push_segment(), post() and new_tcb() do).
    out_len_ = 0;
    events_len_ = 0;
    acks_owed_len_ = 0;
    challenge_window_start_ms_ = 0;
    challenge_acks_in_window_ = 0;
    orphans_ = 0;
}

Engine::~Engine() {
    mr_->deallocate(out_, sizeof(OutSegment) * std::max<std::size_t>(config_.output_queue, 1),
                    alignof(OutSegment));
    mr_->deallocate(events_, sizeof(Event) * std::max<std::size_t>(config_.event_queue, 1),
                    alignof(Event));
    mr_->deallocate(user_timeouts_,
                    sizeof(UserTimeout) * std::max<std::size_t>(config_.max_connections, 1),
                    alignof(UserTimeout));
    mr_->deallocate(acks_owed_,
                    sizeof(std::uint32_t) * std::max<std::size_t>(config_.max_connections, 1),
                    alignof(std::uint32_t));
    mr_->deallocate(ecn_recover_, sizeof(SeqNum) * std::max<std::size_t>(config_.max_connections, 1),
                    alignof(SeqNum));
    mr_->deallocate(plpmtud_, sizeof(PlpmtudState) * std::max<std::size_t>(plpmtud_len_, 1),
                    alignof(PlpmtudState));
}

bool Engine::add_address(wire::Ipv4Addr addr) {
    // A broadcast or multicast address is never ours: parse() then discards
    // every segment sent to one as not local (RFC 9293 §3.9.2.3, MUST-57).
    if (addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast() || is_local(addr) ||
        addr_count_ == kMaxAddresses) {
        return false;
    }
    addrs_[addr_count_++] = addr;
    std::uint32_t h = addr_slot(addr);
    while (addr_hash_[h] != 0) h = (h + 1) & (kAddrSlots - 1);
    addr_hash_[h] = addr.value;
    return true;
}

TickMs Engine::tick(Instant t) const { return static_cast<TickMs>((t - epoch_).as_millis()); }

TickMs Engine::deadline(Instant now, Duration d) const {
    return static_cast<TickMs>(((now + d) - epoch_).as_micros() + 999) / 1000;
}

Instant Engine::instant(TickMs t) const { return epoch_ + Duration::millis(static_cast<std::int64_t>(t)); }

std::uint32_t Engine::ts_now(std::uint32_t ts_offset) const {
    // RFC 7323 §5.4: a clock between 1 ms and 1 s per tick, plus a random
    // per-connection offset (RFC 7323 §7.1).
    // Every segment sent and every timestamp echoed asks: the default
    // 1 ms tick divides by a constant (a multiplication), any other one
    // with a division instruction, which took a fifth of fill_header()'s
    // samples in the pair's profiles when it was the only path (session 22).
    const std::int64_t us = (now_ - epoch_).as_micros();
    const std::int64_t tick_us = config_.ts_tick.as_micros();
    const std::int64_t ticks = tick_us == 1000 ? us / 1000 : us / std::max<std::int64_t>(1, tick_us);
    return ts_offset + static_cast<std::uint32_t>(ticks);
}

void Engine::set_state(Tcb& tcb, State s) {
    --counters_.by_state[static_cast<std::size_t>(tcb.state)];
    ++counters_.by_state[static_cast<std::size_t>(s)];
    tcb.state = s;
}

ConnId Engine::id_of(std::uint32_t index) const { return tcbs_.handle_of(index); }

std::uint32_t Engine::index_of(const Tcb& tcb) const { return tcb.timer.owner; }

void Engine::post(std::uint32_t index, EventKind kind) {
    const Tcb& tcb = tcbs_.at(index);
    if (!tcb.accepted || tcb.orphan) return;  // nobody to tell
    if (events_len_ == config_.event_queue) {
        counters_.inc(Mib::events_dropped);
        return;
    }
    events_[events_len_++] = Event{id_of(index), kind};
}

Tcb* Engine::tcb(ConnId id) { return tcbs_.get(id); }
const Tcb* Engine::tcb(ConnId id) const { return tcbs_.get(id); }

Tcb* Engine::app_tcb(ConnId id, int& err) {
    Tcb* t = tcbs_.get(id);
    if (t == nullptr || t->orphan || !t->accepted) {
        err = -EBADF;
        return nullptr;
    }
    err = 0;
    return t;
}

std::uint32_t Engine::new_tcb(const FourTuple& tuple, Instant now, int& err) {
    const PoolHandle h = tcbs_.acquire();
    if (h == PoolHandle::invalid()) {
        err = -ENOBUFS;
        return kNoIndex;
    }
    Tcb& t = tcbs_.at(h.index);
    t.tuple = tuple;
    ++counters_.by_state[static_cast<std::size_t>(State::closed)];
    t.snd_limit = std::min(config_.send_buffer, config_.buffer_size);
    t.rcv_limit = std::min(config_.recv_buffer, config_.buffer_size);
    t.rto_ms = static_cast<std::uint32_t>(config_.initial_rto.as_millis());
    t.cc = config_.congestion;
    t.ka_idle_s = static_cast<std::uint16_t>(std::clamp<std::int64_t>(config_.keepalive_idle.as_millis() / 1000, 1, 32767));
    t.ka_intvl_s = static_cast<std::uint16_t>(std::clamp<std::int64_t>(config_.keepalive_interval.as_millis() / 1000, 1, 32767));
    t.ka_cnt = config_.keepalive_count;
    t.ttl = config_.ttl;
    t.sack_offer = config_.sack;
    t.ts_offer = config_.timestamps;
    t.ws_offer = true;
    t.rcv_wscale = 0;
    // RFC 7323 security considerations: a TSval offset no observer can predict, yet the same
    // for every incarnation of a 4-tuple, so a new SYN's TSval is newer
    // than the last one the peer's TIME_WAIT saw (RFC 6191 §2) — a random
    // offset per connection defeated that reuse half the time. The SYN
    // cookie path derives the same value.
    t.ts_offset = cookies_.ts_offset(tuple);
    t.rcv_mss = static_cast<std::uint16_t>(config_.mtu - 40);
    t.timer.owner = h.index;
    t.timer.kind = kTimerKindTcb;
    user_timeouts_[h.index] = UserTimeout{};
    t.ts_recent_age_h = static_cast<std::uint16_t>(tick(now) / 3'600'000);
    err = 0;
    return h.index;
}

void Engine::init_sequence(Tcb& tcb, Instant now) {
    // RFC 9293 §3.4.1 (MUST-8) with RFC 6528: clock plus keyed hash.
    tcb.iss = config_.isn_override ? SeqNum(*config_.isn_override) : isn_.isn(tcb.tuple, now);
    tcb.snd_una = tcb.iss;
    tcb.snd_nxt = tcb.iss;
    tcb.snd_max = tcb.iss;
}

void Engine::release(Tcb& tcb) {
    const std::uint32_t index = index_of(tcb);
    if (tcb.in_table) {
        (void)table_.erase(tcb.tuple);
        tcb.in_table = false;
    }
    wheel_.cancel(tcb.timer);
    tcb.rtx_deadline = tcb.delack_deadline = tcb.keepalive_deadline = tcb.conn_deadline =
        kNoDeadline;
    tcb.snd_buf.reset(buffers_);
    if (tcb.loss != kNoIndex) {
        // Out-of-order data held beyond RCV.NXT goes with the reassembly
        // state; what is readable stays for the application.
        tcb.rcv_buf.trim(buffers_);
        (void)losses_.release(losses_.handle_of(tcb.loss));
        tcb.loss = kNoIndex;
    }
    if (tcb.listener != kNoIndex) {
        // Not yet accepted: unlink from the listener's SYN count or accept queue.
        Listener* l = &listeners_.at(tcb.listener);
        if (tcb.state == State::syn_received || !tcb.accepted) {
            std::uint32_t* link = &l->accept_head;
            std::uint32_t prev = kNoIndex;
            bool queued = false;
            while (*link != kNoIndex) {
                if (*link == index) {
                    *link = tcb.accept_next;
                    if (l->accept_tail == index) l->accept_tail = prev;
                    --l->accept_count;
                    queued = true;
                    break;
                }
                prev = *link;
                link = &tcbs_.at(*link).accept_next;
            }
            if (!queued && l->syn_count > 0) --l->syn_count;
        }
        tcb.listener = kNoIndex;
    }
    if (tcb.accepted && !tcb.orphan) {
        // The application still holds its socket: keep a CLOSED shell with
        // any unread data until it calls close().
        if (tcb.state != State::closed) set_state(tcb, State::closed);
        return;
    }
    tcb.rcv_buf.reset(buffers_);
    if (tcb.orphan) --orphans_;
    --counters_.by_state[static_cast<std::size_t>(tcb.state)];
    (void)tcbs_.release(id_of(index));
}

void Engine::make_orphan(Tcb& tcb) {
    if (tcb.orphan) return;
    tcb.orphan = true;
    ++orphans_;
}

// Graceful overload (EngineConfig::overload_percent): the control blocks or
// the buffer chunks past their high-water mark.
bool Engine::under_pressure() const {
    const std::uint64_t pct = config_.overload_percent;
    if (pct >= 100) return false;
    return tcbs_.size() * 100 >= pct * config_.max_connections ||
           std::uint64_t{buffers_.in_use()} * 100 >= pct * config_.chunk_count;
}

// Graceful overload: an orphan in FIN_WAIT_2 holds a control block for a
// peer that may never send its FIN (RFC 9293 leaves this timeout to the
// implementation). Under pressure it gets 5 s instead of the configured
// 60, as the overload rules cut the other orphans' lifetimes.
Duration Engine::orphan_fin_wait_2_timeout() {
    constexpr Duration kUnderPressure = Duration::seconds(5);
    if (!under_pressure() || config_.fin_wait_2_timeout <= kUnderPressure) return config_.fin_wait_2_timeout;
    counters_.inc(Mib::fin_wait_2_shortened);
    return kUnderPressure;
}

void Engine::finish(Tcb& tcb, EventKind kind, int err) {
    tcb.so_error = static_cast<std::uint8_t>(err);
    if (tcb.state != State::closed) set_state(tcb, State::closed);
    post(index_of(tcb), kind);
    release(tcb);
}

// --- socket API ---

void Engine::apply_options(std::uint32_t index, const SocketOptions& o) {
    // A constant table of fields: each connect and listen walks it, and a
    // table built per call (16 pairs on the stack) cost more than the walk.
    using S = SocketOptions;
    static constexpr std::pair<std::int64_t S::*, SockOpt> kAll[] = {
        {&S::nodelay, SockOpt::nodelay},         {&S::keepalive, SockOpt::keepalive},
        {&S::linger, SockOpt::linger},           {&S::send_buffer, SockOpt::send_buffer},
        {&S::recv_buffer, SockOpt::recv_buffer}, {&S::max_segment, SockOpt::max_segment},
        {&S::congestion, SockOpt::congestion},   {&S::keepalive_idle, SockOpt::keepalive_idle},
        {&S::keepalive_interval, SockOpt::keepalive_interval},
        {&S::keepalive_count, SockOpt::keepalive_count}, {&S::user_timeout, SockOpt::user_timeout},
        {&S::ttl, SockOpt::ttl},                 {&S::tos, SockOpt::tos},
        {&S::sack, SockOpt::sack},               {&S::timestamps, SockOpt::timestamps},
        {&S::window_scale, SockOpt::window_scale}};
    static_assert(sizeof(kAll) / sizeof(kAll[0]) * sizeof(std::int64_t) == sizeof(S),
                  "every SocketOptions field is in the table");
    const ConnId id = id_of(index);
    for (const auto& [field, opt] : kAll) {
        if (o.*field != -1) (void)set_option(id, opt, o.*field);
    }
}

int Engine::listen(wire::Ipv4Addr local, std::uint16_t port, int backlog, ConnId& out,
                   const SocketOptions& options) {
    if (port == 0) return -EINVAL;
    if (!local.is_unspecified() && !is_local(local)) return -EADDRNOTAVAIL;
    const PoolHandle lh = listeners_.acquire();
    if (lh == PoolHandle::invalid()) return -ENOBUFS;
    if (listen_table_.insert(local, port, lh.index) != InsertResult::inserted) {
        (void)listeners_.release(lh);
        return -EADDRINUSE;
    }
    int err = 0;
    const std::uint32_t index = new_tcb(FourTuple{local, {}, port, 0}, now_, err);
    if (index == kNoIndex) {
        (void)listen_table_.erase(local, port);
        (void)listeners_.release(lh);
        return err;
    }
    Tcb& t = tcbs_.at(index);
    t.accepted = true;
    set_state(t, State::listen);
    Listener& l = listeners_.at(lh.index);
    l.tcb = index;
    l.backlog = backlog > 0 ? static_cast<std::uint32_t>(backlog) : config_.default_backlog;
    t.listener = kNoIndex;
    t.accept_next = lh.index;  // a listener's TCB points at its Listener record
    apply_options(index, options);
    out = id_of(index);
    return 0;
}

int Engine::accept(ConnId listener_id, ConnId& out) {
    int err = 0;
    Tcb* lt = app_tcb(listener_id, err);
    if (lt == nullptr) return err;
    if (lt->state != State::listen) return -EINVAL;
    Listener& l = listeners_.at(lt->accept_next);
    if (l.accept_head == kNoIndex) return -EAGAIN;
    const std::uint32_t index = l.accept_head;
    Tcb& t = tcbs_.at(index);
    l.accept_head = t.accept_next;
    if (l.accept_head == kNoIndex) l.accept_tail = kNoIndex;
    --l.accept_count;
    t.accept_next = kNoIndex;
    t.listener = kNoIndex;
    t.accepted = true;
    out = id_of(index);
    return 0;
}

int Engine::connect(const ConnectParams& p, Instant now, ConnId& out) {
    now_ = now;
    // RFC 9293 §3.9.1.1 MUST-46: an OPEN to a broadcast or multicast remote
    // address is an error (Linux answers ENETUNREACH; we say EINVAL).
    if (p.remote_port == 0 || p.remote_ip.is_unspecified() || p.remote_ip.is_multicast() ||
        p.remote_ip.is_broadcast()) {
        return -EINVAL;
    }
    FourTuple tuple{p.local_ip, p.remote_ip, p.local_port, p.remote_port};
    if (tuple.local_ip.is_unspecified()) {
        if (addr_count_ == 0) return -EADDRNOTAVAIL;
        tuple.local_ip = addrs_[0];
    } else if (!is_local(tuple.local_ip)) {
        return -EADDRNOTAVAIL;
    }
    if (tuple.local_port != 0) {
        if (!tuple_free_for_connect(tuple, now)) return -EADDRINUSE;
    } else {
        // RFC 6056 §3.3.4 double-hash selection; the tuple must be free and,
        // when the DPDK layer steers flows, hash back to this lcore.
        auto port = ports_.select(tuple.local_ip, tuple.remote_ip, tuple.remote_port,
                                  [&](std::uint16_t candidate) {
                                      FourTuple t = tuple;
                                      t.local_port = candidate;
                                      if (!tuple_free_for_connect(t, now)) return false;
                                      return port_filter_.accept == nullptr ||
                                             port_filter_.accept(port_filter_.ctx, t);
                                  });
        if (!port) return -EADDRNOTAVAIL;
        tuple.local_port = *port;
        // The next connect to this destination starts at the successor
        // port: fetch its table bucket now, so that probe (a cache miss on
        // a table sized for every connection and TIME_WAIT record) does not
        // stall it. A load generator or a proxy reconnects to the same
        // destinations all the time.
        FourTuple next = tuple;
        next.local_port = ports_.successor(*port);
        table_.prefetch_miss(table_.hash(next));
    }
    // A TIME_WAIT record on the tuple is reusable here (tw_reuse): take it.
    TimeWaitRecord reused{};
    bool reusing = false;
    if (auto v = table_.find(tuple); v && (*v & kTimeWaitBit) != 0) {
        const TimeWaitRecord& tw = time_waits_.at(*v & ~kTimeWaitBit);
        reused.snd_nxt = tw.snd_nxt;
        reused.ts_offset = tw.ts_offset;
        reusing = true;
        counters_.inc(Mib::timewait_reused_active);
        delete_time_wait(*v & ~kTimeWaitBit);
    }
    int err = 0;
    const std::uint32_t index = new_tcb(tuple, now, err);
    if (index == kNoIndex) {
        counters_.drop(Drop::table_full);
        return err;
    }
    Tcb& t = tcbs_.at(index);
    if (table_.insert(tuple, index) != InsertResult::inserted) {
        --counters_.by_state[static_cast<std::size_t>(State::closed)];
        (void)tcbs_.release(id_of(index));
        return -EADDRINUSE;
    }
    t.in_table = true;
    t.accepted = true;
    apply_options(index, p.options);
    init_sequence(t, now);
    if (reusing) {
        // As Linux does for a reused TIME_WAIT tuple: the old connection's
        // timestamp clock continues (so the new SYN's TSval is newer, RFC
        // 6191 §2), and the ISS lies a full window beyond its last sequence
        // number so no old segment can fall into the new window.
        t.ts_offset = reused.ts_offset;
        if (!config_.isn_override) {
            t.iss = t.snd_una = t.snd_nxt = t.snd_max = reused.snd_nxt + 65535u + 2u;
        }
    }
    set_state(t, State::syn_sent);
    counters_.inc(Mib::active_opens);
    t.ecn_ok = config_.ecn == EcnMode::on;  // RFC 3168 §6.1.1: ask in the SYN
    send_syn(t, now);
    out = id_of(index);
    return 0;
}

std::int64_t Engine::send(ConnId id, std::span<const std::uint8_t> data, Instant now) {
    now_ = now;
    int err = 0;
    Tcb* t = app_tcb(id, err);
    if (t == nullptr) return err;
    switch (t->state) {
        case State::listen:
            return -ENOTCONN;
        case State::closed:
            if (t->so_error != 0) return -take_error(id);
            return -EPIPE;
        case State::syn_sent:
        case State::syn_received:
        case State::established:
        case State::close_wait:
            break;
        default:
            return -EPIPE;  // our FIN is queued or sent
    }
    if (t->fin_queued) return -EPIPE;
    if (data.empty()) return 0;
    bool no_buffer = false;
    // The last chunks are left to data arriving in windows already offered.
    const std::uint32_t n =
        t->snd_buf.write(buffers_, data, t->snd_limit, buffers_.send_reserve(), no_buffer);
    if (n == 0 && no_buffer) {
        // Not a segment dropped: the application is told (and `writable`
        // follows the next ACK that frees chunks of this connection).
        counters_.inc(Mib::send_no_buffers);
        t->send_blocked = true;
        return -ENOBUFS;
    }
    if (n == 0) return -EAGAIN;
    if (is_synchronized(t->state)) output_data(*t, now);
    return n;
}

std::int64_t Engine::recv(ConnId id, std::span<std::uint8_t> out, Instant now) {
    now_ = now;
    int err = 0;
    Tcb* t = app_tcb(id, err);
    if (t == nullptr) return err;
    if (t->state == State::listen) return -ENOTCONN;
    if (t->rcv_buf.len > 0 && !out.empty()) {
        auto n = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), t->rcv_buf.len));
        // Urgent data: stop before its last octet (the mark) when bytes come
        // first, so the application can learn it is there (MUST-33).
        if (const std::uint32_t left = urgent_left(*t); left > 1 && n >= left) n = left - 1;
        t->rcv_buf.peek(buffers_, 0, out.first(n));
        release_received(*t, n, now);
        return n;
    }
    if (t->rcv_buf.len > 0) return 0;
    return end_of_stream(id, *t);
}

// What recv() returns with no byte to give: 0 at the end of the stream,
// the pending error of a closed connection, or -EAGAIN.
std::int64_t Engine::end_of_stream(ConnId id, Tcb& t) {
    if (t.peer_fin || t.shut_rd) return 0;
    if (t.state == State::closed) {
        if (t.so_error != 0) return -take_error(id);
        return 0;
    }
    return -EAGAIN;
}

// Drops n bytes the application has read from the receive ring.
void Engine::release_received(Tcb& t, std::uint32_t n, Instant now) {
    const std::uint16_t before = window_to_advertise(t);
    // Chunks beyond the readable bytes stay while they hold out-of-order data.
    t.rcv_buf.consume(buffers_, n, t.loss != kNoIndex && !losses_.at(t.loss).ooo.empty());
    if (t.urg_pending && urgent_left(t) == 0) t.urg_pending = false;  // urgent data all read
    // RFC 9293 §3.8.6.2.2: tell the peer about the reopened window once it
    // has grown by a full segment or half the buffer (receiver-side SWS).
    if (t.in_table && (t.state == State::established || t.state == State::fin_wait_1 ||
                       t.state == State::fin_wait_2)) {
        const std::uint32_t grown = (static_cast<std::uint32_t>(window_to_advertise(t)) - before)
                                    << t.rcv_wscale;
        if (grown >= std::min<std::uint32_t>(t.rcv_mss, t.rcv_limit / 2) &&
            SeqNum(t.rcv_nxt.raw()) + (static_cast<std::uint32_t>(before) << t.rcv_wscale) <
                t.rcv_nxt + t.rcv_mss * 2u) {
            owe_ack(t, now);
        }
    }
}

std::int64_t Engine::recv_view(ConnId id, std::span<const std::uint8_t>& first,
                               std::span<const std::uint8_t>& second) {
    first = {};
    second = {};
    int err = 0;
    Tcb* t = app_tcb(id, err);
    if (t == nullptr) return err;
    if (t->state == State::listen) return -ENOTCONN;
    if (t->rcv_buf.len == 0) return end_of_stream(id, *t);
    // The first two chunks' worth: one copy-free look at up to one chunk
    // and more; consume() then shows what follows.
    // Each part goes straight to its caller's span: built in a local array
    // (stored as pointer and size) and copied out whole, every call stalled
    // on the 16-byte loads that could not take those stores' values (22 %
    // of recv_view's samples in the pair's RPS profile, session 22).
    std::uint32_t bytes = 0;
    if (t->rcv_buf.view(buffers_, 0, t->rcv_buf.len, std::span(&first, 1), bytes) == 1 &&
        bytes < t->rcv_buf.len) {
        std::uint32_t more = 0;
        (void)t->rcv_buf.view(buffers_, bytes, t->rcv_buf.len - bytes, std::span(&second, 1), more);
        bytes += more;
    }
    return bytes;
}

std::int64_t Engine::peek(ConnId id, std::span<std::uint8_t> out) {
    int err = 0;
    Tcb* t = app_tcb(id, err);
    if (t == nullptr) return err;
    if (t->state == State::listen) return -ENOTCONN;
    if (t->rcv_buf.len == 0) return end_of_stream(id, *t);
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), t->rcv_buf.len));
    t->rcv_buf.peek(buffers_, 0, out.first(n));
    return n;
}

std::int64_t Engine::consume(ConnId id, std::size_t n, Instant now) {
    now_ = now;
    int err = 0;
    Tcb* t = app_tcb(id, err);
    if (t == nullptr) return err;
    if (t->state == State::listen) return -ENOTCONN;
    if (n > t->rcv_buf.len) return -EINVAL;
    if (n > 0) release_received(*t, static_cast<std::uint32_t>(n), now);
    return static_cast<std::int64_t>(n);
}

std::uint32_t Engine::send_space(ConnId id) const {
    const Tcb* t = tcbs_.get(id);
    if (t == nullptr || t->orphan || !t->accepted || t->fin_queued) return 0;
    if (t->state != State::syn_sent && t->state != State::syn_received &&
        t->state != State::established && t->state != State::close_wait) {
        return 0;
    }
    return t->snd_limit > t->snd_buf.len ? t->snd_limit - t->snd_buf.len : 0;
}

std::uint32_t Engine::urgent_left(ConnId id) const {
    const Tcb* t = tcbs_.get(id);
    if (t == nullptr || t->orphan || !t->accepted) return 0;
    return urgent_left(*t);
}

std::uint32_t Engine::recv_available(ConnId id) const {
    const Tcb* t = tcbs_.get(id);
    if (t == nullptr || t->orphan || !t->accepted) return 0;
    return t->rcv_buf.len;
}

State Engine::state(ConnId id) const {
    const Tcb* t = tcbs_.get(id);
    return t == nullptr ? State::closed : t->state;
}

bool Engine::peer_closed(ConnId id) const {
    const Tcb* t = tcbs_.get(id);
    return t != nullptr && (t->peer_fin || t->shut_rd);
}

bool Engine::is_open(ConnId id) const {
    const Tcb* t = tcbs_.get(id);
    return t != nullptr && !t->orphan && t->accepted;
}

int Engine::shutdown(ConnId id, Shutdown how, Instant now) {
    now_ = now;
    int err = 0;
    Tcb* t = app_tcb(id, err);
    if (t == nullptr) return err;
    if (t->state == State::listen || t->state == State::closed) return -ENOTCONN;
    if (how == Shutdown::rd || how == Shutdown::rdwr) {
        t->shut_rd = true;
        t->rcv_buf.reset(buffers_);
    }
    if (how == Shutdown::wr || how == Shutdown::rdwr) {
        if (t->state == State::syn_sent) {
            // Nothing was synchronized: there is no FIN to send (RFC 9293 §3.10.4).
            finish(*t, EventKind::closed, 0);
            return 0;
        }
        if (!t->fin_queued) {
            t->fin_queued = true;
            // RFC 9293 §3.10.4: CLOSE queues the FIN after pending sends and
            // enters FIN-WAIT-1 (or LAST-ACK from CLOSE-WAIT) at once.
            if (t->state == State::established || t->state == State::syn_received) {
                set_state(*t, State::fin_wait_1);
            } else if (t->state == State::close_wait) {
                set_state(*t, State::last_ack);
            }
            output_data(*t, now);
        }
    }
    return 0;
}

int Engine::close(ConnId id, Instant now) {
    now_ = now;
    int err = 0;
    Tcb* t = app_tcb(id, err);
    if (t == nullptr) return err;
    switch (t->state) {
        case State::listen:
            close_listener(*t);
            return 0;
        case State::closed:
            make_orphan(*t);
            release(*t);
            return 0;
        case State::syn_sent:
            // RFC 9293 §3.10.4: delete the TCB; nothing was synchronized.
            make_orphan(*t);
            set_state(*t, State::closed);
            release(*t);
            return 0;
        default:
            break;
    }
    if (t->rcv_buf.len > 0 || (t->linger_on && t->linger_s == 0)) {
        // Unread data would be lost silently, and SO_LINGER 0 asks for an
        // abortive close: both reset the connection (RFC 9293 §3.10.5 ABORT;
        // the unread-data rule is RFC 2525 §2.17, as BSD and Linux do).
        return abort(id, now);
    }
    (void)shutdown(id, Shutdown::rdwr, now);
    t->shut_rd = true;
    if (t->linger_on) {
        t->lingering = true;
        t->conn_deadline = deadline(now, Duration::seconds(t->linger_s));
        rearm(*t);
        return 0;  // the socket stays with the application until linger_done/timeout
    }
    if (t->state != State::closed && config_.max_orphans != 0 && orphans_ >= config_.max_orphans) {
        // One orphan too many: reset rather than keep it (as Linux's
        // tcp_close does past tcp_max_orphans; our FIN went first).
        counters_.inc(Mib::orphans_reset_overload);
        return abort(id, now);
    }
    make_orphan(*t);
    if (t->state == State::fin_wait_2) {
        t->conn_deadline = deadline(now, orphan_fin_wait_2_timeout());
        rearm(*t);
    }
    if (t->state == State::closed) release(*t);
    return 0;
}

int Engine::abort(ConnId id, Instant now) {
    now_ = now;
    int err = 0;
    Tcb* t = app_tcb(id, err);
    if (t == nullptr) return err;
    if (t->state == State::listen) {
        close_listener(*t);
        return 0;
    }
    // RFC 9293 §3.10.5: RST in SYN-RECEIVED and the synchronized states.
    if (t->state != State::closed && t->state != State::syn_sent) send_rst(*t, now);
    if (t->state == State::established || t->state == State::close_wait) {
        counters_.inc(Mib::estab_resets);
    }
    make_orphan(*t);
    if (t->state != State::closed) set_state(*t, State::closed);
    release(*t);
    return 0;
}

// RFC 9293 §3.10.4 CLOSE in LISTEN: the listener's TCB is deleted, and
// with it the connections it still owns, none of which any application
// holds. Those that completed the handshake are reset (§3.10.5 ABORT: the
// peer believes it is connected; as Linux's inet_csk_listen_stop). The
// embryonic ones (SYN-RECEIVED) are dropped without a word, as Linux and
// FreeBSD do: the peer's next segment finds no connection and is answered
// as at a closed port (§3.10.7.1), so an RST here would only add packets.
void Engine::close_listener(Tcb& lt) {
    Listener& l = listeners_.at(lt.accept_next);
    const FourTuple key = lt.tuple;
    while (l.accept_head != kNoIndex) {
        Tcb& c = tcbs_.at(l.accept_head);
        l.accept_head = c.accept_next;
        c.listener = kNoIndex;
        c.accept_next = kNoIndex;
        send_rst(c, now_);
        if (c.state == State::established || c.state == State::close_wait) {
            counters_.inc(Mib::estab_resets);
        }
        set_state(c, State::closed);
        release(c);
    }
    l.accept_count = 0;
    l.accept_tail = kNoIndex;
    // Embryonic ones are found through their listener index.
    const std::uint32_t li = lt.accept_next;
    tcbs_.for_each([&](PoolHandle, Tcb& c) {
        if (c.listener == li && c.state == State::syn_received) {
            c.listener = kNoIndex;
            counters_.inc(Mib::attempt_fails);  // RFC 4022: SYN-RECEIVED -> CLOSED
            counters_.inc(Mib::listen_close_dropped);
            set_state(c, State::closed);
            release(c);
        }
    });
    (void)listen_table_.erase(key.local_ip, key.local_port);
    (void)listeners_.release(listeners_.handle_of(li));
    lt.accept_next = kNoIndex;
    make_orphan(lt);
    set_state(lt, State::closed);
    release(lt);
}

namespace {
// What the SYN offers: SACK-permitted, Timestamps, Window Scale (0 or 1).
int set_syn_offer(Tcb& t, SockOpt opt, std::int64_t value) {
    if (value != 0 && value != 1) return -EINVAL;
    const bool on = value == 1;
    switch (opt) {
        case SockOpt::sack: t.sack_offer = on; break;
        case SockOpt::timestamps: t.ts_offer = on; break;
        default: t.ws_offer = on; break;  // SockOpt::window_scale
    }
    return 0;
}
}  // namespace

int Engine::set_option(ConnId id, SockOpt opt, std::int64_t value) {
    int err = 0;
    Tcb* t = app_tcb(id, err);
    if (t == nullptr) return err;
    switch (opt) {
        case SockOpt::nodelay:
            t->nodelay = value != 0;
            if (t->nodelay && is_synchronized(t->state)) output_data(*t, now_);
            return 0;
        case SockOpt::keepalive:
        case SockOpt::keepalive_idle:
        case SockOpt::keepalive_interval:
        case SockOpt::keepalive_count:
            return set_keepalive_option(*t, opt, value);
        case SockOpt::linger:
            if (value < -1 || value > 65535) return -EINVAL;
            t->linger_on = value >= 0;
            t->linger_s = static_cast<std::uint16_t>(value < 0 ? 0 : value);
            return 0;
        case SockOpt::send_buffer:
        case SockOpt::recv_buffer: {
            if (value <= 0) return -EINVAL;
            const auto v = static_cast<std::uint32_t>(
                std::min<std::int64_t>(value, config_.buffer_size));
            (opt == SockOpt::send_buffer ? t->snd_limit : t->rcv_limit) = v;
            return 0;
        }
        case SockOpt::congestion:
            if (value != 0 && value != 1) return -EINVAL;
            t->cc = value == 0 ? CongestionControl::newreno : CongestionControl::cubic;
            return 0;
        case SockOpt::max_segment: return set_max_segment(*t, value);
        case SockOpt::user_timeout: return set_user_timeout(*t, value);
        case SockOpt::ttl:
        case SockOpt::tos: return set_ip_option(*t, opt, value);
        case SockOpt::sack:
        case SockOpt::timestamps:
        case SockOpt::window_scale: return set_syn_offer(*t, opt, value);
    }
    return -ENOPROTOOPT;
}

// SO_KEEPALIVE and the TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT timings.
int Engine::set_keepalive_option(Tcb& t, SockOpt opt, std::int64_t value) {
    switch (opt) {
        case SockOpt::keepalive:
            t.keepalive = value != 0;
            t.keepalive_deadline =
                t.keepalive ? deadline(now_, Duration::seconds(t.ka_idle_s)) : kNoDeadline;
            t.keepalive_probes = 0;
            rearm(t);
            return 0;
        case SockOpt::keepalive_count:
            if (value < 1 || value > 127) return -EINVAL;  // Linux's MAX_TCP_KEEPCNT
            t.ka_cnt = static_cast<std::uint8_t>(value);
            return 0;
        default:  // SockOpt::keepalive_idle, SockOpt::keepalive_interval
            if (value < 1 || value > 32767) return -EINVAL;  // Linux's MAX_TCP_KEEPIDLE/INTVL
            (opt == SockOpt::keepalive_idle ? t.ka_idle_s : t.ka_intvl_s) = static_cast<std::uint16_t>(value);
            if (t.keepalive && opt == SockOpt::keepalive_idle) {
                t.keepalive_deadline = deadline(now_, Duration::seconds(value));
                rearm(t);
            }
            return 0;
    }
}

// TCP_MAXSEG: the MSS we advertise (until the handshake) and the one we use.
int Engine::set_max_segment(Tcb& t, std::int64_t value) {
    if (value < 88 || value > 65495) return -EINVAL;  // Linux's TCP_MAXSEG bounds
    if (t.state == State::closed || t.state == State::listen) {
        t.rcv_mss = static_cast<std::uint16_t>(
            std::min<std::int64_t>(value, config_.mtu - 40));
    }
    t.snd_mss = static_cast<std::uint16_t>(std::min<std::int64_t>(t.snd_mss, value));
    plpmtud_clamp(t, mtu_for_mss(t), true);
    return 0;
}

int Engine::set_user_timeout(Tcb& t, std::int64_t value) {
    // RFC 5482 / RFC 9293 §3.8.3: milliseconds, as Linux (0 restores R2
    // and the keepalive count; negative is EINVAL, as on Linux).
    if (value < 0 || value > INT32_MAX) return -EINVAL;
    UserTimeout& ut = user_timeouts_[index_of(t)];
    ut.ms = static_cast<std::uint32_t>(value);
    t.user_timeout_on = value != 0;
    // A wait already under way is measured from now.
    ut.stall_since = static_cast<std::uint32_t>(tick(now_));
    return 0;
}

// IP_TTL and IP_TOS of the connection's datagrams.
int Engine::set_ip_option(Tcb& t, SockOpt opt, std::int64_t value) const {
    if (opt == SockOpt::ttl) {
        // MUST-49: the TTL is the application's to set (Linux: 1..255, -1 default).
        if (value == -1) value = config_.ttl;
        if (value < 1 || value > 255) return -EINVAL;
        t.ttl = static_cast<std::uint8_t>(value);
        return 0;
    }
    // MUST-48 / RFC 2474: the DSCP is the application's; RFC 3168
    // gives the ECN field to TCP, so those two bits are not taken.
    if (value < 0 || value > 255) return -EINVAL;
    t.tos = static_cast<std::uint8_t>(value & 0xfc);
    return 0;
}

int Engine::get_option(ConnId id, SockOpt opt, std::int64_t& value) const {
    const Tcb* t = tcb(id);
    if (t == nullptr || t->orphan) return -EBADF;
    switch (opt) {
        case SockOpt::nodelay: value = t->nodelay; return 0;
        case SockOpt::keepalive: value = t->keepalive; return 0;
        case SockOpt::linger: value = t->linger_on ? t->linger_s : -1; return 0;
        case SockOpt::send_buffer: value = t->snd_limit; return 0;
        case SockOpt::recv_buffer: value = t->rcv_limit; return 0;
        case SockOpt::congestion: value = t->cc == CongestionControl::cubic; return 0;
        case SockOpt::keepalive_idle: value = t->ka_idle_s; return 0;
        case SockOpt::keepalive_interval: value = t->ka_intvl_s; return 0;
        case SockOpt::keepalive_count: value = t->ka_cnt; return 0;
        case SockOpt::user_timeout: value = user_timeouts_[t->timer.owner].ms; return 0;
        case SockOpt::max_segment:
            value = is_synchronized(t->state) ? t->snd_mss : t->rcv_mss;
            return 0;
        case SockOpt::ttl: value = t->ttl; return 0;
        case SockOpt::tos: value = t->tos; return 0;
        case SockOpt::sack: value = t->sack_offer; return 0;
        case SockOpt::timestamps: value = t->ts_offer; return 0;
        case SockOpt::window_scale: value = t->ws_offer; return 0;
    }
    return -ENOPROTOOPT;
}

int Engine::take_error(ConnId id) {
    Tcb* t = tcbs_.get(id);
    if (t == nullptr) return EBADF;
    const int e = t->so_error;
    t->so_error = 0;
    return e;
}

int Engine::info(ConnId id, ConnInfo& out) const {
    const Tcb* t = tcb(id);
    if (t == nullptr) return -EBADF;
    out.state = t->state;
    out.tuple = t->tuple;
    out.recv_q = t->rcv_buf.len;
    out.send_q = t->snd_buf.len;
    out.send_space = t->snd_limit > t->snd_buf.len ? t->snd_limit - t->snd_buf.len : 0;
    out.recv_mem = t->rcv_buf.chunks(buffers_) * buffers_.chunk_size();
    out.send_mem = t->snd_buf.chunks(buffers_) * buffers_.chunk_size();
    out.accept_q = t->state == State::listen ? listeners_.at(t->accept_next).accept_count : 0;
    out.error = t->so_error;
    out.soft_error = t->soft_error;
    out.peer_closed = t->peer_fin || t->shut_rd;
    out.orphan = t->orphan;
    out.ts_ok = t->ts_ok;
    out.sack_ok = t->sack_ok;
    out.ws_ok = t->ws_ok;
    out.ecn_ok = t->ecn_ok;
    out.urgent_left = urgent_left(*t);
    out.snd_wscale = t->snd_wscale;
    out.rcv_wscale = t->rcv_wscale;
    out.snd_mss = t->snd_mss;
    out.rcv_mss = t->rcv_mss;
    out.pmtu = mtu_for_mss(*t);
    out.probe_low = out.probe_high = 0;
    if (t->plpmtud) {
        const PlpmtudState& p = plpmtud_[index_of(*t)];
        if (p.search_high >= p.search_low + plpmtud::kProbeThreshold) {
            out.probe_low = p.search_low;
            out.probe_high = p.search_high;
        }
    }
    out.snd_wnd = t->snd_wnd;
    out.rcv_wnd = t->rcv_adv > t->rcv_nxt ? static_cast<std::uint32_t>(t->rcv_adv - t->rcv_nxt) : 0;
    out.in_flight = static_cast<std::uint32_t>(t->snd_max - t->snd_una);
    out.cwnd = t->cwnd;
    out.ssthresh = t->ssthresh;
    out.srtt_us = t->srtt_us;
    out.rttvar_us = t->rttvar_us;
    out.rto_ms = t->rto_ms;
    out.backoff = t->backoff;
    out.retries = t->retries;
    TickMs due = kNoDeadline;
    out.timer = earliest_timer(*t, loss_deadline(*t), loss_timer_kind(*t), due);
    out.timer_left_ms = out.timer == TimerKind::none ? -1 : left_ms(due, tick(now_));
    return 0;
}

TimeWaitInfo Engine::time_wait_info(const TimeWaitRecord& tw) const {
    TimeWaitInfo i;
    i.tuple = tw.tuple;
    i.ts_ok = tw.ts_ok;
    i.window = tw.window;
    const Duration left = wheel_.tick_instant(tw.timer.expires) - now_;
    i.left_ms = std::max<std::int64_t>(0, (left.as_micros() + 999) / 1000);
    return i;
}

namespace {

// The shared cursor walk: visits live slots of `pool` from `cursor`, at most
// `max_scan` of them looked at, until `out` is full.
template <class T, class Out, class Fill>
ListPage list_pool(const Pool<T>& pool, std::uint32_t cursor, std::span<Out> out,
                   std::uint32_t max_scan, Fill&& fill) {
    ListPage page;
    const auto cap = static_cast<std::uint32_t>(pool.capacity());
    std::uint32_t i = std::min(cursor, cap);
    const std::uint32_t stop = cap - i > max_scan ? i + max_scan : cap;
    for (; i < stop && page.count < out.size(); ++i) {
        if (pool.is_live(i)) out[page.count++] = fill(i);
    }
    page.next = i;
    page.done = i == cap;
    return page;
}

}  // namespace

ListPage Engine::list_connections(std::uint32_t cursor, std::span<ConnId> out,
                                  std::uint32_t max_scan) const {
    return list_pool(tcbs_, cursor, out, max_scan,
                     [&](std::uint32_t i) { return tcbs_.handle_of(i); });
}

ListPage Engine::list_time_waits(std::uint32_t cursor, std::span<TimeWaitInfo> out,
                                 std::uint32_t max_scan) const {
    return list_pool(time_waits_, cursor, out, max_scan,
                     [&](std::uint32_t i) { return time_wait_info(time_waits_.at(i)); });
}

bool Engine::in_time_wait(const FourTuple& tuple) const {
    const auto v = table_.find(tuple);
    return v && (*v & kTimeWaitBit) != 0;
}

const char* to_string(TimerKind k) { return kTimerKindNames[static_cast<std::size_t>(k)]; }

TimerKind Engine::loss_timer_kind(const Tcb& t) const {
    if (t.loss == kNoIndex) return TimerKind::none;
    return losses_.at(t.loss).timer == LossTimer::probe ? TimerKind::tail_probe : TimerKind::reorder;
}

TimerSummary Engine::timer_summary() const {
    TimerSummary s;
    for (auto& n : s.next_ms) n = -1;
    const TickMs nowt = tick(now_);
    auto note_left = [&](TimerKind k, std::int64_t left) {
        const auto i = static_cast<std::size_t>(k);
        ++s.count[i];
        if (s.next_ms[i] < 0 || left < s.next_ms[i]) s.next_ms[i] = left;
    };
    auto note = [&](TimerKind k, TickMs due) { note_left(k, left_ms(due, nowt)); };
    tcbs_.for_each([&](PoolHandle, const Tcb& t) {
        if (t.rtx_deadline != kNoDeadline) note(rtx_kind(t), t.rtx_deadline);
        if (t.delack_deadline != kNoDeadline) note(TimerKind::delayed_ack, t.delack_deadline);
        if (t.keepalive_deadline != kNoDeadline) note(TimerKind::keepalive, t.keepalive_deadline);
        if (t.conn_deadline != kNoDeadline) note(conn_kind(t), t.conn_deadline);
        if (loss_deadline(t) != kNoDeadline) note(loss_timer_kind(t), loss_deadline(t));
    });
    for_each_time_wait_info([&](const TimeWaitInfo& tw) { note_left(TimerKind::time_wait, tw.left_ms); });
    s.wheel_entries = wheel_.armed_count();
    const Instant next = wheel_.next_deadline();
    s.wheel_next_ms = next == Instant::max() ? -1
                      : next <= now_         ? 0
                                             : (next - now_).as_micros() / 1000;
    s.carried_over = wheel_.carried_over();
    return s;
}

}  // namespace tcpfp::tcp
