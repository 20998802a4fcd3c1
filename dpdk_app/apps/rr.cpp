#include "dpdk_app/apps/rr.hpp"

#include <algorithm>

namespace tcpfp::app {

static_assert(sizeof(std::uintptr_t) == 8, "rr's and HTTP's states need a 64-bit context word");

Alphabet::Alphabet() : bytes_(kBlock + 26) {
    for (std::size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<std::uint8_t>('a' + i % 26);
}

std::uint64_t Alphabet::send(Stack& s, ConnId c, std::uint64_t left, unsigned& phase, Instant now) const {
    std::uint64_t sent = 0;
    while (sent < left) {
        // Filling the ring to the last byte matters: the engine posts
        // `writable` only for a ring that was full.
        const std::uint64_t len = std::min<std::uint64_t>({left - sent, s.send_space(c), kBlock});
        if (len == 0) break;
        const std::int64_t w = s.send(c, {bytes_.data() + phase, static_cast<std::size_t>(len)}, now);
        if (w <= 0) break;  // no buffer (-ENOBUFS) or the connection ended: its event follows
        sent += static_cast<std::uint64_t>(w);
        phase = static_cast<unsigned>((phase + static_cast<std::uint64_t>(w)) % 26);
    }
    return sent;
}

void drain_and_close(Stack& s, ConnId c, Instant now, ServiceCounters& counters) {
    const std::uint32_t unread = s.recv_available(c);
    if (unread > 0) {
        (void)s.consume(c, unread, now);
        counters.bytes_in += unread;
    }
    end_connection(s, c, now, counters);
}

namespace {

std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

}  // namespace

// The context word: bit 63 `sending`, bit 62 `close` (after this response),
// bits 31-61 `count`, bits 0-30 `aux`:
//   reading filler (not sending): count = response length, aux = filler left
//   sending: count = response bytes left, aux = k % 26 of the next byte
// 0 is idle, waiting for a header. Both lengths being below 2^31 is what
// lets the pattern's phase fit next to them.
struct Rr::State {
    bool sending = false;
    bool close = false;
    std::uint32_t count = 0;
    std::uint32_t aux = 0;

    static State unpack(std::uintptr_t w) {
        return {(w >> 63) != 0, ((w >> 62) & 1) != 0, static_cast<std::uint32_t>((w >> 31) & kMaxLength),
                static_cast<std::uint32_t>(w & kMaxLength)};
    }
    std::uintptr_t pack() const {
        return std::uintptr_t{sending} << 63 | std::uintptr_t{close} << 62 | std::uintptr_t{count} << 31 | aux;
    }
    // The request is read whole: its response starts at k = 0.
    void start_response() { *this = {true, close, count, 0}; }
};

void Rr::serve(Stack& s, ConnId c, Instant now) {
    State st = State::unpack(s.context(c));
    for (;;) {
        Step step = Step::next;
        if (st.sending) {
            step = respond(s, c, st, now);
        } else if (st.aux > 0) {
            step = discard_filler(s, c, st, now);
        } else {
            step = read_header(s, c, st, now);
        }
        if (step == Step::gone) return;
        if (step == Step::wait) break;
    }
    s.set_context(c, st.pack());
}

Step Rr::read_header(Stack& s, ConnId c, State& st, Instant now) {
    std::span<const std::uint8_t> first, second;
    const std::int64_t n = s.recv_view(c, first, second);
    if (n == -EAGAIN) return Step::wait;
    if (n <= 0) {  // the peer closed between requests (or the connection failed)
        finish(s, c, now);
        return Step::gone;
    }
    if (n < 8) {
        if (!s.peer_closed(c)) return Step::wait;  // the rest of the header is on its way
        drain_and_close(s, c, now, counters_);     // a header cut short by the peer's FIN
        return Step::gone;
    }
    std::uint8_t h[8];
    const std::size_t from_first = std::min<std::size_t>(first.size(), 8);
    std::copy_n(first.data(), from_first, h);
    std::copy_n(second.data(), 8 - from_first, h + from_first);
    const std::uint32_t length = be32(h), response = be32(h + 4);
    if (length < 8 || length > kMaxLength) {
        ++rr_.bad_requests;
        (void)s.abort(c, now);  // no way to find the next request: reset
        return Step::gone;
    }
    (void)s.consume(c, 8, now);
    counters_.bytes_in += 8;
    ++rr_.requests;
    st = {false, (response & kCloseBit) != 0, response & kMaxLength, length - 8};
    if (st.aux == 0) st.start_response();
    return Step::next;
}

Step Rr::discard_filler(Stack& s, ConnId c, State& st, Instant now) {
    std::span<const std::uint8_t> first, second;
    const std::int64_t n = s.recv_view(c, first, second);
    if (n == -EAGAIN) return Step::wait;
    if (n <= 0) {  // the peer stopped mid-request: nothing to answer
        finish(s, c, now);
        return Step::gone;
    }
    const auto take = static_cast<std::uint32_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(n), st.aux));
    (void)s.consume(c, take, now);
    counters_.bytes_in += take;
    st.aux -= take;
    if (st.aux == 0) st.start_response();
    return Step::next;
}

Step Rr::respond(Stack& s, ConnId c, State& st, Instant now) {
    unsigned phase = st.aux;
    const std::uint64_t sent = alphabet_.send(s, c, st.count, phase, now);
    counters_.bytes_out += sent;
    st.count -= static_cast<std::uint32_t>(sent);
    st.aux = phase;
    if (st.count > 0) return Step::wait;  // resumed by `writable`
    if (st.close) {
        ++rr_.close_requests;
        drain_and_close(s, c, now, counters_);
        return Step::gone;
    }
    st = {};
    return Step::next;
}

}  // namespace tcpfp::app
