#include "tcp/engine/pmtu.hpp"

#include <algorithm>
#include <bit>

namespace tcpfp::tcp {

PmtuCache::PmtuCache(std::uint32_t entries, std::pmr::memory_resource* mr)
    : table_(std::bit_ceil(std::max<std::uint32_t>(entries, 8)), mr),
      mask_(static_cast<std::uint32_t>(table_.size() - 1)) {}

std::uint32_t PmtuCache::slot(wire::Ipv4Addr a) const {
    // Fibonacci hashing: destinations in one subnet differ in the low bits.
    return static_cast<std::uint32_t>((std::uint64_t{a.value} * 0x9e3779b97f4a7c15ull) >> 40) & mask_;
}

std::uint16_t PmtuCache::lookup(wire::Ipv4Addr dst, std::uint64_t now_ms) const {
    const std::uint32_t h = slot(dst);
    for (std::uint32_t i = 0; i < kProbe; ++i) {
        const Entry& e = table_[(h + i) & mask_];
        if (e.addr == dst.value) return e.expires_ms > now_ms ? e.mtu : 0;
    }
    return 0;
}

void PmtuCache::update(wire::Ipv4Addr dst, std::uint16_t mtu, std::uint64_t now_ms) {
    // Reuse: the destination's own entry, else an empty one, else an
    // expired one, else the one that would expire first.
    auto rank = [&](const Entry& e) -> std::uint64_t {
        if (e.addr == 0) return 0;
        return e.expires_ms <= now_ms ? 1 : e.expires_ms + 2;
    };
    written_ = true;
    const std::uint32_t h = slot(dst);
    Entry* victim = &table_[h];
    for (std::uint32_t i = 0; i < kProbe; ++i) {
        Entry& e = table_[(h + i) & mask_];
        if (e.addr == dst.value) {
            victim = &e;
            break;
        }
        if (rank(e) < rank(*victim)) victim = &e;
    }
    *victim = Entry{dst.value, mtu, now_ms + kLifetimeMs};
}

void PmtuCache::clear() {
    if (!written_) return;
    std::fill(table_.begin(), table_.end(), Entry{});
    written_ = false;
}

std::uint32_t PmtuCache::size(std::uint64_t now_ms) const {
    std::uint32_t n = 0;
    for (const Entry& e : table_) n += e.addr != 0 && e.expires_ms > now_ms;
    return n;
}

}  // namespace tcpfp::tcp
