// The built-in servers of one worker, for the prompt's agent: `listen ADDR
// PORT echo|discard|chargen|http|hold|rr` opens a listener owned by the
// server app of that kind, so each responder exists once
// (dpdk_app/apps/echo.cpp, discard.cpp, chargen.cpp, http.cpp, hold.hpp,
// rr.cpp) and the connections it accepts are that app's.
#pragma once

#include <string_view>

#include "dpdk_app/apps/chargen.hpp"
#include "dpdk_app/apps/discard.hpp"
#include "dpdk_app/apps/echo.hpp"
#include "dpdk_app/apps/hold.hpp"
#include "dpdk_app/apps/http.hpp"
#include "dpdk_app/apps/rr.hpp"

namespace tcpfp::app {

enum class ResponderKind : std::uint8_t { echo, discard, chargen, http, hold, rr };

struct Responders {
    Echo* echo = nullptr;
    Discard* discard = nullptr;
    Chargen* chargen = nullptr;
    Http* http = nullptr;
    Hold* hold = nullptr;
    Rr* rr = nullptr;

    // 0 or -errno (-ENOTCONN before the worker started its apps).
    int listen(ResponderKind kind, wire::Ipv4Addr addr, std::uint16_t port, ConnId& out) {
        switch (kind) {
            case ResponderKind::echo: return echo->listen_on(addr, port, out);
            case ResponderKind::discard: return discard->listen_on(addr, port, out);
            case ResponderKind::chargen: return chargen->listen_on(addr, port, out);
            case ResponderKind::http: return http->listen_on(addr, port, out);
            case ResponderKind::hold: return hold->listen_on(addr, port, out);
            case ResponderKind::rr: return rr->listen_on(addr, port, out);
        }
        return -EINVAL;
    }
    int unlisten(ResponderKind kind, ConnId listener, Instant now) {
        switch (kind) {
            case ResponderKind::echo: return echo->unlisten(listener, now);
            case ResponderKind::discard: return discard->unlisten(listener, now);
            case ResponderKind::chargen: return chargen->unlisten(listener, now);
            case ResponderKind::http: return http->unlisten(listener, now);
            case ResponderKind::hold: return hold->unlisten(listener, now);
            case ResponderKind::rr: return rr->unlisten(listener, now);
        }
        return -EINVAL;
    }
};

}  // namespace tcpfp::app
