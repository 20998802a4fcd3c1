#include "dpdk_app/steering.hpp"

#include <rte_thash.h>

#include <cstdlib>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"

namespace tcpfp::app {

const char* to_string(SteerMode m) {
    switch (m) {
        case SteerMode::single: return "single queue";
        case SteerMode::rss: return "RSS (symmetric Toeplitz key, NIC steers)";
        case SteerMode::software: return "software (symmetric Toeplitz in software, ring hand-off)";
    }
    return "?";
}

Steering::Steering() {
    // 0x6d5a repeated: the Toeplitz hash becomes symmetric in (src, dst)
    // because the key repeats with a 16-bit period (Woo and Park, 2012).
    for (std::size_t i = 0; i < kKeyLen; i += 2) {
        key_[i] = 0x6d;
        key_[i + 1] = 0x5a;
    }
}

void Steering::configure(SteerMode mode, unsigned workers) {
    mode_ = mode;
    workers_ = workers == 0 ? 1 : workers;
    for (std::size_t i = 0; i < kRetaSize; ++i) reta_[i] = static_cast<std::uint16_t>(i % workers_);
    // The whole design rests on symmetry: check it once rather than trust it.
    for (std::uint32_t i = 1; i < 64; ++i) {
        const std::uint32_t a = 0xac103001u + i * 7919u, b = 0xac103002u ^ (i << 9);
        const auto pa = static_cast<std::uint16_t>(1024 + i * 977), pb = static_cast<std::uint16_t>(80 + i);
        if (owner(a, b, pa, pb) != owner(b, a, pb, pa)) std::abort();
    }
}

unsigned Steering::owner(std::uint32_t a_ip, std::uint32_t b_ip, std::uint16_t a_port,
                         std::uint16_t b_port) const {
    if (workers_ == 1) return 0;
    // rte_softrss takes the tuple as host-order words: src, dst, sport:dport.
    std::uint32_t tuple[3] = {a_ip, b_ip, (std::uint32_t{a_port} << 16) | b_port};
    const std::uint32_t h = rte_softrss(tuple, 3, key_);
    return reta_[h & (kRetaSize - 1)];
}

unsigned Steering::owner_of_packet(std::span<const std::uint8_t> ip, unsigned self) const {
    if (workers_ == 1) return self;
    if (const auto f = wire::peek_tcp_flow(ip)) {
        return owner(f->src.value, f->dst.value, f->src_port, f->dst_port);
    }
    if (ip.size() < 20 || (ip[0] >> 4) != 4 || ip[9] != wire::ipproto::icmp) return self;
    const std::size_t hl = (ip[0] & 0x0fu) * 4u;
    const bool fragment = (wire::load_be16(&ip[6]) & 0x1fffu) != 0;  // a later fragment has no ICMP header
    if (hl < 20 || fragment) return self;
    return owner_of_icmp_error(ip.subspan(hl), self);
}

// An ICMP error about a TCP segment we sent belongs to the worker that owns
// the quoted connection (RFC 792: the quote holds the IPv4 header and the
// ports). Echo and anything unparsable stay where they arrived.
unsigned Steering::owner_of_icmp_error(std::span<const std::uint8_t> icmp, unsigned self) const {
    if (icmp.size() < 8 + 20) return self;
    if (!wire::is_icmp_error_type(icmp[0])) return self;
    const auto q = icmp.subspan(8);
    const std::size_t hl = (q[0] & 0x0fu) * 4u;
    if ((q[0] >> 4) != 4 || hl < 20 || q[9] != 6 || q.size() < hl + 4) return self;
    // Quoted: source = our address and port, destination = the peer's.
    return owner(wire::load_be32(&q[16]), wire::load_be32(&q[12]), wire::load_be16(&q[hl + 2]),
                 wire::load_be16(&q[hl]));
}

}  // namespace tcpfp::app
