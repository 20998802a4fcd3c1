// The built-in servers as apps (dpdk_app/apps/{echo,discard,chargen,http,
// hold,rr}.cpp) on an in-memory engine, each against engine B as the client.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "apps/app_harness.hpp"
#include "dpdk_app/apps/chargen.hpp"
#include "dpdk_app/apps/discard.hpp"
#include "dpdk_app/apps/echo.hpp"
#include "dpdk_app/apps/hold.hpp"
#include "dpdk_app/apps/http.hpp"
#include "dpdk_app/apps/registry.hpp"
#include "dpdk_app/apps/rr.hpp"
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

// A peer that aborted while its RST was lost leaves our side ESTABLISHED
// with nothing to send: only keepalive ([services] keepalive) finds it.
// The soak's abort step met this under loss (its server kept the
// connection to the end). Returns the server's connections afterwards.
std::size_t connections_after_a_lost_abort(bool keepalive) {
    tcp::EngineConfig a = tcp::test::test_config();
    a.keepalive_idle = tcp::Duration::seconds(1);
    a.keepalive_interval = tcp::Duration::seconds(1);
    a.keepalive_count = 3;
    test::AppNet n(a);
    Discard discard;
    discard.set_keepalive(keepalive);
    n.add(discard);
    n.start();
    Client c(n, 9);
    c.send("bytes before the abort\n");
    EXPECT_TRUE(n.run_until([&] { return discard.counters().bytes_in == 23; }));
    n.net().impair().drop_rule = [](const tcp::test::Captured& p) {
        return p.from == tcp::test::Side::b && p.has(wire::tcp_flag::rst);
    };
    EXPECT_EQ(n.peer().abort(c.id(), n.now()), 0);
    n.net().flush();
    n.run_until([] { return false; }, tcp::Duration::millis(200));
    n.net().impair().drop_rule = nullptr;  // only that RST is lost
    EXPECT_EQ(n.net().a().connection_count(), 2u);  // the listener and the half-open one
    n.run_until([&] { return n.net().a().connection_count() == 1; }, tcp::Duration::seconds(5));
    EXPECT_EQ(n.net().a().counters().get(tcp::Mib::keepalive_probes) > 0, keepalive);
    return n.net().a().connection_count();
}

TEST(ServiceApps, KeepaliveEndsAConnectionWhosePeerVanished) {
    // RFC 9293 §3.8.4: the probe draws the peer's RST (it has no connection).
    EXPECT_EQ(connections_after_a_lost_abort(true), 1u);
    EXPECT_EQ(connections_after_a_lost_abort(false), 2u);  // without it, held for good
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

// A header crossing chunk boundaries of the receive buffer: with 2 KiB
// chunks recv_view() shows it in two pieces; with 256-byte chunks it spans
// more pieces than recv_view() shows, and is copied out (peek).
class HttpSplit : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(HttpSplit, AHeaderSplitAcrossBufferChunksIsStillParsed) {
    tcp::EngineConfig small = tcp::test::test_config();
    small.buffer_size = 4096;
    small.chunk_size = GetParam();
    test::AppNet n(small);
    Http http("x");
    n.add(http);
    n.start();
    Client c(n, 80);
    // Requests of 700 bytes: the 3rd starts at 1400 and crosses 2048.
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

INSTANTIATE_TEST_SUITE_P(ChunkSizes, HttpSplit, ::testing::Values(2048u, 256u));

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

TEST(HoldApp, ThePeersFinEndsTheHoldWithAnOrderlyClose) {
    test::AppNet n;
    Hold hold(5000);
    n.add(hold);
    n.start();
    Client c(n, 5000);
    c.send(pattern(64));
    n.run_until([] { return false; }, tcp::Duration::millis(50));
    EXPECT_EQ(n.net().a().buffers_in_use(), 1u) << "the 64 bytes held unread";
    c.shutdown();
    ASSERT_TRUE(c.read_until(0)) << "our FIN follows the peer's";
    EXPECT_TRUE(c.got.empty());
    EXPECT_TRUE(n.run_until([&] { return n.net().a().connection_count() == 1; }));  // the listener
    EXPECT_EQ(n.net().a().buffers_in_use(), 0u);
    EXPECT_EQ(n.peer().counters().get(tcp::Mib::in_rsts), 0u) << "no reset";
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

// --- rr (dpdk_app/apps/rr.hpp) and HTTP's sized responses ---

// What rr and /bytes/N answer: byte k is 'a' + k % 26.
std::string alphabet(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t k = 0; k < n; ++k) s[k] = static_cast<char>('a' + k % 26);
    return s;
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// An rr request of `length` bytes in all (header included) asking for
// `response` bytes; the filler is not the pattern, so an echo would show.
std::string rr_request(std::uint32_t length, std::uint32_t response, bool close = false) {
    return be32(length) + be32(response | (close ? Rr::kCloseBit : 0)) + std::string(length - 8, '#');
}

tcp::EngineConfig small_rings() {
    tcp::EngineConfig c = tcp::test::test_config();
    c.buffer_size = 8192;  // rings wrap, windows close, `writable` resumes the server
    return c;
}

// Reads at most `chunk` bytes per step until `n` bytes arrived: a slow reader.
bool read_slowly(test::AppNet& n, Client& c, std::size_t want, std::size_t chunk) {
    std::vector<std::uint8_t> buf(chunk);
    return n.run_until(
        [&] {
            const auto r = n.peer().recv(c.id(), buf, n.now());
            if (r > 0) c.got.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(r));
            return c.got.size() >= want;
        },
        tcp::Duration::seconds(120));
}

TEST(RrApp, AnswersEachSizeWithThePattern) {
    test::AppNet n(small_rings(), small_rings());
    Rr rr;
    n.add(rr);
    n.start();
    Client c(n, 5001);
    const std::uint32_t lengths[] = {8, 9, 100, 16384, 8, 300000};
    const std::uint32_t responses[] = {0, 1, 8, 100, 16384, 1u << 20};
    std::uint64_t out = 0;
    for (int i = 0; i < 6; ++i) {
        c.got.clear();
        c.send(rr_request(lengths[i], responses[i]));
        if (responses[i] > 0) {  // read_until(0) would wait for EOF
            ASSERT_TRUE(c.read_until(responses[i])) << "response " << i;
        }
        n.run_until([&] { c.read_some(); return false; }, tcp::Duration::millis(5));  // nothing more comes
        EXPECT_EQ(c.got, alphabet(responses[i])) << "response " << i;
        out += responses[i];
    }
    EXPECT_EQ(rr.rr_counters().requests, 6u);
    EXPECT_EQ(rr.counters().bytes_out, out);
    EXPECT_EQ(rr.counters().bytes_in, 8u + 9 + 100 + 16384 + 8 + 300000);
    EXPECT_EQ(n.peer().state(c.id()), tcp::State::established);  // no close was asked
}

TEST(RrApp, PipelinedRequestsAreAnsweredInOrder) {
    test::AppNet n(small_rings(), small_rings());
    Rr rr;
    n.add(rr);
    n.start();
    Client c(n, 5001);
    const std::uint32_t responses[] = {3, 0, 40000, 27, 1, 5000};
    std::string requests, expected;
    for (std::uint32_t i = 0; i < 6; ++i) {
        requests += rr_request(8 + i * 1000, responses[i]);
        expected += alphabet(responses[i]);
    }
    c.send(requests);
    ASSERT_TRUE(c.read_until(expected.size()));
    EXPECT_EQ(c.got, expected);  // each response restarts the pattern at 'a'
    EXPECT_EQ(rr.rr_counters().requests, 6u);
}

TEST(RrApp, AHeaderSentOneByteAtATimeIsAnsweredOnceWhole) {
    test::AppNet n;
    Rr rr;
    n.add(rr);
    n.start();
    Client c(n, 5001);
    const std::string req = rr_request(20, 30);
    for (std::size_t i = 0; i + 1 < req.size(); ++i) {
        c.send(req.substr(i, 1));
        n.run_until([&] { c.read_some(); return false; }, tcp::Duration::millis(2));
        ASSERT_TRUE(c.got.empty()) << "answered after " << i + 1 << " bytes";
    }
    c.send(req.substr(req.size() - 1));
    ASSERT_TRUE(c.read_until(30));
    EXPECT_EQ(c.got, alphabet(30));
    EXPECT_EQ(rr.rr_counters().requests, 1u);
}

TEST(RrApp, TheCloseBitEndsWithOurFinAfterTheResponse) {
    test::AppNet n(small_rings(), small_rings());
    Rr rr;
    n.add(rr);
    n.start();
    Client c(n, 5001);
    c.send(rr_request(8, 10) + rr_request(64, 50000, true));
    ASSERT_TRUE(c.read_until(0));  // EOF: the server's FIN
    EXPECT_EQ(c.got, alphabet(10) + alphabet(50000));
    EXPECT_EQ(rr.rr_counters().close_requests, 1u);
    EXPECT_EQ(n.peer().state(c.id()), tcp::State::close_wait);  // a FIN, not a reset
    EXPECT_EQ(n.peer().take_error(c.id()), 0);
}

TEST(RrApp, ACloseWithAnEmptyResponseStillFinishesTheRequest) {
    test::AppNet n;
    Rr rr;
    n.add(rr);
    n.start();
    Client c(n, 5001);
    c.send(rr_request(5000, 0, true));
    ASSERT_TRUE(c.read_until(0));
    EXPECT_TRUE(c.got.empty());
    EXPECT_EQ(rr.counters().bytes_in, 5000u);  // the filler was read before the FIN
}

TEST(RrApp, ABadLengthIsCountedAndResetsTheConnection) {
    for (const std::uint32_t bad : {0u, 7u, 0x80000000u, 0xffffffffu}) {
        test::AppNet n;
        Rr rr;
        n.add(rr);
        n.start();
        Client c(n, 5001);
        c.send(rr_request(8, 5));  // a good one first, answered
        ASSERT_TRUE(c.read_until(5));
        c.send(be32(bad) + be32(5) + "more");
        ASSERT_TRUE(n.run_until([&] { return n.peer().state(c.id()) == tcp::State::closed; }));
        EXPECT_EQ(n.peer().take_error(c.id()), ECONNRESET) << bad;
        EXPECT_EQ(rr.rr_counters().bad_requests, 1u);
        EXPECT_EQ(c.got, alphabet(5));  // nothing answered the bad one
    }
}

TEST(RrApp, ASlowReaderGetsEveryByte) {
    test::AppNet n(small_rings(), small_rings());
    Rr rr;
    n.add(rr);
    n.start();
    Client c(n, 5001);
    c.send(rr_request(8, 300000));
    ASSERT_TRUE(read_slowly(n, c, 300000, 333));
    EXPECT_EQ(c.got, alphabet(300000));
}

TEST(RrApp, TheEnginesPeerClosingAfterItsRequestsStillGetsTheResponses) {
    test::AppNet n(small_rings(), small_rings());
    Rr rr;
    n.add(rr);
    n.start();
    Client c(n, 5001);
    c.send(rr_request(100, 20000) + rr_request(8, 7));
    c.shutdown();  // half-close: the responses still come, then our FIN
    ASSERT_TRUE(c.read_until(0));
    EXPECT_EQ(c.got, alphabet(20000) + alphabet(7));
}

// One HTTP response split off the front of `s`: its header, and its body by
// Content-Length or by decoding the chunks (each at most 16384 bytes).
struct HttpResponse {
    std::string head;
    std::string body;
    bool chunked = false;
    std::size_t chunks = 0;
};

bool take_response(std::string& s, HttpResponse& r, bool head_only = false) {
    const auto end = s.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    r = {};
    r.head = s.substr(0, end + 4);
    std::size_t pos = end + 4;
    const auto cl = r.head.find("Content-Length: ");
    if (head_only) {
    } else if (r.head.find("Transfer-Encoding: chunked\r\n") != std::string::npos) {
        r.chunked = true;
        for (;;) {
            const auto eol = s.find("\r\n", pos);
            if (eol == std::string::npos) return false;
            const std::size_t size = std::stoul(s.substr(pos, eol - pos), nullptr, 16);
            if (size == 0) {
                if (s.size() < eol + 4) return false;
                EXPECT_EQ(s.substr(eol, 4), "\r\n\r\n");
                pos = eol + 4;
                break;
            }
            EXPECT_LE(size, Http::kChunk);
            if (s.size() < eol + 2 + size + 2) return false;
            r.body += s.substr(eol + 2, size);
            EXPECT_EQ(s.substr(eol + 2 + size, 2), "\r\n");
            pos = eol + 2 + size + 2;
            ++r.chunks;
        }
    } else if (cl != std::string::npos) {
        const std::size_t len = std::stoull(r.head.substr(cl + 16));
        if (s.size() < pos + len) return false;
        r.body = s.substr(pos, len);
        pos += len;
    }
    s.erase(0, pos);
    return true;
}

// Steps until a whole response arrived on `c`, and takes it.
HttpResponse next_response(test::AppNet& n, Client& c, bool head_only = false) {
    HttpResponse r;
    EXPECT_TRUE(n.run_until([&] { c.read_some(); return take_response(c.got, r, head_only); },
                            tcp::Duration::seconds(60)));
    return r;
}

std::string ok_head(std::uint64_t length) {
    return "HTTP/1.1 200 OK\r\nServer: tcpfp\r\nContent-Type: text/plain\r\nContent-Length: " +
           std::to_string(length) + "\r\n\r\n";
}

TEST(HttpApp, BytesNAnswersNPatternBytes) {
    test::AppNet n(small_rings(), small_rings());
    Http http("hello\n");
    n.add(http);
    n.start();
    Client c(n, 80);
    std::uint64_t total = 0;
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{16384}, std::size_t{10} << 20}) {
        c.send("GET /bytes/" + std::to_string(size) + " HTTP/1.1\r\nHost: a\r\n\r\n");
        const HttpResponse r = next_response(n, c);
        EXPECT_EQ(r.head, ok_head(size));
        ASSERT_EQ(r.body.size(), size);
        EXPECT_TRUE(r.body == alphabet(size)) << size;
        total += r.head.size() + size;
    }
    EXPECT_TRUE(c.got.empty());
    EXPECT_EQ(http.http_counters().bytes_routes, 4u);
    EXPECT_EQ(http.http_counters().responses_2xx, 4u);
    EXPECT_EQ(http.counters().bytes_out, total);
}

TEST(HttpApp, ChunkedNDecodesBackToThePattern) {
    test::AppNet n(small_rings(), small_rings());
    Http http("hello\n");
    n.add(http);
    n.start();
    Client c(n, 80);
    const std::size_t sizes[] = {0, 1, 16384, 16385, 100000};
    for (const std::size_t size : sizes) {
        c.send("GET /chunked/" + std::to_string(size) + " HTTP/1.1\r\n\r\n");
        const HttpResponse r = next_response(n, c);
        EXPECT_EQ(r.head,
                  "HTTP/1.1 200 OK\r\nServer: tcpfp\r\nContent-Type: text/plain\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
        ASSERT_TRUE(r.chunked);
        EXPECT_EQ(r.chunks, (size + 16383) / 16384) << size;
        EXPECT_TRUE(r.body == alphabet(size)) << size;
    }
    EXPECT_TRUE(c.got.empty());
    EXPECT_EQ(http.http_counters().chunked_routes, 5u);
}

TEST(HttpApp, StatusNNNAnswersThatStatusWithTheBody) {
    test::AppNet n;
    Http http("hello\n");
    n.add(http);
    n.start();
    Client c(n, 80);
    const std::pair<const char*, const char*> cases[] = {
        {"404", "404 Not Found"}, {"503", "503 Service Unavailable"}, {"302", "302 Found"}, {"418", "418 Client Error"}};
    for (const auto& [code, line] : cases) {
        c.send(std::string("GET /status/") + code + " HTTP/1.1\r\n\r\n");
        const HttpResponse r = next_response(n, c);
        EXPECT_EQ(r.head, std::string("HTTP/1.1 ") + line +
                              "\r\nServer: tcpfp\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\n");
        EXPECT_EQ(r.body, "hello\n");
    }
    c.send("GET /status/204 HTTP/1.1\r\n\r\n");  // no body, no Content-Length
    EXPECT_EQ(next_response(n, c, true).head, "HTTP/1.1 204 No Content\r\nServer: tcpfp\r\nContent-Type: text/plain\r\n\r\n");
    const HttpCounters& h = http.http_counters();
    EXPECT_EQ(h.responses_2xx, 1u);
    EXPECT_EQ(h.responses_3xx, 1u);
    EXPECT_EQ(h.responses_4xx, 2u);
    EXPECT_EQ(h.responses_5xx, 1u);
    EXPECT_EQ(h.status_routes, 5u);
    EXPECT_EQ(n.peer().state(c.id()), tcp::State::established);  // keep-alive throughout
}

TEST(HttpApp, AMalformedNumberIs400AndTheConnectionGoesOn) {
    test::AppNet n;
    Http http("hello\n");
    n.add(http);
    n.start();
    Client c(n, 80);
    for (const char* path : {"/bytes/abc", "/bytes/", "/bytes/-1", "/bytes/1099511627777", "/chunked/1x",
                             "/status/99", "/status/150", "/status/600", "/status/0404"}) {
        c.send(std::string("GET ") + path + " HTTP/1.1\r\n\r\n");
        const HttpResponse r = next_response(n, c);
        EXPECT_TRUE(r.head.starts_with("HTTP/1.1 400 Bad Request\r\n")) << path << ": " << r.head;
    }
    EXPECT_EQ(http.http_counters().bad_requests, 9u);
    EXPECT_EQ(http.http_counters().responses_4xx, 9u);
}

TEST(HttpApp, HeadGetsTheHeaderOnly) {
    test::AppNet n;
    Http http("hello\n");
    n.add(http);
    n.start();
    Client c(n, 80);
    c.send("HEAD /bytes/1099511627776 HTTP/1.1\r\n\r\nHEAD /chunked/5 HTTP/1.1\r\n\r\n"
           "GET /bytes/3 HTTP/1.1\r\n\r\n");
    EXPECT_EQ(next_response(n, c, true).head, ok_head(std::uint64_t{1} << 40));  // 2^40: the largest N
    EXPECT_EQ(next_response(n, c, true).head,
              "HTTP/1.1 200 OK\r\nServer: tcpfp\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
    const HttpResponse r = next_response(n, c);  // right after: no body came between
    EXPECT_EQ(r.head, ok_head(3));
    EXPECT_EQ(r.body, "abc");
}

TEST(HttpApp, ARequestBodyIsDroppedBeforeThePipelinedNextRequest) {
    test::AppNet n(small_rings(), small_rings());
    Http http("hello\n", 80, 4);
    n.add(http);
    n.start();
    Client c(n, 80);
    // The body looks like requests: they must not be answered.
    std::string body;
    while (body.size() < 300000) body += "GET /bytes/7 HTTP/1.1\r\n\r\n";
    c.send("POST /bytes/10 HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body +
           "GET /bytes/5 HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\ncontent-length: 3\r\n\r\nabcGET /chunked/2 HTTP/1.1\r\n\r\n");
    HttpResponse r = next_response(n, c);
    EXPECT_EQ(r.head, ok_head(10));
    EXPECT_EQ(r.body, alphabet(10));
    r = next_response(n, c);
    EXPECT_EQ(r.head, ok_head(5));
    EXPECT_EQ(r.body, alphabet(5));
    r = next_response(n, c);
    EXPECT_EQ(r.body, "hello\n");
    r = next_response(n, c);
    EXPECT_EQ(r.body, "ab");
    n.run_until([&] { c.read_some(); return false; }, tcp::Duration::millis(5));
    EXPECT_TRUE(c.got.empty());
    EXPECT_EQ(http.http_counters().requests, 4u);
    EXPECT_EQ(http.http_counters().body_bytes, body.size() + 3);
}

TEST(HttpApp, BodiesStillArrivingTakeASlotAndTheOneTooManyGets503) {
    test::AppNet n;
    Http http("hello\n", 80, 1);
    n.add(http);
    n.start();
    Client a(n, 80), b(n, 80);
    a.send("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789");  // 90 bytes to come: the slot
    b.send("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789");  // none left
    HttpResponse r = next_response(n, b);
    EXPECT_TRUE(r.head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    EXPECT_NE(r.head.find("Connection: close\r\n"), std::string::npos);
    ASSERT_TRUE(b.read_until(0));
    EXPECT_EQ(http.http_counters().no_slot, 1u);
    a.send(std::string(90, 'x'));  // a's body completes: answered, slot back
    EXPECT_EQ(next_response(n, a).body, "hello\n");
    Client d(n, 80);
    d.send("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n");  // takes the slot
    n.run_until([] { return false; }, tcp::Duration::millis(2));
    ASSERT_EQ(n.peer().abort(d.id(), n.now()), 0);  // d's reset frees it
    n.net().flush();
    n.run_until([] { return false; }, tcp::Duration::millis(2));
    Client e(n, 80);
    e.send("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
    n.run_until([] { return false; }, tcp::Duration::millis(2));
    e.send("zz");
    EXPECT_EQ(next_response(n, e).body, "hello\n");
    EXPECT_EQ(http.http_counters().no_slot, 1u);  // e found the slot d left
}

TEST(HttpApp, TransferEncodingIs501AndClose) {
    test::AppNet n;
    Http http("hello\n");
    n.add(http);
    n.start();
    Client c(n, 80);
    c.send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    const HttpResponse r = next_response(n, c);
    EXPECT_EQ(r.head, "HTTP/1.1 501 Not Implemented\r\nServer: tcpfp\r\nContent-Type: text/plain\r\n"
                      "Content-Length: 6\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(c.read_until(0));
    EXPECT_EQ(n.peer().take_error(c.id()), 0);  // a FIN, the chunks dropped unread
    EXPECT_EQ(http.http_counters().not_implemented, 1u);
    EXPECT_EQ(http.http_counters().responses_5xx, 1u);
}

TEST(HttpApp, ARequestSplitAtEveryByteIsAnsweredOnceWhole) {
    test::AppNet n;
    Http http("hello\n");
    n.add(http);
    n.start();
    Client c(n, 80);
    const std::string req = "GET /bytes/30 HTTP/1.1\r\nHost: a\r\n\r\n";
    for (std::size_t cut = 1; cut < req.size(); ++cut) {
        c.send(req.substr(0, cut));
        n.run_until([&] { c.read_some(); return false; }, tcp::Duration::millis(1));
        ASSERT_TRUE(c.got.empty()) << "answered at " << cut;
        c.send(req.substr(cut));
        const HttpResponse r = next_response(n, c);
        ASSERT_EQ(r.head, ok_head(30)) << cut;
        ASSERT_EQ(r.body, alphabet(30)) << cut;
    }
    EXPECT_EQ(http.http_counters().requests, req.size() - 1);
}

TEST(HttpApp, ASlowReaderGetsEveryByteOfALargeBody) {
    test::AppNet n(small_rings(), small_rings());
    Http http("hello\n");
    n.add(http);
    n.start();
    Client c(n, 80);
    const std::size_t size = 2 << 20;
    c.send("GET /bytes/" + std::to_string(size) + " HTTP/1.1\r\n\r\nGET /chunked/300000 HTTP/1.1\r\n\r\n");
    // "13e0\r\n" and 5088 bytes, then 18 times "\r\n4000\r\n" and 16384, then "\r\n0\r\n\r\n"
    const std::size_t chunked = 6 + 300000 + 18 * 8 + 7;
    const std::size_t want = ok_head(size).size() + size +
                             std::string("HTTP/1.1 200 OK\r\nServer: tcpfp\r\nContent-Type: text/plain\r\n"
                                         "Transfer-Encoding: chunked\r\n\r\n").size() + chunked;
    ASSERT_TRUE(read_slowly(n, c, want, 317));  // odd reads: the framing is cut anywhere
    HttpResponse r;
    ASSERT_TRUE(take_response(c.got, r));
    EXPECT_TRUE(r.body == alphabet(size));
    ASSERT_TRUE(take_response(c.got, r));
    EXPECT_TRUE(r.body == alphabet(300000));
    EXPECT_EQ(r.chunks, 19u);
    EXPECT_TRUE(c.got.empty());
}

TEST(HttpRequest, RoutesAndBodies) {
    auto info = parse_http_request("GET /bytes/123?x=1 HTTP/1.1\r\nHost: a");
    EXPECT_EQ(info.route, HttpRoute::bytes);
    EXPECT_EQ(info.value, 123u);
    EXPECT_EQ(parse_http_request("GET /chunked/0 HTTP/1.1").route, HttpRoute::chunked);
    EXPECT_EQ(parse_http_request("GET /bytes/1099511627776 HTTP/1.1").value, std::uint64_t{1} << 40);
    EXPECT_EQ(parse_http_request("GET /status/599 HTTP/1.1").value, 599u);
    EXPECT_EQ(parse_http_request("GET /other HTTP/1.1").route, HttpRoute::body);
    EXPECT_EQ(parse_http_request("GET /bytesx/1 HTTP/1.1").route, HttpRoute::body);
    info = parse_http_request("POST / HTTP/1.1\r\nContent-Length:  42 ");
    EXPECT_EQ(info.content_length, 42u);
    EXPECT_FALSE(info.bad_length);
    EXPECT_TRUE(parse_http_request("POST / HTTP/1.1\r\nContent-Length: 4x").bad_length);
    EXPECT_TRUE(parse_http_request("POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5").bad_length);
    EXPECT_TRUE(parse_http_request("POST / HTTP/1.1\r\ntransfer-encoding: gzip").transfer_coding);
}

}  // namespace
}  // namespace tcpfp::app
