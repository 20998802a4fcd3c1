// TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 §3.4).
// a < b means b is "after" a by less than 2^31. The relation is not a total
// order, so there is deliberately no operator<=>.
#pragma once

#include <cstdint>

namespace tcpfp::wire {

class SeqNum {
public:
    constexpr SeqNum() = default;
    constexpr explicit SeqNum(std::uint32_t raw) : raw_(raw) {}

    constexpr std::uint32_t raw() const { return raw_; }

    friend constexpr SeqNum operator+(SeqNum s, std::uint32_t n) { return SeqNum(s.raw_ + n); }
    friend constexpr SeqNum operator-(SeqNum s, std::uint32_t n) { return SeqNum(s.raw_ - n); }
    constexpr SeqNum& operator+=(std::uint32_t n) {
        raw_ += n;
        return *this;
    }
    constexpr SeqNum& operator-=(std::uint32_t n) {
        raw_ -= n;
        return *this;
    }

    // Signed distance a - b, meaningful while |a - b| < 2^31.
    friend constexpr std::int32_t operator-(SeqNum a, SeqNum b) {
        return static_cast<std::int32_t>(a.raw_ - b.raw_);
    }

    friend constexpr bool operator==(SeqNum a, SeqNum b) = default;
    friend constexpr bool operator<(SeqNum a, SeqNum b) { return (a - b) < 0; }
    friend constexpr bool operator<=(SeqNum a, SeqNum b) { return (a - b) <= 0; }
    friend constexpr bool operator>(SeqNum a, SeqNum b) { return (a - b) > 0; }
    friend constexpr bool operator>=(SeqNum a, SeqNum b) { return (a - b) >= 0; }

private:
    std::uint32_t raw_ = 0;
};

// left <= s < left + len, the window test of RFC 9293 §3.4 ("RCV.NXT =<
// SEG.SEQ < RCV.NXT+RCV.WND"). Unsigned arithmetic makes it wrap-safe and
// correct for any len up to 2^32 - 1; len 0 contains nothing.
constexpr bool seq_in_window(SeqNum s, SeqNum left, std::uint32_t len) {
    return s.raw() - left.raw() < len;
}

// lo <= s <= hi, both ends included, modulo 2^32.
constexpr bool seq_between(SeqNum lo, SeqNum s, SeqNum hi) {
    return s.raw() - lo.raw() <= hi.raw() - lo.raw();
}

constexpr SeqNum seq_max(SeqNum a, SeqNum b) { return a < b ? b : a; }
constexpr SeqNum seq_min(SeqNum a, SeqNum b) { return a < b ? a : b; }

}  // namespace tcpfp::wire
