// GenProfile: requests and responses. Three protocols (gen.hpp GenProto):
//   echo  `request` bytes, the same bytes back (RFC 862);
//   rr    tcpfp's rr framing (apps/rr.hpp): an 8-byte header, big-endian
//         total request length and response length (top bit: close after);
//   http  an HTTP/1.1 request built by the prompt, the response parsed by
//         HttpResponseParser (Content-Length, chunked, or the close).
// Up to `pipeline` requests are in flight per connection, answered in
// order. Latency runs from when a request was due (its rate token, or the
// previous response), so a slow server is not hidden by a slower sender.
#include <algorithm>
#include <cstring>

#include "dpdk_app/apps/gen_profile.hpp"

namespace tcpfp::app {

namespace {

std::uint64_t micros(tcp::Duration d) { return static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.as_micros())); }

void put_be32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

// rr: the header then filler; http: the request text then the body. The
// same bytes for every request of the profile.
void GenProfile::build_request() {
    request_.clear();
    if (spec_.proto == GenProto::rr) {
        request_.assign(request_size(), 0);
        put_be32(request_.data(), request_size());
        const bool close_after = spec_.closer == GenCloser::server;
        put_be32(request_.data() + 4, spec_.response | (close_after ? 0x80000000u : 0u));
        for (std::size_t i = 8; i < request_.size(); ++i) request_[i] = static_cast<std::uint8_t>('a' + i % 26);
    } else if (spec_.proto == GenProto::http) {
        request_.assign(spec_.http_request.begin(), spec_.http_request.end());
        for (std::uint32_t i = 0; i < spec_.http_body; ++i) request_.push_back(static_cast<std::uint8_t>('a' + i % 26));
    }
}

std::uint32_t GenProfile::request_size() const {
    switch (spec_.proto) {
        case GenProto::echo: return spec_.request;
        case GenProto::rr: return std::max<std::uint32_t>(spec_.request, 8);
        case GenProto::http: return static_cast<std::uint32_t>(spec_.http_request.size() + spec_.http_body);
    }
    return spec_.request;
}

std::uint64_t GenProfile::response_size() const {
    return spec_.proto == GenProto::echo ? spec_.request : spec_.response;
}

bool GenProfile::budget_reached() const { return spec_.count != 0 && c_.requests >= spec_.count; }

// A connection ready for its next request: at once, or when the pacer
// gives it a token (rate limits requests in rr).
void GenProfile::want_request(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    const std::uint32_t room = spec_.pipeline - slot.inflight;
    if (room == 0 || run_ != GenRun::running) return;
    if (spec_.mode == GenMode::crr && slot.inflight + slot.to_send > 0) return;  // one per connection
    if (!rate_limited_requests()) return start_requests(s, spec_.mode == GenMode::crr ? 1 : room, now);
    slot.wants_token = true;
    if (!slot.in_wait) {
        slot.in_wait = true;
        waiting_.push(s);
    }
}

// Spends the tokens due now on connections waiting for one, in turn.
void GenProfile::start_waiting(tcp::Instant now) {
    std::uint64_t n = std::min<std::uint64_t>(pacer_.available(now), waiting_.size());
    while (n > 0 && !waiting_.empty() && run_ == GenRun::running) {
        const std::uint32_t s = waiting_.pop();
        Slot& slot = slots_[s];
        slot.in_wait = false;
        if (!slot.wants_token || slot.phase != Phase::open) continue;
        slot.wants_token = false;
        pacer_.take(1, now);
        ++started_;
        --n;
        start_requests(s, 1, now);
        if (slot.phase == Phase::open && slot.inflight < spec_.pipeline) want_request(s, now);
    }
}

void GenProfile::start_requests(std::uint32_t s, std::uint32_t n, tcp::Instant now) {
    Slot& slot = slots_[s];
    for (std::uint32_t k = 0; k < n && slot.inflight < spec_.pipeline; ++k) {
        slot.t_req[(slot.t_head + slot.inflight) % kMaxPipeline] = now;
        if (slot.inflight++ == 0) begin_response(slot);
        ++slot.to_send;
    }
    pump_send(s, now);
}

// The oldest request in flight becomes the one whose response is read.
void GenProfile::begin_response(Slot& slot) {
    slot.first_byte = false;
    slot.resp_left = response_size();
    slot.resp_off = 0;
    if (spec_.proto == GenProto::http) slot.http.reset(spec_.http_head);
}

const std::uint8_t* GenProfile::request_bytes(Slot& slot, std::uint32_t offset, std::size_t len) {
    if (spec_.proto != GenProto::echo) return request_.data() + offset;
    if (spec_.verify) fill_pattern(slot.seed, slot.tx_off, {tx_scratch_.data(), len});
    return tx_scratch_.data();
}

void GenProfile::pump_send(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    const bool bulk = spec_.mode == GenMode::bulk;
    if (spec_.mode == GenMode::hold && spec_.hold_bytes == 0) return;
    for (;;) {
        if (!bulk && slot.req_left == 0) {
            if (slot.to_send == 0) return;
            --slot.to_send;
            slot.req_left = request_size();
        }
        if (bulk && stop_sending_) return;
        const std::uint32_t space = stack_->send_space(slot.h);
        if (space == 0) return;  // resumed by `writable`
        const std::uint32_t whole = bulk ? spec_.request : request_size();
        const std::uint32_t offset = bulk ? 0 : whole - slot.req_left;
        const std::size_t len = std::min<std::size_t>({space, bulk ? whole : slot.req_left, tx_scratch_.size()});
        const std::int64_t n = stack_->send(slot.h, {request_bytes(slot, offset, len), len}, now);
        if (n <= 0) return;  // EAGAIN: `writable` resumes; errors come as events
        const auto sent = static_cast<std::uint64_t>(n);
        c_.bytes_sent += sent;
        const std::uint64_t before = slot.tx_off / spec_.request;
        slot.tx_off += sent;
        if (!bulk) {
            slot.req_left -= static_cast<std::uint32_t>(sent);
            continue;
        }
        c_.requests += slot.tx_off / spec_.request - before;
        if (budget_reached()) {
            stop_sending_ = true;
            if (!spec_.verify) return end_run(now);
        }
    }
}

void GenProfile::pump_recv(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    while (!slot.h.is_invalid() && (slot.phase == Phase::open || slot.phase == Phase::closing)) {
        const std::int64_t n = stack_->recv(slot.h, rx_scratch_, now);
        if (n == -EAGAIN) return;
        if (n < 0) return;  // reset/timeout: its event follows
        if (n == 0) return on_peer_fin(s, now);
        c_.bytes_received += static_cast<std::uint64_t>(n);
        consume(s, rx_scratch_.data(), static_cast<std::size_t>(n), now);
    }
}

// Feeds received bytes to the responses in flight, oldest first.
void GenProfile::consume(std::uint32_t s, const std::uint8_t* p, std::size_t n, tcp::Instant now) {
    Slot& slot = slots_[s];
    if (spec_.mode == GenMode::bulk || spec_.mode == GenMode::hold) {
        (void)consume_stream(slot, p, n);
        return;
    }
    while (n > 0) {
        if (slot.inflight == 0 || slot.phase != Phase::open) return error(GenError::excess_data);
        if (!slot.first_byte) first_byte(slot, now);
        const std::size_t used = spec_.proto == GenProto::http ? consume_http(slot, p, n) : consume_stream(slot, p, n);
        p += used;
        n -= used;
        if (spec_.proto == GenProto::http && slot.http.failed()) {
            error(GenError::bad_response);
            release(s, now);
            if (run_ == GenRun::running) pause(s, now);
            return;
        }
        const bool complete = spec_.proto == GenProto::http ? slot.http.done() : slot.resp_left == 0;
        if (!complete) return;
        response_done(s, now);
        if (slot.h.is_invalid()) return;
    }
}

// echo and rr: counts the response down and checks the pattern when asked
// (echo: the connection's stream; rr: 'a' + k % 26 within each response).
std::size_t GenProfile::consume_stream(Slot& slot, const std::uint8_t* p, std::size_t n) {
    const bool exchange = spec_.mode == GenMode::crr || spec_.mode == GenMode::rr;
    const std::size_t len = exchange ? static_cast<std::size_t>(std::min<std::uint64_t>(n, slot.resp_left)) : n;
    if (spec_.verify) {
        if (spec_.proto == GenProto::rr) {
            fill_response_pattern(slot.resp_off, {expect_scratch_.data(), len});
        } else {
            fill_pattern(slot.seed, slot.rx_off, {expect_scratch_.data(), len});
        }
        if (std::memcmp(expect_scratch_.data(), p, len) != 0) error(GenError::verify_mismatch);
    }
    slot.rx_off += len;
    slot.resp_off += len;
    if (exchange) slot.resp_left -= len;
    return len;
}

// http: the parser stops at the end of this response (a pipelined next
// one stays for the next round); the body goes to verify and the digest.
std::size_t GenProfile::consume_http(Slot& slot, const std::uint8_t* p, std::size_t n) {
    const auto s = static_cast<std::size_t>(&slot - slots_.data());
    bool mismatch = false;
    const std::size_t used = slot.http.feed(p, n, [&](const std::uint8_t* body, std::size_t len) {
        if (spec_.verify) {
            fill_response_pattern(slot.resp_off, {expect_scratch_.data(), len});
            mismatch |= std::memcmp(expect_scratch_.data(), body, len) != 0;
        }
        if (spec_.check_digest) digests_[s].update(body, len);
        slot.resp_off += len;
    });
    if (mismatch) error(GenError::verify_mismatch);
    return used;
}

void GenProfile::first_byte(Slot& slot, tcp::Instant now) {
    slot.first_byte = true;
    first_byte_.record(micros(now - slot.t_req[slot.t_head]));
}

void GenProfile::response_done(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    const std::uint64_t us = micros(now - slot.t_req[slot.t_head]);
    const bool server_closes = spec_.proto == GenProto::http && !slot.http.keep_alive();
    if (spec_.proto == GenProto::http) {
        ++c_.status[std::min<unsigned>(slot.http.status() / 100, 5)];
        if (spec_.check_digest) {
            // Only a 2xx carries the resource; a 4xx/5xx counts in its class.
            const bool ok = slot.http.status() / 100 != 2 || digests_[s].finish() == spec_.digest;
            if (!ok) error(GenError::digest_mismatch);
            digests_[s].reset();
        }
    }
    slot.t_head = static_cast<std::uint8_t>((slot.t_head + 1) % kMaxPipeline);
    --slot.inflight;
    if (slot.inflight > 0) begin_response(slot);
    if (run_ != GenRun::running) {
        ++c_.drained;
        if (slot.inflight == 0) release(s, now);
        return;
    }
    ++c_.requests;
    latency_.record(us);
    second_latency_.record(us);
    const bool last = budget_reached();
    if (server_closes || spec_.closer == GenCloser::server) {
        // Even after the last response: the close stays the server's.
        if (slot.inflight == 0) expect_server_close(s, now);
    } else if (!last) {
        after_transaction(s, now);
    }
    if (last) end_run(now);
}

// crr: the client closes (FIN, or RST with close rst) and connects again;
// rr: the next request, after the think time.
void GenProfile::after_transaction(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    if (spec_.mode == GenMode::crr) {
        release(s, now, spec_.close_rst);
        return enqueue(s);
    }
    if (spec_.think_us == 0 || slot.inflight > 0) return want_request(s, now);
    slot.thinking = true;
    slot.think_due = now + tcp::Duration::micros(static_cast<std::int64_t>(spec_.think_us));
    if (!slot.in_think) {
        slot.in_think = true;
        thinking_.push(s);
    }
}

// The server closes after this response (closer server, or HTTP
// Connection: close): wait for its FIN, at most the drain time.
void GenProfile::expect_server_close(std::uint32_t s, tcp::Instant now) {
    Slot& slot = slots_[s];
    slot.phase = Phase::closing;
    slot.due = now + tcp::Duration::millis(spec_.drain_ms);
    if (stack_->peer_closed(slot.h)) pump_recv(s, now);
}

}  // namespace tcpfp::app
