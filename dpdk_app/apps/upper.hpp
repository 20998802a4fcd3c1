// The example of dpdk_app/apps/README.md ("Writing an app"): an echo that
// answers in upper case, on the port given in `[apps] run = upper:PORT`.
#pragma once

#include <array>
#include <cctype>

#include "dpdk_app/apps/app.hpp"

namespace tcpfp::app {

class Upper : public Handlers<Upper> {
public:
    explicit Upper(std::uint16_t port) : port_(port) {}
    const char* name() const override { return "upper"; }

    void start(Stack& s, Instant) override {
        ConnId listener;
        if (s.listen({}, port_, 128, listener) != 0) s.log(LogLevel::err, "cannot listen on %u", port_);
    }
    void on_readable(Stack& s, ConnId c, Instant now) { pump(s, c, now); }
    void on_writable(Stack& s, ConnId c, Instant now) { pump(s, c, now); }
    void on_peer_closed(Stack& s, ConnId c, Instant now) { pump(s, c, now); }

private:
    void pump(Stack& s, ConnId c, Instant now) {
        for (;;) {
            std::span<const std::uint8_t> first, second;
            const std::int64_t n = s.recv_view(c, first, second);
            if (n == 0) return (void)s.close(c, now);  // the peer is done: so are we
            if (n < 0) return;                         // -EAGAIN: wait for `readable`
            const std::size_t len = std::min({first.size(), buf_.size(), std::size_t{s.send_space(c)}});
            if (len == 0) return;                      // wait for `writable`
            for (std::size_t i = 0; i < len; ++i) buf_[i] = static_cast<std::uint8_t>(std::toupper(first[i]));
            const std::int64_t sent = s.send(c, {buf_.data(), len}, now);
            if (sent <= 0) return;
            (void)s.consume(c, static_cast<std::size_t>(sent), now);
        }
    }
    std::uint16_t port_;
    std::array<std::uint8_t, 4096> buf_{};
};

}  // namespace tcpfp::app
