#include "tcp/engine/loss.hpp"

namespace tcpfp::tcp {

bool RangeSet::add(SeqNum left, SeqNum right) {
    if (!(left < right)) return true;
    // Find the first range that ends at or after `left`.
    std::uint8_t i = 0;
    while (i < n && r[i].right < left) ++i;
    // Merge every range that overlaps or touches [left, right).
    std::uint8_t j = i;
    while (j < n && r[j].left <= right) {
        left = seq_min(left, r[j].left);
        right = seq_max(right, r[j].right);
        ++j;
    }
    const std::uint8_t merged = static_cast<std::uint8_t>(j - i);
    if (merged == 0 && n == kMax) return false;
    // Replace r[i, j) by the single merged range.
    if (merged == 0) {
        for (std::uint8_t k = n; k > i; --k) r[k] = r[k - 1];
        ++n;
    } else {
        for (std::uint8_t k = 0; k + j < n; ++k) r[i + 1 + k] = r[j + k];
        n = static_cast<std::uint8_t>(n - merged + 1);
    }
    r[i] = {left, right};
    return true;
}

void RangeSet::trim_below(SeqNum seq) {
    std::uint8_t drop = 0;
    while (drop < n && r[drop].right <= seq) ++drop;
    for (std::uint8_t k = drop; k < n; ++k) r[k - drop] = r[k];
    n = static_cast<std::uint8_t>(n - drop);
    if (n > 0 && r[0].left < seq) r[0].left = seq;
}

bool RangeSet::contains(SeqNum seq) const {
    for (std::uint8_t i = 0; i < n; ++i) {
        if (r[i].left <= seq && seq < r[i].right) return true;
    }
    return false;
}

std::uint32_t RangeSet::bytes() const {
    std::uint32_t b = 0;
    for (std::uint8_t i = 0; i < n; ++i) b += static_cast<std::uint32_t>(r[i].right - r[i].left);
    return b;
}

}  // namespace tcpfp::tcp
