// The built-in servers as apps (dpdk_app/apps/{echo,discard,chargen,http,
// hold}.cpp) on an in-memory engine, each against engine B as the client.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "apps/app_harness.hpp"
#include "dpdk_app/apps/chargen.hpp"
#include "dpdk_app/apps/discard.hpp"
#include "dpdk_app/apps/echo.hpp"
#include "dpdk_app/apps/hold.hpp"
#include "dpdk_app/apps/http.hpp"
#include "dpdk_app/apps/registry.hpp"
#include "dpdk_app/apps/upper.hpp"

namespace tcpfp::app {
namespace {

using tcp::test::kHostA;
using tcp::test::kHostB;

// Engine B's side of one connection: connect, write, read, close.
class Client {
public:
    Client(test::AppNet& n, std::uint16_t port) : n_(n) {
        tcp::ConnectParams p;
        p.local_ip = kHostB;
        p.remote_ip = kHostA;
        p.remote_port = port;
        EXPECT_EQ(n.peer().connect(p, n.now(), c_), 0);
        n.net().flush();
        EXPECT_TRUE(n.run_until([&] { return n.peer().state(c_) == tcp::State::established; }));
    }
    void send(const std::string& s) {
        std::size_t off = 0;
        EXPECT_TRUE(n_.run_until([&] {
            const auto w = n_.peer().send(
                c_, {reinterpret_cast<const std::uint8_t*>(s.data()) + off, s.size() - off}, n_.now());
            if (w > 0) off += static_cast<std::size_t>(w);
            read_some();
            n_.net().flush();
            return off == s.size();
        }));
    }
    void shutdown() {
        EXPECT_EQ(n_.peer().shutdown(c_, tcp::Shutdown::wr, n_.now()), 0);
        n_.net().flush();
    }
    // Reads until `n` bytes arrived (or EOF when n is 0).
    bool read_until(std::size_t n, tcp::Duration limit = tcp::Duration::seconds(30)) {
        return n_.run_until([&] { read_some(); return n == 0 ? eof : got.size() >= n; }, limit);
    }
    void read_some() {
        std::uint8_t buf[16384];
        for (;;) {
            const auto r = n_.peer().recv(c_, buf, n_.now());
            if (r > 0) got.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(r));
            if (r == 0) eof = true;
            if (r <= 0) return;
        }
    }
    ConnId id() const { return c_; }

    std::string got;
    bool eof = false;

private:
    test::AppNet& n_;
    ConnId c_;
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 31 + i / 97) % 26);
    return s;
}

TEST(EchoApp, EchoesAMegabyteAndClosesAfterThePeer) {
    tcp::EngineConfig small = tcp::test::test_config();
    small.buffer_size = 8192;  // rings wrap, the window stops the client
    test::AppNet n(small);
    Echo echo;
    n.add(echo);
    n.start();
    Client c(n, 7);
    const std::string data = pattern(1 << 20);
    c.send(data);
    c.shutdown();
    ASSERT_TRUE(c.read_until(0));
    EXPECT_EQ(c.got, data);
    EXPECT_EQ(echo.counters().bytes_out, data.size());
    EXPECT_TRUE(n.run_until([&] { return n.net().a().connection_count() == 1; }));  // the listener
}

TEST(DiscardApp, ReadsEverythingAndSendsNothing) {
    test::AppNet n;
    Discard discard;
    n.add(discard);
    n.start();
    Client c(n, 9);
    c.send(pattern(300000));
    c.shutdown();
    ASSERT_TRUE(c.read_until(0));
    EXPECT_TRUE(c.got.empty());
    EXPECT_EQ(discard.counters().bytes_in, 300000u);
}

TEST(ChargenApp, SendsTheRfc864LinesInOrder) {
    test::AppNet n;
    Chargen chargen;
    n.add(chargen);
    n.start();
    Client c(n, 19);
    ASSERT_TRUE(c.read_until(100000));
    // RFC 864: line k starts with character ' ' + k (mod 95), 72 long, CRLF.
    for (std::size_t k = 0; k < 1000; ++k) {
        const std::string line = c.got.substr(k * 74, 74);
        ASSERT_EQ(line[0], static_cast<char>(' ' + k % 95)) << "line " << k;
        ASSERT_EQ(line.substr(72), "\r\n");
        for (std::size_t i = 1; i < 72; ++i) ASSERT_EQ(line[i], static_cast<char>(' ' + (k + i) % 95));
    }
    c.shutdown();
    EXPECT_TRUE(n.run_until([&] { return n.peer().state(c.id()) != tcp::State::established; }));
}

TEST(HttpApp, KeepAlivePipeliningHeadAndClose) {
    test::AppNet n;
    Http http("hello\n");
    n.add(http);
    n.start();
    Client c(n, 80);
    const std::string ok = "HTTP/1.1 200 OK\r\nServer: tcpfp\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n";
    c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(c.read_until(2 * (ok.size() + 2) + 6));
    EXPECT_EQ(c.got, ok + "\r\nhello\n" + ok + "\r\n");
    c.got.clear();
    c.send("GET /x HTTP/1.1\r\nconnection: Close\r\n\r\n");
    ASSERT_TRUE(c.read_until(0));
    EXPECT_EQ(c.got, ok + "Connection: close\r\n\r\nhello\n");
    EXPECT_EQ(http.http_counters().requests, 3u);
}

TEST(HttpApp, AHeaderSplitByTheRingsWrapIsStillParsed) {
    tcp::EngineConfig small = tcp::test::test_config();
    small.buffer_size = 4096;
    test::AppNet n(small);
    Http http("x");
    n.add(http);
    n.start();
    Client c(n, 80);
    // Requests of 700 bytes: the 6th starts at 3500 and wraps at 4096.
    std::string req = "GET / HTTP/1.1\r\nX-Pad: " + std::string(700 - 27, 'p') + "\r\n\r\n";
    ASSERT_EQ(req.size(), 700u);
    for (int i = 0; i < 12; ++i) c.send(req);
    ASSERT_TRUE(n.run_until([&] { c.read_some(); return http.http_counters().requests == 12; }));
    const std::string one = "HTTP/1.1 200 OK\r\nServer: tcpfp\r\nContent-Type: text/plain\r\n"
                            "Content-Length: 1\r\n\r\nx";
    ASSERT_TRUE(c.read_until(12 * one.size()));
    std::string all;
    for (int i = 0; i < 12; ++i) all += one;
    EXPECT_EQ(c.got, all);
    EXPECT_GT(http.http_counters().split, 0u);
    EXPECT_EQ(http.http_counters().oversized, 0u);
}

TEST(HttpApp, AnOversizedHeaderClosesTheConnection) {
    test::AppNet n;
    Http http("x");
    n.add(http);
    n.start();
    Client c(n, 80);
    c.send("GET / HTTP/1.1\r\nX: " + std::string(Http::kRequestMax, 'a'));
    ASSERT_TRUE(c.read_until(0));
    EXPECT_EQ(http.http_counters().oversized, 1u);
}

TEST(HttpRequest, Http10ClosesUnlessKeepAlive) {
    EXPECT_FALSE(parse_http_request("GET / HTTP/1.0\r\nHost: a").keep_alive);
    EXPECT_TRUE(parse_http_request("GET / HTTP/1.0\r\nConnection: Keep-Alive").keep_alive);
    EXPECT_TRUE(parse_http_request("GET / HTTP/1.1\r\nHost: a").keep_alive);
    EXPECT_FALSE(parse_http_request("GET / HTTP/1.1\r\nCONNECTION: close").keep_alive);
    EXPECT_TRUE(parse_http_request("HEAD / HTTP/1.1").head);
    EXPECT_FALSE(parse_http_request("GET /HEAD HTTP/1.1").head);
}

TEST(HoldApp, NeverReadsSoTheWindowCloses) {
    tcp::EngineConfig small = tcp::test::test_config();
    small.buffer_size = 8192;
    test::AppNet n(small);
    Hold hold(5000);
    n.add(hold);
    n.start();
    Client c(n, 5000);
    const std::string data = pattern(100000);
    std::size_t off = 0;
    n.run_until(
        [&] {
            const auto w = n.peer().send(
                c.id(), {reinterpret_cast<const std::uint8_t*>(data.data()) + off, data.size() - off},
                n.now());
            if (w > 0) off += static_cast<std::size_t>(w);
            n.net().flush();
            return false;
        },
        tcp::Duration::seconds(2));
    tcp::ConnInfo ci;
    ASSERT_EQ(n.peer().info(c.id(), ci), 0);
    EXPECT_EQ(ci.snd_wnd, 0u);  // the peer sees a zero window
    EXPECT_GE(ci.send_q, data.size() - 8192);  // and holds what did not fit
    EXPECT_EQ(hold.counters().accepted, 1u);
}

TEST(ServiceApps, StopClosesListenersAndConnections) {
    test::AppNet n;
    Echo echo;
    n.add(echo);
    n.start();
    Client c(n, 7);
    ASSERT_TRUE(n.run_until([&] { return echo.counters().accepted == 1; }));
    n.host().stop(n.now());
    n.net().flush();
    ASSERT_TRUE(c.read_until(0));  // our FIN reached the client
    EXPECT_EQ(n.net().a().connection_count(), 1u);  // FIN_WAIT_2, orphaned; the listener is gone
}

// The example of dpdk_app/apps/README.md, made by its registry row as
// `[apps] run = upper:7000` makes it.
TEST(UpperApp, TheReadmeExampleAnswersInUpperCase) {
    const AppFactory* f = find_app("upper");
    ASSERT_NE(f, nullptr);
    std::string why;
    EXPECT_EQ(f->make("http", why), nullptr);
    EXPECT_NE(why.find("expected a TCP port"), std::string::npos);
    auto app = f->make("7000", why);
    ASSERT_NE(app, nullptr);
    tcp::EngineConfig small = tcp::test::test_config();
    small.buffer_size = 4096;
    test::AppNet n(small);
    n.add(*app);
    n.start();
    Client c(n, 7000);
    std::string line, upper;
    for (int i = 0; i < 2000; ++i) {
        line += "hello, app layer " + std::to_string(i) + "\n";
        upper += "HELLO, APP LAYER " + std::to_string(i) + "\n";
    }
    c.send(line);
    c.shutdown();
    ASSERT_TRUE(c.read_until(0));
    EXPECT_EQ(c.got, upper);
}

}  // namespace
}  // namespace tcpfp::app
