// The traffic generator (dpdk_app/apps/gen.cpp, an app) on a Host over
// engine A of the tests/engine harness link, engine B playing the server:
// echo, HTTP and misbehaving servers, failures and their pauses, plus the
// histogram and the verify pattern on their own.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "apps/app_harness.hpp"
#include "dpdk_app/apps/gen.hpp"
#include "dpdk_app/apps/sha256.hpp"

namespace tcpfp::app {
namespace {

using tcp::ConnId;
using tcp::Duration;
using tcp::EventKind;
using tcp::test::kHostA;
using tcp::test::kHostAPrimary;
using tcp::test::kHostB;
using tcp::test::Net;
using tcp::test::Side;

enum class Server { echo, corrupt, http, http404, rr, chunked, sink };  // sink: accepts, never reads

// Engine A runs the generator on a Host; engine B plays the server.
class GenPair {
public:
    GenPair(Server mode, std::uint16_t port, const tcp::EngineConfig& config = tcp::test::test_config())
        : n_(config, config), gen_(0), mode_(mode) {
        EXPECT_EQ(net().b().listen({}, port, 0, listener_), 0);
        n_.add(gen_, true);
        n_.start();
    }

    GenSpec spec(GenMode m, std::uint16_t port, std::uint32_t conns) {
        GenSpec s;
        s.mode = m;
        s.remote_ip = kHostB;
        s.remote_port = port;
        s.conns = conns;
        s.locals[0] = kHostA;
        s.locals[1] = kHostAPrimary;
        s.local_count = 2;
        s.seed = 42;
        s.publish = &published_;
        return s;
    }

    void start(const GenSpec& s) {
        std::string why;
        ASSERT_TRUE(gen_.start_run(s, n_.now(), why)) << why;
        net().flush();
    }

    // One step of the worker loop (the link, the host routing A's events to
    // the generator, its poll), then the server.
    void step() {
        n_.step(Duration::micros(20));
        serve();
        net().flush();
    }

    bool run_until(const std::function<bool()>& pred, Duration limit) {
        const auto end = n_.now() + limit;
        while (n_.now() < end) {
            step();
            if (pred()) return true;
        }
        return pred();
    }

    GenReport report(std::size_t profile = 0) {
        GenReport r;
        gen_.report(profile, r, n_.now());
        return r;
    }
    GenPublished& published() { return published_; }
    GenPublished& published2() { return published2_; }

    bool finished() { return report().run == GenRun::finished; }

    Net& net() { return n_.net(); }
    Host& host() { return n_.host(); }
    Generator& gen() { return gen_; }

private:
    void serve() {
        for (const tcp::Event& e : net().take_events(Side::b)) {
            if (e.kind == EventKind::accepted) {
                ConnId c;
                while (net().b().accept(listener_, c) == 0) {
                    rr_[c.index] = RrConn{};
                    serve_conn(c);
                }
            } else if (e.kind == EventKind::readable || e.kind == EventKind::peer_closed ||
                       e.kind == EventKind::writable) {
                serve_conn(e.conn);
            } else if (e.kind == EventKind::reset || e.kind == EventKind::closed) {
                (void)net().b().close(e.conn, net().now());
            }
        }
    }

    void serve_conn(ConnId c) {
        auto& b = net().b();
        if (mode_ == Server::sink) return;
        for (;;) {
            tcp::ConnInfo ci;
            if (b.info(c, ci) != 0) return;
            const std::size_t room = std::min<std::size_t>(ci.send_space, buf_.size());
            if (room == 0) return;
            const std::int64_t n = b.recv(c, {buf_.data(), room}, net().now());
            if (n == -EAGAIN) return;
            if (n <= 0) {
                (void)b.close(c, net().now());
                return;
            }
            const auto len = static_cast<std::size_t>(n);
            if (mode_ == Server::http || mode_ == Server::http404) return http_reply(c);
            if (mode_ == Server::chunked) return chunked_reply(c);
            if (mode_ == Server::rr) {
                rr_serve(c, len);
                continue;
            }
            if (mode_ == Server::corrupt) buf_[len / 2] ^= 0x5a;
            (void)b.send(c, {buf_.data(), len}, net().now());
        }
    }

    // tcpfp's rr framing (apps/rr.hpp), enough of it for the tests: the
    // header asks for the response; the rest of the request is discarded.
    void rr_serve(ConnId c, std::size_t len) {
        RrConn& st = rr_[c.index];
        for (std::size_t i = 0; i < len; ++i) {
            if (st.header < 8) {
                st.hdr[st.header++] = buf_[i];
                if (st.header < 8) continue;
                const auto be = [&](int o) {
                    return std::uint32_t{st.hdr[o]} << 24 | std::uint32_t{st.hdr[o + 1]} << 16 |
                           std::uint32_t{st.hdr[o + 2]} << 8 | st.hdr[o + 3];
                };
                st.left = be(0) - 8;
                st.resp = be(4) & 0x7fffffffu;
                st.close = (be(4) >> 31) != 0;
            } else {
                --st.left;
            }
            if (st.header == 8 && st.left == 0) {
                std::vector<std::uint8_t> out(st.resp);
                fill_response_pattern(0, out);
                ASSERT_EQ(net().b().send(c, out, net().now()), static_cast<std::int64_t>(out.size()));
                if (st.close) (void)net().b().close(c, net().now());
                st = RrConn{};
            }
        }
    }

    void chunked_reply(ConnId c) {
        const std::string r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5;x=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: t\r\n\r\n";
        (void)net().b().send(c, {reinterpret_cast<const std::uint8_t*>(r.data()), r.size()}, net().now());
    }

    void http_reply(ConnId c) {
        const std::string r = mode_ == Server::http
                                  ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
                                  : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        (void)net().b().send(c, {reinterpret_cast<const std::uint8_t*>(r.data()), r.size()}, net().now());
        (void)net().b().close(c, net().now());
    }

    test::AppNet n_;
    Generator gen_;
    Server mode_;
    ConnId listener_;
    GenPublished published_, published2_;
    std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(65536);
    struct RrConn {
        std::uint8_t hdr[8] = {};
        std::uint32_t header = 0, left = 0, resp = 0;
        bool close = false;
    };
    std::map<std::uint32_t, RrConn> rr_;
};

std::uint64_t fails(const GenReport& r, GenFail f) { return r.c.fails[static_cast<std::size_t>(f)]; }
std::uint64_t errors(const GenReport& r, GenError e) {
    return r.c.error_kinds[static_cast<std::size_t>(e)];
}

TEST(GenPattern, AnySplitGivesTheSameStream) {
    std::vector<std::uint8_t> whole(1000), parts(1000);
    fill_pattern(7, 0, whole);
    std::size_t off = 0;
    for (std::size_t len : {1u, 3u, 8u, 13u, 100u, 875u}) {
        fill_pattern(7, off, {parts.data() + off, len});
        off += len;
    }
    EXPECT_EQ(whole, parts);
    std::vector<std::uint8_t> other(1000);
    fill_pattern(8, 0, other);
    EXPECT_NE(whole, other);  // per-connection seeds differ
}

TEST(Gen, RrVerifiedAgainstEcho) {
    GenPair p(Server::echo, 7);
    auto s = p.spec(GenMode::rr, 7, 4);
    s.request = 100;
    s.count = 500;
    s.verify = true;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    const auto r = p.report();
    EXPECT_GE(r.c.requests, 500u);
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_EQ(r.c.conns_opened, 4u);
    EXPECT_EQ(r.c.conns_failed, 0u);
    EXPECT_EQ(r.latency.count(), r.c.requests);
    EXPECT_GE(r.latency.percentile(0.5), 200u);  // two 100 us hops at least
    // Responses in flight when the count was reached are read before the
    // close (drained), never abandoned: every connection ends with our FIN.
    EXPECT_EQ(r.c.bytes_received, (r.c.requests + r.c.drained) * 100);
    EXPECT_EQ(r.c.closed_fin, 4u);
    EXPECT_EQ(r.c.drain_timeouts, 0u);
}

TEST(Gen, IsPolledOnlyWhileARunNeedsIt) {
    // An idle generator (every server's) costs its worker nothing per loop
    // iteration: polling starts with a run and stops once the last profile
    // has finished.
    GenPair p(Server::echo, 7);
    p.step();
    EXPECT_FALSE(p.host().polled(0));  // added polled; its first poll found nothing to do
    auto s = p.spec(GenMode::rr, 7, 2);
    s.count = 20;
    p.start(s);
    EXPECT_TRUE(p.host().polled(0));
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    p.step();
    EXPECT_FALSE(p.host().polled(0));
    EXPECT_GE(p.report().c.requests, 20u);
    p.start(s);  // a second run polls again and completes
    EXPECT_TRUE(p.host().polled(0));
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    EXPECT_GE(p.report().c.requests, 20u);
}

TEST(Gen, CrrClientClosesFirst) {
    GenPair p(Server::echo, 7);
    auto s = p.spec(GenMode::crr, 7, 2);
    s.count = 50;
    s.verify = true;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    p.run_until([] { return false; }, Duration::millis(50));
    const auto r = p.report();
    EXPECT_GE(r.c.requests, 50u);
    EXPECT_GE(r.c.conns_opened, 50u);
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_GE(p.net().a().time_wait_count(), 50u);  // the active closer keeps TIME_WAIT
    EXPECT_EQ(p.net().b().time_wait_count(), 0u);
    EXPECT_EQ(r.time_wait_local, p.net().a().time_wait_count());
}

TEST(Gen, VerifyCatchesACorruptedEcho) {
    GenPair p(Server::corrupt, 7);
    auto s = p.spec(GenMode::rr, 7, 1);
    s.count = 20;
    s.verify = true;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    const auto r = p.report();
    EXPECT_GE(errors(r, GenError::verify_mismatch), 20u);
    EXPECT_EQ(r.c.errors, errors(r, GenError::verify_mismatch));
}

TEST(Gen, BulkWithCountWaitsForTheVerifiedEcho) {
    GenPair p(Server::echo, 7);
    auto s = p.spec(GenMode::bulk, 7, 2);
    s.request = 1000;
    s.count = 300;
    s.verify = true;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    const auto r = p.report();
    EXPECT_GE(r.c.requests, 300u);
    EXPECT_GE(r.c.bytes_received, 300000u);
    EXPECT_EQ(r.c.bytes_received, r.c.bytes_sent);  // every sent byte came back, checked
    EXPECT_EQ(r.c.errors, 0u);
}

TEST(Gen, HttpCrrReadsTheWholeResponse) {
    GenPair p(Server::http, 80);
    auto s = p.spec(GenMode::crr, 80, 3);
    s.proto = GenProto::http;
    s.http_request = "GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
    s.keep_alive = false;
    s.closer = GenCloser::server;
    s.count = 30;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    const auto r = p.report();
    EXPECT_GE(r.c.requests, 30u);
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_EQ(r.c.conns_failed, 0u);
}

// A 404 is the server's answer, not the tester's error: counted in its
// class (the nginx e2e test compares these classes with the access log).
TEST(Gen, HttpStatusClassesAreCountedNotErrors) {
    GenPair p(Server::http404, 80);
    auto s = p.spec(GenMode::crr, 80, 1);
    s.proto = GenProto::http;
    s.http_request = "GET /missing HTTP/1.1\r\nHost: b\r\n\r\n";
    s.count = 20;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(5)));
    const auto r = p.report();
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_GE(r.c.requests, 20u);
    EXPECT_EQ(r.c.status[4], r.c.requests);
    EXPECT_EQ(r.c.status[2], 0u);
}

TEST(Gen, RefusedConnectionsPauseWithBackoff) {
    GenPair p(Server::echo, 7);
    auto s = p.spec(GenMode::crr, 5555, 2);  // nothing listens there
    s.duration_us = 1'000'000;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(5)));
    const auto r = p.report();
    EXPECT_EQ(r.c.conns_opened, 0u);
    EXPECT_EQ(fails(r, GenFail::refused), r.c.conns_failed);
    // 10, 20, 40, ... 640 ms between attempts: a handful per slot per second.
    EXPECT_GE(r.c.conns_failed, 2u * 5);
    EXPECT_LE(r.c.conns_failed, 2u * 10);
}

TEST(Gen, HoldKeepsConnectionsThenStopClosesThem) {
    GenPair p(Server::echo, 9);
    auto s = p.spec(GenMode::hold, 9, 300);
    s.syn_window = 32;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 300; }, Duration::seconds(10)));
    EXPECT_EQ(p.report().run, GenRun::running);
    p.gen().stop_run(p.net().now());
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 0; }, Duration::seconds(5)));
    p.run_until([] { return false; }, Duration::millis(100));
    EXPECT_EQ(p.report().c.conns_failed, 0u);
    EXPECT_LE(p.net().a().connection_count(), 0u);  // every socket handed back (TIME_WAITs only)
}

// The end of a run closes nothing while the worker reports frames waiting
// for a full TX ring (Stack::link_backlog): a million FINs at once would
// be dropped there and come back as a retransmission storm (bench.sh's 1M
// hold run: 1.6M frames lost to the ring, 1.9M retransmissions). Once the
// ring drains, the closes go on. Past the drain deadline plus 10 s they go
// on regardless (a link that never drains must not keep the run alive).
TEST(Gen, ClosesWaitWhileTheLinkHasABacklog) {
    GenPair p(Server::echo, 9);
    auto s = p.spec(GenMode::hold, 9, 100);
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 100; }, Duration::seconds(10)));
    p.host().set_link_backlog(5);
    p.gen().stop_run(p.net().now());
    p.run_until([] { return false; }, Duration::millis(500));
    EXPECT_EQ(p.report().active, 100u) << "no FIN while the ring is full";
    p.host().set_link_backlog(0);
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 0; }, Duration::seconds(5)));
    EXPECT_EQ(p.report().c.closed_fin, 100u);

    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 100; }, Duration::seconds(10)));
    p.host().set_link_backlog(5);
    p.gen().stop_run(p.net().now());
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 0; }, Duration::seconds(15)))
        << "a backlog that never clears holds the closes 10 s past the drain deadline, no longer";
}

// The 1M close of issue 16 at unit scale: closing every held connection at
// once sent a FIN each, and the server's answers overran its TX ring. The
// end-of-run closes keep at most close_window FINs unanswered (the client's
// FIN_WAIT_1, CLOSING and LAST_ACK), and all of them still close.
TEST(Gen, EndOfRunClosesKeepAtMostTheCloseWindowUnanswered) {
    GenPair p(Server::echo, 9);
    auto s = p.spec(GenMode::hold, 9, 200);
    s.close_window = 16;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 200; }, Duration::seconds(10)));
    auto unanswered = [&] {
        const tcp::Counters& c = p.net().a().counters();
        return c.in_state(tcp::State::fin_wait_1) + c.in_state(tcp::State::closing) +
               c.in_state(tcp::State::last_ack);
    };
    p.gen().stop_run(p.net().now());
    std::uint64_t most = unanswered();
    ASSERT_TRUE(p.run_until(
        [&] {
            most = std::max(most, unanswered());
            return p.finished() && unanswered() == 0;
        },
        Duration::seconds(5)));
    EXPECT_LE(most, 16u);
    EXPECT_GE(most, 8u) << "the window is used, not one close at a time";
    const GenReport r = p.report();
    EXPECT_EQ(r.c.closed_fin, 200u);
    EXPECT_EQ(r.c.drain_timeouts, 0u);
    EXPECT_EQ(p.net().a().counters().in_state(tcp::State::time_wait), 200u) << "every close completed";
}

TEST(Gen, HoldWithASizeSendsItOnceAndTheServerHoldsAChunkPerConnection) {
    // Issue 16's "1M connections with data in flight" at unit scale: each
    // held connection's 64 bytes sit unread in the server's receive buffer,
    // one 2 KiB chunk each, not a whole SO_RCVBUF.
    GenPair p(Server::sink, 9);
    auto s = p.spec(GenMode::hold, 9, 200);
    s.hold_bytes = s.request = 64;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 200; }, Duration::seconds(10)));
    p.run_until([] { return false; }, Duration::millis(300));  // the bytes arrive and are ACKed
    const GenReport r = p.report();
    EXPECT_EQ(r.c.bytes_sent, 200u * 64);
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_EQ(p.net().b().buffers_in_use(), 200u) << "one chunk per connection holding 64 bytes";
    EXPECT_EQ(p.net().a().buffers_in_use(), 0u) << "acknowledged: nothing left to send";
    p.gen().stop_run(p.net().now());
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 0; }, Duration::seconds(5)));
}

// Issue 16's 1M goal at unit scale: hold with proto rr sends one request
// (64 B asking for 1 KB) on each connection and leaves each response unread
// in the client's receive buffer, while the peer's FIN is still seen.
TEST(Gen, HoldWithProtoRrLeavesEachResponseUnreadAtTheClient) {
    GenPair p(Server::rr, 5001);
    auto s = p.spec(GenMode::hold, 5001, 100);
    s.proto = GenProto::rr;
    s.request = s.hold_bytes = 64;
    s.response = 1024;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 100; }, Duration::seconds(10)));
    p.run_until([] { return false; }, Duration::millis(300));  // the responses arrive
    const GenReport r = p.report();
    EXPECT_EQ(r.c.bytes_sent, 100u * 64);
    EXPECT_EQ(r.c.bytes_received, 0u) << "nothing read";
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_EQ(p.net().a().buffers_in_use(), 100u) << "each 1 KB response queued at the client: one 2 KiB chunk";
    EXPECT_EQ(p.net().b().buffers_in_use(), 0u) << "each response acknowledged";
    p.gen().stop_run(p.net().now());
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 0; }, Duration::seconds(5)));
    EXPECT_EQ(p.report().c.closed_fin, 100u);
}

// --- the load tester (issue 15) ---------------------------------------------------

tcp::EngineConfig roomy() {
    tcp::EngineConfig c = tcp::test::test_config();
    c.max_connections = 4096;
    c.max_time_wait = 16384;
    return c;
}

// The pacer's schedule held over 2 s of virtual time: what started is
// within 1 % of rate x 2 s, and what completed close behind it.
void expect_rate(GenMode mode, double rate, std::uint32_t conns, std::uint32_t pipeline) {
    GenPair p(Server::echo, 7, roomy());
    auto s = p.spec(mode, 7, conns);
    s.rate = rate;
    s.pipeline = pipeline;
    s.duration_us = 2'000'000;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(10)));
    const auto r = p.report();
    const double want = rate * 2;
    SCOPED_TRACE(std::string(to_string(mode)) + " at " + std::to_string(rate) + "/s");
    EXPECT_NEAR(static_cast<double>(r.started), want, want / 100);
    EXPECT_NEAR(static_cast<double>(mode == GenMode::rr ? r.c.requests : r.c.conns_opened), want, want / 100);
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_EQ(r.c.conns_failed, 0u);
    EXPECT_LE(r.spread_max, static_cast<std::uint64_t>(rate / 1000) + 2);  // never bursty
}

TEST(GenRate, CrrAt1kPerSecond) { expect_rate(GenMode::crr, 1000, 16, 1); }
TEST(GenRate, RrAt50kPerSecond) { expect_rate(GenMode::rr, 50000, 32, 1); }
TEST(GenRate, RrAt500kPerSecond) { expect_rate(GenMode::rr, 500000, 64, 8); }

// A 1 s linear ramp to 20k/s: half the rate's worth in the first second,
// all of it in the second (each second's count as the workers publish it).
TEST(GenRate, RampIsLinear) {
    GenPair p(Server::echo, 7, roomy());
    auto s = p.spec(GenMode::rr, 7, 32);
    s.rate = 20000;
    s.ramp_us = 1'000'000;
    s.duration_us = 2'000'000;
    p.start(s);
    GenSecond s1, s2;
    HdrHistogram h;
    ASSERT_TRUE(p.run_until([&] { return p.published().get_second(1, s1, h); }, Duration::seconds(3)));
    ASSERT_TRUE(p.run_until([&] { return p.published().get_second(2, s2, h); }, Duration::seconds(3)));
    EXPECT_NEAR(static_cast<double>(s1.requests), 10000, 100);
    EXPECT_NEAR(static_cast<double>(s2.requests - s1.requests), 20000, 200);
    EXPECT_NEAR(static_cast<double>(s1.target_milli) / 1000, 20000, 100);  // the ramp's top at t = 1 s
}

// conns caps concurrency: a connection rate the cap cannot carry is missed
// (counted), never exceeded.
TEST(GenRate, ConcurrencyCapHolds) {
    GenPair p(Server::echo, 7, roomy());
    auto s = p.spec(GenMode::hold, 7, 50);
    s.rate = 10000;
    s.duration_us = 500'000;
    p.start(s);
    std::uint64_t most = 0;
    p.run_until([&] {
        most = std::max(most, p.report().active);
        return p.finished();
    }, Duration::seconds(5));
    const auto r = p.report();
    EXPECT_EQ(most, 50u);
    EXPECT_EQ(r.c.conns_opened, 50u);
    EXPECT_GT(r.c.rate_missed, 4000u);  // 5000 due, 50 started
}

// proto rr: 100-byte requests ask for 16 KB responses; each byte checked.
TEST(GenSizes, RequestAndResponseDiffer) {
    GenPair p(Server::rr, 5001);
    auto s = p.spec(GenMode::rr, 5001, 4);
    s.proto = GenProto::rr;
    s.request = 100;
    s.response = 16384;
    s.count = 200;
    s.verify = true;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    const auto r = p.report();
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_GE(r.c.requests, 200u);
    EXPECT_EQ(r.c.bytes_sent, (r.c.requests + r.c.drained) * 100);
    EXPECT_EQ(r.c.bytes_received, (r.c.requests + r.c.drained) * 16384);
    EXPECT_EQ(r.first_byte.count(), r.c.requests + r.c.drained);
    EXPECT_LE(r.first_byte.percentile(0.5), r.latency.percentile(0.5));
}

// closer server with the rr framing: the server's FIN ends each crr
// connection, and the TIME_WAIT is the server's.
TEST(GenSizes, ServerClosesFirst) {
    GenPair p(Server::rr, 5001);
    auto s = p.spec(GenMode::crr, 5001, 2);
    s.proto = GenProto::rr;
    s.request = 8;
    s.response = 10;
    s.closer = GenCloser::server;
    s.count = 40;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    p.run_until([] { return false; }, Duration::millis(50));
    const auto r = p.report();
    EXPECT_EQ(r.c.errors, 0u);
    // Every close was the server's, the last one's too (after the count).
    EXPECT_EQ(r.c.closed_by_server, r.c.conns_opened);
    EXPECT_EQ(r.c.closed_fin + r.c.closed_rst, 0u);
    EXPECT_GE(p.net().b().time_wait_count(), 40u);
    EXPECT_EQ(p.net().a().time_wait_count(), 0u);
}

// A chunked response (extensions, trailers) read to its end, its body
// checked against a sha256; pipelined on keep-alive connections.
TEST(GenHttp, ChunkedBodyDigestAndPipelining) {
    GenPair p(Server::chunked, 80);
    auto s = p.spec(GenMode::rr, 80, 2);
    s.proto = GenProto::http;
    s.http_request = "GET /chunked HTTP/1.1\r\nHost: b\r\n\r\n";
    s.pipeline = 4;
    s.count = 100;
    s.check_digest = true;
    Sha256 d;
    d.update(reinterpret_cast<const std::uint8_t*>("hello world"), 11);
    s.digest = d.finish();
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    const auto r = p.report();
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_GE(r.c.requests, 100u);
    EXPECT_EQ(r.c.conns_opened, 2u);  // keep-alive
    EXPECT_EQ(r.c.status[2], r.c.requests + r.c.drained);
    // A digest that does not match is an error per response.
    GenPair q(Server::chunked, 80);
    auto t = s;
    t.publish = nullptr;
    t.digest[0] ^= 1;
    t.count = 10;
    q.start(t);
    ASSERT_TRUE(q.run_until([&] { return q.finished(); }, Duration::seconds(20)));
    EXPECT_GE(errors(q.report(), GenError::digest_mismatch), 10u);
}

// The end of a duration with requests in flight: each response is read,
// then FIN. Neither engine sees data for a closed socket or sends an RST.
TEST(GenClose, DurationEndDrainsThenFin) {
    GenPair p(Server::echo, 7);
    auto s = p.spec(GenMode::rr, 7, 16);
    s.request = 2000;
    s.duration_us = 300'000;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(5)));
    p.run_until([] { return false; }, Duration::millis(100));
    const auto r = p.report();
    EXPECT_EQ(r.c.closed_fin, 16u);
    EXPECT_EQ(r.c.drain_timeouts, 0u);
    EXPECT_GT(r.c.drained, 0u);
    for (tcp::test::Side side : {Side::a, Side::b}) {
        const auto& e = side == Side::a ? p.net().a() : p.net().b();
        EXPECT_EQ(e.counters().mib[static_cast<std::size_t>(tcp::Mib::out_rsts)], 0u);
        EXPECT_EQ(e.counters().drops[static_cast<std::size_t>(tcp::Drop::orphan_data)], 0u);
    }
}

// close rst: each crr connection ends with the client's RST; none in TIME_WAIT.
TEST(GenClose, RstClose) {
    GenPair p(Server::echo, 7);
    auto s = p.spec(GenMode::crr, 7, 2);
    s.close_rst = true;
    s.count = 30;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    const auto r = p.report();
    // Each transaction's close was an RST; the end of the run closes
    // with FIN whatever `close` says (the last connection).
    EXPECT_GE(r.c.closed_rst, 29u);
    EXPECT_EQ(r.c.closed_rst + r.c.closed_fin, r.c.conns_opened);
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_EQ(p.net().a().time_wait_count(), 0u);
}

// think: one connection, 20 ms between a response and the next request.
TEST(GenRate, ThinkTimeSpacesRequests) {
    GenPair p(Server::echo, 7);
    auto s = p.spec(GenMode::rr, 7, 1);
    s.think_us = 20'000;
    s.duration_us = 1'000'000;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(5)));
    const auto r = p.report();
    EXPECT_GE(r.c.requests, 45u);  // 1 s / (20 ms + a round trip)
    EXPECT_LE(r.c.requests, 50u);
}

// Two profiles at once on one generator: each counts only its own.
TEST(GenProfiles, TwoProfilesDoNotMix) {
    GenPair p(Server::echo, 7);
    auto a = p.spec(GenMode::rr, 7, 3);
    a.request = 10;
    a.count = 300;
    auto b = p.spec(GenMode::crr, 7, 2);
    b.request = 1000;
    b.count = 40;
    b.publish = &p.published2();
    std::string why;
    ASSERT_TRUE(p.gen().start_run(0, a, p.net().now(), why)) << why;
    ASSERT_TRUE(p.gen().start_run(1, b, p.net().now(), why)) << why;
    ASSERT_TRUE(p.run_until([&] { return p.finished() && p.report(1).run == GenRun::finished; },
                            Duration::seconds(20)));
    const auto ra = p.report(0), rb = p.report(1);
    EXPECT_EQ(ra.c.conns_opened, 3u);
    EXPECT_GE(rb.c.conns_opened, 40u);
    EXPECT_EQ(ra.c.bytes_received, (ra.c.requests + ra.c.drained) * 10);
    EXPECT_EQ(rb.c.bytes_received, (rb.c.requests + rb.c.drained) * 1000);
    EXPECT_EQ(ra.c.errors + rb.c.errors, 0u);
    EXPECT_EQ(ra.latency.count(), ra.c.requests);
    EXPECT_EQ(rb.latency.count(), rb.c.requests);
}

// Per-profile TCP knobs reach the SYN: SACK and timestamps off, MSS 536.
TEST(GenProfiles, SocketOptionsApply) {
    GenPair p(Server::echo, 7);
    auto s = p.spec(GenMode::hold, 7, 1);
    s.options.sack = 0;
    s.options.timestamps = 0;
    s.options.window_scale = 0;
    s.options.max_segment = 536;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.report().active == 1; }, Duration::seconds(2)));
    p.run_until([] { return false; }, Duration::millis(10));  // B's side of the handshake
    bool seen = false;
    p.net().b().for_each_connection([&](tcp::ConnId c, const tcp::Tcb&) {
        tcp::ConnInfo ci;
        ASSERT_EQ(p.net().b().info(c, ci), 0);
        if (ci.state != tcp::State::established) return;
        seen = true;
        EXPECT_FALSE(ci.sack_ok);
        EXPECT_FALSE(ci.ts_ok);
        EXPECT_EQ(ci.snd_wscale, 0);
        EXPECT_LE(ci.snd_mss, 536);
    });
    EXPECT_TRUE(seen);
}

// The prompt's publication blocks die with the prompt while the workers
// still run their stop time (memif_link saw a surviving client crash at
// exit, writing into the freed blocks while it drained): after detach()
// a profile that still runs or drains never writes to them again.
TEST(GenProfiles, DetachedProfilesPublishNothing) {
    GenPair p(Server::echo, 7);
    auto s = p.spec(GenMode::rr, 7, 4);
    s.duration_us = 300'000;
    p.start(s);
    p.run_until([] { return false; }, Duration::millis(50));
    const std::uint64_t before = p.published().requests.load();
    EXPECT_GT(before, 0u);
    p.gen().detach();
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(5)));
    EXPECT_GT(p.report().c.requests, before);  // it went on running
    EXPECT_EQ(p.published().requests.load(), before);
    EXPECT_EQ(p.published().run.load(), static_cast<std::uint8_t>(GenRun::running));
}

}  // namespace
}  // namespace tcpfp::app
