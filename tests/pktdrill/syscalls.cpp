// System calls from the script, executed against the SocketApi. A call
// that would block is retried after every clock step until it returns.
#include <cerrno>

#include "runner.hpp"
#include "symbols.hpp"

namespace tcpfp::pktdrill {

using tcp::Duration;
using tcp::Instant;
using tcp::posix::SysResult;

namespace {

constexpr std::uint16_t kScriptPort = 8080;
constexpr std::uint16_t kRemoteEphemeral = 40000;

std::string seconds(std::int64_t us) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(us) / 1e6);
    return buf;
}

const Expr* field(const Expr& structure, const char* name) {
    for (const Expr& f : structure.items) {
        if (f.kind == Expr::Kind::assign && f.text == name) return &f.items[0];
    }
    return nullptr;
}

std::string describe_result(const SysResult& r) {
    if (r.ret == -1) return "-1 with errno " + errno_name(r.err);
    return std::to_string(r.ret);
}

}  // namespace

std::int64_t Runner::eval(const Expr& e) const {
    switch (e.kind) {
        case Expr::Kind::integer: return e.value;
        case Expr::Kind::word: {
            if (const auto v = constant(e.text)) return *v;
            if (const auto err = errno_value(e.text)) return *err;  // SO_ERROR values
            fail("unsupported: constant " + e.text);
        }
        case Expr::Kind::bit_or: return eval(e.items[0]) | eval(e.items[1]);
        case Expr::Kind::array:
            if (e.items.size() != 1) fail("expected a one-element array like [1]");
            return eval(e.items[0]);
        case Expr::Kind::call:
            if ((e.text == "htons" || e.text == "htonl") && e.items.size() == 1) return eval(e.items[0]);
            fail("unsupported: function " + e.text + "() in an argument");
        case Expr::Kind::ellipsis: fail("'...' where a value is needed");
        default: fail("unsupported: this kind of argument here");
    }
}

std::int64_t Runner::int_arg(const SyscallSpec& s, std::size_t i) const {
    if (i >= s.args.size()) fail(s.name + "() needs at least " + std::to_string(i + 1) + " arguments");
    return eval(s.args[i]);
}

void Runner::start_syscall(const Event& e, Instant start, Instant end) {
    const SysResult r = call(e.syscall, start);
    drain();
    if (!r.would_block) {
        finish_syscall(e, r, start, end);
        return;
    }
    if (!e.syscall.blocking) {
        fail(e.syscall.name + "() blocked; a blocking call needs an end time (`+0...0.100 " + e.syscall.name +
             "(...)`)");
    }
    if (pending_) fail("a second blocking call while " + pending_->event->syscall.name + "() still blocks");
    pending_ = Pending{&e, start, end, Instant::max()};
    if (e.syscall.name == "poll" && int_arg(e.syscall, 2) > 0) {
        pending_->wake = start + Duration::millis(int_arg(e.syscall, 2));  // the poll timeout
    }
}

void Runner::retry_pending() {
    if (!pending_) return;
    const Pending p = *pending_;
    const SysResult r = call(p.event->syscall, p.started);
    if (r.would_block) return;
    pending_.reset();
    drain();
    const int saved = line_;
    line_ = p.event->line;
    finish_syscall(*p.event, r, p.started, p.end);
    line_ = saved;
}

void Runner::finish_syscall(const Event& e, const SysResult& r, Instant started, Instant end) {
    const SyscallSpec& s = e.syscall;
    (void)started;
    if (s.blocking) {
        const Duration tol = Duration::micros(tolerance_us_);
        if (now_ + tol < end || now_ > end + tol) {
            throw ScriptError{e.line, "timing error: " + s.name + "() returned at " + seconds(script_time(now_)) +
                                          ", expected at " + seconds(script_time(end))};
        }
    }
    if (s.result.kind == Expr::Kind::ellipsis) return;
    const std::int64_t want = eval(s.result);
    if (r.ret != want) {
        throw ScriptError{e.line, "runtime error in " + s.name + " call: expected result " + std::to_string(want) +
                                      (s.errno_name.empty() ? "" : " " + s.errno_name) + " but got " +
                                      describe_result(r)};
    }
    if (!s.errno_name.empty()) {
        const auto want_err = errno_value(s.errno_name);
        if (!want_err) throw ScriptError{e.line, "unsupported: errno " + s.errno_name};
        if (r.err != *want_err) {
            throw ScriptError{e.line, "runtime error in " + s.name + " call: expected errno " + s.errno_name +
                                          " but got " + describe_result(r)};
        }
    }
}

SysResult Runner::call(const SyscallSpec& s, Instant started) {
    tcp::posix::SocketApi& api = *api_;
    const std::string& n = s.name;
    if (n == "socket") {
        const std::int64_t domain = s.args.empty() || s.args[0].kind == Expr::Kind::ellipsis ? 2 : int_arg(s, 0);
        return api.socket(static_cast<int>(domain), static_cast<int>(int_arg(s, 1)),
                          static_cast<int>(int_arg(s, 2)));
    }
    if (n == "bind" || n == "connect" || n == "accept" || n == "listen") return call_addressing(s);
    if (n == "write" || n == "send" || n == "sendto" || n == "read" || n == "recv" || n == "recvfrom") {
        return call_data(s);
    }
    if (n == "close") return api.close(static_cast<int>(int_arg(s, 0)), now_);
    if (n == "shutdown") {
        return api.shutdown(static_cast<int>(int_arg(s, 0)), static_cast<int>(int_arg(s, 1)), now_);
    }
    if (n == "fcntl") {
        const int fd = static_cast<int>(int_arg(s, 0));
        const std::int64_t cmd = int_arg(s, 1);
        if (cmd == 3) return api.fcntl_getfl(fd);
        if (cmd == 4) return api.fcntl_setfl(fd, static_cast<int>(int_arg(s, 2)));
        fail("unsupported: fcntl command " + std::to_string(cmd));
    }
    if (n == "setsockopt" || n == "getsockopt") return call_sockopt(s, n == "setsockopt");
    if (n == "poll") return call_poll(s, started);
    if (n == "ioctl") return call_ioctl(s);
    fail("unsupported: system call " + n + "()");
}

SysResult Runner::call_addressing(const SyscallSpec& s) {
    tcp::posix::SocketApi& api = *api_;
    const int fd = static_cast<int>(int_arg(s, 0));
    if (s.name == "listen") return api.listen(fd, static_cast<int>(int_arg(s, 1)));
    if (s.name == "accept") return api.accept(fd, now_);
    // The address argument: `...` means the script's default endpoint.
    wire::Ipv4Addr addr;
    std::uint16_t port = kScriptPort;
    if (s.args.size() > 1 && s.args[1].kind == Expr::Kind::structure) {
        const Expr* p = field(s.args[1], "sin_port");
        const Expr* a = field(s.args[1], "sin_addr");
        if (p != nullptr) port = static_cast<std::uint16_t>(eval(*p));
        if (a != nullptr) {
            if (a->kind != Expr::Kind::call || a->text != "inet_addr" || a->items.size() != 1 ||
                a->items[0].kind != Expr::Kind::string) {
                fail("unsupported: sin_addr other than inet_addr(\"a.b.c.d\")");
            }
            const auto parsed = wire::Ipv4Addr::parse(a->items[0].text);
            if (!parsed) fail("bad address " + a->items[0].text);
            addr = *parsed;
        }
    } else if (s.args.size() > 1 && s.args[1].kind != Expr::Kind::ellipsis) {
        fail("unsupported: address argument (use ... or {sa_family=AF_INET, sin_port=htons(P), sin_addr=inet_addr(\"A\")})");
    }
    if (s.name == "bind") {
        // Scripts bind to `...`, INADDR_ANY or their own idea of the local
        // address; all of them mean "this host" here.
        if (!addr.is_unspecified() && addr != ep_.local_ip) addr = ep_.local_ip;
        const SysResult r = api.bind(fd, addr, port);
        if (r.ret == 0) {
            ep_.local_port = port;
            ep_.remote_port = kRemoteEphemeral;
        }
        return r;
    }
    if (addr.is_unspecified()) addr = ep_.remote_ip;
    if (addr != ep_.remote_ip) fail("unsupported: connect() to " + addr.to_string() + ", not the remote address");
    ep_.remote_port = port;
    return api.connect(fd, addr, port, now_);
}

SysResult Runner::call_data(const SyscallSpec& s) {
    tcp::posix::SocketApi& api = *api_;
    const int fd = static_cast<int>(int_arg(s, 0));
    const std::size_t len = static_cast<std::size_t>(int_arg(s, 2));
    const bool has_flags = s.name != "write" && s.name != "read";
    if (has_flags && int_arg(s, 3) != 0) fail("unsupported: " + s.name + "() flags other than 0");
    if (s.name == "sendto" || s.name == "recvfrom") {
        for (std::size_t i = 4; i < s.args.size(); ++i) {
            if (s.args[i].kind != Expr::Kind::ellipsis && s.args[i].kind != Expr::Kind::integer) {
                fail("unsupported: " + s.name + "() with an address (TCP ignores it)");
            }
        }
    }
    if (s.name == "write" || s.name == "send" || s.name == "sendto") {
        std::vector<std::uint8_t> data(len, 0);
        if (s.args[1].kind == Expr::Kind::string) {
            // The script supplies the bytes: "my first tcp packet!\n".
            const std::string& text = s.args[1].text;
            if (text.size() != len) fail("string length " + std::to_string(text.size()) + " differs from count " + std::to_string(len));
            data.assign(text.begin(), text.end());
        }
        return api.write(fd, data, now_);
    }
    std::vector<std::uint8_t> buf(len);
    const SysResult r = api.read(fd, buf, now_);
    if (!r.would_block && r.ret > 0 && s.args[1].kind == Expr::Kind::string) {
        const std::string got(buf.begin(), buf.begin() + r.ret);
        if (got != s.args[1].text.substr(0, got.size())) fail("read() returned different bytes than the script expects");
    }
    return r;
}

SysResult Runner::call_sockopt(const SyscallSpec& s, bool set) {
    tcp::posix::SocketApi& api = *api_;
    const int fd = static_cast<int>(int_arg(s, 0));
    const int level = static_cast<int>(int_arg(s, 1));
    const int name = static_cast<int>(int_arg(s, 2));
    const std::string name_text = s.args[2].kind == Expr::Kind::word ? s.args[2].text : std::to_string(name);
    if (s.args.size() < 4) fail(s.name + "() needs a value argument");
    const Expr& v = s.args[3];
    const bool linger = level == 1 && name == 13;
    auto linger_value = [&](const Expr& st) -> std::int64_t {
        const Expr* on = field(st, "onoff");
        const Expr* secs = field(st, "linger");
        if (on == nullptr || secs == nullptr) fail("SO_LINGER needs {onoff=N, linger=N}");
        return eval(*on) != 0 ? eval(*secs) : -1;
    };
    SysResult r;
    std::int64_t got = 0;
    if (set) {
        const std::int64_t value = linger && v.kind == Expr::Kind::structure ? linger_value(v) : eval(v);
        r = api.setsockopt(fd, level, name, value);
    } else {
        r = api.getsockopt(fd, level, name, got);
    }
    if (r.ret == -1 && r.err == ENOPROTOOPT) result_.refused_options.insert(name_text);
    if (set || r.ret != 0) return r;
    // getsockopt: compare the value the script expects.
    const bool unchecked = v.kind == Expr::Kind::ellipsis ||
                           (v.kind == Expr::Kind::array && v.items.size() == 1 && v.items[0].kind == Expr::Kind::ellipsis);
    if (unchecked) return r;
    const std::int64_t want = linger && v.kind == Expr::Kind::structure ? linger_value(v) : eval(v);
    if (got != want) {
        fail("runtime error in getsockopt call: " + name_text + " is " + std::to_string(got) + ", script expects " +
             std::to_string(want));
    }
    return r;
}

// ioctl(fd, SIOCINQ|FIONREAD, [bytes]) and SIOCOUTQ: queue sizes from
// the engine's connection info; SIOCATMARK: 1 when the next byte read is
// the last urgent one (Linux's answer with SO_OOBINLINE).
SysResult Runner::call_ioctl(const SyscallSpec& s) {
    constexpr std::int64_t kSiocinq = 0x541B, kSiocoutq = 0x5411, kSiocatmark = 0x8905;
    const int fd = static_cast<int>(int_arg(s, 0));
    const std::int64_t req = int_arg(s, 1);
    if (req != kSiocinq && req != kSiocoutq && req != kSiocatmark) {
        fail("unsupported: ioctl request " + std::to_string(req));
    }
    if (!api_->is_open(fd)) return SysResult::fail(EBADF);
    tcp::ConnInfo info;
    if (engine_->info(api_->conn(fd), info) != 0) return SysResult::fail(EINVAL);
    const std::int64_t got = req == kSiocinq ? info.recv_q : req == kSiocoutq ? info.send_q : info.urgent_left == 1;
    if (s.args.size() > 2 && s.args[2].kind != Expr::Kind::ellipsis && eval(s.args[2]) != got) {
        fail(std::string("runtime error in ioctl call: ") + (req == kSiocatmark ? "at mark " : "queue holds ") +
             std::to_string(got) + (req == kSiocatmark ? "" : " bytes") + ", script expects " +
             std::to_string(eval(s.args[2])));
    }
    return SysResult::ok(0);
}

SysResult Runner::call_poll(const SyscallSpec& s, Instant started) {
    if (s.args.size() != 3 || s.args[0].kind != Expr::Kind::array) fail("poll() takes ([{fd=..., events=...}], n, timeout)");
    const std::int64_t timeout_ms = int_arg(s, 2);
    int ready = 0;
    std::vector<std::pair<const Expr*, short>> got;
    for (const Expr& p : s.args[0].items) {
        const Expr* fd = field(p, "fd");
        const Expr* events = field(p, "events");
        if (p.kind != Expr::Kind::structure || fd == nullptr || events == nullptr) fail("poll() entries need fd= and events=");
        const short rev = api_->poll_events(static_cast<int>(eval(*fd)), static_cast<short>(eval(*events)));
        if (rev != 0) ++ready;
        got.emplace_back(field(p, "revents"), rev);
    }
    if (ready == 0 && timeout_ms != 0) {
        const bool expired = timeout_ms > 0 && now_ >= started + Duration::millis(timeout_ms);
        if (!expired) return SysResult::blocked();
    }
    for (const auto& [want, rev] : got) {
        if (want != nullptr && eval(*want) != rev) {
            fail("runtime error in poll call: revents " + std::to_string(rev) + ", script expects " +
                 std::to_string(eval(*want)));
        }
    }
    return SysResult::ok(ready);
}

}  // namespace tcpfp::pktdrill
