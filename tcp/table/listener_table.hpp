// Listening sockets: (local address or ANY = 0.0.0.0, local port) -> uint32.
//
// lookup() prefers the exact (address, port) binding over the wildcard
// (ANY, port) one, as BSD and Linux demultiplex a SYN. Keys are unique:
// inserting a present key returns `exists` (EADDRINUSE for the caller). A
// specific binding and the wildcard on the same port may coexist; a caller
// wanting Linux's stricter bind() rule checks find_exact() first.
//
// Same open-addressing core as ConnTable, with a fixed (unkeyed) hash: keys
// are chosen by the local application, not by peers, and a peer's lookup
// costs at most two probes of a table at load <= 0.5. Counts of wildcard and
// specific bindings let lookup() skip the probe that cannot hit (usually all
// listeners are on ANY, so a lookup is one probe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <optional>

#include "tcp/table/hash.hpp"
#include "tcp/table/insert_result.hpp"
#include "tcp/table/linear_table.hpp"
#include "tcp/wire/addr.hpp"

namespace tcpfp::tcp {

class ListenerTable {
    struct Key {
        std::uint32_t addr = 0;
        std::uint16_t port = 0;
        std::uint16_t zero = 0;  // explicit padding, so keys compare as 8 bytes
    };
    struct KeyHasher {
        std::uint64_t operator()(const Key& k) const {
            const std::uint64_t x = (std::uint64_t{k.addr} << 16) | k.port;
            return hash_detail::mum(x ^ 0x2d358dccaa6c78a5u, 0x8bb84b93962eacc9u);
        }
    };
    using Impl = detail::LinearTable<Key, KeyHasher>;

public:
    using InsertResult = tcp::InsertResult;
    static constexpr std::uint32_t kNoValue = detail::kNoValue;
    static constexpr std::size_t kMaxListeners = Impl::kMaxEntries;

    explicit ListenerTable(std::size_t max_listeners,
                           std::pmr::memory_resource* mr = std::pmr::get_default_resource())
        : t_(max_listeners, KeyHasher{}, mr) {}

    // The listener for a segment to (dst, port): exact binding, else wildcard.
    std::optional<std::uint32_t> lookup(wire::Ipv4Addr dst, std::uint16_t port) const {
        if (specific_ != 0) {
            if (auto v = find_exact(dst, port)) return v;
        }
        if (wildcard_ != 0) return find_exact(wire::Ipv4Addr{}, port);
        return std::nullopt;
    }

    // The binding with exactly this key; `addr` may be ANY.
    std::optional<std::uint32_t> find_exact(wire::Ipv4Addr addr, std::uint16_t port) const {
        const Key k{addr.value, port};
        const std::uint32_t v = t_.find(k, t_.hash(k));
        if (v == kNoValue) return std::nullopt;
        return v;
    }

    // `addr` ANY (0.0.0.0) binds every local address. `value` must not be kNoValue.
    InsertResult insert(wire::Ipv4Addr addr, std::uint16_t port, std::uint32_t value) {
        const InsertResult r = t_.insert(Key{addr.value, port}, value);
        if (r == InsertResult::inserted) ++count_of(addr);
        return r;
    }

    bool erase(wire::Ipv4Addr addr, std::uint16_t port) {
        if (!t_.erase(Key{addr.value, port})) return false;
        --count_of(addr);
        return true;
    }

    bool update(wire::Ipv4Addr addr, std::uint16_t port, std::uint32_t value) {
        return t_.update(Key{addr.value, port}, value);
    }

    void clear() {
        t_.clear();
        specific_ = wildcard_ = 0;
    }

    // f(wire::Ipv4Addr addr, std::uint16_t port, std::uint32_t value);
    // f must not insert or erase.
    template <class F>
    void for_each(F&& f) const {
        t_.for_each([&](const Key& k, std::uint32_t v) { f(wire::Ipv4Addr{k.addr}, k.port, v); });
    }

    std::size_t size() const { return t_.size(); }
    bool empty() const { return t_.size() == 0; }
    std::size_t max_listeners() const { return t_.max_entries(); }

private:
    std::size_t& count_of(wire::Ipv4Addr addr) {
        return addr.is_unspecified() ? wildcard_ : specific_;
    }

    Impl t_;
    std::size_t specific_ = 0;  // bindings to one address
    std::size_t wildcard_ = 0;  // bindings to ANY
};

}  // namespace tcpfp::tcp
