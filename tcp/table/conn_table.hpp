// The per-engine connection table: FourTuple -> uint32 (a pool index).
//
// Open addressing with linear probing and backward-shift deletion (see
// linear_table.hpp), 16-byte entries (12-byte tuple + 4-byte value, four per
// cache line), at least 2 * max_entries buckets so the load factor stays at
// or below 0.5. The hash is keyed with a per-engine random seed (hash.hpp),
// so remote peers cannot aim tuples at one bucket. All memory is taken from
// the given resource in the constructor; no operation allocates afterwards.
//
// For receive bursts, hash every segment's tuple first, prefetch(), then
// find(tuple, hash): the bucket misses of a large table then overlap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <optional>

#include "tcp/base/four_tuple.hpp"
#include "tcp/table/hash.hpp"
#include "tcp/table/insert_result.hpp"
#include "tcp/table/linear_table.hpp"

namespace tcpfp::tcp {

class ConnTable {
    using Impl = detail::LinearTable<FourTuple, FourTupleHasher>;

public:
    using InsertResult = tcp::InsertResult;
    // The one value that cannot be stored (it marks empty buckets).
    static constexpr std::uint32_t kNoValue = detail::kNoValue;
    static constexpr std::size_t kMaxEntries = Impl::kMaxEntries;

    // Throws std::length_error above kMaxEntries, and whatever `mr` throws.
    explicit ConnTable(std::size_t max_entries, std::uint64_t seed,
                       std::pmr::memory_resource* mr = std::pmr::get_default_resource())
        : t_(max_entries, FourTupleHasher(seed), mr) {}

    std::uint64_t hash(const FourTuple& key) const { return t_.hash(key); }
    [[gnu::always_inline]] void prefetch(std::uint64_t hash) const { t_.prefetch(hash); }
    // For a lookup expected to miss (a candidate port): two lines.
    [[gnu::always_inline]] void prefetch_miss(std::uint64_t hash) const { t_.prefetch_miss(hash); }

    std::optional<std::uint32_t> find(const FourTuple& key) const { return find(key, hash(key)); }
    // `hash` must be hash(key).
    std::optional<std::uint32_t> find(const FourTuple& key, std::uint64_t hash) const {
        const std::uint32_t v = t_.find(key, hash);
        if (v == kNoValue) return std::nullopt;
        return v;
    }
    bool contains(const FourTuple& key) const { return find(key).has_value(); }

    // `value` must not be kNoValue. A present key is reported as `exists`
    // even when the table is full.
    InsertResult insert(const FourTuple& key, std::uint32_t value) { return t_.insert(key, value); }
    // Replaces the value of a present key; false (and no change) if absent.
    bool update(const FourTuple& key, std::uint32_t value) { return t_.update(key, value); }
    bool erase(const FourTuple& key) { return t_.erase(key); }
    // O(bucket_count()).
    void clear() { t_.clear(); }
    // Empty and keyed with a new seed, as if constructed with it. O(bucket_count()).
    void clear(std::uint64_t seed) { t_.clear(FourTupleHasher(seed)); }

    // f(const FourTuple&, std::uint32_t value); f must not insert or erase.
    template <class F>
    void for_each(F&& f) const {
        t_.for_each(f);
    }

    std::size_t size() const { return t_.size(); }
    bool empty() const { return t_.size() == 0; }
    std::size_t max_entries() const { return t_.max_entries(); }
    std::size_t bucket_count() const { return t_.bucket_count(); }

    // Probe statistics, O(bucket_count()): buckets read by a successful
    // lookup of the worst-placed entry, and the mean over all entries.
    std::size_t max_probe_length() const { return t_.max_probe_length(); }
    double mean_probe_length() const { return t_.mean_probe_length(); }

private:
    Impl t_;
};

}  // namespace tcpfp::tcp
