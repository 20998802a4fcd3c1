// Engine time: a value passed in by the caller, never read from a clock.
// Microsecond resolution covers the RFC 6528 4-µs ISN clock, 1-ms TCP
// timestamps and the 1-ms timer wheel; 64 bits last 584,000 years.
#pragma once

#include <compare>
#include <cstdint>

namespace tcpfp::tcp {

class Duration {
public:
    constexpr Duration() = default;
    static constexpr Duration micros(std::int64_t us) { return Duration(us); }
    static constexpr Duration millis(std::int64_t ms) { return Duration(ms * 1000); }
    static constexpr Duration seconds(std::int64_t s) { return Duration(s * 1000000); }

    constexpr std::int64_t as_micros() const { return us_; }
    constexpr std::int64_t as_millis() const { return us_ / 1000; }

    friend constexpr Duration operator+(Duration a, Duration b) { return Duration(a.us_ + b.us_); }
    friend constexpr Duration operator-(Duration a, Duration b) { return Duration(a.us_ - b.us_); }
    friend constexpr Duration operator*(Duration a, std::int64_t k) { return Duration(a.us_ * k); }
    friend constexpr auto operator<=>(Duration, Duration) = default;

private:
    constexpr explicit Duration(std::int64_t us) : us_(us) {}
    std::int64_t us_ = 0;
};

class Instant {
public:
    constexpr Instant() = default;
    static constexpr Instant from_micros(std::uint64_t us) { return Instant(us); }
    static constexpr Instant max() { return Instant(UINT64_MAX); }

    constexpr std::uint64_t micros() const { return us_; }
    constexpr std::uint64_t millis() const { return us_ / 1000; }

    friend constexpr Instant operator+(Instant t, Duration d) {
        return Instant(t.us_ + static_cast<std::uint64_t>(d.as_micros()));
    }
    friend constexpr Instant operator-(Instant t, Duration d) {
        return Instant(t.us_ - static_cast<std::uint64_t>(d.as_micros()));
    }
    friend constexpr Duration operator-(Instant a, Instant b) {
        return Duration::micros(static_cast<std::int64_t>(a.us_ - b.us_));
    }
    friend constexpr auto operator<=>(Instant, Instant) = default;

private:
    constexpr explicit Instant(std::uint64_t us) : us_(us) {}
    std::uint64_t us_ = 0;
};

}  // namespace tcpfp::tcp
