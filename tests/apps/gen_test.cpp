// The traffic generator (dpdk_app/apps/gen.cpp, an app) on a Host over
// engine A of the tests/engine harness link, engine B playing the server:
// echo, HTTP and misbehaving servers, failures and their pauses, plus the
// histogram and the verify pattern on their own.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "apps/app_harness.hpp"
#include "dpdk_app/apps/gen.hpp"

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

enum class Server { echo, corrupt, http, http404 };

// Engine A runs the generator on a Host; engine B plays the server.
class GenPair {
public:
    GenPair(Server mode, std::uint16_t port) : gen_(0), mode_(mode) {
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

    GenReport report() {
        GenReport r;
        gen_.report(r, n_.now());
        return r;
    }

    bool finished() { return report().run == GenRun::finished; }

    Net& net() { return n_.net(); }
    Host& host() { return n_.host(); }
    Generator& gen() { return gen_; }

private:
    void serve() {
        for (const tcp::Event& e : net().take_events(Side::b)) {
            if (e.kind == EventKind::accepted) {
                ConnId c;
                while (net().b().accept(listener_, c) == 0) serve_conn(c);
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
            if (mode_ == Server::corrupt) buf_[len / 2] ^= 0x5a;
            (void)b.send(c, {buf_.data(), len}, net().now());
        }
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
    GenPublished published_;
    std::vector<std::uint8_t> buf_ = std::vector<std::uint8_t>(65536);
};

std::uint64_t fails(const GenReport& r, GenFail f) { return r.c.fails[static_cast<std::size_t>(f)]; }
std::uint64_t errors(const GenReport& r, GenError e) {
    return r.c.error_kinds[static_cast<std::size_t>(e)];
}

TEST(GenHistogram, BucketsAreContiguousAndPercentilesClose) {
    for (std::size_t b = 0; b + 1 < LatencyHistogram::kBuckets; ++b) {
        ASSERT_EQ(LatencyHistogram::lower(b) + LatencyHistogram::width(b), LatencyHistogram::lower(b + 1))
            << "bucket " << b;
        ASSERT_EQ(LatencyHistogram::bucket(LatencyHistogram::lower(b)), b);
    }
    LatencyHistogram h;
    for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v);
    EXPECT_EQ(h.count(), 10000u);
    EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 5000.0, 5000.0 / 16);
    EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 9900.0, 9900.0 / 16);
    LatencyHistogram small;
    small.record(7);
    EXPECT_EQ(small.percentile(0.5), 7u);  // exact below 32 us
    EXPECT_EQ(LatencyHistogram().percentile(0.99), 0u);
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
    s.size = 100;
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
    EXPECT_EQ(r.c.bytes_received, r.c.requests * 100);
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
    s.size = 1000;
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
    s.http = true;
    s.count = 30;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(20)));
    const auto r = p.report();
    EXPECT_GE(r.c.requests, 30u);
    EXPECT_EQ(r.c.errors, 0u);
    EXPECT_EQ(r.c.conns_failed, 0u);
}

TEST(Gen, HttpErrorStatusIsAnError) {
    GenPair p(Server::http404, 80);
    auto s = p.spec(GenMode::crr, 80, 1);
    s.http = true;
    s.duration_us = 300'000;
    p.start(s);
    ASSERT_TRUE(p.run_until([&] { return p.finished(); }, Duration::seconds(5)));
    const auto r = p.report();
    EXPECT_GT(errors(r, GenError::bad_response), 0u);
    EXPECT_EQ(r.c.requests, 0u);
    EXPECT_LT(r.c.conns_opened, 40u);  // paused after each bad response, no busy loop
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

}  // namespace
}  // namespace tcpfp::app
