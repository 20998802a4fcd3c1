// Path MTUs learned from ICMP "fragmentation needed" (RFC 1191), per
// destination, in a fixed table allocated at construction: open addressing
// over a short probe window; a full window evicts the entry that expires
// first. Entries expire after 10 minutes (RFC 1191 §6.3), so a path that
// grew back is found again by the next connection.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <vector>

#include "tcp/wire/addr.hpp"

namespace tcpfp::tcp {

class PmtuCache {
public:
    static constexpr std::uint64_t kLifetimeMs = 10 * 60 * 1000;

    // `entries` is rounded up to a power of two (at least 8).
    PmtuCache(std::uint32_t entries, std::pmr::memory_resource* mr);

    // The cached MTU towards `dst`, or 0 when none is current.
    std::uint16_t lookup(wire::Ipv4Addr dst, std::uint64_t now_ms) const;
    // Records `mtu` towards `dst` (lowering or refreshing it) for kLifetimeMs.
    void update(wire::Ipv4Addr dst, std::uint16_t mtu, std::uint64_t now_ms);
    std::uint32_t size(std::uint64_t now_ms) const;  // current entries (O(table), for tests)
    // Empty again. O(table) only when update() was called since the last
    // clear: a reused engine that saw no ICMP error pays nothing.
    void clear();

private:
    static constexpr std::uint32_t kProbe = 8;
    struct Entry {
        std::uint32_t addr = 0;  // 0: empty (0.0.0.0 is never a destination)
        std::uint16_t mtu = 0;
        std::uint64_t expires_ms = 0;
    };
    std::uint32_t slot(wire::Ipv4Addr a) const;

    std::pmr::vector<Entry> table_;
    std::uint32_t mask_;
    bool written_ = false;  // update() called since construction or clear()
};

}  // namespace tcpfp::tcp
