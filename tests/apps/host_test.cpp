// The app host (dpdk_app/apps/host.cpp) on an in-memory engine: who gets
// which event, what an accepted connection inherits, events posted by an
// app's own calls, stale handles, and the zero-copy receive.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "apps/app_harness.hpp"

namespace tcpfp::app {
namespace {

using tcp::test::kHostA;
using tcp::test::kHostB;

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Records every event it gets; optional hooks act on them.
class Recorder : public App {
public:
    explicit Recorder(std::uint16_t port = 0, std::uintptr_t context = 0)
        : port_(port), context_(context) {}
    const char* name() const override { return "recorder"; }
    void start(Stack& s, Instant now) override {
        stack = &s;
        if (port_ != 0) {
            EXPECT_EQ(s.listen({}, port_, 16, listener, context_), 0);
        }
        if (on_start) on_start(s, now);
    }
    void on_events(Stack& s, std::span<const AppEvent> events, Instant now) override {
        ++batches;
        for (const AppEvent& e : events) {
            seen.push_back(e);
            contexts.push_back(s.context(e.conn));
            if (on_event) on_event(s, e, now);
        }
    }
    bool saw(ConnId c, EventKind k) const {
        for (const AppEvent& e : seen) {
            if (e.conn == c && e.kind == k) return true;
        }
        return false;
    }
    std::vector<ConnId> accepted() const {
        std::vector<ConnId> v;
        for (const AppEvent& e : seen) {
            if (e.kind == EventKind::accepted) v.push_back(e.conn);
        }
        return v;
    }

    Stack* stack = nullptr;
    ConnId listener;
    std::vector<AppEvent> seen;
    std::vector<std::uintptr_t> contexts;
    unsigned batches = 0;
    std::function<void(Stack&, Instant)> on_start;
    std::function<void(Stack&, const AppEvent&, Instant)> on_event;

private:
    std::uint16_t port_;
    std::uintptr_t context_;
};

// The peer (engine B) opens a connection to A's port and may send a line.
ConnId peer_connect(test::AppNet& n, std::uint16_t port, const std::string& line = {}) {
    ConnId c;
    tcp::ConnectParams p;
    p.local_ip = kHostB;
    p.remote_ip = kHostA;
    p.remote_port = port;
    EXPECT_EQ(n.peer().connect(p, n.now(), c), 0);
    n.net().flush();
    EXPECT_TRUE(n.run_until([&] { return n.peer().state(c) == tcp::State::established; }));
    if (!line.empty()) {
        EXPECT_EQ(n.peer().send(c, bytes(line), n.now()), static_cast<std::int64_t>(line.size()));
        n.net().flush();
    }
    return c;
}

TEST(AppHost, AcceptedConnectionInheritsTheListenersAppAndContext) {
    test::AppNet n;
    Recorder echo(7, 0xa7), other(9, 0x99);
    n.add(echo);
    n.add(other);
    n.start();
    peer_connect(n, 7, "hello");
    ASSERT_TRUE(n.run_until([&] { return echo.seen.size() >= 2; }));

    ASSERT_EQ(echo.accepted().size(), 1u);
    const ConnId child = echo.accepted()[0];
    EXPECT_EQ(echo.seen[0].listener, echo.listener);
    EXPECT_EQ(echo.contexts[0], 0xa7u);
    EXPECT_TRUE(echo.stack->owns(child));
    EXPECT_FALSE(other.stack->owns(child));
    EXPECT_EQ(n.host().owner_of(child), &echo);
    EXPECT_TRUE(echo.saw(child, EventKind::readable));
    EXPECT_EQ(echo.stack->recv_available(child), 5u);
    EXPECT_TRUE(other.seen.empty());
    EXPECT_EQ(n.host().counters().unowned, 0u);
}

TEST(AppHost, DataThatCameWithTheHandshakeIsAnnouncedAfterAccepted) {
    test::AppNet n;
    Recorder app(7);
    n.add(app);
    n.start();
    // The peer's first data and FIN reach A before the host runs: the engine
    // posted no readable for a socket nobody had accepted yet.
    ConnId c;
    tcp::ConnectParams p;
    p.local_ip = kHostB;
    p.remote_ip = kHostA;
    p.remote_port = 7;
    ASSERT_EQ(n.peer().connect(p, n.now(), c), 0);
    n.net().flush();
    n.net().run_until([&] { return n.peer().state(c) == tcp::State::established; });
    ASSERT_EQ(n.peer().send(c, bytes("early"), n.now()), 5);
    ASSERT_EQ(n.peer().shutdown(c, tcp::Shutdown::wr, n.now()), 0);
    n.net().flush();
    n.net().run_for(tcp::Duration::millis(5));
    n.step();

    ASSERT_EQ(app.seen.size(), 3u);
    EXPECT_EQ(app.seen[0].kind, EventKind::accepted);
    EXPECT_EQ(app.seen[1].kind, EventKind::readable);
    EXPECT_EQ(app.seen[2].kind, EventKind::peer_closed);
    EXPECT_EQ(app.stack->recv_available(app.seen[0].conn), 5u);
}

TEST(AppHost, TwoAppsOnOneEngineSeeOnlyTheirOwnEvents) {
    test::AppNet n;
    Recorder a(7), b(9);
    n.add(a);
    n.add(b);
    n.start();
    for (int i = 0; i < 3; ++i) {
        peer_connect(n, 7, "to a");
        peer_connect(n, 9, "to b");
    }
    ASSERT_TRUE(n.run_until([&] { return a.accepted().size() == 3 && b.accepted().size() == 3; }));
    n.run_until([] { return false; }, tcp::Duration::millis(10));

    for (const AppEvent& e : a.seen) EXPECT_TRUE(a.stack->owns(e.conn));
    for (const AppEvent& e : b.seen) EXPECT_TRUE(b.stack->owns(e.conn));
    for (const ConnId c : a.accepted()) EXPECT_EQ(n.host().owner_of(c), &a);
    for (const ConnId c : b.accepted()) EXPECT_EQ(n.host().owner_of(c), &b);
    EXPECT_EQ(n.host().counters().unowned, 0u);
    EXPECT_EQ(n.host().counters().routed, a.seen.size() + b.seen.size());
}

// Counts its poll() calls; after `polls_left` of them it stops its own polling.
class Pacer : public App {
public:
    const char* name() const override { return "pacer"; }
    void start(Stack& s, Instant) override { stack = &s; }
    void on_events(Stack&, std::span<const AppEvent>, Instant) override {}
    void poll(Stack& s, Instant) override {
        ++polls;
        if (polls_left > 0 && --polls_left == 0) s.set_polled(false);
    }
    Stack* stack = nullptr;
    unsigned polls = 0;
    unsigned polls_left = 0;  // 0: never stops by itself
};

TEST(AppHost, OnlyPolledAppsArePolledAndEachTurnsItsOwnPollingOnAndOff) {
    // An idle app must cost the worker's loop nothing: the host polls only
    // the apps that asked (Host::add's `poll`, Stack::set_polled).
    test::AppNet n;
    Pacer quiet, busy, finite;
    finite.polls_left = 3;
    n.add(quiet);
    n.add(busy, true);
    n.add(finite, true);
    n.start();
    for (int i = 0; i < 10; ++i) n.step();
    EXPECT_EQ(quiet.polls, 0u);
    EXPECT_EQ(busy.polls, 10u);
    EXPECT_EQ(finite.polls, 3u);  // turned itself off in its third poll
    EXPECT_FALSE(n.host().polled(0));
    EXPECT_TRUE(n.host().polled(1));
    EXPECT_FALSE(n.host().polled(2));

    quiet.stack->set_polled(true);  // e.g. a command started its work
    busy.stack->set_polled(false);
    for (int i = 0; i < 5; ++i) n.step();
    EXPECT_EQ(quiet.polls, 5u);
    EXPECT_EQ(busy.polls, 10u);
    EXPECT_EQ(finite.polls, 3u);
}

TEST(AppHost, EventsPostedByAnAppsOwnCallGoBackToThatApp) {
    // shutdown(wr) in SYN-SENT ends the connection inside the call: the
    // engine posts `closed` then. It must reach the app that called, not
    // whichever app happens to read the engine's events.
    test::AppNet n;
    Recorder services(7), gen;
    n.add(services);
    n.add(gen);
    ConnId c;
    gen.on_start = [&](Stack& s, Instant now) {
        tcp::ConnectParams p;
        p.local_ip = kHostA;
        p.remote_ip = kHostB;
        p.remote_port = 5002;
        ASSERT_EQ(s.connect(p, now, c, 0x6e), 0);
        EXPECT_EQ(s.state(c), tcp::State::syn_sent);
        ASSERT_EQ(s.shutdown(c, tcp::Shutdown::wr, now), 0);
    };
    n.start();
    n.step();

    ASSERT_EQ(gen.seen.size(), 1u);
    EXPECT_EQ(gen.seen[0].conn, c);
    EXPECT_EQ(gen.seen[0].kind, EventKind::closed);
    EXPECT_EQ(gen.contexts[0], 0x6eu);
    EXPECT_TRUE(services.seen.empty());
    EXPECT_EQ(gen.stack->close(c, n.now()), 0);
    EXPECT_FALSE(gen.stack->owns(c));
}

TEST(AppHost, EventsPostedWhileAnAppRunsAreRoutedInTheSameDispatch) {
    // The app aborts inside on_events; an app's writes draw events that the
    // host picks up in its next pass of the same dispatch() call.
    test::AppNet n;
    Recorder app(7), client;
    n.add(app);
    n.add(client);
    ConnId out;
    app.on_event = [&](Stack& s, const AppEvent& e, Instant now) {
        if (e.kind != EventKind::accepted) return;
        tcp::ConnectParams p;
        p.local_ip = kHostA;
        p.remote_ip = kHostB;
        p.remote_port = 1;
        ASSERT_EQ(s.connect(p, now, out), 0);
        ASSERT_EQ(s.shutdown(out, tcp::Shutdown::wr, now), 0);  // posts `closed` now
    };
    n.start();
    peer_connect(n, 7);
    ASSERT_TRUE(n.run_until([&] { return app.saw(out, EventKind::closed); }));
    EXPECT_TRUE(client.seen.empty());
}

TEST(AppHost, AStaleHandleAfterCloseIsNeitherOwnedNorUsable) {
    test::AppNet n;
    Recorder app(7, 0x70);
    n.add(app);
    n.start();
    peer_connect(n, 7);
    ASSERT_TRUE(n.run_until([&] { return app.accepted().size() == 1; }));
    const ConnId first = app.accepted()[0];
    app.stack->set_context(first, 0x1111);
    EXPECT_EQ(app.stack->context(first), 0x1111u);
    ASSERT_EQ(app.stack->abort(first, n.now()), 0);

    EXPECT_FALSE(app.stack->owns(first));
    EXPECT_EQ(app.stack->context(first), 0u);
    EXPECT_EQ(app.stack->close(first, n.now()), -EBADF);
    EXPECT_EQ(n.host().owner_of(first), nullptr);

    // The engine reuses the slot (its pool is LIFO) under a new generation.
    peer_connect(n, 7, "again");
    ASSERT_TRUE(n.run_until([&] { return app.accepted().size() == 2; }));
    const ConnId second = app.accepted()[1];
    EXPECT_EQ(second.index, first.index);
    EXPECT_NE(second.generation, first.generation);
    app.stack->set_context(first, 0x2222);  // through the stale handle: ignored
    EXPECT_EQ(app.stack->context(second), 0x70u);
    EXPECT_TRUE(app.stack->owns(second));
    EXPECT_FALSE(app.stack->owns(first));
}

TEST(AppHost, CloseAndAbortRefuseAnotherAppsConnection) {
    test::AppNet n;
    Recorder owner(7), thief;
    n.add(owner);
    n.add(thief);
    n.start();
    peer_connect(n, 7);
    ASSERT_TRUE(n.run_until([&] { return owner.accepted().size() == 1; }));
    const ConnId c = owner.accepted()[0];
    EXPECT_EQ(thief.stack->close(c, n.now()), -EBADF);
    EXPECT_EQ(thief.stack->abort(c, n.now()), -EBADF);
    EXPECT_EQ(owner.stack->state(c), tcp::State::established);
}

// A zero-copy echo: bytes go from the receive ring's spans straight into
// send(), and consume() releases what was sent.
class ViewEcho : public Handlers<ViewEcho> {
public:
    const char* name() const override { return "view-echo"; }
    void start(Stack& s, Instant) override { EXPECT_EQ(s.listen({}, 7, 16, listener), 0); }
    void on_readable(Stack& s, ConnId c, Instant now) { pump(s, c, now); }
    void on_writable(Stack& s, ConnId c, Instant now) { pump(s, c, now); }
    void on_peer_closed(Stack& s, ConnId c, Instant now) { pump(s, c, now); }
    void pump(Stack& s, ConnId c, Instant now) {
        for (;;) {
            std::span<const std::uint8_t> a, b;
            const std::int64_t n = s.recv_view(c, a, b);
            if (n == 0) {  // end of stream
                (void)s.close(c, now);
                return;
            }
            if (n < 0) return;
            ++views;
            if (!b.empty()) ++wrapped;
            std::size_t sent = 0;
            for (auto part : {a, b}) {
                if (part.empty()) continue;
                const std::int64_t w = s.send(c, part, now);
                if (w <= 0) break;
                sent += static_cast<std::size_t>(w);
                if (static_cast<std::size_t>(w) < part.size()) break;
            }
            if (sent == 0) return;
            ASSERT_EQ(s.consume(c, sent, now), static_cast<std::int64_t>(sent));
        }
    }
    ConnId listener;
    unsigned views = 0, wrapped = 0;
};

TEST(AppHost, ZeroCopyEchoReturnsEveryByteInOrder) {
    tcp::EngineConfig small = tcp::test::test_config();
    small.buffer_size = 16 * 1024;  // small rings wrap often
    test::AppNet n(small);
    ViewEcho echo;
    n.add(echo);
    n.start();
    const ConnId c = peer_connect(n, 7);
    std::vector<std::uint8_t> out(1 << 20), in;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    std::size_t sent = 0;
    std::vector<std::uint8_t> buf(65536);
    bool eof = false;
    ASSERT_TRUE(n.run_until(
        [&] {
            if (sent < out.size()) {
                const std::int64_t w = n.peer().send(c, std::span(out).subspan(sent), n.now());
                if (w > 0) sent += static_cast<std::size_t>(w);
                if (sent == out.size()) (void)n.peer().shutdown(c, tcp::Shutdown::wr, n.now());
            }
            for (;;) {
                const std::int64_t r = n.peer().recv(c, buf, n.now());
                if (r > 0) in.insert(in.end(), buf.begin(), buf.begin() + r);
                if (r == 0) eof = true;
                if (r <= 0) break;
            }
            n.net().flush();
            return eof;
        },
        tcp::Duration::seconds(60)));
    EXPECT_EQ(in, out);
    EXPECT_GT(echo.wrapped, 0u);
    // Once the peer's ACKs arrive, the echo side holds no buffer.
    EXPECT_TRUE(n.run_until([&] { return n.net().a().buffers_in_use() == 0; }));
}

TEST(EngineRecvView, ConsumeBeyondTheViewIsRefusedAndEndOfStreamReadsZero) {
    test::AppNet n;
    Recorder app(7);
    n.add(app);
    n.start();
    const ConnId peer = peer_connect(n, 7, "abc");
    ASSERT_TRUE(n.run_until([&] { return !app.accepted().empty() && app.stack->recv_available(app.accepted()[0]) == 3; }));
    const ConnId c = app.accepted()[0];
    std::span<const std::uint8_t> a, b;
    ASSERT_EQ(app.stack->recv_view(c, a, b), 3);
    EXPECT_EQ(std::string(a.begin(), a.end()), "abc");
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(app.stack->consume(c, 4, n.now()), -EINVAL);
    EXPECT_EQ(app.stack->consume(c, 2, n.now()), 2);
    ASSERT_EQ(app.stack->recv_view(c, a, b), 1);
    EXPECT_EQ(a[0], 'c');
    EXPECT_EQ(app.stack->consume(c, 1, n.now()), 1);
    EXPECT_EQ(app.stack->recv_view(c, a, b), -EAGAIN);
    ASSERT_EQ(n.peer().shutdown(peer, tcp::Shutdown::wr, n.now()), 0);
    n.net().flush();
    ASSERT_TRUE(n.run_until([&] { return app.stack->peer_closed(c); }));
    EXPECT_EQ(app.stack->recv_view(c, a, b), 0);
    EXPECT_EQ(app.stack->send_space(c), n.net().a().config().send_buffer < n.net().a().config().buffer_size
                                            ? n.net().a().config().send_buffer
                                            : n.net().a().config().buffer_size);
}

}  // namespace
}  // namespace tcpfp::app
