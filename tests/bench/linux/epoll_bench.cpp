// The Linux side of scripts/bench.sh: the same workloads tcpfp's traffic
// generator runs (crr, rr, bulk), with kernel sockets and one epoll loop
// per process, pinned to one CPU like tcpfp's worker.
//
//   epoll_bench server --port P [--http FILE | --rr | --discard] [--cpu C]
//       echo service (every byte read is written back); with --http an
//       HTTP/1.1 keep-alive responder that answers every request (a blank
//       line) with FILE's bytes; with --rr the framing of tcpfp's rr
//       service (dpdk_app/apps/rr.hpp: an 8-byte header gives the request's
//       length and the response's), so the client picks the response size.
//       Runs until SIGINT/SIGTERM.
//   epoll_bench client crr|rr|bulk --addr A --port P --conns N --size B
//       --duration S [--response B] [--rate R] [--cpu C]
//       prints one JSON line: {"mode":..,"conn_per_s":..,"req_per_s":..,
//       "gbit_per_s":..,...}. bulk writes to a server that only reads
//       (the echo server with --discard on the server side). --response:
//       requests in the rr framing asking for B bytes (the server runs
//       --rr). --rate (crr): open loop, connection k is due at t0 + k/R
//       whatever the server does, at most --conns at once (see Pacer).
//
// No DPDK here: it measures the kernel.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "epoll_bench: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

struct Options {
    std::string role;  // server | client
    std::string mode;  // crr | rr | bulk (client)
    std::string addr = "127.0.0.1";
    int port = 7;
    int conns = 1;
    std::size_t size = 64;
    double duration = 3.0;
    int cpu = -1;
    std::string http_file;  // server: answer HTTP requests with these bytes
    bool discard = false;   // server: read and drop (bulk)
    bool rr = false;        // server: the rr framing (response size from the request)
    std::size_t response = 0;  // client: > 0: rr framing, this many response bytes
    double rate = 0;           // client crr: connections due per second (0: closed loop)
};

void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<unsigned>(cpu), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

void set_nonblocking(int fd) {
    const int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl");
}

void set_nodelay(int fd) {
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

sockaddr_in make_addr(const std::string& a, int port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, a.c_str(), &sa.sin_addr) != 1) {
        std::fprintf(stderr, "epoll_bench: bad address %s\n", a.c_str());
        std::exit(2);
    }
    return sa;
}

// --- server ---------------------------------------------------------------------

struct ServerConn {
    std::string pending;        // bytes still to write (echo, HTTP or rr responses)
    std::size_t pending_off = 0;  // written prefix of `pending` (no memmove per partial write)
    std::string request;        // HTTP, rr: bytes of a request not complete yet
    std::uint64_t filler = 0;   // rr: filler bytes of the current request still to drop
    std::uint32_t response = 0;  // rr: what the current request asked for
    bool in_request = false;    // rr: header parsed, filler (maybe) still coming
    bool close_after = false;   // rr: the request asked us to close once `pending` is out
    bool want_out = false;      // EPOLLOUT registered: `pending` met a full send buffer
};

// The rr body: byte k of every response is 'a' + k % 26, as tcpfp's rr
// service sends it, so tcpfp's generator could verify either server. A
// whole number of 26-byte periods, so consecutive copies continue the
// pattern.
const std::string& rr_pattern() {
    static const std::string p = [] {
        std::string b(26 * 2520, 'a');
        for (std::size_t k = 0; k < b.size(); ++k) b[k] = static_cast<char>('a' + k % 26);
        return b;
    }();
    return p;
}

// A response is built in memory before it is written; this bounds what one
// request can make the server hold (the benchmark asks for 16 KiB).
constexpr std::uint32_t kMaxRrResponse = 64u << 20;

std::uint32_t be32(const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) | u[3];
}

// Consumes rr requests from `in` (header, then filler); once a request is
// read whole, filler included, its response goes onto sc.pending, as
// tcpfp's service answers. False on a malformed request: the caller drops
// the connection, as tcpfp's service resets it.
bool take_rr_requests(ServerConn& sc, const char* in, std::size_t n) {
    for (;;) {
        if (sc.in_request) {
            const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(sc.filler, n));
            sc.filler -= k;
            in += k;
            n -= k;
            if (sc.filler > 0) return true;  // the rest of the filler is still to come
            const std::string& pat = rr_pattern();
            for (std::uint32_t left = sc.response; left > 0;) {
                const std::size_t c = std::min<std::size_t>(left, pat.size());
                sc.pending.append(pat, 0, c);
                left -= static_cast<std::uint32_t>(c);
            }
            sc.in_request = false;
        }
        if (n == 0) return true;
        const std::size_t k = std::min(8 - sc.request.size(), n);
        sc.request.append(in, k);
        in += k;
        n -= k;
        if (sc.request.size() < 8) return true;
        const std::uint32_t len = be32(sc.request.data());
        const std::uint32_t word = be32(sc.request.data() + 4);
        sc.request.clear();
        sc.response = word & 0x7fffffffu;
        if (len < 8 || (len & 0x80000000u) != 0 || sc.response > kMaxRrResponse) return false;
        sc.filler = len - 8;
        sc.close_after = (word & 0x80000000u) != 0;
        sc.in_request = true;
    }
}

// Counts complete requests (ended by a blank line) in `buf`, keeping the
// tail of an incomplete one.
std::size_t take_http_requests(std::string& buf) {
    std::size_t n = 0;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t e = buf.find("\r\n\r\n", pos);
        if (e == std::string::npos) break;
        ++n;
        pos = e + 4;
    }
    buf.erase(0, pos);
    return n;
}

// Writes what `sc` owes; registers EPOLLOUT while a full send buffer holds
// the rest back (a 16 KiB response can exceed it), drops it once flushed.
// False when the connection is to be closed.
bool flush(int ep, int fd, ServerConn& sc) {
    while (sc.pending_off < sc.pending.size()) {
        const ssize_t w = write(fd, sc.pending.data() + sc.pending_off, sc.pending.size() - sc.pending_off);
        if (w > 0) {
            sc.pending_off += static_cast<std::size_t>(w);
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) break;
        return false;
    }
    const bool more = sc.pending_off < sc.pending.size();
    if (!more) {
        sc.pending.clear();
        sc.pending_off = 0;
        if (sc.close_after) return false;
    }
    if (more != sc.want_out) {
        epoll_event ev{};
        ev.events = EPOLLIN | (more ? EPOLLOUT : 0u);
        ev.data.fd = fd;
        if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0) die("epoll_ctl");
        sc.want_out = more;
    }
    return true;
}

int run_server(const Options& o) {
    pin(o.cpu);
    std::string http;
    if (!o.http_file.empty()) {
        if (FILE* f = std::fopen(o.http_file.c_str(), "rb")) {
            char chunk[4096];
            for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) http.append(chunk, n);
            std::fclose(f);
        }
        if (http.empty()) {
            std::fprintf(stderr, "epoll_bench: %s is empty\n", o.http_file.c_str());
            return 2;
        }
    }
    const int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    (void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa = make_addr("0.0.0.0", o.port);
    if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("bind");
    if (listen(lfd, 4096) != 0) die("listen");
    set_nonblocking(lfd);
    const int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) die("epoll_ctl");
    std::vector<ServerConn> conns(1024);
    std::vector<char> buf(256 * 1024);
    std::vector<epoll_event> events(256);
    std::printf("epoll_bench: server on port %d ready\n", o.port);
    std::fflush(stdout);
    while (!g_stop) {
        const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<std::size_t>(i)].data.fd;
            if (fd == lfd) {
                for (;;) {
                    const int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
                    if (c < 0) break;
                    set_nodelay(c);
                    if (static_cast<std::size_t>(c) >= conns.size()) conns.resize(static_cast<std::size_t>(c) * 2);
                    conns[static_cast<std::size_t>(c)] = {};
                    epoll_event cev{};
                    cev.events = EPOLLIN;
                    cev.data.fd = c;
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) != 0) die("epoll_ctl");
                }
                continue;
            }
            ServerConn& sc = conns[static_cast<std::size_t>(fd)];
            bool closed = false;
            for (;;) {
                const ssize_t r = read(fd, buf.data(), buf.size());
                if (r > 0) {
                    if (o.discard) continue;
                    if (o.rr) {
                        if (!take_rr_requests(sc, buf.data(), static_cast<std::size_t>(r))) closed = true;
                        if (closed) break;
                    } else if (http.empty()) {
                        sc.pending.append(buf.data(), static_cast<std::size_t>(r));
                    } else {
                        sc.request.append(buf.data(), static_cast<std::size_t>(r));
                        for (std::size_t k = take_http_requests(sc.request); k > 0; --k) sc.pending += http;
                    }
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) closed = true;
                break;
            }
            if (!closed && !flush(ep, fd, sc)) closed = true;
            if (closed) {
                sc = {};
                close(fd);  // the kernel removes it from the epoll set
            }
        }
    }
    close(ep);
    close(lfd);
    return 0;
}

// --- client ---------------------------------------------------------------------

enum class Phase : std::uint8_t { connecting, sending, receiving };

struct Slot {
    int fd = -1;
    Phase phase = Phase::connecting;
    std::size_t sent = 0;
    std::size_t received = 0;
    Clock::time_point scheduled;  // paced: when this connection was due
    Clock::time_point t_connect;  // connect() called
    Clock::time_point started;    // the request's first write
};

// Latencies in nanoseconds, one sample per completed request; percentiles
// come from sorting them at the end (a few hundred thousand at most: exact,
// no histogram error). request and connect are measured as tcpfp's
// generator measures p50_us/p99_us and connect_* in crr, so the two can be
// compared; sched and lag exist only when paced.
struct Results {
    std::uint64_t conns_opened = 0;
    std::uint64_t conns_failed = 0;
    std::uint64_t requests = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::vector<std::uint64_t> request_ns;  // first write of the request -> last byte of its response
    std::vector<std::uint64_t> connect_ns;  // connect() -> ESTABLISHED
    std::vector<std::uint64_t> sched_ns;    // due time -> last byte: start lag, connect and request
    std::vector<std::uint64_t> lag_ns;      // due time -> connect(): how late the client started it
    std::uint64_t due = 0, started = 0, missed = 0;
};

// The open-loop schedule of paced crr: start k is due at t0 + k/R, whatever
// the server does, so a slow server cannot slow the offered load (no
// coordinated omission). As in tcpfp's RatePacer (dpdk_app/apps/pacer.hpp),
// a backlog beyond `burst` (5 ms of the rate, at least 4) is dropped and
// counted as missed rather than sent as a burst; that happens when the
// client was descheduled or all --conns connections were busy. The starts
// that remain keep their own due time, and latency is measured from it, so
// the wait for a free connection is not hidden.
class Pacer {
public:
    Pacer(Clock::time_point t0, double rate, double duration)
        : t0_(t0), rate_(rate),
          total_(static_cast<std::uint64_t>(std::ceil(duration * rate))),
          burst_(std::max<std::uint64_t>(4, static_cast<std::uint64_t>(rate * 0.005))) {}

    // Starts due by `now` (k with t0 + k/R <= now, within the duration).
    std::uint64_t due(Clock::time_point now) const {
        if (now < t0_) return 0;
        const double e = std::chrono::duration<double>(now - t0_).count();
        return std::min(static_cast<std::uint64_t>(e * rate_) + 1, total_);
    }
    // The next start allowed now, after dropping a backlog beyond the burst;
    // false when none is due.
    bool next(Clock::time_point now, Clock::time_point& when) {
        const std::uint64_t d = due(now);
        if (d > next_ + burst_) {
            missed_ += d - burst_ - next_;
            next_ = d - burst_;
        }
        if (next_ >= d) return false;
        when = at(next_);
        return true;
    }
    void take() { ++next_; }
    bool done() const { return next_ >= total_; }
    Clock::time_point next_due() const { return at(next_); }
    std::uint64_t missed() const { return missed_; }

private:
    Clock::time_point at(std::uint64_t k) const {
        return t0_ + std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(k) * 1e9 / rate_));
    }
    Clock::time_point t0_;
    double rate_;
    std::uint64_t total_;
    std::uint64_t burst_;
    std::uint64_t next_ = 0;
    std::uint64_t missed_ = 0;
};

std::uint64_t ns(Clock::duration d) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

// The request every exchange sends: `size` bytes of 'x' (echo), or in the
// rr framing an 8-byte header (total length, response length; big-endian)
// then filler.
std::string make_request(const Options& o) {
    std::string m(o.size, 'x');
    if (o.response == 0) return m;
    const auto put = [&](std::size_t at, std::uint32_t v) {
        for (int b = 0; b < 4; ++b) m[at + static_cast<std::size_t>(b)] = static_cast<char>(v >> (24 - 8 * b));
    };
    put(0, static_cast<std::uint32_t>(o.size));
    put(4, static_cast<std::uint32_t>(o.response));
    return m;
}

class Client {
public:
    explicit Client(const Options& o)
        : o_(o), peer_(make_addr(o.addr, o.port)), slots_(static_cast<std::size_t>(o.conns)),
          msg_(make_request(o)), expect_(o.response > 0 ? o.response : o.size), rbuf_(256 * 1024) {
        ep_ = epoll_create1(0);
        if (ep_ < 0) die("epoll_create1");
        res_.request_ns.reserve(1 << 20);
    }

    Results run() {
        const auto t0 = Clock::now();
        const auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration));
        paced_ = o_.rate > 0;
        if (paced_) {
            pacer_.emplace(t0, o_.rate, o_.duration);
            for (std::size_t i = slots_.size(); i > 0; --i) free_.push_back(i - 1);
        } else {
            for (std::size_t i = 0; i < slots_.size(); ++i) open_slot(i, t0);
        }
        std::vector<epoll_event> events(512);
        auto now = Clock::now();
        while (!g_stop && now < end) {
            if (paced_) start_due(now);
            timespec ts = wait_for(now, end);
            const int n = epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), &ts, nullptr);
            for (int i = 0; i < n; ++i) {
                on_event(events[static_cast<std::size_t>(i)].data.u64, events[static_cast<std::size_t>(i)].events);
            }
            if (!paced_) {
                for (std::size_t i = 0; i < slots_.size(); ++i) {
                    if (slots_[i].fd < 0) open_slot(i, Clock::now());  // e.g. EADDRNOTAVAIL: no free port yet
                }
            }
            now = Clock::now();
        }
        elapsed_ = std::chrono::duration<double>(now - t0).count();
        if (paced_) {
            // A backlog left at the end beyond the burst was missed too (the
            // loop ran late, e.g. descheduled): account it as tcpfp's pacer does.
            Clock::time_point unused;
            (void)pacer_->next(end, unused);
            res_.due = pacer_->due(end);
            res_.missed = pacer_->missed();
        }
        return res_;
    }

    double elapsed() const { return elapsed_; }

private:
    // How long epoll may sleep: until the next start is due when a slot is
    // free for it (paced), else a few ms (closed loop: only events matter).
    timespec wait_for(Clock::time_point now, Clock::time_point end) const {
        Clock::duration d = std::chrono::milliseconds(10);
        if (paced_) d = std::chrono::milliseconds(1);  // the pacer drops a stale backlog as time passes
        if (paced_ && !free_.empty() && !pacer_->done()) d = std::max(Clock::duration::zero(), pacer_->next_due() - now);
        d = std::min(d, end - now);
        const auto n = static_cast<long long>(ns(d));
        return timespec{static_cast<time_t>(n / 1000000000), static_cast<long>(n % 1000000000)};
    }

    // Paced: every start due now that finds a free slot; the rest wait in the
    // pacer's backlog (and are missed once it is more than 5 ms of starts).
    void start_due(Clock::time_point now) {
        Clock::time_point when;
        while (pacer_->next(now, when)) {
            if (free_.empty()) return;
            pacer_->take();
            ++res_.started;
            const std::size_t i = free_.back();
            free_.pop_back();
            res_.lag_ns.push_back(ns(now - when));
            slots_[i].scheduled = when;
            open_slot(i, now, when);
        }
    }

    void open_slot(std::size_t i, Clock::time_point now, Clock::time_point scheduled = {}) {
        Slot& s = slots_[i];
        s = Slot{};
        s.scheduled = scheduled;
        s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (s.fd < 0) die("socket");
        set_nodelay(s.fd);
        s.t_connect = now;
        s.started = now;
        const int r = connect(s.fd, reinterpret_cast<const sockaddr*>(&peer_), sizeof peer_);
        if (r != 0 && errno != EINPROGRESS) {
            ++res_.conns_failed;
            close(s.fd);
            s.fd = -1;
            if (paced_) free_.push_back(i);  // that start is lost; the schedule goes on
            return;  // closed loop: run() retries the slot after the next round of events
        }
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN;
        ev.data.u64 = i;
        if (epoll_ctl(ep_, EPOLL_CTL_ADD, s.fd, &ev) != 0) die("epoll_ctl");
    }

    void want(std::size_t i, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = i;
        if (epoll_ctl(ep_, EPOLL_CTL_MOD, slots_[i].fd, &ev) != 0) die("epoll_ctl");
    }

    // The connection ends without its response; paced, its slot waits for the
    // next due start, closed loop it reconnects at once.
    void release(std::size_t i) {
        close(slots_[i].fd);
        slots_[i].fd = -1;
        if (paced_) free_.push_back(i);
        else open_slot(i, Clock::now());
    }

    void fail_slot(std::size_t i) {
        ++res_.conns_failed;
        release(i);
    }

    void on_event(std::uint64_t idx, std::uint32_t events) {
        const auto i = static_cast<std::size_t>(idx);
        Slot& s = slots_[i];
        if (s.fd < 0) return;
        if (s.phase == Phase::connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            (void)getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) return fail_slot(i);
            if ((events & EPOLLOUT) == 0) return;
            ++res_.conns_opened;
            s.phase = Phase::sending;
            s.started = Clock::now();
            res_.connect_ns.push_back(ns(s.started - s.t_connect));
        }
        if (o_.mode == "bulk") return pump_bulk(i);
        if (s.phase == Phase::sending) send_request(i);
        if (s.phase == Phase::receiving && (events & EPOLLIN) != 0) read_response(i);
    }

    void pump_bulk(std::size_t i) {
        Slot& s = slots_[i];
        static std::vector<char> chunk(64 * 1024, 'b');
        for (;;) {
            const ssize_t w = write(s.fd, chunk.data(), chunk.size());
            if (w > 0) {
                res_.bytes_sent += static_cast<std::uint64_t>(w);
                continue;
            }
            if (w < 0 && errno == EAGAIN) break;
            return fail_slot(i);
        }
        want(i, EPOLLOUT);
    }

    void send_request(std::size_t i) {
        Slot& s = slots_[i];
        while (s.sent < msg_.size()) {
            const ssize_t w = write(s.fd, msg_.data() + s.sent, msg_.size() - s.sent);
            if (w > 0) {
                s.sent += static_cast<std::size_t>(w);
                continue;
            }
            if (w < 0 && errno == EAGAIN) {
                want(i, EPOLLOUT | EPOLLIN);
                return;
            }
            return fail_slot(i);
        }
        res_.bytes_sent += msg_.size();
        s.phase = Phase::receiving;
        s.received = 0;
        want(i, EPOLLIN);
    }

    void read_response(std::size_t i) {
        Slot& s = slots_[i];
        for (;;) {
            const ssize_t r = read(s.fd, rbuf_.data(), rbuf_.size());
            if (r > 0) {
                s.received += static_cast<std::size_t>(r);
                res_.bytes_received += static_cast<std::uint64_t>(r);
                if (s.received >= expect_) break;
                continue;
            }
            if (r < 0 && errno == EAGAIN) return;
            return fail_slot(i);
        }
        ++res_.requests;
        const auto now = Clock::now();
        res_.request_ns.push_back(ns(now - s.started));
        if (paced_) res_.sched_ns.push_back(ns(now - s.scheduled));
        if (o_.mode == "crr") {
            // The client closes first: TIME_WAIT stays here, as with tcpfp's generator.
            return release(i);
        }
        s.phase = Phase::sending;
        s.sent = 0;
        s.started = now;
        send_request(i);
    }

    const Options& o_;
    sockaddr_in peer_;
    std::vector<Slot> slots_;
    std::string msg_;
    std::size_t expect_;  // response bytes per request
    std::vector<char> rbuf_;
    int ep_ = -1;
    bool paced_ = false;
    std::optional<Pacer> pacer_;
    std::vector<std::size_t> free_;  // paced: slots with no connection
    Results res_;
    double elapsed_ = 0;
};

// The p-quantile of samples in ns, as microseconds (nearest rank, like
// tcpfp's histograms' percentile()); 0 without samples.
double percentile_us(std::vector<std::uint64_t>& v, double p) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return static_cast<double>(v[k]) / 1000.0;
}

int run_client(const Options& o) {
    pin(o.cpu);
    // Paced: epoll sleeps until the next start is due, tens of microseconds
    // at 20k/s; the default 50 us timer slack would make every start late.
    if (o.rate > 0) (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    Client c(o);
    Results r = c.run();
    const double t = c.elapsed();
    const double conn_s = o.mode == "crr" ? static_cast<double>(r.requests) / t : 0.0;
    const std::uint64_t payload = o.mode == "bulk" ? r.bytes_sent : r.bytes_sent + r.bytes_received;
    const double max_lag = r.lag_ns.empty() ? 0.0 : static_cast<double>(*std::max_element(r.lag_ns.begin(), r.lag_ns.end())) / 1000.0;
    std::printf("{\"mode\":\"%s\",\"elapsed_s\":%.3f,\"conns\":%d,\"size\":%zu,\"response\":%zu,\"conns_opened\":%llu,"
                "\"conns_failed\":%llu,\"requests\":%llu,\"bytes_sent\":%llu,\"bytes_received\":%llu,"
                "\"conn_per_s\":%.1f,\"req_per_s\":%.1f,\"gbit_per_s\":%.4f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
                "\"connect_p50_us\":%.1f,\"connect_p99_us\":%.1f,"
                "\"target_rate\":%.1f,\"achieved_rate\":%.1f,\"rate_due\":%llu,\"rate_started\":%llu,\"rate_missed\":%llu,"
                "\"sched_p50_us\":%.1f,\"sched_p99_us\":%.1f,\"lag_p99_us\":%.1f,\"lag_max_us\":%.1f}\n",
                o.mode.c_str(), t, o.conns, o.size, o.response > 0 ? o.response : o.size,
                static_cast<unsigned long long>(r.conns_opened),
                static_cast<unsigned long long>(r.conns_failed), static_cast<unsigned long long>(r.requests),
                static_cast<unsigned long long>(r.bytes_sent), static_cast<unsigned long long>(r.bytes_received),
                conn_s, static_cast<double>(r.requests) / t,
                static_cast<double>(payload) * 8.0 / t / 1e9,
                percentile_us(r.request_ns, 0.5), percentile_us(r.request_ns, 0.99),
                percentile_us(r.connect_ns, 0.5), percentile_us(r.connect_ns, 0.99),
                o.rate, o.rate > 0 ? static_cast<double>(r.started) / t : 0.0,
                static_cast<unsigned long long>(r.due), static_cast<unsigned long long>(r.started),
                static_cast<unsigned long long>(r.missed),
                percentile_us(r.sched_ns, 0.5), percentile_us(r.sched_ns, 0.99),
                percentile_us(r.lag_ns, 0.99), max_lag);
    return r.conns_opened > 0 ? 0 : 1;
}

int usage() {
    std::fprintf(stderr,
                 "usage: epoll_bench server --port P [--http FILE | --rr | --discard] [--cpu C]\n"
                 "       epoll_bench client crr|rr|bulk --addr A --port P --conns N --size B "
                 "--duration S [--response B] [--rate R] [--cpu C]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    Options o;
    o.role = argv[1];
    int i = 2;
    if (o.role == "client") {
        if (argc < 3) return usage();
        o.mode = argv[2];
        if (o.mode != "crr" && o.mode != "rr" && o.mode != "bulk") return usage();
        i = 3;
    } else if (o.role != "server") {
        return usage();
    }
    for (; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--discard" || a == "--rr") {
            (a == "--rr" ? o.rr : o.discard) = true;
            continue;
        }
        if (i + 1 >= argc) return usage();
        const char* v = argv[++i];
        if (a == "--addr") o.addr = v;
        else if (a == "--port") o.port = std::atoi(v);
        else if (a == "--conns") o.conns = std::atoi(v);
        else if (a == "--size") o.size = static_cast<std::size_t>(std::atol(v));
        else if (a == "--duration") o.duration = std::atof(v);
        else if (a == "--cpu") o.cpu = std::atoi(v);
        else if (a == "--http") o.http_file = v;
        else if (a == "--response") o.response = static_cast<std::size_t>(std::atol(v));
        else if (a == "--rate") o.rate = std::atof(v);
        else return usage();
    }
    if (o.conns < 1 || o.size < 1 || o.duration <= 0 || o.rate < 0) return usage();
    // The rr header needs 8 bytes and its lengths are 31-bit.
    if (o.response > 0 && (o.size < 8 || o.size > 0x7fffffff || o.response > 0x7fffffff)) return usage();
    if (o.rate > 0 && o.mode != "crr") return usage();  // pacing starts connections
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    return o.role == "server" ? run_server(o) : run_client(o);
}
