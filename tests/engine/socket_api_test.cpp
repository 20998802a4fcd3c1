// The POSIX-like facade: descriptors, errno values, blocking calls driven by
// the caller's loop, non-blocking calls, options and poll.
#include <gtest/gtest.h>

#include "tcp/posix/socket_api.hpp"
#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using namespace posix;

struct Sockets {
    Net net{test_config(), test_config()};
    SocketApi a{net.a()};
    SocketApi b{net.b()};

    // Repeats a blocking call, advancing the link, until it completes.
    template <class F>
    SysResult block(F&& call, Duration limit = Duration::seconds(10)) {
        SysResult r = call();
        const Instant end = net.now() + limit;
        while (r.would_block && net.now() < end) {
            net.run_for(Duration::millis(1));
            r = call();
        }
        return r;
    }
};

TEST(SocketApi, BlockingClientServerRoundTrip) {
    Sockets s;
    const int lfd = static_cast<int>(s.b.socket(kAfInet, kSockStream, kIpprotoTcp).ret);
    EXPECT_EQ(lfd, 3);  // the lowest free descriptor
    ASSERT_EQ(s.b.bind(lfd, kHostB, 5002).ret, 0);
    ASSERT_EQ(s.b.listen(lfd, 8).ret, 0);
    const int cfd = static_cast<int>(s.a.socket(kAfInet, kSockStream, 0).ret);
    ASSERT_EQ(s.a.bind(cfd, kHostA, 0).ret, 0);
    auto r = s.block([&] { return s.a.connect(cfd, kHostB, 5002, s.net.now()); });
    ASSERT_EQ(r.ret, 0) << r.err;
    wire::Ipv4Addr peer;
    std::uint16_t peer_port = 0;
    r = s.block([&] { return s.b.accept(lfd, s.net.now(), &peer, &peer_port); });
    ASSERT_GE(r.ret, 0);
    const int afd = static_cast<int>(r.ret);
    EXPECT_EQ(peer, kHostA);
    EXPECT_NE(peer_port, 0);
    const std::string msg = "my first tcp packet!\n";
    EXPECT_EQ(s.a.write(cfd, bytes_of(msg), s.net.now()).ret, 21);
    std::uint8_t buf[64];
    r = s.block([&] { return s.b.read(afd, buf, s.net.now()); });
    ASSERT_EQ(r.ret, 21);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 21), msg);
    EXPECT_EQ(s.a.close(cfd, s.net.now()).ret, 0);
    r = s.block([&] { return s.b.read(afd, buf, s.net.now()); });
    EXPECT_EQ(r.ret, 0);  // end of stream after the peer's FIN
    EXPECT_EQ(s.a.close(cfd, s.net.now()).err, EBADF);
}

TEST(SocketApi, NonBlockingErrnos) {
    Sockets s;
    const int fd = static_cast<int>(s.a.socket(kAfInet, kSockStream, 0).ret);
    ASSERT_EQ(s.a.fcntl_setfl(fd, kONonblock).ret, 0);
    EXPECT_EQ(s.a.fcntl_getfl(fd).ret & kONonblock, kONonblock);
    std::uint8_t buf[8];
    EXPECT_EQ(s.a.read(fd, buf, s.net.now()).err, ENOTCONN);
    auto r = s.a.connect(fd, kHostB, 5002, s.net.now());
    EXPECT_EQ(r.err, EINPROGRESS);
    EXPECT_EQ(s.a.connect(fd, kHostB, 5002, s.net.now()).err, EALREADY);
    s.net.run_for(Duration::millis(10));  // nobody listens: RST
    std::int64_t err = -1;
    ASSERT_EQ(s.a.getsockopt(fd, kSolSocket, so::error, err).ret, 0);
    EXPECT_EQ(err, ECONNREFUSED);
    EXPECT_NE(s.a.poll_events(fd, kPollIn | kPollOut) & kPollHup, 0);
}

TEST(SocketApi, ReadWouldBlockThenData) {
    Sockets s;
    const int lfd = static_cast<int>(s.b.socket(kAfInet, kSockStream, 0).ret);
    ASSERT_EQ(s.b.bind(lfd, wire::Ipv4Addr{}, 80).ret, 0);  // INADDR_ANY
    ASSERT_EQ(s.b.listen(lfd, 8).ret, 0);
    const int cfd = static_cast<int>(s.a.socket(kAfInet, kSockStream | kONonblock, 0).ret);
    EXPECT_EQ(s.a.connect(cfd, kHostB, 80, s.net.now()).err, EINPROGRESS);
    s.net.run_for(Duration::millis(5));
    EXPECT_NE(s.a.poll_events(cfd, kPollOut) & kPollOut, 0);
    EXPECT_NE(s.b.poll_events(lfd, kPollIn) & kPollIn, 0);
    const int afd = static_cast<int>(s.b.accept(lfd, s.net.now()).ret);
    ASSERT_GE(afd, 0);
    ASSERT_EQ(s.b.fcntl_setfl(afd, kONonblock).ret, 0);
    std::uint8_t buf[8];
    EXPECT_EQ(s.b.read(afd, buf, s.net.now()).err, EAGAIN);
    EXPECT_EQ(s.b.poll_events(afd, kPollIn), 0);
    EXPECT_EQ(s.a.write(cfd, bytes_of("hi"), s.net.now()).ret, 2);
    s.net.run_for(Duration::millis(5));
    EXPECT_EQ(s.b.poll_events(afd, kPollIn), kPollIn);
    EXPECT_EQ(s.b.read(afd, buf, s.net.now()).ret, 2);
}

TEST(SocketApi, OptionsBeforeAndAfterConnect) {
    Sockets s;
    const int fd = static_cast<int>(s.a.socket(kAfInet, kSockStream, 0).ret);
    ASSERT_EQ(s.a.setsockopt(fd, kIpprotoTcp, tcpopt::nodelay, 1).ret, 0);
    ASSERT_EQ(s.a.setsockopt(fd, kIpprotoTcp, tcpopt::maxseg, 1000).ret, 0);
    std::int64_t v = 0;
    ASSERT_EQ(s.a.getsockopt(fd, kIpprotoTcp, tcpopt::nodelay, v).ret, 0);
    EXPECT_EQ(v, 1);
    ConnId l;
    ASSERT_EQ(s.net.b().listen(kHostB, 80, 8, l), 0);
    s.net.clear_trace();
    ASSERT_EQ(s.block([&] { return s.a.connect(fd, kHostB, 80, s.net.now()); }).ret, 0);
    EXPECT_EQ(s.net.sent_by(Side::a).front().options.mss, 1000);  // the SYN advertised it
    ASSERT_EQ(s.a.getsockopt(fd, kIpprotoTcp, tcpopt::nodelay, v).ret, 0);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(s.a.setsockopt(fd, kIpprotoTcp, 999, 1).err, ENOPROTOOPT);
    EXPECT_EQ(s.a.setsockopt(99, kIpprotoTcp, tcpopt::nodelay, 1).err, EBADF);
}

TEST(SocketApi, BindErrors) {
    Sockets s;
    const int fd = static_cast<int>(s.a.socket(kAfInet, kSockStream, 0).ret);
    EXPECT_EQ(s.a.bind(fd, wire::Ipv4Addr::from_octets(10, 0, 0, 1), 80).err, EADDRNOTAVAIL);
    ASSERT_EQ(s.a.bind(fd, kHostA, 80).ret, 0);
    ASSERT_EQ(s.a.listen(fd, 4).ret, 0);
    const int fd2 = static_cast<int>(s.a.socket(kAfInet, kSockStream, 0).ret);
    ASSERT_EQ(s.a.bind(fd2, kHostA, 80).ret, 0);
    EXPECT_EQ(s.a.listen(fd2, 4).err, EADDRINUSE);
    EXPECT_EQ(s.a.socket(10 /* AF_INET6 */, kSockStream, 0).err, EAFNOSUPPORT);
}

}  // namespace
}  // namespace tcpfp::tcp::test
