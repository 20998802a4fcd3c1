// The Linux side of scripts/bench.sh: the same workloads tcpfp's traffic
// generator runs (crr, rr, bulk), with kernel sockets and one epoll loop
// per process, pinned to one CPU like tcpfp's worker.
//
//   epoll_bench server --port P [--http FILE] [--cpu C]
//       echo service (every byte read is written back), or with --http an
//       HTTP/1.1 keep-alive responder that answers every request (a blank
//       line) with FILE's bytes. Runs until SIGINT/SIGTERM.
//   epoll_bench client crr|rr|bulk --addr A --port P --conns N --size B
//       --duration S [--cpu C] [--sink PORT]
//       prints one JSON line: {"mode":..,"conn_per_s":..,"req_per_s":..,
//       "gbit_per_s":..,...}. bulk writes to a server that only reads
//       (the echo server with --discard on the server side).
//
// No DPDK here: it measures the kernel.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
    std::string pending;  // bytes still to write (echo or HTTP responses)
    std::string request;  // HTTP: bytes of a request not complete yet
};

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
                    if (http.empty()) {
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
            while (!closed && !sc.pending.empty()) {
                const ssize_t w = write(fd, sc.pending.data(), sc.pending.size());
                if (w <= 0) break;  // a full send buffer: echo peers wait for their reply
                sc.pending.erase(0, static_cast<std::size_t>(w));
            }
            if (closed) close(fd);  // the kernel removes it from the epoll set
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
    Clock::time_point started;
};

struct Results {
    std::uint64_t conns_opened = 0;
    std::uint64_t conns_failed = 0;
    std::uint64_t requests = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::vector<std::uint32_t> latency_us;
};

class Client {
public:
    explicit Client(const Options& o)
        : o_(o), peer_(make_addr(o.addr, o.port)), slots_(static_cast<std::size_t>(o.conns)),
          msg_(o.size, 'x'), rbuf_(256 * 1024) {
        ep_ = epoll_create1(0);
        if (ep_ < 0) die("epoll_create1");
        res_.latency_us.reserve(1 << 20);
    }

    Results run() {
        for (std::size_t i = 0; i < slots_.size(); ++i) open_slot(i);
        const auto end = Clock::now() + std::chrono::duration<double>(o_.duration);
        std::vector<epoll_event> events(512);
        while (!g_stop && Clock::now() < end) {
            const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 10);
            for (int i = 0; i < n; ++i) {
                on_event(events[static_cast<std::size_t>(i)].data.u64, events[static_cast<std::size_t>(i)].events);
            }
            for (std::size_t i = 0; i < slots_.size(); ++i) {
                if (slots_[i].fd < 0) open_slot(i);  // e.g. EADDRNOTAVAIL: no free port yet
            }
        }
        elapsed_ = std::chrono::duration<double>(Clock::now() - (end - std::chrono::duration<double>(o_.duration))).count();
        return res_;
    }

    double elapsed() const { return elapsed_; }

private:
    void open_slot(std::size_t i) {
        Slot& s = slots_[i];
        s = Slot{};
        s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (s.fd < 0) die("socket");
        set_nodelay(s.fd);
        s.started = Clock::now();
        const int r = connect(s.fd, reinterpret_cast<const sockaddr*>(&peer_), sizeof peer_);
        if (r != 0 && errno != EINPROGRESS) {
            ++res_.conns_failed;
            close(s.fd);
            s.fd = -1;
            return;  // run() retries the slot after the next round of events
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

    void fail_slot(std::size_t i) {
        ++res_.conns_failed;
        close(slots_[i].fd);
        slots_[i].fd = -1;
        open_slot(i);
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
                if (s.received >= msg_.size()) break;
                continue;
            }
            if (r < 0 && errno == EAGAIN) return;
            return fail_slot(i);
        }
        ++res_.requests;
        const auto now = Clock::now();
        res_.latency_us.push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - s.started).count()));
        if (o_.mode == "crr") {
            close(s.fd);  // the client closes first: TIME_WAIT stays here, as with tcpfp's generator
            s.fd = -1;
            open_slot(i);
            return;
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
    std::vector<char> rbuf_;
    int ep_ = -1;
    Results res_;
    double elapsed_ = 0;
};

std::uint32_t percentile(std::vector<std::uint32_t>& v, double p) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

int run_client(const Options& o) {
    pin(o.cpu);
    Client c(o);
    Results r = c.run();
    const double t = c.elapsed();
    const double conn_s = o.mode == "crr" ? static_cast<double>(r.requests) / t : 0.0;
    const std::uint64_t payload = o.mode == "bulk" ? r.bytes_sent : r.bytes_sent + r.bytes_received;
    std::printf("{\"mode\":\"%s\",\"elapsed_s\":%.3f,\"conns\":%d,\"size\":%zu,\"conns_opened\":%llu,"
                "\"conns_failed\":%llu,\"requests\":%llu,\"bytes_sent\":%llu,\"bytes_received\":%llu,"
                "\"conn_per_s\":%.1f,\"req_per_s\":%.1f,\"gbit_per_s\":%.4f,\"p50_us\":%u,\"p99_us\":%u}\n",
                o.mode.c_str(), t, o.conns, o.size, static_cast<unsigned long long>(r.conns_opened),
                static_cast<unsigned long long>(r.conns_failed), static_cast<unsigned long long>(r.requests),
                static_cast<unsigned long long>(r.bytes_sent), static_cast<unsigned long long>(r.bytes_received),
                conn_s, static_cast<double>(r.requests) / t,
                static_cast<double>(payload) * 8.0 / t / 1e9,
                percentile(r.latency_us, 0.5), percentile(r.latency_us, 0.99));
    return r.conns_opened > 0 ? 0 : 1;
}

int usage() {
    std::fprintf(stderr,
                 "usage: epoll_bench server --port P [--http FILE] [--discard] [--cpu C]\n"
                 "       epoll_bench client crr|rr|bulk --addr A --port P --conns N --size B "
                 "--duration S [--cpu C]\n");
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
        if (a == "--discard") {
            o.discard = true;
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
        else return usage();
    }
    if (o.conns < 1 || o.size < 1 || o.duration <= 0) return usage();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    return o.role == "server" ? run_server(o) : run_client(o);
}
