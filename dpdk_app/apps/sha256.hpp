// SHA-256 (FIPS 180-4 §6.2) for the load tester's content checks: streaming,
// a 64-byte block buffer and the eight-word state, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tcpfp::app {

class Sha256 {
public:
    Sha256() { reset(); }
    void reset();
    void update(const std::uint8_t* p, std::size_t n);
    std::array<std::uint8_t, 32> finish();  // then reset() before reuse
    static std::string hex(const std::array<std::uint8_t, 32>& d);

private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> h_{};
    std::array<std::uint8_t, 64> buf_{};
    std::size_t used_ = 0;        // bytes waiting in buf_
    std::uint64_t length_ = 0;    // message bytes so far
};

}  // namespace tcpfp::app
