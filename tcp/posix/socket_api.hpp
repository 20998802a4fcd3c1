// A POSIX-like socket facade over one engine: small-integer descriptors,
// errno results, blocking and non-blocking semantics. Blocking is driven by
// the caller's loop: a call that would block returns `would_block`, and the
// caller advances the engine and repeats the same call until it completes.
// The script runner and example programs use it.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <span>

#include "tcp/engine/engine.hpp"

namespace tcpfp::tcp::posix {

// Linux's values, so scripts written against Linux read the same.
inline constexpr int kAfInet = 2;
inline constexpr int kSockStream = 1;
inline constexpr int kIpprotoTcp = 6;
inline constexpr int kIpprotoIp = 0;
inline constexpr int kSolSocket = 1;
inline constexpr int kONonblock = 04000;
inline constexpr int kShutRd = 0, kShutWr = 1, kShutRdwr = 2;
inline constexpr short kPollIn = 0x001, kPollPri = 0x002, kPollOut = 0x004, kPollErr = 0x008, kPollHup = 0x010,
                       kPollRdHup = 0x2000;

// Option names (SOL_SOCKET / IPPROTO_TCP), Linux numbering.
namespace so {
inline constexpr int reuseaddr = 2, error = 4, sndbuf = 7, rcvbuf = 8, keepalive = 9, oobinline = 10,
                     linger = 13;
}
namespace ipopt {
inline constexpr int tos = 1, ttl = 2;  // IP_TOS, IP_TTL (Linux's values)
}
namespace tcpopt {
inline constexpr int nodelay = 1, maxseg = 2, keepidle = 4, keepintvl = 5, keepcnt = 6,
                     user_timeout = 18;
}

struct SysResult {
    std::int64_t ret = 0;  // -1 on error, as POSIX
    int err = 0;           // errno when ret == -1
    bool would_block = false;  // blocking call not finished: call again later

    static SysResult ok(std::int64_t v = 0) { return {v, 0, false}; }
    static SysResult fail(int e) { return {-1, e, false}; }
    static SysResult blocked() { return {0, 0, true}; }
};

class SocketApi {
public:
    explicit SocketApi(Engine& engine, std::size_t max_fds = 1024, int first_fd = 3,
                       std::pmr::memory_resource* mr = std::pmr::get_default_resource());
    ~SocketApi();
    SocketApi(const SocketApi&) = delete;
    SocketApi& operator=(const SocketApi&) = delete;

    SysResult socket(int domain, int type, int protocol);
    SysResult bind(int fd, wire::Ipv4Addr addr, std::uint16_t port);
    SysResult listen(int fd, int backlog);
    SysResult accept(int fd, Instant now, wire::Ipv4Addr* peer = nullptr,
                     std::uint16_t* peer_port = nullptr);
    SysResult connect(int fd, wire::Ipv4Addr addr, std::uint16_t port, Instant now);
    SysResult write(int fd, std::span<const std::uint8_t> data, Instant now);
    SysResult read(int fd, std::span<std::uint8_t> out, Instant now);
    SysResult shutdown(int fd, int how, Instant now);
    SysResult close(int fd, Instant now);
    SysResult fcntl_getfl(int fd) const;
    SysResult fcntl_setfl(int fd, int flags);
    SysResult setsockopt(int fd, int level, int name, std::int64_t value);
    SysResult getsockopt(int fd, int level, int name, std::int64_t& value);
    // poll() for one descriptor: the revents it would report now.
    short poll_events(int fd, short events) const;

    ConnId conn(int fd) const;  // the engine handle behind a descriptor (invalid if none)
    bool is_open(int fd) const;

private:
    enum class Kind : std::uint8_t { free, fresh, listener, connection };
    struct Fd {
        Kind kind = Kind::free;
        bool nonblocking = false;
        bool connecting = false;
        bool reuseaddr = false;
        ConnId conn{};
        wire::Ipv4Addr bound_ip;
        std::uint16_t bound_port = 0;
        SocketOptions options;
        std::int64_t write_done = 0;  // progress of a blocking write
    };
    Fd* get(int fd);
    const Fd* get(int fd) const;
    int alloc_fd();

    Engine& engine_;
    std::pmr::memory_resource* mr_;
    Fd* fds_;
    std::size_t max_fds_;
    int first_fd_;
};

}  // namespace tcpfp::tcp::posix
