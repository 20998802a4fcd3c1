// The L4 proxy (dpdk_app/apps/proxy.cpp) on an in-memory engine: engine A
// runs the proxy, engine B plays both the client (connecting to A:8080) and
// the backends (listening on B:9001, B:9002). Byte-exact relay with
// backpressure, half-close each way, resets each way, backend refusal and
// timeout, round robin, and nothing left behind.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "apps/app_harness.hpp"
#include "dpdk_app/apps/proxy.hpp"
#include "fixtures/global_new.hpp"

namespace {
// Heap allocations made while the proxy runs (Watched below), counted by
// this executable's global operator new (fixtures/global_new.cpp).
bool g_in_proxy = false;
std::size_t g_proxy_heap_allocations = 0;
}  // namespace

void tcpfp::test::note_global_new() {
    if (g_in_proxy) ++g_proxy_heap_allocations;
}

namespace tcpfp::app {
namespace {

// Runs an app with every call into it marked, so a heap allocation inside
// it (the engine calls it makes included) is counted.
class Watched : public App {
public:
    explicit Watched(App& inner) : inner_(inner) {}
    const char* name() const override { return inner_.name(); }
    void start(Stack& s, Instant now) override { inner_.start(s, now); }
    void on_events(Stack& s, std::span<const AppEvent> events, Instant now) override {
        Mark m;
        ++calls;
        inner_.on_events(s, events, now);
    }
    void on_tick(Stack& s, Instant now) override {
        Mark m;
        inner_.on_tick(s, now);
    }
    void stop(Stack& s, Instant now) override {
        Mark m;
        inner_.stop(s, now);
    }
    unsigned calls = 0;

private:
    struct Mark {
        Mark() { g_in_proxy = true; }
        ~Mark() { g_in_proxy = false; }
    };
    App& inner_;
};

using tcp::test::kHostA;
using tcp::test::kHostB;

constexpr std::uint16_t kProxyPort = 8080;

std::vector<std::uint8_t> pattern(std::size_t n, unsigned seed) {
    std::vector<std::uint8_t> v(n);
    std::uint32_t x = 0x12345678u * (seed + 1);
    for (auto& b : v) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    return v;
}

// One endpoint on engine B: what it still has to send, and what it got.
struct Stream {
    ConnId conn;
    std::vector<std::uint8_t> out;
    std::size_t sent = 0;
    bool shut_when_sent = false;
    bool shut = false;
    bool reading = true;
    std::vector<std::uint8_t> in;
    bool eof = false;
    int error = 0;  // recv's -errno once the connection failed

    void pump(tcp::Engine& b, Instant now) {
        if (sent < out.size() && error == 0) {
            const std::int64_t w = b.send(conn, std::span(out).subspan(sent), now);
            if (w > 0) sent += static_cast<std::size_t>(w);
        }
        if (shut_when_sent && !shut && sent == out.size() && error == 0) {
            shut = b.shutdown(conn, tcp::Shutdown::wr, now) == 0;
        }
        std::uint8_t buf[8192];
        while (reading && !eof && error == 0) {
            const std::int64_t r = b.recv(conn, buf, now);
            if (r > 0) in.insert(in.end(), buf, buf + r);
            if (r == 0) eof = true;
            if (r < 0 && r != -EAGAIN) error = static_cast<int>(-r);
            if (r <= 0) break;
        }
    }
};

ProxyConfig proxy_config(std::vector<std::uint16_t> backend_ports, std::uint32_t timeout_ms = 3000) {
    ProxyConfig c;
    c.listen = Endpoint{kHostA, kProxyPort};
    for (const auto port : backend_ports) c.backends.push_back(Endpoint{kHostB, port});
    c.connect_timeout_ms = timeout_ms;
    return c;
}

// Small rings on the proxy's engine, so backpressure engages at once.
tcp::EngineConfig small_engine() {
    tcp::EngineConfig c = tcp::test::test_config();
    c.buffer_size = 16 * 1024;
    c.send_buffer = 16 * 1024;
    c.recv_buffer = 16 * 1024;
    c.chunk_count = 2048;  // 4 MiB, as the 256 buffers of 16 KiB before chunks
    return c;
}

class ProxyNet {
public:
    explicit ProxyNet(const ProxyConfig& cfg, const tcp::EngineConfig& a = small_engine(),
                      std::vector<std::uint16_t> listen_ports = {9001, 9002})
        : n(a), proxy(cfg), watched(proxy) {
        for (const auto port : listen_ports) {
            ConnId l;
            EXPECT_EQ(n.peer().listen(kHostB, port, 64, l), 0);
            listeners.push_back(l);
        }
        n.add(watched);
        n.start();
        EXPECT_TRUE(proxy.listening());
    }

    tcp::Engine& b() { return n.peer(); }

    // A client on B connects to the proxy.
    Stream& client() {
        auto& s = streams.emplace_back();
        tcp::ConnectParams p;
        p.local_ip = kHostB;
        p.remote_ip = kHostA;
        p.remote_port = kProxyPort;
        EXPECT_EQ(b().connect(p, n.now(), s.conn), 0);
        n.net().flush();
        return s;
    }
    // The next connection the proxy opened to backend listener `i`.
    Stream& backend(std::size_t i = 0) {
        ConnId c;
        EXPECT_TRUE(n.run_until([&] { return b().accept(listeners[i], c) == 0; }));
        auto& s = streams.emplace_back();
        s.conn = c;
        return s;
    }
    bool run_until(const std::function<bool()>& pred,
                   tcp::Duration limit = tcp::Duration::seconds(30)) {
        return n.run_until(
            [&] {
                for (auto& s : streams) s.pump(b(), n.now());
                n.net().flush();
                return pred();
            },
            limit);
    }
    // Nothing left on the proxy's engine but its listener, no buffer held.
    bool idle() {
        return run_until(
            [&] {
                return proxy.counters().active() == 0 && n.net().a().connection_count() == 1 &&
                       n.net().a().buffers_in_use() == 0;
            },
            tcp::Duration::seconds(5));
    }
    bool saw_b(ConnId c, EventKind k) { return n.net().saw_event(tcp::test::Side::b, c, k); }

    test::AppNet n;
    Proxy proxy;
    Watched watched;  // the proxy, its heap use counted
    std::vector<ConnId> listeners;
    std::deque<Stream> streams;  // stable references
};

TEST(Proxy, RelaysEveryByteBothWaysThroughSmallBuffersWithBackpressure) {
    ProxyNet t(proxy_config({9001}));
    Stream& c = t.client();
    Stream& s = t.backend();
    c.out = pattern(2 << 20, 1);
    s.out = pattern(2 << 20, 2);
    // The backend does not read at first: the proxy's rings toward it fill,
    // the proxy stops reading the client, and the client's window closes.
    s.reading = false;
    ASSERT_TRUE(t.run_until([&] { return c.sent > 0; }));
    t.run_until([] { return false; }, tcp::Duration::seconds(2));
    const std::uint64_t relayed = t.proxy.counters().bytes_to_backend;
    const std::size_t client_sent = c.sent;
    t.run_until([] { return false; }, tcp::Duration::seconds(2));
    // Only zero-window probes (one byte each, backing off) pass a full
    // window: a proxy that kept reading would have moved the whole 2 MB.
    EXPECT_LE(t.proxy.counters().bytes_to_backend - relayed, 16u) << "the proxy kept reading a stalled pair";
    EXPECT_LE(c.sent - client_sent, 16u) << "the client kept sending into a stalled pair";
    EXPECT_LT(c.sent, c.out.size());
    // Two buffers per connection, each at most its 16 KiB limit (plus the
    // chunk its first byte starts in), no more.
    EXPECT_LE(t.n.net().a().buffer_bytes_in_use(), 4u * (16 * 1024 + t.n.net().a().config().chunk_size));

    s.reading = true;
    c.shut_when_sent = s.shut_when_sent = true;
    ASSERT_TRUE(t.run_until([&] { return c.eof && s.eof; }, tcp::Duration::seconds(120)));
    EXPECT_EQ(s.in, c.out);
    EXPECT_EQ(c.in, s.out);
    EXPECT_EQ(t.proxy.counters().bytes_to_backend, c.out.size());
    EXPECT_EQ(t.proxy.counters().bytes_to_client, s.out.size());
    EXPECT_TRUE(t.idle());
    EXPECT_EQ(t.proxy.counters().pairs_opened, 1u);
    EXPECT_EQ(t.proxy.counters().pairs_closed, 1u);
    EXPECT_EQ(t.proxy.counters().pairs_aborted, 0u);
}

TEST(Proxy, ClientHalfCloseReachesTheBackendAsEofWhileTheBackendKeepsSending) {
    ProxyNet t(proxy_config({9001}));
    Stream& c = t.client();
    Stream& s = t.backend();
    c.out = pattern(100000, 3);
    c.shut_when_sent = true;
    ASSERT_TRUE(t.run_until([&] { return s.eof; }));
    EXPECT_EQ(s.in, c.out);
    EXPECT_EQ(t.proxy.counters().half_closes_to_backend, 1u);
    EXPECT_EQ(t.proxy.counters().half_closes_to_client, 0u);
    EXPECT_FALSE(c.eof);

    // The backend answers after the client's EOF; the pair stays open.
    s.out = pattern(300000, 4);
    ASSERT_TRUE(t.run_until([&] { return c.in.size() == s.out.size(); }));
    EXPECT_EQ(c.in, s.out);
    EXPECT_FALSE(c.eof);
    EXPECT_EQ(t.proxy.counters().active(), 1u);
    s.shut_when_sent = true;
    ASSERT_TRUE(t.run_until([&] { return c.eof; }));
    EXPECT_EQ(t.proxy.counters().half_closes_to_client, 1u);
    EXPECT_TRUE(t.idle());
    EXPECT_EQ(t.proxy.counters().pairs_closed, 1u);
    EXPECT_EQ(c.error, 0);
    EXPECT_EQ(s.error, 0);
}

TEST(Proxy, BackendHalfCloseReachesTheClientAsEofWhileTheClientKeepsSending) {
    ProxyNet t(proxy_config({9001}));
    Stream& c = t.client();
    Stream& s = t.backend();
    s.out = pattern(50000, 5);
    s.shut_when_sent = true;
    ASSERT_TRUE(t.run_until([&] { return c.eof; }));
    EXPECT_EQ(c.in, s.out);
    EXPECT_EQ(t.proxy.counters().half_closes_to_client, 1u);
    EXPECT_FALSE(s.eof);

    c.out = pattern(400000, 6);
    ASSERT_TRUE(t.run_until([&] { return s.in.size() == c.out.size(); }));
    EXPECT_EQ(s.in, c.out);
    c.shut_when_sent = true;
    ASSERT_TRUE(t.run_until([&] { return s.eof; }));
    EXPECT_EQ(t.proxy.counters().half_closes_to_backend, 1u);
    EXPECT_TRUE(t.idle());
    EXPECT_EQ(t.proxy.counters().pairs_closed, 1u);
}

TEST(Proxy, AClientResetAbortsTheBackend) {
    ProxyNet t(proxy_config({9001}));
    Stream& c = t.client();
    Stream& s = t.backend();
    c.out = pattern(1000, 7);
    ASSERT_TRUE(t.run_until([&] { return s.in.size() == 1000; }));
    ASSERT_EQ(t.b().abort(c.conn, t.n.now()), 0);
    t.n.net().flush();
    ASSERT_TRUE(t.run_until([&] { return t.saw_b(s.conn, EventKind::reset); }));
    EXPECT_EQ(s.error, ECONNRESET);
    EXPECT_EQ(t.proxy.counters().resets_to_backend, 1u);
    EXPECT_EQ(t.proxy.counters().pairs_aborted, 1u);
    EXPECT_TRUE(t.idle());
}

TEST(Proxy, ABackendResetReachesTheClientAsAReset) {
    ProxyNet t(proxy_config({9001}));
    Stream& c = t.client();
    Stream& s = t.backend();
    s.out = pattern(1000, 8);
    ASSERT_TRUE(t.run_until([&] { return c.in.size() == 1000; }));
    // SO_LINGER 0 then close: an abortive close, as Linux's.
    ASSERT_EQ(t.b().set_option(s.conn, tcp::SockOpt::linger, 0), 0);
    ASSERT_EQ(t.b().close(s.conn, t.n.now()), 0);
    s.error = -1;  // closed: stop pumping it
    t.n.net().flush();
    ASSERT_TRUE(t.run_until([&] { return c.error != 0; }));
    EXPECT_EQ(c.error, ECONNRESET);
    EXPECT_TRUE(t.saw_b(c.conn, EventKind::reset));
    EXPECT_EQ(t.proxy.counters().resets_to_client, 1u);
    EXPECT_TRUE(t.idle());
}

TEST(Proxy, ARefusedBackendAbortsTheClientAndNothingElseIsTried) {
    ProxyNet t(proxy_config({9005, 9001}), small_engine(), {9001});  // nobody on 9005
    Stream& c = t.client();
    c.out = pattern(100, 9);
    ASSERT_TRUE(t.run_until([&] { return c.error != 0; }));
    EXPECT_EQ(c.error, ECONNRESET);
    EXPECT_EQ(t.proxy.counters().backend_refused, 1u);
    EXPECT_EQ(t.proxy.counters().pairs_aborted, 1u);
    ConnId none;
    EXPECT_EQ(t.b().accept(t.listeners[0], none), -EAGAIN) << "a second backend was tried";
    EXPECT_TRUE(t.idle());
}

TEST(Proxy, ABackendThatDoesNotAnswerTimesOutAndAbortsTheClient) {
    ProxyConfig cfg = proxy_config({}, 500);
    cfg.backends.push_back(Endpoint{wire::Ipv4Addr::from_octets(172, 16, 48, 99), 9001});  // not B's
    ProxyNet t(cfg);
    Stream& c = t.client();
    ASSERT_TRUE(t.run_until([&] { return t.n.peer().state(c.conn) == tcp::State::established; }));
    const Instant connected = t.n.now();
    ASSERT_TRUE(t.run_until([&] { return c.error != 0; }));
    EXPECT_EQ(c.error, ECONNRESET);
    EXPECT_GE(t.n.now() - connected, tcp::Duration::millis(499));
    EXPECT_LE(t.n.now() - connected, tcp::Duration::millis(600));
    EXPECT_EQ(t.proxy.counters().backend_timeouts, 1u);
    EXPECT_TRUE(t.idle());
}

TEST(Proxy, BackendsAreUsedRoundRobin) {
    ProxyNet t(proxy_config({9001, 9002}));
    std::vector<Stream*> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(&t.client());
        clients.back()->out = {static_cast<std::uint8_t>('0' + i)};
        clients.back()->shut_when_sent = true;
        // One at a time, so the accept order is the connect order.
        Stream& s = t.backend(static_cast<std::size_t>(i % 2));
        s.shut_when_sent = true;
        ASSERT_TRUE(t.run_until([&] { return s.eof; }));
        EXPECT_EQ(s.in, clients.back()->out) << "client " << i << " went to backend " << i % 2;
    }
    for (Stream* c : clients) ASSERT_TRUE(t.run_until([&] { return c->eof; }));
    EXPECT_TRUE(t.idle());
    EXPECT_EQ(t.proxy.counters().pairs_closed, 4u);
}

TEST(Proxy, ManyPairsAtOnceLeaveNothingBehind) {
    ProxyNet t(proxy_config({9001, 9002}), small_engine());
    constexpr int kPairs = 60;
    for (int i = 0; i < kPairs; ++i) {
        Stream& c = t.client();
        c.out = pattern(20000 + static_cast<std::size_t>(i), static_cast<unsigned>(i));
        c.shut_when_sent = true;
    }
    std::vector<Stream*> servers;
    for (int i = 0; i < kPairs; ++i) {
        Stream& s = t.backend(static_cast<std::size_t>(i % 2));
        servers.push_back(&s);
    }
    // Each backend echoes what it got once the client's EOF arrived.
    ASSERT_TRUE(t.run_until(
        [&] {
            for (Stream* s : servers) {
                if (s->eof && !s->shut_when_sent) {
                    s->out = s->in;
                    s->shut_when_sent = true;
                }
            }
            for (std::size_t i = 0; i < kPairs; ++i) {
                if (!t.streams[i].eof) return false;
            }
            return true;
        },
        tcp::Duration::seconds(60)));
    for (std::size_t i = 0; i < kPairs; ++i) EXPECT_EQ(t.streams[i].in, t.streams[i].out);
    EXPECT_TRUE(t.idle());
    EXPECT_EQ(t.proxy.counters().pairs_closed, static_cast<std::uint64_t>(kPairs));
    EXPECT_EQ(t.proxy.counters().half_closes_to_backend, static_cast<std::uint64_t>(kPairs));
    EXPECT_EQ(t.proxy.counters().half_closes_to_client, static_cast<std::uint64_t>(kPairs));
}

TEST(Proxy, ASendThatFindsNoBufferIsRetriedOnTheNextTick) {
    // 18 chunks (36 KiB) for a pair's four 16 KiB buffers: the two windows
    // the proxy offers fit, with 4 KiB to spare for its sends, so a send
    // fails with ENOBUFS (and windows shrink) until a buffer drains and
    // frees its chunks; every byte still arrives. (With fewer chunks than
    // the windows offered, received bytes can take them all and no proxy
    // can progress: see "Sizing" in apps/README.md.)
    tcp::EngineConfig a = small_engine();
    a.chunk_count = 18;
    ProxyNet t(proxy_config({9001}), a);
    constexpr int kPairs = 1;
    for (int i = 0; i < kPairs; ++i) {
        Stream& c = t.client();
        c.out = pattern(200000, static_cast<unsigned>(10 + i));
        c.shut_when_sent = true;
    }
    for (int i = 0; i < kPairs; ++i) {
        Stream& s = t.backend();
        s.out = pattern(200000, static_cast<unsigned>(20 + i));
        s.shut_when_sent = true;
    }
    ASSERT_TRUE(t.run_until(
        [&] {
            for (const Stream& s : t.streams) {
                if (!s.eof) return false;
            }
            return true;
        },
        tcp::Duration::seconds(300)));
    for (int i = 0; i < kPairs; ++i) {
        EXPECT_EQ(t.streams[static_cast<std::size_t>(i)].in, t.streams[static_cast<std::size_t>(kPairs + i)].out);
        EXPECT_EQ(t.streams[static_cast<std::size_t>(kPairs + i)].in, t.streams[static_cast<std::size_t>(i)].out);
    }
    EXPECT_GT(t.proxy.counters().send_stalls, 0u);
    EXPECT_TRUE(t.idle());
    EXPECT_EQ(t.proxy.counters().pairs_closed, static_cast<std::uint64_t>(kPairs));
}

TEST(Proxy, AllocatesNothingAfterStart) {
    // The pool is allocated once, at start(); relaying, half-closes, resets,
    // refusals and timeouts take nothing from the heap.
    ProxyConfig cfg = proxy_config({9001, 9005, 9001}, 200);
    cfg.backends.push_back(Endpoint{wire::Ipv4Addr::from_octets(172, 16, 48, 99), 9001});  // silent
    ProxyNet t(cfg, small_engine(), {9001});
    EXPECT_GT(t.proxy.capacity(), 0u);
    g_proxy_heap_allocations = 0;
    constexpr int kClients = 24;
    for (int i = 0; i < kClients; ++i) {
        Stream& c = t.client();
        c.out = pattern(100000, static_cast<unsigned>(i));
        c.shut_when_sent = true;
    }
    // Backends 0 and 2 of every four are B:9001; 1 refuses, 3 times out.
    std::vector<Stream*> servers;
    for (int i = 0; i < kClients / 2; ++i) servers.push_back(&t.backend());
    ASSERT_TRUE(t.run_until(
        [&] {
            for (Stream* s : servers) {
                if (s->eof && !s->shut_when_sent) {
                    s->out = s->in;
                    s->shut_when_sent = true;
                }
            }
            return t.proxy.counters().active() == 0;
        },
        tcp::Duration::seconds(60)));
    EXPECT_EQ(t.proxy.counters().pairs_closed, static_cast<std::uint64_t>(kClients / 2));
    EXPECT_EQ(t.proxy.counters().backend_refused, static_cast<std::uint64_t>(kClients / 4));
    EXPECT_EQ(t.proxy.counters().backend_timeouts, static_cast<std::uint64_t>(kClients / 4));
    EXPECT_EQ(t.proxy.counters().bytes_to_backend, kClients / 2 * 100000u);
    EXPECT_EQ(t.proxy.counters().bytes_to_client, kClients / 2 * 100000u);
    EXPECT_GT(t.watched.calls, 0u);
    EXPECT_EQ(g_proxy_heap_allocations, 0u);
    EXPECT_TRUE(t.idle());
}

TEST(Proxy, AClientBeyondTheTablesRoomIsResetAtOnce) {
    // 8 control blocks: the listener and three pairs; the fourth client is
    // accepted but its backend connect() finds no room.
    tcp::EngineConfig a = small_engine();
    a.max_connections = 8;
    ProxyNet t(proxy_config({9001}), a);
    for (int i = 0; i < 3; ++i) t.client();
    for (int i = 0; i < 3; ++i) t.backend();
    Stream& late = t.client();
    ASSERT_TRUE(t.run_until([&] { return late.error != 0; }));
    EXPECT_EQ(late.error, ECONNRESET);
    EXPECT_EQ(t.proxy.counters().rejected, 1u);
    EXPECT_EQ(t.proxy.counters().pairs_opened, 3u);
    EXPECT_EQ(t.proxy.counters().active(), 3u);
}

TEST(Proxy, OffWithoutListenOrBackends) {
    test::AppNet n;
    Proxy off(ProxyConfig{});
    n.add(off);
    n.start();
    EXPECT_FALSE(off.listening());
    EXPECT_EQ(off.capacity(), 0u);
    EXPECT_EQ(n.net().a().connection_count(), 0u);
}

TEST(Proxy, ListsItsPairsInBoundedSlices) {
    ProxyNet t(proxy_config({9001}));
    for (int i = 0; i < 3; ++i) t.client();
    for (int i = 0; i < 3; ++i) t.backend();
    ASSERT_TRUE(t.run_until([&] { return t.proxy.counters().pairs_opened == 3; }));
    std::vector<ProxyPairView> rows(8);
    std::size_t cursor = 0, seen = 0;
    do {
        seen += t.proxy.list_pairs(cursor, 2, rows);
    } while (cursor != 0);
    EXPECT_EQ(seen, 3u);
}

}  // namespace
}  // namespace tcpfp::app
