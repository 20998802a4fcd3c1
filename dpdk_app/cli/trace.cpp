#include "dpdk_app/cli/trace.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::app::cli {

namespace {

// Appends to a fixed buffer; stops silently at its end (the line is cut).
struct Line {
    char* p;
    std::size_t size;
    std::size_t len = 0;

    void add(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
        if (len + 1 >= size) return;
        va_list ap;
        va_start(ap, fmt);
        const int n = std::vsnprintf(p + len, size - len, fmt, ap);
        va_end(ap);
        if (n > 0) len = std::min(size - 1, len + static_cast<std::size_t>(n));
    }
    void addr(wire::Ipv4Addr a, std::uint16_t port) {
        add("%u.%u.%u.%u.%u", a.value >> 24, (a.value >> 16) & 255u, (a.value >> 8) & 255u,
            a.value & 255u, port);
    }
};

// tcpdump's letters: S F R P U E W, and '.' for ACK.
void add_flags(Line& l, std::uint8_t f) {
    using namespace wire::tcp_flag;
    char s[10];
    std::size_t n = 0;
    if (f & syn) s[n++] = 'S';
    if (f & fin) s[n++] = 'F';
    if (f & rst) s[n++] = 'R';
    if (f & psh) s[n++] = 'P';
    if (f & urg) s[n++] = 'U';
    if (f & ece) s[n++] = 'E';
    if (f & cwr) s[n++] = 'W';
    if (f & ack) s[n++] = '.';
    s[n] = 0;
    l.add("Flags [%s]", n == 0 ? "none" : s);
}

// RFC 9293 §3.2, RFC 7323, RFC 2018 options, named as tcpdump names them.
void add_options(Line& l, std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    l.add(", options [");
    wire::TcpOptionReader r(bytes);
    bool first = true;
    while (!r.done()) {
        auto o = r.next();
        if (!first) l.add(",");
        first = false;
        if (!o) {
            l.add("bad-option");
            break;
        }
        const auto& b = o->body;
        switch (o->kind) {
            case wire::tcp_opt::eol: l.add("eol"); break;
            case wire::tcp_opt::nop: l.add("nop"); break;
            case wire::tcp_opt::mss:
                if (b.size() == 2) l.add("mss %u", wire::load_be16(b.data()));
                else l.add("mss?");
                break;
            case wire::tcp_opt::wscale:
                if (b.size() == 1) l.add("wscale %u", b[0]);
                else l.add("wscale?");
                break;
            case wire::tcp_opt::sack_permitted: l.add("sackOK"); break;
            case wire::tcp_opt::timestamps:
                if (b.size() == 8) {
                    l.add("TS val %" PRIu32 " ecr %" PRIu32, wire::load_be32(b.data()),
                          wire::load_be32(b.data() + 4));
                } else {
                    l.add("TS?");
                }
                break;
            case wire::tcp_opt::sack:
                l.add("sack %zu", b.size() / 8);
                for (std::size_t i = 0; i + 8 <= b.size(); i += 8) {
                    l.add(" {%" PRIu32 ":%" PRIu32 "}", wire::load_be32(b.data() + i),
                          wire::load_be32(b.data() + i + 4));
                }
                break;
            default: l.add("unknown-%u", o->kind); break;
        }
    }
    l.add("]");
}

}  // namespace

std::size_t describe_segment(const char* dir, std::span<const std::uint8_t> ipv4, char* out,
                             std::size_t size) {
    if (size == 0) return 0;
    out[0] = 0;
    Line l{out, size};
    l.add("%-3s ", dir);
    auto ip = wire::Ipv4View::parse(ipv4);
    if (!ip) {
        l.add("malformed IPv4 packet, %zu bytes", ipv4.size());
        return l.len;
    }
    auto tcp = wire::TcpView::parse(ip->payload());
    if (ip->protocol() != wire::ipproto::tcp || !tcp) {
        l.add("malformed TCP segment, %zu bytes", ip->payload().size());
        return l.len;
    }
    l.addr(ip->src(), tcp->src_port());
    l.add(" > ");
    l.addr(ip->dst(), tcp->dst_port());
    l.add(": ");
    add_flags(l, tcp->flags());
    const std::size_t len = tcp->payload().size();
    const std::uint32_t seq = tcp->seq().raw();
    if (len > 0) {
        l.add(", seq %" PRIu32 ":%" PRIu32, seq, static_cast<std::uint32_t>(seq + len));
    } else if (tcp->has(wire::tcp_flag::syn) || tcp->has(wire::tcp_flag::fin) ||
               tcp->has(wire::tcp_flag::rst)) {
        l.add(", seq %" PRIu32, seq);
    }
    if (tcp->has(wire::tcp_flag::ack)) l.add(", ack %" PRIu32, tcp->ack().raw());
    l.add(", win %u", tcp->window());
    if (tcp->has(wire::tcp_flag::urg)) l.add(", urg %u", tcp->urgent_ptr());
    add_options(l, tcp->options());
    l.add(", length %zu", len);
    return l.len;
}

void trace_segment(const char* dir, std::span<const std::uint8_t> ipv4, std::FILE* f) {
    char line[512];
    const std::size_t n = describe_segment(dir, ipv4, line, sizeof line - 1);
    line[n] = '\n';
    std::fwrite(line, 1, n + 1, f);
    std::fflush(f);
}

}  // namespace tcpfp::app::cli
