// Two engines back to back on a virtual clock, for the fuzz targets. Unlike
// tests/engine/harness.hpp this has no GoogleTest dependency, every packet's
// fate is decided by a callback (the fuzz input), and each direction of the
// link can be switched to deliver, drop or hold (queue until released).
//
// One FuzzNet serves every input of a process: reset() puts the engines
// (Engine::reset) and the link back to their constructed state, which costs
// what the previous input used, where building two engines per input cost
// a sixth of a fuzz_engine run (their pools, tables, timer wheel and queues
// written, and under ASan unpoisoned, every time).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory_resource>
#include <span>
#include <utility>
#include <vector>

#include "common.hpp"
#include "input_arena.hpp"
#include "tcp/engine/engine.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::fuzz {

inline constexpr wire::Ipv4Addr kAddrA = wire::Ipv4Addr::from_octets(10, 77, 0, 1);
inline constexpr wire::Ipv4Addr kAddrB = wire::Ipv4Addr::from_octets(10, 77, 0, 2);

enum class LinkMode : std::uint8_t { deliver, drop, hold };

// What happens to one packet on the link.
struct Verdict {
    bool drop = false;
    bool duplicate = false;
    bool corrupted = false;     // the callback changed a byte: the receiver must check sums
    tcp::Duration extra_delay;  // on top of the base latency (reordering)
};

class FuzzNet {
public:
    using Impair = std::function<void(int from, std::span<std::uint8_t> bytes, Verdict& v)>;

    // `mr` holds both engines' memory and the link's, for as long as the
    // FuzzNet lives. The configurations fix the capacities every reset()
    // must keep (see Engine::reset).
    FuzzNet(const tcp::EngineConfig& ca, const tcp::EngineConfig& cb,
            std::pmr::memory_resource* mr = std::pmr::get_default_resource())
        : mr_(mr),
          now_(kStart),
          a_(ca, now_, mr),
          b_(cb, now_, mr),
          in_flight_(mr),
          held_{std::pmr::vector<Packet>(mr), std::pmr::vector<Packet>(mr)},
          events_{std::pmr::vector<tcp::Event>(mr), std::pmr::vector<tcp::Event>(mr)},
          free_{std::pmr::vector<std::uint8_t*>(mr), std::pmr::vector<std::uint8_t*>(mr)} {
        a_.add_address(kAddrA);
        b_.add_address(kAddrB);
    }
    ~FuzzNet() {
        for (std::size_t i = head_; i < in_flight_.size(); ++i) give_back(in_flight_[i]);
        for (const auto& h : held_) {
            for (const Packet& p : h) give_back(p);
        }
        for (int c = 0; c < 2; ++c) {
            for (std::uint8_t* block : free_[c]) mr_->deallocate(block, c == 0 ? kSmallBlock : kLargeBlock, 64);
        }
    }
    FuzzNet(const FuzzNet&) = delete;
    FuzzNet& operator=(const FuzzNet&) = delete;

    // For the next input: both engines as new with these configurations,
    // the link empty and delivering, the clock at its start. Everything an
    // input can observe is then as on a newly built FuzzNet (the packet
    // blocks kept on the free lists are poisoned and rewritten before use).
    void reset(const tcp::EngineConfig& ca, const tcp::EngineConfig& cb) {
        for (std::size_t i = head_; i < in_flight_.size(); ++i) give_back(in_flight_[i]);
        in_flight_.clear();
        head_ = 0;
        for (auto& h : held_) {
            for (const Packet& p : h) give_back(p);
            h.clear();
        }
        events_[0].clear();
        events_[1].clear();
        now_ = kStart;
        a_.reset(ca, now_);
        b_.reset(cb, now_);
        a_.add_address(kAddrA);
        b_.add_address(kAddrB);
        impair_ = nullptr;
        mode_[0] = mode_[1] = LinkMode::deliver;
        order_ = 0;
        delay = kDelay;
        digest_ = kDigestStart;
        emitted_ = 0;
    }

    // A summary of what the engines did since the last reset (each packet's
    // direction, time, length and both checksums; each event), for the
    // determinism check of replay_main: the same input must give the same
    // digest, whatever ran before it. O(1) per packet.
    std::uint64_t digest() const { return digest_; }

    tcp::Engine& engine(int side) { return side == 0 ? a_ : b_; }
    tcp::Engine& a() { return a_; }
    tcp::Engine& b() { return b_; }
    tcp::Instant now() const { return now_; }
    void set_impair(Impair f) { impair_ = std::move(f); }
    void set_mode(int from, LinkMode m) { mode_[from] = m; }
    LinkMode mode(int from) const { return mode_[from]; }
    static constexpr tcp::Duration kDelay = tcp::Duration::micros(100);
    tcp::Duration delay = kDelay;
    std::size_t in_flight() const { return in_flight_.size() - head_; }

    // A cap on the segments the engines emit per input (0: none, the
    // default), for targets whose inputs can keep a connection busy for as
    // long as they like: once it is reached, run_for() returns early and
    // over_budget() says so. reset() zeroes the count, not the cap.
    void set_segment_budget(std::uint64_t segments) { budget_ = segments; }
    bool over_budget() const { return budget_ != 0 && emitted_ >= budget_; }

    // Events since the last call, per side.
    std::pmr::vector<tcp::Event>& events(int side) { return events_[side]; }

    // Held packets of one direction go onto the link now (reversed: last first).
    void release(int from, bool reversed) {
        auto& h = held_[from];
        if (reversed) std::reverse(h.begin(), h.end());
        for (auto& p : h) {
            p.at = now_ + delay;
            p.order = order_++;
            enqueue(p);
        }
        h.clear();
    }
    std::size_t held(int from) const { return held_[from].size(); }

    void flush() {
        collect(0);
        collect(1);
    }

    void inject(int to, std::span<const std::uint8_t> packet, tcp::RxOffload rx = {}) {
        engine(to).input(packet, now_, rx);
        flush();
    }
    // An IPv4 packet carrying ICMP, as the worker hands ICMP errors over.
    void inject_icmp(int to, std::span<const std::uint8_t> packet) {
        engine(to).input_icmp(packet, now_);
        flush();
    }

    tcp::Instant next_event() const {
        tcp::Instant next = std::min(a_.next_deadline(), b_.next_deadline());
        if (head_ < in_flight_.size()) next = std::min(next, in_flight_[head_].at);
        return next;
    }

    // Processes everything due now.
    void step_now() {
        flush();
        deliver_due();
        a_.advance(now_);
        b_.advance(now_);
        flush();
        deliver_due();
    }

    // Moves the clock to the next event, or to `limit` if that comes first,
    // and processes it. Returns false once the clock is at `limit`.
    bool step(tcp::Instant limit) {
        step_now();
        const tcp::Instant next = next_event();
        if (next > limit) {
            now_ = std::max(now_, limit);
            step_now();
            return false;
        }
        now_ = next > now_ ? next : now_ + tcp::Duration::micros(1);
        step_now();
        return now_ < limit;
    }

    // Runs the clock `d` ahead, or until over_budget().
    void run_for(tcp::Duration d) {
        const tcp::Instant end = now_ + d;
        while (step(end) && !over_budget()) {
        }
    }

private:
    static constexpr tcp::Instant kStart = tcp::Instant::from_micros(1'000'000);
    static constexpr std::uint64_t kDigestStart = 0xcbf29ce484222325ull;

    void mix(std::uint64_t v) {
        // One multiply-xorshift round per value (splitmix64's finaliser):
        // not a secure hash, only a sensitive one.
        digest_ = (digest_ ^ v) * 0xbf58476d1ce4e5b9ull;
        digest_ ^= digest_ >> 31;
    }

    struct Packet {
        tcp::Instant at;
        std::uint64_t order = 0;
        int to = 0;
        // validate() checked both sums and nothing changed the bytes since:
        // the receiver is told so (RxOffload), as a NIC would. Packets the
        // impairment corrupted, and the targets' injected ones, are checked
        // by the engine itself.
        bool sums_ok = false;
        std::uint8_t* data = nullptr;  // a block of `cap` bytes, see take_block()
        std::uint32_t len = 0;
        std::uint32_t cap = 0;
        std::span<const std::uint8_t> bytes() const { return {data, len}; }
    };

    // Every segment an engine emits must be well formed.
    static void validate(std::span<const std::uint8_t> bytes, int from) {
        auto ip = wire::parse_ipv4_checked(bytes);
        FUZZ_CHECK(ip.ok(), "engine %c emitted a bad IPv4 header: %s", "AB"[from],
                   wire::name(ip.error()));
        auto t = wire::parse_tcp_checked(ip->payload(), ip->src(), ip->dst());
        FUZZ_CHECK(t.ok(), "engine %c emitted a bad TCP segment: %s", "AB"[from],
                   wire::name(t.error()));
        auto o = wire::parse_tcp_options(t->options());
        FUZZ_CHECK(o.ok(), "engine %c emitted bad TCP options: %s", "AB"[from],
                   wire::name(o.error()));
    }

    // Called after every delivery and twice per step, mostly with nothing
    // to collect: the per-segment work, with its stack buffers that ASan
    // poisons and unpoisons on every call, is in carry().
    void collect(int from) {
        tcp::Engine& e = engine(from);
        if (!e.output().empty()) {
            for (const tcp::OutSegment& seg : e.output()) carry(from, seg);
            e.clear_output();
        }
        if (!e.events().empty()) {
            for (const tcp::Event& ev : e.events()) {
                mix((static_cast<std::uint64_t>(from) << 40) ^ (static_cast<std::uint64_t>(ev.kind) << 32) ^
                    ev.conn.index);
                mix(ev.conn.generation);
                events_[from].push_back(ev);
            }
            e.clear_events();
        }
    }

    // One emitted segment: serialized, checked, and put on the link (or dropped).
    // Not inlined: collect() stays a light frame (see above).
    [[gnu::noinline]] void carry(int from, const tcp::OutSegment& seg) {
        // Serialized straight into the block the packet travels in (a
        // copy from scratch space was most of the link's memcpy time),
        // which goes back to the free list if the packet does not travel.
        const auto max_len = static_cast<std::uint32_t>(20 + 60 + seg.payload_len());
        const std::uint32_t cap = block_size(max_len);
        std::uint8_t* block = take_block(cap);
        auto n = tcp::serialize(seg, std::span(block, cap));
        FUZZ_CHECK(n.ok(), "engine %c: serialize failed: %s", "AB"[from], wire::name(n.error()));
        const auto wire_bytes = std::span(block, *n);
        validate(wire_bytes, from);
        ++emitted_;
        // validate() found an IPv4 header and a TCP header behind it.
        std::uint64_t sums = 0;
        std::memcpy(&sums, &wire_bytes[10], 2);   // IPv4 header checksum
        std::memcpy(reinterpret_cast<std::uint8_t*>(&sums) + 2, &wire_bytes[20 + 16], 2);  // TCP checksum
        mix((static_cast<std::uint64_t>(from) << 62) ^ (std::uint64_t{*n} << 32) ^ sums);
        mix(static_cast<std::uint64_t>(now_.micros()));
        Verdict v;
        if (mode_[from] != LinkMode::drop && impair_) impair_(from, wire_bytes, v);
        if (mode_[from] == LinkMode::drop || v.drop) {
            give_back(block, cap);
            return;
        }
        Packet p;
        p.order = order_++;
        p.data = block;
        p.len = static_cast<std::uint32_t>(*n);
        p.cap = cap;
        asan_poison(block + p.len, cap - p.len);
        p.at = now_ + delay + v.extra_delay;
        p.to = 1 - from;
        p.sums_ok = !v.corrupted;
        if (mode_[from] == LinkMode::hold) {
            if (v.duplicate) held_[from].push_back(copy_of(p));
            held_[from].push_back(std::move(p));
            return;
        }
        if (v.duplicate) {
            Packet d = copy_of(p);
            d.at = d.at + tcp::Duration::micros(10);
            d.order = order_++;
            enqueue(d);
        }
        enqueue(p);
    }

    void deliver_due() {
        for (;;) {
            if (head_ == in_flight_.size() || in_flight_[head_].at > now_) return;
            const Packet p = in_flight_[head_++];
            if (head_ == in_flight_.size()) {  // all delivered: start over at the front
                in_flight_.clear();
                head_ = 0;
            } else if (head_ >= 256 && 2 * head_ >= in_flight_.size()) {
                // A link never idle (a long transfer): drop the delivered
                // front now and then, so the queue does not grow with the input.
                in_flight_.erase(in_flight_.begin(), in_flight_.begin() + static_cast<std::ptrdiff_t>(head_));
                head_ = 0;
            }
            engine(p.to).input(p.bytes(), now_, {p.sums_ok, p.sums_ok});
            give_back(p.data, p.cap);
            flush();
        }
    }

    // Packet storage: blocks from `mr` in two sizes, recycled from packet to
    // packet and from input to input. A packet is a plain struct, so the link's queues move it as
    // bytes (as pmr vectors, copying and erasing them was ~12 % of a
    // fuzz_engine run). The bytes past a packet's end, and a block given
    // back, are poisoned: an engine reading past a segment is reported.
    static constexpr std::uint32_t kSmallBlock = 2048;
    // An IPv4 header, the largest TCP header and a 9000-byte MTU's payload.
    static constexpr std::uint32_t kLargeBlock = 20 + 60 + 9000;
    static std::uint32_t block_size(std::uint32_t len) {
        return len <= kSmallBlock ? kSmallBlock : kLargeBlock;
    }
    // A block of `size` (kSmallBlock or kLargeBlock) bytes, all usable.
    std::uint8_t* take_block(std::uint32_t size) {
        auto& list = free_[size == kSmallBlock ? 0 : 1];
        std::uint8_t* block;
        if (list.empty()) {
            block = static_cast<std::uint8_t*>(mr_->allocate(size, 64));
        } else {
            block = list.back();
            list.pop_back();
        }
        asan_unpoison(block, size);
        return block;
    }
    void give_back(std::uint8_t* block, std::uint32_t size) {
        asan_poison(block, size);
        free_[size == kSmallBlock ? 0 : 1].push_back(block);
    }
    void give_back(const Packet& p) { give_back(p.data, p.cap); }
    // The link's queue is kept in delivery order (time, then send order), so
    // the next packet is at head_: a search for the earliest and an erase
    // from the middle per delivered packet were ~4 % of a fuzz_engine run.
    // A packet is never due before those already delivered (it arrives at
    // least `delay` after now), and usually goes last: the search from the
    // back stops at once.
    void enqueue(const Packet& p) {
        auto pos = in_flight_.end();
        const auto first = in_flight_.begin() + static_cast<std::ptrdiff_t>(head_);
        while (pos != first && (p.at < (pos - 1)->at || (p.at == (pos - 1)->at && p.order < (pos - 1)->order))) {
            --pos;
        }
        in_flight_.insert(pos, p);
    }

    Packet copy_of(const Packet& p) {
        Packet d;
        d.order = order_++;
        d.cap = p.cap;
        d.data = take_block(d.cap);
        d.len = p.len;
        std::memcpy(d.data, p.data, p.len);
        asan_poison(d.data + d.len, d.cap - d.len);
        d.at = p.at;
        d.to = p.to;
        d.sums_ok = p.sums_ok;
        return d;
    }

    std::pmr::memory_resource* mr_;
    tcp::Instant now_;
    tcp::Engine a_;
    tcp::Engine b_;
    Impair impair_;
    LinkMode mode_[2] = {LinkMode::deliver, LinkMode::deliver};
    std::uint64_t order_ = 0;
    std::pmr::vector<Packet> in_flight_;  // [head_, end) in delivery order, see enqueue()
    std::size_t head_ = 0;
    std::pmr::vector<Packet> held_[2];
    std::pmr::vector<tcp::Event> events_[2];
    std::pmr::vector<std::uint8_t*> free_[2];  // blocks of kSmallBlock / kLargeBlock bytes
    std::uint64_t digest_ = kDigestStart;
    std::uint64_t emitted_ = 0;  // segments since reset(), for over_budget()
    std::uint64_t budget_ = 0;
};

}  // namespace tcpfp::fuzz
