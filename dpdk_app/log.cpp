#include "dpdk_app/log.hpp"

namespace tcpfp::app {

LogTypes g_log;

void register_log_types() {
    auto reg = [](const char* name) {
        const int t = rte_log_register_type_and_pick_level(name, RTE_LOG_INFO);
        return t < 0 ? RTE_LOGTYPE_USER1 : t;
    };
    g_log.app = reg("tcpfp.app");
    g_log.port = reg("tcpfp.port");
    g_log.arp = reg("tcpfp.arp");
    g_log.svc = reg("tcpfp.svc");
    g_log.seed = reg("tcpfp.seed");
}

}  // namespace tcpfp::app
