// Fuzz target "two_engine": a bidirectional transfer between two engines
// while the input decides, packet by packet, whether the link drops,
// duplicates, delays (reorders) or corrupts a byte. Once the input is used
// up the link is perfect. The data must arrive byte-exact, or the
// connection must fail cleanly (reset or ETIMEDOUT); it must never stall
// without progress for longer than the retransmission give-up time, and
// both engines must be empty at the end.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <span>
#include <vector>

#include "common.hpp"
#include "fuzz_net.hpp"
#include "input_arena.hpp"

namespace {

using namespace tcpfp;
using namespace tcpfp::tcp;
using tcpfp::fuzz::ByteReader;
using tcpfp::fuzz::FuzzNet;

// Input layout (see README.md):
//   byte 0: config bits (timestamps A/B, SACK A/B, newreno, ISN near 2^32,
//           nodelay, small receive buffer); byte 1: transfer size and wscale
//   then one byte per packet on the link: 0-1 drop, 2 duplicate,
//   3 delay by (1 + next byte) * 100 us, 4 corrupt (next 3 bytes: offset, xor),
//   anything else passes.
constexpr std::uint16_t kPort = 5002;

std::uint8_t pattern(int dir, std::uint64_t i) {
    return static_cast<std::uint8_t>(i * 131u + (i >> 9) * 7u + static_cast<std::uint64_t>(dir) * 91u);
}

// pattern() repeats every 2^17 bytes (i * 131 every 2^8, (i >> 9) * 7 every
// 2^17). Each direction's stream is therefore one read-only table, one chunk
// longer than the period so that no send or check wraps: a per-byte loop
// (instrumented, with a traced compare per byte) cost more than the engines'
// work on the bytes.
constexpr std::size_t kPatternPeriod = std::size_t{1} << 17;
constexpr std::size_t kChunk = 16384;  // bytes per send() and recv() call

std::span<const std::uint8_t> stream_bytes(int dir, std::uint64_t offset, std::size_t n) {
    // Computed once, never written after: the only state shared between inputs here.
    static const std::array<std::vector<std::uint8_t>, 2> tables = [] {
        std::array<std::vector<std::uint8_t>, 2> t;
        for (int d = 0; d < 2; ++d) {
            t[d].resize(kPatternPeriod + kChunk);
            for (std::size_t i = 0; i < t[d].size(); ++i) t[d][i] = pattern(d, i);
        }
        return t;
    }();
    return std::span(tables[dir]).subspan(offset % kPatternPeriod, n);
}

EngineConfig make_config(std::uint8_t bits, std::uint8_t sizes, bool side_b) {
    EngineConfig c;
    // One connection pair: capacities for it and little more (the invariant
    // checks walk every slot after each step).
    c.max_connections = 4;
    c.max_time_wait = 4;
    c.max_listeners = 2;
    // 512 KiB, as the four 128 KiB buffers the chunks replaced; 256-byte
    // chunks for sizes from 180 up (inputs written before kept 2048).
    c.chunk_size = fuzz::chunk_size_for((sizes >> 2) / 45, c.mtu);
    c.chunk_count = 512 * 1024 / c.chunk_size;
    c.buffer_size = 128 * 1024;
    c.send_buffer = 64 * 1024;
    c.recv_buffer = (bits & 128) != 0 ? 8 * 1024 : 64 * 1024;
    c.max_loss_states = 4;
    // 128 segments hold the largest burst (a 64 KB window at MSS 1460).
    c.output_queue = 128;
    c.event_queue = 64;
    // Engine::reset() re-derives every RFC 6056 counter (a SipHash each) per
    // input; with the default 4096 that cost more than the transfer.
    c.ephemeral_port_table = 16;
    c.pmtu_cache_entries = 8;  // no ICMP here: the cache stays empty
    c.timestamps = (bits & (side_b ? 2 : 1)) != 0;
    c.sack = (bits & (side_b ? 8 : 4)) != 0;
    c.congestion = (bits & 16) != 0 ? CongestionControl::newreno : CongestionControl::cubic;
    if ((bits & 32) != 0) c.isn_override = 0xfffff000u + (side_b ? 0x800u : 0u);
    c.wscale = static_cast<std::uint8_t>((sizes >> 2) % 15);
    // RFC 4821 from the same bits' quotient (0 for sizes < 60: older inputs
    // keep it off); random drops then hit probes and trigger black holes.
    static constexpr MtuProbing kProbing[] = {MtuProbing::off, MtuProbing::blackhole, MtuProbing::on};
    c.mtu_probing = kProbing[((sizes >> 2) / 15) % 3];
    c.seed = side_b ? 99 : 7;
    return c;
}

struct Direction {
    std::uint64_t total = 0;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    bool eof = false;
};

class Transfer {
public:
    // `net` has been reset for this input; `mr` is the input's arena.
    Transfer(FuzzNet& net, std::uint8_t bits, std::uint8_t sizes, ByteReader& in,
             std::pmr::memory_resource* mr)
        : net_(net),
          in_(in),
          recv_space_(static_cast<std::uint8_t*>(mr->allocate(kChunk, 1)), kChunk) {
        // 16-128 KB one way: an input's impairment bytes (one per packet,
        // ~200 in a typical input) are used up within 64 KB, and the longer
        // clean tail of the former 64-256 KB moved bytes without exploring.
        const std::uint64_t size = std::uint64_t{16 * 1024} << (sizes & 3u);
        dir_[0].total = size;                 // A -> B
        dir_[1].total = size / 2 + 1000;      // B -> A
        nodelay_ = (bits & 64) != 0;
        net_.set_impair([this](int, std::span<std::uint8_t> bytes, fuzz::Verdict& v) {
            if (in_.empty()) return;
            switch (in_.u8() % 16) {
                case 0:
                case 1:
                    v.drop = true;
                    break;
                case 2:
                    v.duplicate = true;
                    break;
                case 3:
                    v.extra_delay = Duration::micros(100 * (1 + in_.u8()));
                    break;
                case 4:
                    bytes[in_.u16() % bytes.size()] ^= static_cast<std::uint8_t>(1 + in_.u8() % 255);
                    v.corrupted = true;
                    break;
                default:
                    break;
            }
        });
    }

    void run() {
        Engine& a = net_.a();
        Engine& b = net_.b();
        FUZZ_CHECK(b.listen(fuzz::kAddrB, kPort, 4, listener_) == 0, "listen failed");
        FUZZ_CHECK(a.connect({fuzz::kAddrB, kPort, fuzz::kAddrA, 0, {}}, net_.now(), conn_[0]) == 0,
                   "connect failed");
        if (nodelay_) (void)a.set_option(conn_[0], SockOpt::nodelay, 1);
        Instant last_progress = net_.now();
        bool accepted = false, closing = false, failed = false;
        // A few hundred KB on a link that heals must finish (or fail) well
        // within this much virtual time.
        const Instant give_up = net_.now() + Duration::seconds(3 * 3600);
        for (;;) {
            if (!accepted && b.accept(listener_, conn_[1]) == 0) {
                accepted = true;
                if (nodelay_) (void)b.set_option(conn_[1], SockOpt::nodelay, 1);
                (void)b.close(listener_, net_.now());
            }
            failed = failed || saw_failure(0) || saw_failure(1);
            if (failed) break;
            for (int side = 0; side < 2; ++side) {
                if (side == 1 && !accepted) continue;
                send_all(side);
                if (receive_all(side)) last_progress = net_.now();
            }
            net_.flush();
            if (!closing && accepted && dir_[0].received == dir_[0].total &&
                dir_[1].received == dir_[1].total) {
                closing = true;
                last_progress = net_.now();
                (void)a.close(conn_[0], net_.now());
                (void)b.close(conn_[1], net_.now());
                net_.flush();
            }
            if (closing && a.connection_count() + b.connection_count() + a.time_wait_count() +
                                   b.time_wait_count() == 0) {
                break;
            }
            check();
            check_progress(last_progress, give_up, accepted, closing);
            (void)net_.step(net_.now() + Duration::seconds(60));
        }
        if (failed) {
            // A clean failure: tear down what the application still holds.
            (void)a.abort(conn_[0], net_.now());
            if (accepted) (void)b.abort(conn_[1], net_.now());
            (void)b.abort(listener_, net_.now());
            net_.flush();
        }
        const Instant limit = net_.now() + Duration::seconds(2 * 3600);
        while (net_.now() < limit && a.connection_count() + b.connection_count() +
                                             a.time_wait_count() + b.time_wait_count() > 0) {
            net_.run_for(Duration::seconds(10));
            check();
        }
        fuzz::check_drained(a, "engine A");
        fuzz::check_drained(b, "engine B");
    }

private:
    // Never a stall past R2, and an end within 3 h of virtual time.
    void check_progress(Instant last_progress, Instant give_up, bool accepted, bool closing) {
        Engine& a = net_.a();
        Engine& b = net_.b();
        // Longest stall allowed: R2 (15 retries, RTO capped at 120 s) plus slack.
        const Duration stall = Duration::seconds(45 * 60);
        if (net_.now() - last_progress > stall) {
            ConnInfo ia, ib;
            const int ra = a.info(conn_[0], ia), rb = accepted ? b.info(conn_[1], ib) : -1;
            FUZZ_CHECK(false,
                       "no progress for %lld s: A %s (%d) B %s (%d), A->B %llu/%llu, B->A "
                       "%llu/%llu, closing %d",
                       static_cast<long long>(stall.as_millis() / 1000),
                       ra == 0 ? to_string(ia.state) : "gone", ra,
                       rb == 0 ? to_string(ib.state) : "gone", rb,
                       static_cast<unsigned long long>(dir_[0].received),
                       static_cast<unsigned long long>(dir_[0].total),
                       static_cast<unsigned long long>(dir_[1].received),
                       static_cast<unsigned long long>(dir_[1].total), closing);
        }
        FUZZ_CHECK(net_.now() < give_up,
                   "transfer unfinished after 3 h of virtual time: A->B %llu/%llu, B->A "
                   "%llu/%llu, closing %d (still making progress)",
                   static_cast<unsigned long long>(dir_[0].received),
                   static_cast<unsigned long long>(dir_[0].total),
                   static_cast<unsigned long long>(dir_[1].received),
                   static_cast<unsigned long long>(dir_[1].total), closing);
    }

    // Queues as much of this side's stream as the send buffer takes.
    void send_all(int side) {
        Direction& out = dir_[side];
        while (out.sent < out.total) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, out.total - out.sent));
            const auto r = net_.engine(side).send(conn_[side], stream_bytes(side, out.sent, n), net_.now());
            if (r <= 0) break;
            out.sent += static_cast<std::uint64_t>(r);
        }
    }

    // Reads what this side has received and checks it; true if bytes arrived.
    bool receive_all(int side) {
        Direction& in = dir_[1 - side];
        bool progress = false;
        for (;;) {
            const auto r = net_.engine(side).recv(conn_[side], recv_space_, net_.now());
            if (r == 0) {
                FUZZ_CHECK(in.received == in.total, "side %c: EOF after %llu of %llu bytes", "AB"[side],
                           static_cast<unsigned long long>(in.received),
                           static_cast<unsigned long long>(in.total));
                in.eof = true;
                return progress;
            }
            if (r < 0) return progress;
            const auto got = recv_space_.first(static_cast<std::size_t>(r));
            check_bytes(side, got, in.received);
            FUZZ_CHECK(in.received + static_cast<std::uint64_t>(r) <= in.total,
                       "side %c: more bytes than were sent", "AB"[side]);
            in.received += static_cast<std::uint64_t>(r);
            progress = true;
        }
    }

    // The bytes at `offset` of the peer's stream must be what it sent.
    static void check_bytes(int side, std::span<const std::uint8_t> got, std::uint64_t offset) {
        const auto want = stream_bytes(1 - side, offset, got.size());
        if (std::equal(got.begin(), got.end(), want.begin())) return;
        const auto [g, w] = std::mismatch(got.begin(), got.end(), want.begin());
        FUZZ_CHECK(false, "side %c: byte %llu is %02x, expected %02x", "AB"[side],
                   static_cast<unsigned long long>(offset + static_cast<std::uint64_t>(g - got.begin())),
                   *g, *w);
    }

    bool saw_failure(int side) {
        bool bad = false;
        for (const Event& ev : net_.events(side)) {
            bad = bad || ev.kind == EventKind::reset || ev.kind == EventKind::timed_out;
        }
        net_.events(side).clear();
        return bad;
    }

    void check() {
        fuzz::check_invariants(net_.a(), "engine A");
        fuzz::check_invariants(net_.b(), "engine B");
    }

    FuzzNet& net_;
    ByteReader& in_;
    std::span<std::uint8_t> recv_space_;  // recv()'s destination, from the input's arena
    Direction dir_[2];
    ConnId listener_, conn_[2];
    bool nodelay_ = false;
};

// The two engines and the link of every input of this process, reset per
// input (see fuzz_engine.cpp: libFuzzer leaves no other place to keep them).
// Every make_config() has the same capacities; sizes 120 turns mtu_probing
// on, so that the engines hold RFC 4821 state (a reset cannot add it).
// One FuzzNet per chunk size, as in fuzz_engine.cpp.
FuzzNet*& last_net() {
    static FuzzNet* net = nullptr;
    return net;
}
FuzzNet& process_net(const EngineConfig& like) {
    static std::array<std::unique_ptr<FuzzNet>, fuzz::kChunkSizeSlots> nets;
    auto& net = nets.at(fuzz::chunk_size_slot(like.chunk_size));
    if (!net) {
        EngineConfig a = make_config(0, 120, false), b = make_config(0, 120, true);
        a.chunk_size = b.chunk_size = like.chunk_size;
        a.chunk_count = b.chunk_count = like.chunk_count;
        net = std::make_unique<FuzzNet>(a, b, std::pmr::new_delete_resource());
    }
    last_net() = net.get();
    return *net;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::ArenaScope arena;  // outlives the Transfer
    ByteReader in(data, size);
    const std::uint8_t bits = in.u8();
    const std::uint8_t sizes = in.u8();
    const EngineConfig ca = make_config(bits, sizes, false), cb = make_config(bits, sizes, true);
    FuzzNet& net = process_net(ca);
    net.reset(ca, cb);
    Transfer t(net, bits, sizes, in, arena.resource());
    t.run();
    return 0;
}

std::uint64_t tcpfp::fuzz::last_input_digest() { return last_net() ? last_net()->digest() : 0; }
