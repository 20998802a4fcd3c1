#include "dpdk_app/apps/service.hpp"

namespace tcpfp::app {

void end_connection(Stack& s, ConnId c, Instant now, ServiceCounters& counters) {
    if (s.state(c) == tcp::State::listen) {
        (void)s.close(c, now);
        return;
    }
    const bool was_close_wait = s.state(c) == tcp::State::close_wait;
    (void)s.close(c, now);
    if (was_close_wait && s.state(c) == tcp::State::last_ack) ++counters.passive_closes;
}

}  // namespace tcpfp::app
