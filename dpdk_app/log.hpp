// rte_log types "tcpfp.*" so verbosity is set per area with EAL's
// --log-level=tcpfp.seed:debug.
#pragma once

#include <rte_log.h>

namespace tcpfp::app {

struct LogTypes {
    int app = RTE_LOGTYPE_USER1;
    int port = RTE_LOGTYPE_USER1;
    int arp = RTE_LOGTYPE_USER1;
    int svc = RTE_LOGTYPE_USER1;
    int seed = RTE_LOGTYPE_USER1;
};
extern LogTypes g_log;

void register_log_types();

}  // namespace tcpfp::app

// TLOG(INFO, seed, "fmt", ...): one line, prefixed with the area.
#define TLOG(level, area, fmt, ...)                                                  \
    rte_log(RTE_LOG_##level, ::tcpfp::app::g_log.area, "tcpfp." #area ": " fmt "\n" \
            __VA_OPT__(, ) __VA_ARGS__)
