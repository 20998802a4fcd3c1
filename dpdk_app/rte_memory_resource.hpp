// std::pmr adapter over rte_malloc_socket, so an engine's preallocated
// tables and buffers live in DPDK memory on its lcore's NUMA socket.
#pragma once

#include <rte_malloc.h>

#include <cstddef>
#include <memory_resource>
#include <new>

namespace tcpfp::app {

class RteMemoryResource final : public std::pmr::memory_resource {
public:
    explicit RteMemoryResource(int socket) : socket_(socket) {}
    std::size_t bytes_in_use() const { return in_use_; }

private:
    void* do_allocate(std::size_t bytes, std::size_t align) override {
        // rte_malloc wants a power of two; 0 means "cache line".
        void* p = rte_malloc_socket("tcpfp", bytes, static_cast<unsigned>(align), socket_);
        if (p == nullptr) throw std::bad_alloc();
        in_use_ += bytes;
        return p;
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t) override {
        rte_free(p);
        in_use_ -= bytes;
    }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }

    int socket_;
    std::size_t in_use_ = 0;
};

}  // namespace tcpfp::app
