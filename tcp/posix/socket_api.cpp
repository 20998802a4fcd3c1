#include "tcp/posix/socket_api.hpp"

#include <cerrno>
#include <new>

namespace tcpfp::tcp::posix {

SocketApi::SocketApi(Engine& engine, std::size_t max_fds, int first_fd,
                     std::pmr::memory_resource* mr)
    : engine_(engine), mr_(mr), max_fds_(max_fds), first_fd_(first_fd) {
    fds_ = static_cast<Fd*>(mr_->allocate(sizeof(Fd) * max_fds_, alignof(Fd)));
    for (std::size_t i = 0; i < max_fds_; ++i) new (fds_ + i) Fd();
}

SocketApi::~SocketApi() { mr_->deallocate(fds_, sizeof(Fd) * max_fds_, alignof(Fd)); }

SocketApi::Fd* SocketApi::get(int fd) {
    if (fd < first_fd_ || static_cast<std::size_t>(fd - first_fd_) >= max_fds_) return nullptr;
    Fd* f = &fds_[fd - first_fd_];
    return f->kind == Kind::free ? nullptr : f;
}

const SocketApi::Fd* SocketApi::get(int fd) const { return const_cast<SocketApi*>(this)->get(fd); }

bool SocketApi::is_open(int fd) const { return get(fd) != nullptr; }

ConnId SocketApi::conn(int fd) const {
    const Fd* f = get(fd);
    return f == nullptr ? ConnId::invalid() : f->conn;
}

int SocketApi::alloc_fd() {
    // POSIX: the lowest free descriptor.
    for (std::size_t i = 0; i < max_fds_; ++i) {
        if (fds_[i].kind == Kind::free) return first_fd_ + static_cast<int>(i);
    }
    return -1;
}

SysResult SocketApi::socket(int domain, int type, int protocol) {
    if (domain != kAfInet) return SysResult::fail(EAFNOSUPPORT);
    if ((type & 0xf) != kSockStream) return SysResult::fail(EPROTONOSUPPORT);
    if (protocol != 0 && protocol != kIpprotoTcp) return SysResult::fail(EPROTONOSUPPORT);
    const int fd = alloc_fd();
    if (fd < 0) return SysResult::fail(EMFILE);
    Fd& f = fds_[fd - first_fd_];
    f = Fd{};
    f.kind = Kind::fresh;
    f.nonblocking = (type & kONonblock) != 0;  // SOCK_NONBLOCK == O_NONBLOCK on Linux
    return SysResult::ok(fd);
}

SysResult SocketApi::bind(int fd, wire::Ipv4Addr addr, std::uint16_t port) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (f->kind != Kind::fresh || f->bound_port != 0 || !f->bound_ip.is_unspecified()) {
        return SysResult::fail(EINVAL);
    }
    if (!addr.is_unspecified() && !engine_.is_local(addr)) return SysResult::fail(EADDRNOTAVAIL);
    f->bound_ip = addr;
    f->bound_port = port;
    return SysResult::ok();
}

SysResult SocketApi::listen(int fd, int backlog) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (f->kind == Kind::listener) return SysResult::ok();
    if (f->kind != Kind::fresh) return SysResult::fail(EINVAL);
    if (f->bound_port == 0) return SysResult::fail(EINVAL);  // no autobind for listeners
    const int r = engine_.listen(f->bound_ip, f->bound_port, backlog, f->conn, f->options);
    if (r < 0) return SysResult::fail(-r);
    f->kind = Kind::listener;
    return SysResult::ok();
}

SysResult SocketApi::accept(int fd, Instant, wire::Ipv4Addr* peer, std::uint16_t* peer_port) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (f->kind != Kind::listener) return SysResult::fail(EINVAL);
    ConnId c;
    const int r = engine_.accept(f->conn, c);
    if (r == -EAGAIN) return f->nonblocking ? SysResult::fail(EAGAIN) : SysResult::blocked();
    if (r < 0) return SysResult::fail(-r);
    const int nfd = alloc_fd();
    if (nfd < 0) {
        (void)engine_.abort(c, Instant{});
        return SysResult::fail(EMFILE);
    }
    Fd& n = fds_[nfd - first_fd_];
    n = Fd{};
    n.kind = Kind::connection;
    n.conn = c;
    ConnInfo info;
    if (engine_.info(c, info) == 0) {
        if (peer != nullptr) *peer = info.tuple.remote_ip;
        if (peer_port != nullptr) *peer_port = info.tuple.remote_port;
    }
    return SysResult::ok(nfd);
}

SysResult SocketApi::connect(int fd, wire::Ipv4Addr addr, std::uint16_t port, Instant now) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (f->kind == Kind::listener) return SysResult::fail(EISCONN);
    if (f->kind == Kind::connection) {
        ConnInfo info;
        if (engine_.info(f->conn, info) < 0) return SysResult::fail(EBADF);
        if (info.state == State::syn_sent || info.state == State::syn_received) {
            if (f->nonblocking) return SysResult::fail(f->connecting ? EALREADY : EINPROGRESS);
            return SysResult::blocked();
        }
        if (info.state == State::closed) {
            const int e = engine_.take_error(f->conn);
            f->connecting = false;
            return SysResult::fail(e != 0 ? e : ECONNABORTED);
        }
        if (f->connecting) {
            f->connecting = false;
            if (!f->nonblocking) return SysResult::ok();
        }
        return SysResult::fail(EISCONN);
    }
    ConnectParams p;
    p.remote_ip = addr;
    p.remote_port = port;
    p.local_ip = f->bound_ip;
    p.local_port = f->bound_port;
    p.options = f->options;
    const int r = engine_.connect(p, now, f->conn);
    if (r < 0) return SysResult::fail(-r);
    f->kind = Kind::connection;
    f->connecting = true;
    if (f->nonblocking) return SysResult::fail(EINPROGRESS);
    return SysResult::blocked();
}

SysResult SocketApi::write(int fd, std::span<const std::uint8_t> data, Instant now) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (f->kind != Kind::connection) return SysResult::fail(f->kind == Kind::listener ? ENOTCONN : EPIPE);
    if (data.empty()) return SysResult::ok(0);
    const auto rest = data.subspan(static_cast<std::size_t>(f->write_done));
    const std::int64_t n = engine_.send(f->conn, rest, now);
    if (n == -EAGAIN) {
        if (f->nonblocking) {
            if (f->write_done > 0) {
                const auto done = f->write_done;
                f->write_done = 0;
                return SysResult::ok(done);
            }
            return SysResult::fail(EAGAIN);
        }
        return SysResult::blocked();
    }
    if (n < 0) {
        f->write_done = 0;
        return SysResult::fail(static_cast<int>(-n));
    }
    if (f->nonblocking) return SysResult::ok(n);
    // A blocking write returns once all of it is in the send buffer.
    f->write_done += n;
    if (static_cast<std::size_t>(f->write_done) < data.size()) return SysResult::blocked();
    const auto done = f->write_done;
    f->write_done = 0;
    return SysResult::ok(done);
}

SysResult SocketApi::read(int fd, std::span<std::uint8_t> out, Instant now) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (f->kind != Kind::connection) return SysResult::fail(ENOTCONN);
    const std::int64_t n = engine_.recv(f->conn, out, now);
    if (n == -EAGAIN) return f->nonblocking ? SysResult::fail(EAGAIN) : SysResult::blocked();
    if (n < 0) return SysResult::fail(static_cast<int>(-n));
    return SysResult::ok(n);
}

SysResult SocketApi::shutdown(int fd, int how, Instant now) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (how < kShutRd || how > kShutRdwr) return SysResult::fail(EINVAL);
    if (f->kind != Kind::connection) return SysResult::fail(ENOTCONN);
    const Shutdown h = how == kShutRd ? Shutdown::rd : how == kShutWr ? Shutdown::wr : Shutdown::rdwr;
    const int r = engine_.shutdown(f->conn, h, now);
    return r < 0 ? SysResult::fail(-r) : SysResult::ok();
}

SysResult SocketApi::close(int fd, Instant now) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (f->kind == Kind::connection || f->kind == Kind::listener) (void)engine_.close(f->conn, now);
    *f = Fd{};
    return SysResult::ok();
}

SysResult SocketApi::fcntl_getfl(int fd) const {
    const Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    return SysResult::ok(02 /* O_RDWR */ | (f->nonblocking ? kONonblock : 0));
}

SysResult SocketApi::fcntl_setfl(int fd, int flags) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    f->nonblocking = (flags & kONonblock) != 0;
    return SysResult::ok();
}

namespace {
bool map_option(int level, int name, SockOpt& opt) {
    if (level == kSolSocket) {
        switch (name) {
            case so::sndbuf: opt = SockOpt::send_buffer; return true;
            case so::rcvbuf: opt = SockOpt::recv_buffer; return true;
            case so::keepalive: opt = SockOpt::keepalive; return true;
            case so::linger: opt = SockOpt::linger; return true;
            default: return false;
        }
    }
    if (level == kIpprotoIp) {
        switch (name) {
            case ipopt::ttl: opt = SockOpt::ttl; return true;  // RFC 9293 MUST-49
            case ipopt::tos: opt = SockOpt::tos; return true;  // MUST-48
            default: return false;
        }
    }
    if (level == kIpprotoTcp) {
        switch (name) {
            case tcpopt::nodelay: opt = SockOpt::nodelay; return true;
            case tcpopt::maxseg: opt = SockOpt::max_segment; return true;
            case tcpopt::keepidle: opt = SockOpt::keepalive_idle; return true;
            case tcpopt::keepintvl: opt = SockOpt::keepalive_interval; return true;
            case tcpopt::keepcnt: opt = SockOpt::keepalive_count; return true;
            case tcpopt::user_timeout: opt = SockOpt::user_timeout; return true;  // RFC 5482
            default: return false;
        }
    }
    return false;
}

std::int64_t& pending_slot(SocketOptions& o, SockOpt opt) {
    switch (opt) {
        case SockOpt::nodelay: return o.nodelay;
        case SockOpt::keepalive: return o.keepalive;
        case SockOpt::linger: return o.linger;
        case SockOpt::send_buffer: return o.send_buffer;
        case SockOpt::recv_buffer: return o.recv_buffer;
        case SockOpt::congestion: return o.congestion;
        case SockOpt::keepalive_idle: return o.keepalive_idle;
        case SockOpt::keepalive_interval: return o.keepalive_interval;
        case SockOpt::keepalive_count: return o.keepalive_count;
        case SockOpt::user_timeout: return o.user_timeout;
        case SockOpt::ttl: return o.ttl;
        case SockOpt::tos: return o.tos;
        case SockOpt::sack: return o.sack;
        case SockOpt::timestamps: return o.timestamps;
        case SockOpt::window_scale: return o.window_scale;
        case SockOpt::max_segment: break;
    }
    return o.max_segment;
}
}  // namespace

SysResult SocketApi::setsockopt(int fd, int level, int name, std::int64_t value) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (level == kSolSocket && name == so::reuseaddr) {
        f->reuseaddr = value != 0;
        return SysResult::ok();
    }
    // Urgent data is always inline (RFC 6093 §6): SO_OOBINLINE can only be on.
    if (level == kSolSocket && name == so::oobinline) {
        return value != 0 ? SysResult::ok() : SysResult::fail(ENOPROTOOPT);
    }
    SockOpt opt;
    if (!map_option(level, name, opt)) return SysResult::fail(ENOPROTOOPT);
    if (f->kind == Kind::fresh) {
        pending_slot(f->options, opt) = value;
        return SysResult::ok();
    }
    const int r = engine_.set_option(f->conn, opt, value);
    return r < 0 ? SysResult::fail(-r) : SysResult::ok();
}

SysResult SocketApi::getsockopt(int fd, int level, int name, std::int64_t& value) {
    Fd* f = get(fd);
    if (f == nullptr) return SysResult::fail(EBADF);
    if (level == kSolSocket && name == so::error) {
        value = f->kind == Kind::fresh ? 0 : engine_.take_error(f->conn);
        return SysResult::ok();
    }
    if (level == kSolSocket && name == so::reuseaddr) {
        value = f->reuseaddr;
        return SysResult::ok();
    }
    if (level == kSolSocket && name == so::oobinline) {
        value = 1;
        return SysResult::ok();
    }
    SockOpt opt;
    if (!map_option(level, name, opt)) return SysResult::fail(ENOPROTOOPT);
    if (f->kind == Kind::fresh) {
        value = pending_slot(f->options, opt);
        if (value == -1 && opt != SockOpt::linger) value = 0;
        return SysResult::ok();
    }
    const int r = engine_.get_option(f->conn, opt, value);
    return r < 0 ? SysResult::fail(-r) : SysResult::ok();
}

short SocketApi::poll_events(int fd, short events) const {
    const Fd* f = get(fd);
    if (f == nullptr) return 0x020;  // POLLNVAL
    if (f->kind == Kind::fresh) return static_cast<short>((kPollOut | kPollHup) & (events | kPollHup));
    ConnInfo info;
    if (engine_.info(f->conn, info) < 0) return 0x020;
    short r = 0;
    if (info.state == State::listen) {
        if (info.accept_q > 0) r |= kPollIn;
        return static_cast<short>(r & events);
    }
    if (info.recv_q > 0 || info.peer_closed) r |= kPollIn;
    // Urgent data whose last octet has arrived (MUST-32), as Linux's POLLPRI.
    if (info.urgent_left > 0 && info.urgent_left <= info.recv_q) r |= kPollPri;
    if (info.peer_closed) r |= kPollRdHup;
    const bool can_send = info.state == State::established || info.state == State::close_wait;
    if (can_send && info.send_space > 0) r |= kPollOut;
    if (info.error != 0) r |= kPollErr;
    if (info.state == State::closed) r |= kPollHup | kPollIn;
    return static_cast<short>(r & (events | kPollErr | kPollHup));
}

}  // namespace tcpfp::tcp::posix
