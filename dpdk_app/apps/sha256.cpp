#include "dpdk_app/apps/sha256.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace tcpfp::app {
namespace {

__extension__ typedef unsigned __int128 U128;

// floor(cbrt(x) * 2^32) or floor(sqrt(x) * 2^32), as the largest r with
// r^k <= x * 2^(32k): the constants below are defined this way, so we derive
// them instead of transcribing 72 hex words.
constexpr std::uint64_t root_scaled(std::uint64_t x, unsigned k) {
    const U128 target = static_cast<U128>(x) << (32 * k);
    std::uint64_t lo = 0, hi = std::uint64_t{1} << 36;  // cbrt(311) and sqrt(19) are below 8
    while (lo < hi) {
        const std::uint64_t mid = lo + (hi - lo + 1) / 2;
        U128 p = 1;
        for (unsigned i = 0; i < k; ++i) p *= mid;
        if (p <= target) lo = mid; else hi = mid - 1;
    }
    return lo;
}

constexpr std::array<std::uint64_t, 64> first_primes() {
    std::array<std::uint64_t, 64> out{};
    std::size_t n = 0;
    for (std::uint64_t c = 2; n < out.size(); ++c) {
        bool prime = true;
        for (std::uint64_t d = 2; d * d <= c; ++d) prime = prime && c % d != 0;
        if (prime) out[n++] = c;
    }
    return out;
}

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes.
constexpr std::array<std::uint32_t, 64> make_k() {
    std::array<std::uint32_t, 64> k{};
    const auto primes = first_primes();
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint32_t>(root_scaled(primes[i], 3));
    return k;
}

// FIPS 180-4 §5.3.3: the same from the square roots of the first 8 primes.
constexpr std::array<std::uint32_t, 8> make_h0() {
    std::array<std::uint32_t, 8> h{};
    const auto primes = first_primes();
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint32_t>(root_scaled(primes[i], 2));
    return h;
}

constexpr std::array<std::uint32_t, 64> kK = make_k();
constexpr std::array<std::uint32_t, 8> kH0 = make_h0();
static_assert(kK[0] == 0x428a2f98u && kK[63] == 0xc67178f2u, "FIPS 180-4 §4.2.2");
static_assert(kH0[0] == 0x6a09e667u && kH0[7] == 0x5be0cd19u, "FIPS 180-4 §5.3.3");

std::uint32_t load_be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

}  // namespace

void Sha256::reset() {
    h_ = kH0;
    used_ = 0;
    length_ = 0;
}

// FIPS 180-4 §6.2.2: the message schedule, then 64 rounds.
void Sha256::compress(const std::uint8_t* block) {
    std::array<std::uint32_t, 64> w;
    for (std::size_t t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
    for (std::size_t t = 16; t < 64; ++t) {
        const std::uint32_t s0 = std::rotr(w[t - 15], 7) ^ std::rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        const std::uint32_t s1 = std::rotr(w[t - 2], 17) ^ std::rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (std::size_t t = 0; t < 64; ++t) {
        const std::uint32_t big_s1 = std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25);
        const std::uint32_t ch = (e & f) ^ (~e & g);
        const std::uint32_t t1 = h + big_s1 + ch + kK[t] + w[t];
        const std::uint32_t big_s0 = std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22);
        const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        const std::uint32_t t2 = big_s0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h_[0] += a, h_[1] += b, h_[2] += c, h_[3] += d;
    h_[4] += e, h_[5] += f, h_[6] += g, h_[7] += h;
}

void Sha256::update(const std::uint8_t* p, std::size_t n) {
    if (n == 0) return;  // p may be null then: keep it away from memcpy
    length_ += n;
    if (used_ != 0) {  // top up a partial block first
        const std::size_t take = std::min(n, buf_.size() - used_);
        std::memcpy(buf_.data() + used_, p, take);
        used_ += take, p += take, n -= take;
        if (used_ < buf_.size()) return;
        compress(buf_.data());
        used_ = 0;
    }
    for (; n >= buf_.size(); p += buf_.size(), n -= buf_.size()) compress(p);
    if (n != 0) std::memcpy(buf_.data(), p, n);
    used_ = n;
}

// FIPS 180-4 §5.1.1: a 1 bit, zeros to 56 mod 64 bytes, the bit length in
// 64 bits big-endian.
std::array<std::uint8_t, 32> Sha256::finish() {
    const std::uint64_t bits = length_ * 8;
    buf_[used_++] = 0x80;
    if (used_ > 56) {
        std::memset(buf_.data() + used_, 0, buf_.size() - used_);
        compress(buf_.data());
        used_ = 0;
    }
    std::memset(buf_.data() + used_, 0, 56 - used_);
    for (std::size_t i = 0; i < 8; ++i) buf_[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    compress(buf_.data());
    std::array<std::uint8_t, 32> out{};
    for (std::size_t i = 0; i < 8; ++i) {
        for (std::size_t j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h_[i] >> (24 - 8 * j));
    }
    return out;
}

std::string Sha256::hex(const std::array<std::uint8_t, 32>& d) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s(64, '0');
    for (std::size_t i = 0; i < d.size(); ++i) {
        s[2 * i] = kDigits[d[i] >> 4];
        s[2 * i + 1] = kDigits[d[i] & 0xf];
    }
    return s;
}

}  // namespace tcpfp::app
