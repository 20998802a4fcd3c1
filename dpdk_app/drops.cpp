#include "dpdk_app/drops.hpp"

namespace tcpfp::app {

const char* name(AppDrop d) {
    switch (d) {
#define TCPFP_X(n, desc) \
    case AppDrop::n:     \
        return #n;
        TCPFP_APP_DROPS(TCPFP_X)
#undef TCPFP_X
        case AppDrop::count_:
            break;
    }
    return "?";
}

const char* describe(AppDrop d) {
    switch (d) {
#define TCPFP_X(n, desc) \
    case AppDrop::n:     \
        return desc;
        TCPFP_APP_DROPS(TCPFP_X)
#undef TCPFP_X
        case AppDrop::count_:
            break;
    }
    return "?";
}

}  // namespace tcpfp::app
