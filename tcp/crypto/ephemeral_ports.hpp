// Ephemeral port selection, RFC 6056 §3.3.4 Algorithm 4 ("Double-Hash Port
// Selection"):
//
//     offset = F(local_IP, remote_IP, remote_port, secret_key1)
//     index  = G(local_IP, remote_IP, remote_port, secret_key2)
//     for count = num_ephemeral down to 1:
//         port = min_ephemeral + (offset + table[index]) % num_ephemeral
//         table[index]++
//         if port is suitable: return port
//     fail
//
// Each destination starts at a secret, unrelated point of the range, and
// the shared counter in table[index] moves it on for every candidate tried,
// so reconnecting to one destination never reuses the previous port first
// while connections elsewhere reveal nothing about it.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <optional>
#include <vector>

#include "tcp/crypto/siphash.hpp"
#include "tcp/wire/addr.hpp"

namespace tcpfp::tcp {

template <class F>
concept PortPredicate = std::predicate<F&, std::uint16_t>;

class EphemeralPorts {
public:
    // The range is [first, last], both inclusive. The table of counters is
    // allocated here, once, from `mr` (the engine passes its own: nothing of
    // its packet path may reach the heap), and never resized; it goes back
    // to `mr` at destruction. Throws std::invalid_argument
    // unless valid_config() holds: configuration time is the only place this
    // can fail, and clamping or swapping a bad range would hide a typo.
    // The IANA dynamic range (RFC 6335 §6), as Linux's default.
    static constexpr std::uint16_t kDynamicFirst = 49152;
    static constexpr std::uint16_t kDynamicLast = 65535;
    explicit EphemeralPorts(SipKey secret, std::uint16_t first = kDynamicFirst,
                            std::uint16_t last = kDynamicLast, std::size_t table_size = 4096,
                            std::pmr::memory_resource* mr = std::pmr::get_default_resource());
    // A copy would take its table from the default resource, not from `mr`.
    EphemeralPorts(const EphemeralPorts&) = delete;
    EphemeralPorts& operator=(const EphemeralPorts&) = delete;

    // 1 <= first <= last (port 0 is not a port); table_size a power of two
    // up to kMaxTableSize (Linux uses 2^16 counters; 2^20 is already 4 MiB).
    static constexpr std::size_t kMaxTableSize = std::size_t{1} << 20;
    static constexpr bool valid_config(std::uint16_t first, std::uint16_t last,
                                       std::size_t table_size) {
        return first != 0 && first <= last && table_size != 0 &&
               table_size <= kMaxTableSize && (table_size & (table_size - 1)) == 0;
    }

    // A local port for a connection from `local` to remote:remote_port, or
    // nullopt when no candidate is usable (the engine's EADDRNOTAVAIL).
    // `usable(port)` is asked once per candidate, in the RFC's order; every
    // port of the range is asked about at most once.
    template <PortPredicate Pred>
    std::optional<std::uint16_t> select(wire::Ipv4Addr local, wire::Ipv4Addr remote,
                                        std::uint16_t remote_port, Pred&& usable);

    // The same with the predicate in its two parts: `steer(port)` (e.g.
    // "replies to this port hash to this lcore") is cheap and asked first;
    // `is_free(port)` (the connection-table lookup) only for ports it passes.
    template <PortPredicate Steer, PortPredicate Free>
    std::optional<std::uint16_t> select(wire::Ipv4Addr local, wire::Ipv4Addr remote,
                                        std::uint16_t remote_port, Steer&& steer,
                                        Free&& is_free) {
        return select(local, remote, remote_port,
                      [&](std::uint16_t p) { return steer(p) && is_free(p); });
    }

    // As if constructed again with `secret` (same range and table size):
    // the counters start over from the new secret. O(table_size()) SipHashes.
    void rekey(SipKey secret);

    // The candidate the next select() for the destination that was just
    // given `port` tries first: every candidate tried moved that
    // destination's counter on by one, so its walk resumes right after
    // `port` (unless another destination sharing its counter selects in
    // between). Lets a caller fetch that candidate's state ahead of time.
    std::uint16_t successor(std::uint16_t port) const {
        return port >= last_ ? first_ : static_cast<std::uint16_t>(port + 1);
    }

    bool in_range(std::uint16_t port) const { return port >= first_ && port <= last_; }
    std::uint16_t first() const { return first_; }
    std::uint16_t last() const { return last_; }
    std::uint32_t range_size() const { return count_; }
    std::size_t table_size() const { return table_.size(); }

private:
    struct Start {
        std::uint32_t position;  // (offset + table[index]) % range_size, 0-based
        std::uint32_t index;
    };
    Start start(wire::Ipv4Addr local, wire::Ipv4Addr remote, std::uint16_t remote_port) const;

    SipKey secret_;
    std::uint16_t first_;
    std::uint16_t last_;
    std::uint32_t count_;  // last - first + 1: up to 65535, so not a uint16_t
    std::pmr::vector<std::uint32_t> table_;
};

template <PortPredicate Pred>
std::optional<std::uint16_t> EphemeralPorts::select(wire::Ipv4Addr local, wire::Ipv4Addr remote,
                                                    std::uint16_t remote_port, Pred&& usable) {
    const Start s = start(local, remote, remote_port);
    // Walk from the start position instead of recomputing the modulo per
    // candidate: the same sequence as the RFC's loop, and it visits each
    // port once even if the 32-bit counter wraps midway.
    std::uint32_t pos = s.position;
    std::uint32_t tried = 0;
    std::optional<std::uint16_t> found;
    while (tried < count_) {
        const auto port = static_cast<std::uint16_t>(first_ + pos);
        ++tried;
        if (usable(port)) {
            found = port;
            break;
        }
        if (++pos == count_) pos = 0;
    }
    table_[s.index] += tried;  // table[index]++ once per candidate, as the RFC does
    return found;
}

}  // namespace tcpfp::tcp
