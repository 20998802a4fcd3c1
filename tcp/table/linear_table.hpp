// The open-addressing core shared by ConnTable and ListenerTable.
//
// A power-of-two array of {key, uint32 value} entries with linear probing,
// allocated once at construction. The home bucket is the top bits of the
// 64-bit hash (the best-mixed bits of a multiply-based hash). Erase closes the
// gap by backward shift instead of leaving a tombstone, so every probe chain
// is as short after a million insert/erase cycles as after the first fill,
// and a lookup stops at the first empty bucket. The bucket count is at least
// twice the entry limit, so the load factor never exceeds 0.5 and an empty
// bucket always exists (probe loops terminate without a bound check).
//
// Empty buckets hold the value kNoValue; keys are compared only in buckets
// that hold an entry. Values must therefore never be kNoValue (pool indices
// never are: a pool holds at most 2^32 - 2 slots).
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "tcp/base/prefetch.hpp"
#include "tcp/table/insert_result.hpp"

namespace tcpfp::tcp::detail {

inline constexpr std::uint32_t kNoValue = 0xffffffffu;

// Hasher: a copyable callable, std::uint64_t(const Key&). Key: trivially
// copyable without padding, so equal keys are equal bytes and compare as a
// block (two loads for a 12-byte tuple instead of four field compares).
template <class Key, class Hasher>
class LinearTable {
public:
    struct Entry {
        Key key;
        std::uint32_t value;
    };
    static_assert(std::is_trivially_copyable_v<Key>);
    static_assert(std::has_unique_object_representations_v<Key>);
    static_assert(std::is_trivially_destructible_v<Entry>);

    // 2^30 entries need 2^31 buckets; beyond that, configuration is wrong.
    static constexpr std::size_t kMaxEntries = std::size_t{1} << 30;
    static constexpr std::size_t kMinBuckets = 8;
    static constexpr std::size_t kAlign = 64;

    LinearTable(std::size_t max_entries, Hasher hasher, std::pmr::memory_resource* mr)
        : hasher_(hasher), mr_(mr), max_entries_(max_entries) {
        if (mr_ == nullptr) {
            throw std::invalid_argument("LinearTable: null memory resource");
        }
        if (max_entries > kMaxEntries) {
            throw std::length_error("LinearTable: max_entries above 2^30");
        }
        buckets_ = std::bit_ceil(std::max(kMinBuckets, 2 * max_entries));
        mask_ = buckets_ - 1;
        shift_ = 64 - std::countr_zero(buckets_);
        entries_ = static_cast<Entry*>(mr_->allocate(buckets_ * sizeof(Entry), kAlign));
        std::uninitialized_fill_n(entries_, buckets_, Entry{Key{}, kNoValue});
    }

    ~LinearTable() { mr_->deallocate(entries_, buckets_ * sizeof(Entry), kAlign); }

    LinearTable(const LinearTable&) = delete;
    LinearTable& operator=(const LinearTable&) = delete;

    std::uint64_t hash(const Key& key) const { return hasher_(key); }

    // Starts loading the home bucket of `hash`, for batched lookups. When
    // that bucket is the last of its cache line, the next line too: an
    // insert or erase there always reads the following bucket (the empty one
    // that ends the probe, or the backward shift's check), and at a large
    // table's load that line is as cold as the first. It was half of
    // Engine::release's time in the pair's CPS profile (session 20).
    // Always inlined: a call per frame would cost what the hint saves
    // (tests/dpdk_app/prefetch_kept_test.py finds it in its callers).
    [[gnu::always_inline]] void prefetch(std::uint64_t hash) const {
        const std::size_t i = home(hash);
        prefetch_line(&entries_[i]);
        if (last_in_line(i)) prefetch_line(&entries_[(i + 1) & mask_]);
    }

    // The same for a lookup expected to miss (is this tuple free?): its
    // probe runs on to the first empty bucket, often into the next cache
    // line, so that line starts loading too, wherever the home bucket is.
    // connect()'s prefetch of its next candidate with this instead of
    // prefetch(): pair CPS +1.0 to +2.3 % in three alternating rounds
    // (session 21).
    [[gnu::always_inline]] void prefetch_miss(std::uint64_t hash) const {
        const std::size_t i = home(hash);
        prefetch_line(&entries_[i]);
        prefetch_line(&entries_[(i + kEntriesPerLine) & mask_]);
    }

    // kNoValue when absent. `hash` must be hash(key).
    std::uint32_t find(const Key& key, std::uint64_t hash) const {
        for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
            const Entry& e = entries_[i];
            if (e.value == kNoValue) return kNoValue;
            if (same(e.key, key)) return e.value;
        }
    }

    InsertResult insert(const Key& key, std::uint32_t value) {
        assert(value != kNoValue);
        std::size_t i = home(hash(key));
        for (;; i = (i + 1) & mask_) {
            const Entry& e = entries_[i];
            if (e.value == kNoValue) break;
            if (same(e.key, key)) return InsertResult::exists;
        }
        if (size_ >= max_entries_) return InsertResult::full;
        entries_[i] = Entry{key, value};
        ++size_;
        return InsertResult::inserted;
    }

    bool update(const Key& key, std::uint32_t value) {
        assert(value != kNoValue);
        const std::optional<std::size_t> i = slot_of(key);
        if (!i) return false;
        entries_[*i].value = value;
        return true;
    }

    bool erase(const Key& key) {
        const std::optional<std::size_t> found = slot_of(key);
        if (!found) return false;
        // Backward shift: walk the rest of the cluster and move into the hole
        // every entry whose home is not in the cyclic range (hole, j], i.e.
        // that may legally sit at the hole. Distances are taken mod buckets,
        // so a cluster that wraps past the last bucket needs no special case.
        std::size_t hole = *found;
        for (std::size_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
            const Entry& e = entries_[j];
            if (e.value == kNoValue) break;
            const std::size_t h = home(hash(e.key));
            if (((j - h) & mask_) >= ((j - hole) & mask_)) {
                entries_[hole] = e;
                hole = j;
            }
        }
        entries_[hole].value = kNoValue;
        --size_;
        return true;
    }

    void clear() {
        for (std::size_t i = 0; i < buckets_; ++i) entries_[i].value = kNoValue;
        size_ = 0;
    }
    // Empty, and hashing with `hasher` from now on (a reused owner re-keyed).
    void clear(Hasher hasher) {
        clear();
        hasher_ = hasher;
    }

    // f(const Key&, std::uint32_t value) for every entry, in bucket order.
    // f must not insert or erase (an erase shifts entries backwards).
    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i < buckets_; ++i) {
            const Entry& e = entries_[i];
            if (e.value != kNoValue) f(e.key, e.value);
        }
    }

    std::size_t size() const {
        return size_;
    }
    std::size_t max_entries() const {
        return max_entries_;
    }
    std::size_t bucket_count() const {
        return buckets_;
    }

    // Bucket holding `key`, if present (tests and statistics).
    std::optional<std::size_t> slot_of(const Key& key) const {
        for (std::size_t i = home(hash(key));; i = (i + 1) & mask_) {
            const Entry& e = entries_[i];
            if (e.value == kNoValue) return std::nullopt;
            if (same(e.key, key)) return i;
        }
    }

    // Buckets a successful lookup of the worst-placed entry reads (1 = found
    // in its home bucket); 0 when empty. O(bucket_count()): not for the fast path.
    std::size_t max_probe_length() const {
        std::size_t worst = 0;
        for_each_probe([&](std::size_t len) { worst = std::max(worst, len); });
        return worst;
    }

    // Mean of the same over all entries; 0 when empty. O(bucket_count()).
    double mean_probe_length() const {
        std::size_t total = 0;
        for_each_probe([&](std::size_t len) { total += len; });
        return size_ == 0 ? 0.0 : static_cast<double>(total) / static_cast<double>(size_);
    }

private:
    static bool same(const Key& a, const Key& b) {
        return std::memcmp(&a, &b, sizeof(Key)) == 0;
    }

    std::size_t home(std::uint64_t hash) const {
        return static_cast<std::size_t>(hash >> shift_);
    }

    static constexpr std::size_t kEntriesPerLine = std::max<std::size_t>(1, 64 / sizeof(Entry));

    // The array starts on a line (kAlign), so bucket i's line is i * size / 64.
    static constexpr bool last_in_line(std::size_t i) {
        constexpr std::size_t kLine = 64;
        return (i * sizeof(Entry)) / kLine != ((i + 1) * sizeof(Entry)) / kLine;
    }

    template <class F>
    void for_each_probe(F&& f) const {
        for (std::size_t i = 0; i < buckets_; ++i) {
            const Entry& e = entries_[i];
            if (e.value != kNoValue) f(((i - home(hash(e.key))) & mask_) + 1);
        }
    }

    Hasher hasher_;
    std::pmr::memory_resource* mr_;
    Entry* entries_ = nullptr;
    std::size_t max_entries_;
    std::size_t buckets_ = 0;
    std::size_t mask_ = 0;
    int shift_ = 0;
    std::size_t size_ = 0;
};

}  // namespace tcpfp::tcp::detail
