// Fuzz target "engine", structure-aware: the input is a configuration byte
// string followed by a sequence of actions on two engines A and B joined by
// a controllable link (deliver / drop / hold per direction). Actions put
// connections into chosen states, inject segments with fuzzed fields
// relative to a connection's sequence space, call the socket API and move
// the clock. After every action both engines' invariants are checked; at the
// end every socket is aborted, the clock runs past every timeout and both
// engines must be empty.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <span>
#include <vector>

#include "common.hpp"
#include "craft.hpp"
#include "fuzz_net.hpp"
#include "input_arena.hpp"
#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace {

using namespace tcpfp;
using namespace tcpfp::tcp;
using tcpfp::fuzz::ByteReader;
using tcpfp::fuzz::FuzzNet;
using tcpfp::fuzz::LinkMode;
namespace flag = wire::tcp_flag;

// Input layout (see README.md):
//   byte 0: config bits  (timestamps A/B, SACK A/B, newreno, ISN near 2^32,
//           small buffers, rst_on_table_full)
//   byte 1: wscale A (mod 15), byte 2: wscale B (mod 15), byte 3: MTU choice
//           (mod 6) and mtu_probing (/ 6 mod 3: off, blackhole, on)
//   then actions: one opcode byte (mod kOpCount) and its operands.
enum Op : std::uint8_t {
    op_pair,       // kind(1): build a connection pair in a chosen state
    op_listen,     // side(1) port(1)
    op_connect,    // side(1) port(1)
    op_accept,     // sock(1)
    op_send,       // sock(1) len(2)
    op_recv,       // sock(1) len(2)
    op_shutdown,   // sock(1) how(1)
    op_close,      // sock(1)
    op_abort,      // sock(1)
    op_setopt,     // sock(1) opt(1) value(...)
    op_tick,       // ms(1)
    op_sleep,      // seconds(2)
    op_link,       // dir(1) mode(1)
    op_release,    // dir(1) reversed(1)
    op_inject,     // conn(1) segment fields...
    op_inject_tw,  // record(1) segment fields...
    op_inject_raw, // side(1) len(1) bytes
    op_runtime,    // which(1) value(1): set_msl / set_fin_wait_2_timeout
    kOpCount
};

constexpr std::uint16_t kPortBase = 5000;
constexpr std::uint32_t kMaxConnections = 12;  // per engine
constexpr std::uint32_t kMaxTimeWait = 6;
constexpr std::size_t kMaxSocks = 64;
// Segments an input's actions may make the engines emit; past it the
// remaining actions are skipped and finish() runs as always (abort, drain,
// invariants, leak checks), without a cap. Most inputs stay far below it
// (the median of a grown corpus emits ~80 segments), but 4 % emitted more,
// up to 32k: bulk data at the 128-byte MTU (a 32 KB buffer is ~430 data
// segments and their ACKs, per send) or a send window stuck at 2 bytes,
// refilled every 240 ms for an hour of virtual time. They made half of all
// segments, repeating edges libFuzzer had counted (it buckets hits only up
// to 128); the cap removes 38 % (tests/fuzz/README.md, Speed).
constexpr std::uint64_t kSegmentBudget = 2048;

// The bytes the actions send, read-only and built at compile time: a vector
// of up to 70 KB per send (filled, and under ASan mapped and poisoned) cost
// more than the engine's work on it.
template <std::uint8_t kByte, std::size_t kSize>
constexpr std::array<std::uint8_t, kSize> filled() {
    std::array<std::uint8_t, kSize> a{};
    a.fill(kByte);
    return a;
}
constexpr std::size_t kMaxPairData = 255 * 16;  // build_pair: a byte times 16
constexpr std::size_t kMaxSend = 70000;         // op_send: a u16 mod 70000
constexpr std::size_t kMaxRecv = 65535;         // op_recv: a u16
constexpr auto kPairData = filled<0x5a, kMaxPairData>();
constexpr auto kSendData = filled<0xa5, kMaxSend>();

constexpr std::uint32_t kBufferBytes = 768 * 1024;  // as the twelve 64 KiB buffers the chunks replaced

EngineConfig make_config(bool side_b, std::uint8_t bits, std::uint8_t wscale, std::uint8_t mtu_choice) {
    EngineConfig c;
    c.max_connections = kMaxConnections;
    c.max_time_wait = kMaxTimeWait;
    c.max_listeners = 4;
    c.max_loss_states = 4;
    // Graceful overload within reach: pressure from 11 control blocks (90 %
    // of 12, the default share), and orphans past 6 reset.
    c.max_orphans = 6;
    // Small queues, from when the engines were built per input (512
    // segments value-initialised twice per input were 6 % of a run); kept,
    // so that the corpus means what it meant. A burst past 128 segments (a
    // 64 KB window at the 128-byte MTU) is dropped and counted, as in
    // production, and recovered by retransmission.
    c.output_queue = 128;
    c.event_queue = 64;
    c.default_backlog = 4;
    // Engine::reset() re-derives every RFC 6056 counter (a SipHash each) per
    // input: the default 4096 per engine were a third of a run.
    c.ephemeral_port_table = 16;
    c.pmtu_cache_entries = 8;  // fragmentation-needed errors (inject_icmp) fill it
    c.timestamps = (bits & (side_b ? 2 : 1)) != 0;
    c.sack = (bits & (side_b ? 8 : 4)) != 0;
    c.congestion = (bits & 16) != 0 ? CongestionControl::newreno : CongestionControl::cubic;
    if ((bits & 32) != 0) c.isn_override = 0xffffff00u - (side_b ? 0x1000u : 0u);
    if ((bits & 64) != 0) {
        c.buffer_size = 4096;
        c.send_buffer = c.recv_buffer = 4096;
    } else {
        c.buffer_size = 64 * 1024;
        c.send_buffer = c.recv_buffer = 32 * 1024;
    }
    c.rst_on_table_full = (bits & 128) != 0;
    c.wscale = static_cast<std::uint8_t>(wscale % 15);
    static constexpr std::uint16_t kMtus[] = {1500, 576, 296, 9000, 1280, 128};
    c.mtu = kMtus[mtu_choice % 6];
    // RFC 4821 (off, blackhole, on) from the same byte's upper range, so that
    // inputs written before it (mtu_choice < 6) still run with it off.
    static constexpr MtuProbing kProbing[] = {MtuProbing::off, MtuProbing::blackhole, MtuProbing::on};
    c.mtu_probing = kProbing[(mtu_choice / 6) % 3];
    // The chunk size from the quotient after that (0 below 18: 2048 bytes,
    // as before the choice). Small chunks put segments across many pieces.
    c.chunk_size = fuzz::chunk_size_for(mtu_choice / 18, c.mtu);
    c.chunk_count = kBufferBytes / c.chunk_size;
    c.seed = 0x1234u + (side_b ? 1u : 0u);
    return c;
}

struct Sock {
    int side = 0;
    ConnId id;
};

class World {
public:
    // `net` has been reset for this input; `mr` is the input's arena.
    World(FuzzNet& net, std::pmr::memory_resource* mr)
        : net_(net),
          recv_space_(static_cast<std::uint8_t*>(mr->allocate(kMaxRecv, 1)), kMaxRecv),
          socks_(mr) {
        socks_.reserve(kMaxSocks);
    }

    void run(ByteReader& in) {
        net_.set_segment_budget(kSegmentBudget);
        int actions = 0;
        while (!in.empty() && actions++ < 256 && !net_.over_budget()) {
            act(in);
            check();
        }
        net_.set_segment_budget(0);
        finish();
    }

private:
    Engine& eng(int side) { return net_.engine(side); }
    static wire::Ipv4Addr addr(int side) { return side == 0 ? fuzz::kAddrA : fuzz::kAddrB; }

    void track(int side, ConnId id) {
        if (socks_.size() < kMaxSocks) socks_.push_back({side, id});
    }
    Sock* pick(ByteReader& in) {
        if (socks_.empty()) return nullptr;
        return &socks_[in.below(static_cast<std::uint32_t>(socks_.size()))];
    }

    void check() {
        for (int s = 0; s < 2; ++s) {
            const char* who = s == 0 ? "engine A" : "engine B";
            fuzz::check_invariants(eng(s), who);
            const bool snd_shrunk = snd_shrunk_[s], rcv_shrunk = rcv_shrunk_[s];
            eng(s).for_each_connection([&](ConnId id, const Tcb& t) {
                FUZZ_CHECK(snd_shrunk || t.snd_buf.len <= t.snd_limit,
                           "%s conn %u state %s: snd_buf.len %u > snd_limit %u", who, id.index,
                           to_string(t.state), t.snd_buf.len, t.snd_limit);
                // A window is never withdrawn (SHLD-14) and is advertised in
                // units of 2^rcv_wscale, so the buffer may exceed SO_RCVBUF
                // by less than one unit.
                FUZZ_CHECK(rcv_shrunk || t.rcv_buf.len < t.rcv_limit + (1u << t.rcv_wscale),
                           "%s conn %u state %s: rcv_buf.len %u > rcv_limit %u + one window unit", who,
                           id.index, to_string(t.state), t.rcv_buf.len, t.rcv_limit);
            });
        }
    }

    void settle_ms(std::int64_t ms) { net_.run_for(Duration::millis(ms)); }

    // Accepts whatever a listener has ready.
    void accept_all(int side, ConnId listener) {
        ConnId c;
        while (eng(side).accept(listener, c) == 0) track(side, c);
    }

    // Builds a pair in one of the states (kinds listed below); `act` is the
    // active opener's side. Link modes are left as the state needs them.
    void build_pair(ByteReader& in) {
        const std::uint8_t kind = static_cast<std::uint8_t>(in.u8() % 10);
        const int act = in.boolean() ? 1 : 0;
        const int pas = 1 - act;
        const std::uint16_t port = static_cast<std::uint16_t>(kPortBase + next_port_++ % 32);
        net_.set_mode(0, LinkMode::deliver);
        net_.set_mode(1, LinkMode::deliver);
        ConnId l, c;
        if (eng(pas).listen(addr(pas), port, 0, l) == 0) track(pas, l);
        if (kind == 0) return;  // LISTEN
        if (kind == 1) {        // SYN_SENT: the SYN never arrives
            net_.set_mode(act, LinkMode::drop);
        } else if (kind == 2) {  // SYN_RECEIVED: the SYN-ACK never arrives
            net_.set_mode(pas, LinkMode::drop);
        }
        if (eng(act).connect({addr(pas), port, addr(act), 0, {}}, net_.now(), c) != 0) return;
        track(act, c);
        settle_ms(1);
        if (kind <= 2) return;
        settle_ms(5);
        accept_all(pas, l);
        if (eng(act).tcb(c) == nullptr) return;
        const std::uint16_t act_port = eng(act).tcb(c)->tuple.local_port;
        ConnId p;
        bool have_p = false;
        for (auto it = socks_.rbegin(); it != socks_.rend(); ++it) {
            const Tcb* t = eng(it->side).tcb(it->id);
            if (it->side == pas && t != nullptr && t->tuple.remote_port != 0 &&
                t->tuple.local_port == port && t->tuple.remote_port == act_port) {
                p = it->id;
                have_p = true;
                break;
            }
        }
        const std::uint16_t data = static_cast<std::uint16_t>(in.u8() * 16u);
        if (data > 0) {
            const auto buf = std::span(kPairData).first(data);
            (void)eng(act).send(c, buf, net_.now());
            if (have_p) (void)eng(pas).send(p, buf, net_.now());
            settle_ms(50);
        }
        switch (kind) {
            case 3:  // ESTABLISHED
                return;
            case 4:  // FIN_WAIT_1 (the FIN is lost)
                net_.set_mode(act, LinkMode::drop);
                (void)eng(act).shutdown(c, Shutdown::wr, net_.now());
                settle_ms(1);
                return;
            case 5:  // FIN_WAIT_2 / CLOSE_WAIT
                (void)eng(act).shutdown(c, Shutdown::wr, net_.now());
                settle_ms(50);
                return;
            case 6:  // CLOSING: both FINs cross, the ACKs of them are lost
                net_.set_mode(0, LinkMode::hold);
                net_.set_mode(1, LinkMode::hold);
                (void)eng(act).shutdown(c, Shutdown::wr, net_.now());
                if (have_p) (void)eng(pas).shutdown(p, Shutdown::wr, net_.now());
                net_.release(0, false);
                net_.release(1, false);
                net_.set_mode(0, LinkMode::drop);
                net_.set_mode(1, LinkMode::drop);
                settle_ms(1);
                return;
            case 7:  // LAST_ACK (the passive side's FIN is not acknowledged)
                (void)eng(act).shutdown(c, Shutdown::wr, net_.now());
                settle_ms(50);
                net_.set_mode(act, LinkMode::drop);
                if (have_p) (void)eng(pas).shutdown(p, Shutdown::wr, net_.now());
                settle_ms(1);
                return;
            case 8:  // TIME_WAIT on the active side
                (void)eng(act).shutdown(c, Shutdown::wr, net_.now());
                settle_ms(50);
                if (have_p) (void)eng(pas).close(p, net_.now());
                settle_ms(50);
                return;
            default:  // 9: orphaned FIN_WAIT_2 (closed by the application)
                (void)eng(act).close(c, net_.now());
                settle_ms(50);
                return;
        }
    }

    std::uint32_t rel(std::uint32_t base, ByteReader& in, bool wide) {
        const auto d = wide ? static_cast<std::int16_t>(in.u16()) : static_cast<std::int8_t>(in.u8());
        return base + static_cast<std::uint32_t>(static_cast<std::int32_t>(d));
    }

    // Reads a segment's fields relative to `t` (the receiver's control block)
    // and injects it into engine `side`.
    void inject_for(ByteReader& in, int side, const FourTuple& tuple, std::uint32_t rcv_nxt,
                    std::uint32_t rcv_adv, std::uint32_t irs, std::uint32_t snd_una,
                    std::uint32_t snd_nxt, std::uint32_t snd_max, std::uint32_t iss,
                    std::uint32_t ts_recent, std::uint32_t ts_offset) {
        RawSegment_ s{};
        s.src = tuple.remote_ip;
        s.sport = tuple.remote_port;
        if (s.src.is_unspecified()) {  // a listener: any remote
            s.src = in.boolean() ? addr(1 - side)
                                 : wire::Ipv4Addr::from_octets(10, 77, 1, in.u8());
            s.sport = static_cast<std::uint16_t>(40000 + in.u8() % 8);
        }
        s.dst = tuple.local_ip.is_unspecified() ? addr(side) : tuple.local_ip;
        s.dport = tuple.local_port;
        switch (in.u8() % 7) {
            case 0: s.seq = rel(rcv_nxt, in, false); break;
            case 1: s.seq = rel(rcv_nxt, in, true); break;
            case 2: s.seq = rel(rcv_adv, in, false); break;
            case 3: s.seq = rel(irs, in, false); break;
            case 4: s.seq = in.u32(); break;
            case 5: s.seq = rcv_nxt - 1; break;
            default: s.seq = rcv_nxt; break;
        }
        switch (in.u8() % 8) {
            case 0: s.ack = rel(snd_una, in, false); break;
            case 1: s.ack = rel(snd_nxt, in, false); break;
            case 2: s.ack = rel(snd_max, in, true); break;
            case 3: s.ack = rel(snd_una, in, true); break;
            case 4: s.ack = in.u32(); break;
            case 5: s.ack = rel(iss, in, false); break;
            case 6: s.ack = snd_una; break;
            default: s.ack = snd_max; break;
        }
        static constexpr std::uint8_t kFlags[] = {
            flag::ack, flag::ack | flag::psh, flag::fin | flag::ack, flag::rst, flag::rst | flag::ack,
            flag::syn, flag::syn | flag::ack, flag::ack | flag::urg, 0, flag::fin,
            flag::syn | flag::fin, flag::fin | flag::ack | flag::psh, flag::ack | flag::ece | flag::cwr,
            flag::syn | flag::rst, flag::ack, flag::ack};
        const std::uint8_t fb = in.u8();
        s.flags = fb < 32 ? in.u8() : kFlags[fb % 16];
        static constexpr std::uint16_t kWindows[] = {65535, 0, 1, 512, 8192, 29200, 65535, 2};
        const std::uint8_t wb = in.u8();
        s.window = wb < 32 ? in.u16() : kWindows[wb % 8];
        s.urgent = (s.flags & flag::urg) != 0 ? in.u16() : 0;

        // Options: structured (mostly) or raw bytes.
        wire::TcpOptionWriter w;
        const std::uint8_t ob = in.u8();
        std::array<std::uint8_t, 40> raw_opts{};
        std::span<const std::uint8_t> opts;
        if ((ob & 0xc0) == 0xc0) {
            auto raw = in.bytes(in.u8() % 41);
            std::copy(raw.begin(), raw.end(), raw_opts.begin());
            opts = std::span<const std::uint8_t>(raw_opts.data(), (raw.size() + 3) / 4 * 4);
        } else {
            if ((ob & 1) != 0) w.mss(static_cast<std::uint16_t>(in.boolean() ? in.u16() : 1460));
            if ((ob & 2) != 0) w.nop().wscale(static_cast<std::uint8_t>(in.u8() % 16));
            if ((ob & 4) != 0) w.nop().nop().sack_permitted();
            if ((ob & 8) != 0) {
                const std::uint32_t tsval = in.boolean() ? rel(ts_recent, in, true) : in.u32();
                const std::uint32_t tsecr =
                    in.boolean() ? eng(side).ts_now(ts_offset) - in.u8() : in.u32();
                w.nop().nop().timestamps(tsval, tsecr);
            }
            if ((ob & 16) != 0) {
                std::array<wire::SackBlock, 4> blocks{};
                const std::size_t n = 1 + in.u8() % 3;
                for (std::size_t i = 0; i < n; ++i) {
                    const std::uint32_t left = snd_una + in.u16();
                    blocks[i] = {wire::SeqNum(left), wire::SeqNum(left + in.u16() % 4096)};
                }
                w.nop().nop().sack(std::span<const wire::SackBlock>(blocks.data(), n));
            }
            auto f = w.finish();
            if (f.ok()) opts = *f;
        }
        const std::uint8_t pb = in.u8();
        std::size_t plen = 0;
        if (pb >= 128) plen = pb < 192 ? (pb - 128u) : in.u16() % kMaxPayload;
        std::array<std::uint8_t, kMaxPayload> payload;
        std::fill_n(payload.begin(), plen, pb);
        s.options = opts;
        s.payload = std::span(payload).first(plen);
        std::array<std::uint8_t, wire::kIpv4MinHeaderLen + 60 + kMaxPayload> space;
        const std::size_t len = fuzz::build_packet(s, space);
        if (len == 0) return;
        const auto packet = std::span(space).first(len);
        RxOffload rx;
        const std::uint8_t corrupt = in.u8();
        if (corrupt >= 240) {  // a corrupted byte the NIC "verified"
            packet[in.u16() % packet.size()] ^= static_cast<std::uint8_t>(1 + in.u8() % 255);
            rx.ip_checksum_ok = rx.l4_checksum_ok = true;
        } else if (corrupt >= 224) {  // corrupted, checksums checked in software
            packet[in.u16() % packet.size()] ^= static_cast<std::uint8_t>(1 + in.u8() % 255);
        } else if (corrupt >= 200) {  // instead: an ICMP error about this connection
            inject_icmp(side, tuple, s);
            return;
        } else if (corrupt >= 176) {  // an ECN codepoint on the IPv4 header (RFC 3168 §5)
            const std::uint16_t old_word = wire::load_be16(&packet[0]);
            packet[1] = static_cast<std::uint8_t>((packet[1] & ~wire::ecn::mask) | (corrupt & wire::ecn::mask));
            wire::store_be16(&packet[10], wire::checksum::update16(wire::load_be16(&packet[10]), old_word,
                                                                   wire::load_be16(&packet[0])));
        }
        net_.inject(side, packet, rx);
    }

    // An ICMP error (RFC 9293 §3.9.2.2, RFC 5927) quoting a segment that
    // engine `side` could have sent on `tuple`: its own address and port,
    // and the fields the segment reader chose, reused: the ACK (drawn near
    // SND.UNA, SND.NXT or SND.MAX) as the quoted sequence number, the flags
    // as type and code, the window as the next-hop MTU, the payload length
    // as the quoted datagram's. It comes from the peer or from a router.
    void inject_icmp(int side, const FourTuple& tuple, const fuzz::RawSegment& s) {
        static constexpr std::uint8_t kTypes[] = {3, 3, 3, 3, 11, 12, 4, 5};  // unreachable, time exceeded, ...
        std::array<std::uint8_t, wire::kIpv4MinHeaderLen + 8> quoted{};
        wire::Ipv4Repr q;
        q.src = s.dst;
        q.dst = s.src;
        q.protocol = wire::ipproto::tcp;
        q.payload_len = static_cast<std::uint16_t>(20 + s.payload.size());
        if (!wire::emit_ipv4(q, quoted).ok()) return;
        std::uint8_t* t = quoted.data() + wire::kIpv4MinHeaderLen;
        wire::store_be16(t, tuple.local_port != 0 ? tuple.local_port : s.dport);
        wire::store_be16(t + 2, s.sport);
        wire::store_be32(t + 4, s.ack);
        std::array<std::uint8_t, wire::kIpv4MinHeaderLen + wire::kIcmpErrorHeaderLen + quoted.size()> out{};
        const auto n = wire::emit_icmp_error(kTypes[s.flags % 8], static_cast<std::uint8_t>((s.flags >> 3) % 16),
                                             s.window, quoted,
                                             std::span(out).subspan(wire::kIpv4MinHeaderLen));
        if (!n.ok()) return;
        wire::Ipv4Repr ip;
        ip.src = (s.flags & 0x80) != 0 ? wire::Ipv4Addr::from_octets(10, 77, 0, 1) : s.src;
        ip.dst = s.dst;
        ip.protocol = wire::ipproto::icmp;
        ip.payload_len = static_cast<std::uint16_t>(*n);
        if (!wire::emit_ipv4(ip, out).ok()) return;
        net_.inject_icmp(side, std::span(out).first(wire::kIpv4MinHeaderLen + *n));
    }

    using RawSegment_ = fuzz::RawSegment;
    static constexpr std::size_t kMaxPayload = 3000;

    void inject(ByteReader& in) {
        std::array<std::pair<int, ConnId>, 2 * kMaxConnections> all;
        std::uint32_t n = 0;
        for (int s = 0; s < 2; ++s) {
            eng(s).for_each_connection([&](ConnId id, const Tcb&) { all[n++] = {s, id}; });
        }
        if (n == 0) return;
        const auto [side, id] = all[in.below(n)];
        const Tcb t = *eng(side).tcb(id);  // a copy: injection may free it
        inject_for(in, side, t.tuple, t.rcv_nxt.raw(), t.rcv_adv.raw(), t.irs.raw(), t.snd_una.raw(),
                   t.snd_nxt.raw(), t.snd_max.raw(), t.iss.raw(), t.ts_recent, t.ts_offset);
    }

    void inject_tw(ByteReader& in) {
        std::array<std::pair<int, const TimeWaitRecord*>, 2 * kMaxTimeWait> all;
        std::uint32_t n = 0;
        for (int s = 0; s < 2; ++s) {
            eng(s).for_each_time_wait([&](const TimeWaitRecord& tw) { all[n++] = {s, &tw}; });
        }
        if (n == 0) return;
        const auto [side, record] = all[in.below(n)];
        const TimeWaitRecord tw = *record;  // a copy: injection may free it
        inject_for(in, side, tw.tuple, tw.rcv_nxt.raw(), tw.rcv_nxt.raw() + tw.window,
                   tw.rcv_nxt.raw() - 1, tw.snd_nxt.raw(), tw.snd_nxt.raw(), tw.snd_nxt.raw(),
                   tw.snd_nxt.raw() - 1, tw.ts_recent, tw.ts_offset);
    }

    void setopt(ByteReader& in) {
        Sock* s = pick(in);
        const auto opt = static_cast<SockOpt>(in.u8() % 10);
        static constexpr std::int64_t kValues[] = {0, 1, -1, 2, 88, 536, 1, 4096, 65535, 127, 32767, 0};
        const std::uint8_t vb = in.u8();
        const std::int64_t value = vb < 64 ? static_cast<std::int32_t>(in.u32()) : kValues[vb % 12];
        if (s == nullptr) return;
        if (opt == SockOpt::send_buffer || opt == SockOpt::recv_buffer) {
            const Tcb* t = eng(s->side).tcb(s->id);
            if (t != nullptr && value > 0) {
                const std::uint32_t cur = opt == SockOpt::send_buffer ? t->snd_limit : t->rcv_limit;
                if (static_cast<std::uint64_t>(value) < cur) {
                    (opt == SockOpt::send_buffer ? snd_shrunk_ : rcv_shrunk_)[s->side] = true;
                }
            }
        }
        (void)eng(s->side).set_option(s->id, opt, value);
        net_.flush();
    }

    void act(ByteReader& in) {
        const Instant now = net_.now();
        switch (static_cast<Op>(in.u8() % kOpCount)) {
            case op_pair:
                build_pair(in);
                break;
            case op_listen: {
                const int side = in.boolean() ? 1 : 0;
                const auto port = static_cast<std::uint16_t>(kPortBase + in.u8() % 32);
                ConnId l;
                if (eng(side).listen(in.boolean() ? wire::Ipv4Addr{} : addr(side), port,
                                     in.u8() % 4, l) == 0) {
                    track(side, l);
                }
                break;
            }
            case op_connect: {
                const int side = in.boolean() ? 1 : 0;
                const auto port = static_cast<std::uint16_t>(kPortBase + in.u8() % 32);
                const auto lport = static_cast<std::uint16_t>(in.boolean() ? 41000 + in.u8() % 4 : 0);
                ConnId c;
                if (eng(side).connect({addr(1 - side), port, {}, lport, {}}, now, c) == 0) {
                    track(side, c);
                }
                net_.flush();
                break;
            }
            case op_accept: {
                Sock* s = pick(in);
                if (s != nullptr) accept_all(s->side, s->id);
                break;
            }
            case op_send: {
                Sock* s = pick(in);
                const std::uint16_t len = in.u16();
                if (s == nullptr) break;
                (void)eng(s->side).send(s->id, std::span(kSendData).first(len % kMaxSend), now);
                net_.flush();
                break;
            }
            case op_recv: {
                Sock* s = pick(in);
                const std::uint16_t len = in.u16();
                if (s == nullptr) break;
                (void)eng(s->side).recv(s->id, recv_space_.first(len), now);
                net_.flush();
                break;
            }
            case op_shutdown: {
                Sock* s = pick(in);
                const auto how = static_cast<Shutdown>(in.u8() % 3);
                if (s != nullptr) (void)eng(s->side).shutdown(s->id, how, now);
                net_.flush();
                break;
            }
            case op_close: {
                Sock* s = pick(in);
                if (s != nullptr) (void)eng(s->side).close(s->id, now);
                net_.flush();
                break;
            }
            case op_abort: {
                Sock* s = pick(in);
                if (s != nullptr) (void)eng(s->side).abort(s->id, now);
                net_.flush();
                break;
            }
            case op_setopt:
                setopt(in);
                break;
            case op_tick:
                net_.run_for(Duration::micros(1 + in.u8() * 500));
                break;
            case op_sleep:
                net_.run_for(Duration::millis(1 + in.u16() % 4096 * 1000));
                break;
            case op_link: {
                const int dir = in.boolean() ? 1 : 0;
                net_.set_mode(dir, static_cast<LinkMode>(in.u8() % 3));
                break;
            }
            case op_release: {
                const int dir = in.boolean() ? 1 : 0;
                net_.release(dir, in.boolean());
                break;
            }
            case op_inject:
                inject(in);
                break;
            case op_inject_tw:
                inject_tw(in);
                break;
            case op_inject_raw: {
                const int side = in.boolean() ? 1 : 0;
                auto raw = in.bytes(in.u8());
                net_.inject(side, raw, {in.boolean(), in.boolean()});
                break;
            }
            case op_runtime: {
                const int side = in.boolean() ? 1 : 0;
                const std::uint8_t v = in.u8();
                if (in.boolean()) {
                    eng(side).set_msl(Duration::seconds(v % 61));
                } else {
                    eng(side).set_fin_wait_2_timeout(Duration::seconds(1 + v % 120));
                }
                break;
            }
            default:
                break;
        }
    }

    // Abort every socket, heal the link and run out every timer.
    void finish() {
        net_.set_mode(0, LinkMode::deliver);
        net_.set_mode(1, LinkMode::deliver);
        net_.release(0, false);
        net_.release(1, false);
        for (const Sock& s : socks_) (void)eng(s.side).abort(s.id, net_.now());
        // Sockets never tracked (accepted later, say) are still the app's: find them.
        for (int side = 0; side < 2; ++side) {
            std::array<ConnId, kMaxConnections> left;
            std::size_t n = 0;
            eng(side).for_each_connection([&](ConnId id, const Tcb& t) {
                if (t.accepted && !t.orphan) left[n++] = id;
            });
            for (std::size_t i = 0; i < n; ++i) (void)eng(side).abort(left[i], net_.now());
        }
        net_.flush();
        // The longest legitimate tail: an orphan retransmitting to R2
        // (~20 min at max_rto 120 s), then TIME_WAIT (2*MSL <= 120 s).
        const Instant limit = net_.now() + Duration::seconds(2 * 3600);
        while (net_.now() < limit) {
            net_.run_for(Duration::seconds(60));
            check();
            if (eng(0).connection_count() + eng(1).connection_count() +
                    eng(0).time_wait_count() + eng(1).time_wait_count() == 0 &&
                net_.in_flight() == 0) {
                break;
            }
        }
        fuzz::check_drained(eng(0), "engine A");
        fuzz::check_drained(eng(1), "engine B");
    }

    FuzzNet& net_;
    // op_recv's destination, from the input's arena: its bytes are never read.
    std::span<std::uint8_t> recv_space_;
    std::pmr::vector<Sock> socks_;
    std::uint32_t next_port_ = 0;
    bool snd_shrunk_[2] = {false, false};
    bool rcv_shrunk_[2] = {false, false};
};

// The FuzzNet the last input ran on (for last_input_digest()).
FuzzNet*& last_net() {
    static FuzzNet* net = nullptr;
    return net;
}

// The two engines and the link of every input of this process, reset per
// input. libFuzzer calls LLVMFuzzerTestOneInput with nothing but the input,
// so what is kept between inputs has to be static; FuzzNet::reset() leaves
// nothing of one input visible to the next. Capacities are those of every
// make_config(); the 4 KB buffers of config bit 64 are a reset to a smaller
// buffer_size. mtu_choice 12 is MTU 1500 with mtu_probing on, so that the
// engines hold RFC 4821 state for every connection (a reset cannot add it).
// One FuzzNet per chunk size (the pool's geometry is fixed at construction),
// built when an input first asks for it.
FuzzNet& process_net(std::uint32_t chunk_size) {
    static std::array<std::unique_ptr<FuzzNet>, fuzz::kChunkSizeSlots> nets;
    auto& net = nets.at(fuzz::chunk_size_slot(chunk_size));
    if (!net) {
        EngineConfig a = make_config(false, 0, 0, 12), b = make_config(true, 0, 0, 12);
        a.chunk_size = b.chunk_size = chunk_size;
        a.chunk_count = b.chunk_count = kBufferBytes / chunk_size;
        net = std::make_unique<FuzzNet>(a, b, std::pmr::new_delete_resource());
    }
    last_net() = net.get();
    return *net;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::ArenaScope arena;  // outlives the World
    ByteReader in(data, size);
    const std::uint8_t bits = in.u8();
    const std::uint8_t wa = in.u8(), wb = in.u8(), mtu = in.u8();
    const EngineConfig ca = make_config(false, bits, wa, mtu), cb = make_config(true, bits, wb, mtu);
    FuzzNet& net = process_net(ca.chunk_size);
    net.reset(ca, cb);
    World world(net, arena.resource());
    world.run(in);
    return 0;
}

std::uint64_t tcpfp::fuzz::last_input_digest() { return last_net() ? last_net()->digest() : 0; }
